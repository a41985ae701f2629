import type { KnownBlock } from '@slack/web-api';
import type { AlertGroupView, AlertNotice, AlertThreadLine, AlertView } from '../../alerts/chat.js';
import { type AlertSeverity, SILENCE_CHOICES_MINUTES } from '../../alerts/model.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { ALERT_ACTION } from '../ids.js';
import { mentionChannel, mentionUser, slackDate } from '../text.js';
import { button, fitLines, message, type SlackMessage, section } from './blocks.js';
import { pagedWho } from './paging.js';

/**
 * The alert hub's messages: one per group, edited in place, and the posts in its thread. The fallback text
 * starts as Alertmanager's own notifications do: `[FIRING:<n>] ` or `[RESOLVED] `.
 */

const SEVERITY_ICON: Record<AlertSeverity, string> = {
  critical: '🔴',
  error: '🟠',
  warning: '🟡',
  info: '🔵',
};

const STATUS_ICON = { firing: '🔥', acknowledged: '👀', resolved: '✅' } as const;

export const groupPrefix = (g: AlertGroupView): string =>
  g.status === 'resolved' ? '[RESOLVED] ' : `[FIRING:${g.firingCount}] `;

const acknowledger = (by: string): string =>
  by.startsWith('integration:')
    ? `${escapeMrkdwn(by.slice('integration:'.length))} (PagerDuty)`
    : mentionUser(by);

/** Labels that tell the shown alerts apart: not the group's own, not the ones they all share. */
function differingLabels(alerts: AlertView[], group: AlertGroupView): string[][] {
  const common = new Set(
    Object.entries(alerts[0]?.labels ?? {})
      .filter(([k, v]) => alerts.every((a) => a.labels[k] === v))
      .map(([k]) => k),
  );
  return alerts.map((a) =>
    Object.entries(a.labels)
      .filter(([k]) => !(k in group.groupLabels) && !common.has(k))
      .map(([k, v]) => `${k}=${v}`),
  );
}

function alertLine(a: AlertView, labels: string[]): string {
  const link = a.links[0];
  const summary = escapeMrkdwn(truncate(a.summary, 200));
  // Links are http(s) (the normalisers keep no others); <, > and | would end Slack's link syntax early.
  const href = link?.href.replace(/[<>|]/g, (c) => encodeURIComponent(c));
  const text = href ? `<${href}|${summary}>` : summary;
  const extra = labels.length > 0 ? ` · \`${escapeMrkdwn(truncate(labels.join(' '), 120))}\`` : '';
  const times = a.occurrences > 1 ? ` · ×${a.occurrences}` : '';
  return `${STATUS_ICON[a.status]} ${SEVERITY_ICON[a.severity]} ${text}${extra}${times}`;
}

function groupFacts(g: AlertGroupView): string {
  return [
    `${g.firingCount} firing of ${g.alertCount} alert${g.alertCount === 1 ? '' : 's'}`,
    ...(g.flaps > 0 ? [`${g.flaps} flap${g.flaps === 1 ? '' : 's'}`] : []),
    ...(g.truncated > 0 ? [`${g.truncated} more left out by the sender`] : []),
    ...(g.acknowledgedBy ? [`Acknowledged by ${acknowledger(g.acknowledgedBy)}`] : []),
    ...(g.paging
      ? [
          `📟 Paging through ${escapeMrkdwn(g.paging.policy)} (${g.paging.steps} step${g.paging.steps === 1 ? '' : 's'} paged)`,
        ]
      : []),
    ...(g.silencedUntil
      ? [`🔕 Silenced until ${slackDate(g.silencedUntil, '{date_short_pretty} {time}')}`]
      : []),
    ...(g.incident
      ? [
          `Incident #${g.incident.number}${g.incident.channelId ? ` in ${mentionChannel(g.incident.channelId)}` : ''}`,
        ]
      : []),
    `since ${slackDate(g.openedAt, '{date_short_pretty} {time}')}`,
  ].join(' · ');
}

const SILENCE_LABEL: Record<number, string> = { 60: '1 hour', 240: '4 hours', 1440: '24 hours' };

/**
 * Acknowledge (until someone has), Resolve, Declare incident (until it is one), and Silence for 1, 4 or
 * 24 hours.
 */
function groupControls(g: AlertGroupView): KnownBlock {
  const id = String(g.id);
  return {
    type: 'actions',
    block_id: `alert_group:${id}`,
    elements: [
      ...(g.acknowledgedBy ? [] : [button(ALERT_ACTION.ack, 'Acknowledge', id, 'primary')]),
      button(ALERT_ACTION.resolve, 'Resolve', id),
      ...(g.incident ? [] : [button(ALERT_ACTION.declare, 'Declare incident', id, 'danger')]),
      {
        type: 'static_select',
        action_id: ALERT_ACTION.silence,
        placeholder: { type: 'plain_text', text: 'Silence' },
        options: SILENCE_CHOICES_MINUTES.map((m) => ({
          text: { type: 'plain_text' as const, text: `Silence ${SILENCE_LABEL[m] ?? `${m} minutes`}` },
          value: `${id}:${m}`,
        })),
      },
    ],
  };
}

export function alertGroupMessage(notice: Extract<AlertNotice, { kind: 'alert_group' }>): SlackMessage {
  const g = notice.group;
  const title = escapeMrkdwn(truncate(g.title, 150));
  const head = `${g.status === 'resolved' ? '✅' : SEVERITY_ICON[g.severity]} *${title}*`;
  const labels = Object.entries(g.groupLabels)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const differing = differingLabels(notice.alerts, g);
  const lines = fitLines(notice.alerts.map((a, n) => alertLine(a, differing[n] ?? [])));
  if (notice.more > 0) lines.push(`…and ${notice.more} more`);
  const blocks: KnownBlock[] = [
    section(head),
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Severity*\n${g.severity}` },
        {
          type: 'mrkdwn',
          text: `*Integration*\n${escapeMrkdwn(truncate(g.integrations.join(', ') || '—', 200))}`,
        },
        ...(labels
          ? [{ type: 'mrkdwn' as const, text: `*Group*\n\`${escapeMrkdwn(truncate(labels, 500))}\`` }]
          : []),
      ],
    },
    ...(lines.length > 0 ? [section(lines.join('\n'))] : []),
    { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(groupFacts(g), 3000) }] },
    ...(g.status === 'open' ? [groupControls(g)] : []),
  ];
  return { text: truncate(`${groupPrefix(g)}${escapeMrkdwn(g.title)}`, 3000), blocks };
}

const THREAD_WORDS: Record<Exclude<AlertThreadLine['kind'], 'paged'>, string> = {
  fired: '🔥 Firing',
  reopened: '🔁 Firing again',
  acknowledged: '👀 Acknowledged',
  resolved: '✅ Resolved',
};

function threadLine(l: AlertThreadLine): string {
  const at = slackDate(l.at, '{time}');
  if (l.kind === 'paged') {
    const who = pagedWho(l.users, l.skippedTo);
    return `${at} 📟 Paged ${escapeMrkdwn(l.label)}: ${who}`;
  }
  return `${at} ${THREAD_WORDS[l.kind]}: ${escapeMrkdwn(truncate(l.summary, 200))}`;
}

export function alertThreadMessage(
  notice: Extract<AlertNotice, { kind: 'alert_group_thread' }>,
): SlackMessage {
  const lines = fitLines(notice.lines.map(threadLine));
  if (notice.more > 0) lines.push(`…and ${notice.more} more`);
  const text = lines.join('\n');
  return {
    text: truncate(`${groupPrefix(notice.group)}${escapeMrkdwn(notice.group.title)}: ${text}`, 3000),
    blocks: [section(text || 'No change.')],
  };
}

/** A page by DM: what fires, where the group's message is, and Acknowledge (and Declare) right here. */
export function alertPageMessage(notice: Extract<AlertNotice, { kind: 'alert_page' }>): SlackMessage {
  const g = notice.group;
  const title = escapeMrkdwn(truncate(g.title, 150));
  const head = `📟 You are paged (${escapeMrkdwn(notice.label)}): ${SEVERITY_ICON[g.severity]} *${title}* — ${g.firingCount} firing, in ${mentionChannel(g.channelId)}.`;
  const lines = fitLines(notice.alerts.map((a) => alertLine(a, [])));
  if (notice.more > 0) lines.push(`…and ${notice.more} more`);
  const id = String(g.id);
  return {
    text: truncate(`📟 Paged: ${groupPrefix(g)}${escapeMrkdwn(g.title)}`, 3000),
    blocks: [
      section(head),
      ...(lines.length > 0 ? [section(lines.join('\n'))] : []),
      {
        type: 'actions',
        block_id: `alert_page:${id}`,
        elements: [
          button(ALERT_ACTION.ack, 'Acknowledge', id, 'primary'),
          button(ALERT_ACTION.declare, 'Declare incident', id, 'danger'),
        ],
      },
    ],
  };
}

/** A link to a message from the workspace's URL (https://acme.slack.com/archives/C123/p1700000000123456). */
export function messageLink(workspaceUrl: string, channel: string, ts: string): string | undefined {
  if (!/^https:\/\/[^\s<>|]+$/.test(workspaceUrl)) return undefined;
  return `${workspaceUrl.replace(/\/?$/, '/')}archives/${channel}/p${ts.replace('.', '')}`;
}

/** `/incident alerts`: the open groups, newest first, each with its counts and a link to its message. */
export function alertGroupList(
  list: { groups: { group: AlertGroupView; messageTs: string | null }[]; total: number },
  workspaceUrl: string,
  hubOn: boolean,
): SlackMessage {
  if (!hubOn)
    return message('The alert hub is off: add an `alerts:` section to the config file to turn it on.');
  if (list.groups.length === 0) return message('No open alert groups. All quiet.');
  const lines = list.groups.map(({ group: g, messageTs }) => {
    const title = escapeMrkdwn(truncate(g.title, 100));
    const link = messageTs ? messageLink(workspaceUrl, g.channelId, messageTs) : undefined;
    const name = link ? `<${link}|${title}>` : title;
    const facts = [
      `${g.firingCount} firing of ${g.alertCount}`,
      ...(g.acknowledgedBy ? [`ack’d by ${acknowledger(g.acknowledgedBy)}`] : []),
      ...(g.silencedUntil ? [`🔕 until ${slackDate(g.silencedUntil, '{time}')}`] : []),
      ...(g.incident ? [`incident #${g.incident.number}`] : []),
      `in ${mentionChannel(g.channelId)}`,
      `since ${slackDate(g.openedAt, '{date_short_pretty} {time}')}`,
    ];
    return `${SEVERITY_ICON[g.severity]} *${name}* — ${facts.join(' · ')}`;
  });
  const head = `*Open alert groups* (${list.total}${list.total > list.groups.length ? `, the newest ${list.groups.length} shown` : ''}):`;
  return message([head, ...fitLines(lines)].join('\n'));
}
