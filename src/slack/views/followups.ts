import type { IncidentNotice } from '../../incidents/chat.js';
import type { ListedFollowup } from '../../incidents/followups.js';
import type { FollowupRow } from '../../incidents/queries.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { mentionChannel, mentionUser } from '../text.js';
import { fitLines, message, type SlackMessage } from './blocks.js';

/** Follow-ups: the lists and the owner's reminders. */

const STATUS_ICON = { open: '▫️', done: '✅', dropped: '✖️' } as const;

function line(f: FollowupRow, today: string, prefix = ''): string {
  const owner = f.ownerId ? ` — ${mentionUser(f.ownerId)}` : ' — _no owner_';
  const overdue = f.status === 'open' && f.dueOn !== null && f.dueOn < today;
  const due = f.dueOn ? ` · ${overdue ? '⏰ overdue since' : 'due'} ${f.dueOn}` : '';
  const dropped =
    f.status === 'dropped' && f.dropReason ? ` (dropped: ${escapeMrkdwn(truncate(f.dropReason, 150))})` : '';
  const source =
    f.sourceUrl && /^https:\/\/[^\s<>|]+$/.test(f.sourceUrl) ? ` · <${f.sourceUrl}|from a message>` : '';
  return `${STATUS_ICON[f.status]} ${prefix}*${f.number}.* ${escapeMrkdwn(truncate(f.text, 200))}${owner}${due}${dropped}${source}`;
}

/** `/incident followups` in an incident channel: this incident's, open first. */
export function incidentFollowupsList(
  i: { number: number },
  rows: FollowupRow[],
  today: string,
): SlackMessage {
  if (rows.length === 0)
    return message(
      `No follow-ups in incident #${i.number} yet. Add one with \`/incident followup add <text> [@owner] [due YYYY-MM-DD | in <N>d]\`.`,
    );
  const open = rows.filter((f) => f.status === 'open');
  const closed = rows.filter((f) => f.status !== 'open');
  const lines = fitLines([...open, ...closed].map((f) => line(f, today)));
  return message(`Follow-ups of incident #${i.number} (${open.length} open):\n${lines.join('\n')}`);
}

const where = (f: ListedFollowup) =>
  `#${f.incidentNumber}${f.incidentChannelId ? ` ${mentionChannel(f.incidentChannelId)}` : ''} `;

/** `/incident followups` elsewhere: yours, then everyone else's open ones, overdue first. */
export function openFollowupsList(
  lists: { mine: ListedFollowup[]; everyone: ListedFollowup[] },
  userId: string,
  today: string,
): SlackMessage {
  const overdueFirst = (list: ListedFollowup[]) => [
    ...list.filter((f) => f.dueOn !== null && f.dueOn < today),
    ...list.filter((f) => !(f.dueOn !== null && f.dueOn < today)),
  ];
  const mine = overdueFirst(lists.mine);
  const others = overdueFirst(lists.everyone.filter((f) => f.ownerId !== userId));
  if (mine.length === 0 && others.length === 0) return message('No open follow-ups. 🎉');
  const parts = [
    ...(mine.length > 0 ? ['*Yours:*', ...mine.map((f) => line(f, today, where(f)))] : ['*Yours:* none']),
    ...(others.length > 0 ? ['*Everyone’s open ones:*', ...others.map((f) => line(f, today, where(f)))] : []),
  ];
  return message(fitLines(parts).join('\n'));
}

/** The DM to a follow-up's owner: due soon, or overdue. */
/** The incident channel hears of a new follow-up: who added it, what, for whom, by when. */
export function followupAddedMessage(
  by: string,
  f: { number: number; text: string; ownerId: string | null; dueOn: string | null },
): SlackMessage {
  const owner = f.ownerId ? ` for ${mentionUser(f.ownerId)}` : '';
  const due = f.dueOn ? `, due ${f.dueOn}` : '';
  return message(
    `📌 ${mentionUser(by)} added follow-up *${f.number}.* ${escapeMrkdwn(truncate(f.text, 500))}${owner}${due}`,
  );
}

export function followupReminderMessage(
  n: Extract<IncidentNotice, { kind: 'followup_reminder' }>,
): SlackMessage {
  const f = n.followup;
  const what = `follow-up ${f.number} of incident #${n.incident.number} *${escapeMrkdwn(truncate(n.incident.title, 100))}*${n.incident.channelId ? ` (${mentionChannel(n.incident.channelId)})` : ''}`;
  const head = n.overdue ? `⏰ Overdue since ${f.dueOn}: ${what}` : `📌 Due ${f.dueOn}: ${what}`;
  return message(
    `${head}\n>${escapeMrkdwn(truncate(f.text, 500))}\nDone? \`/incident followup done ${f.number}\` in the incident channel; not doing it? \`/incident followup drop ${f.number} <reason>\`.`,
  );
}
