import type { KnownBlock, View } from '@slack/web-api';
import type { HomeData } from '../../learn/home.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { HOME_ACTION } from '../ids.js';
import { mentionChannel, mentionUser, slackDate } from '../text.js';
import { button, fitLines, section, text } from './blocks.js';
import { statusLabel } from './labels.js';
import { humanSpan } from './stats.js';

/** App Home: a person's view of incidents, on-call, their follow-ups and tasks, and the month's numbers. */

/** Slack's limit for a Home tab. */
export const HOME_MAX_BLOCKS = 100;
/** How many severities get a section of their own before the rest are summed up. */
const SEVERITY_SECTIONS = 20;

const incidentLine = (i: HomeData['open'][number]) =>
  `*#${i.number}* ${escapeMrkdwn(truncate(i.title, 80))} · ${statusLabel(i.status)}${i.channelId ? ` · ${mentionChannel(i.channelId)}` : ''}${i.isPrivate ? ' · 🔒' : ''}`;

/** A titled list as one section: whole lines within Slack's 3,000 characters, then how many more. */
function listSection(title: string, lines: string[], empty: string): KnownBlock {
  return section(
    lines.length === 0 ? `*${title}*\n${empty}` : `*${title}*\n${fitLines(lines, 2700).join('\n')}`,
  );
}

export function homeView(d: HomeData, severityOrder: string[]): View {
  const blocks: KnownBlock[] = [
    { type: 'header', text: text('Incidents') },
    {
      type: 'actions',
      elements: [button(HOME_ACTION.declare, 'Declare incident', 'home', 'danger')],
    },
    listSection('Where you hold a role', d.mine.map(incidentLine), '_None right now._'),
    { type: 'divider' },
  ];

  // Every open incident, by severity in the config's order.
  const bySeverity = new Map<string, HomeData['open']>();
  for (const i of d.open) bySeverity.set(i.severity, [...(bySeverity.get(i.severity) ?? []), i]);
  const severities = [...bySeverity.keys()].sort(
    (a, b) => rank(severityOrder, a) - rank(severityOrder, b) || a.localeCompare(b),
  );
  blocks.push(section(`*Open incidents* (${d.open.length}${d.moreOpen ? '+' : ''})`));
  if (severities.length === 0) blocks.push(section('_None. 🎉_'));
  for (const severity of severities.slice(0, SEVERITY_SECTIONS)) {
    const list = bySeverity.get(severity) ?? [];
    blocks.push(listSection(`${escapeMrkdwn(severity)} (${list.length})`, list.map(incidentLine), ''));
  }
  const rest = severities.slice(SEVERITY_SECTIONS);
  if (rest.length > 0)
    blocks.push(
      section(
        `…and ${rest.reduce((n, s) => n + (bySeverity.get(s)?.length ?? 0), 0)} more in ${rest.length} other severities: \`/incident list\``,
      ),
    );
  blocks.push({ type: 'divider' });

  blocks.push(
    listSection(
      'On call now',
      d.onCall.map(
        (o) =>
          `*${escapeMrkdwn(o.schedule)}*: ${o.userId ? mentionUser(o.userId) : '_nobody_'}${o.until ? ` until ${slackDate(o.until, '{date_short_pretty} {time}')}` : ''}`,
      ),
      '_No schedules configured._',
    ),
  );

  const overdue = (due: string | null) => due !== null && due < d.today;
  const followups = [...d.followups].sort((a, b) => Number(overdue(b.dueOn)) - Number(overdue(a.dueOn)));
  blocks.push(
    listSection(
      'Your follow-ups',
      followups.map(
        (f) =>
          `${overdue(f.dueOn) ? '⏰' : '▫️'} #${f.incidentNumber}.${f.number} ${escapeMrkdwn(truncate(f.text, 120))}${f.dueOn ? ` · ${overdue(f.dueOn) ? 'overdue since' : 'due'} ${f.dueOn}` : ''}`,
      ),
      '_None open._',
    ),
  );
  blocks.push(
    listSection(
      'Your tasks',
      d.tasks.map(
        (t) =>
          `${t.task.dueAt && t.task.dueAt < d.now ? '⏰' : '▫️'} #${t.number} task ${t.task.number}: ${escapeMrkdwn(truncate(t.task.text, 120))}${t.task.dueAt ? ` · due ${slackDate(t.task.dueAt, '{date_short_pretty} {time}')}` : ''}${t.channelId ? ` · ${mentionChannel(t.channelId)}` : ''}`,
      ),
      '_None open._',
    ),
  );
  blocks.push({ type: 'divider' });

  const s = d.stats;
  const fig = (label: string, ms: number | null) => `${label} ${ms === null ? '—' : humanSpan(ms)}`;
  blocks.push(
    section(
      `*Last 30 days*: ${s.total} incident${s.total === 1 ? '' : 's'}${s.bySeverity.length ? ` (${s.bySeverity.map((b) => `${escapeMrkdwn(b.severity)} ${b.count}`).join(' · ')})` : ''}\nMedian ${[
        fig('MTTA', s.times.mtta.medianMs),
        fig('MTTM', s.times.mttm.medianMs),
        fig('MTTR', s.times.mttr.medianMs),
      ].join(
        ' · ',
      )} · follow-ups ${s.followups.open} open, ${s.followups.overdue} overdue · \`/incident stats\` for more`,
    ),
  );
  return { type: 'home', blocks: blocks.slice(0, HOME_MAX_BLOCKS) };
}

const rank = (order: string[], severity: string) => {
  const i = order.indexOf(severity);
  return i < 0 ? order.length : i;
};
