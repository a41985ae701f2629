import { ROLES } from '../../incidents/model.js';
import type { IncidentRow, IncidentSnapshot, TaskRow } from '../../incidents/queries.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { mentionChannel, mentionUser, slackDate } from '../text.js';
import { fitLines, message, type SlackMessage } from './blocks.js';
import { roleLabel, statusLabel } from './labels.js';

/** Ephemeral answers that list things: roles, tasks, open incidents. */

export function rolesList(i: IncidentSnapshot): SlackMessage {
  const lines = ROLES.map(
    (r) => `*${roleLabel(r)}*: ${i.roles[r] ? mentionUser(i.roles[r]) : '_unassigned_'}`,
  );
  return message(`Roles in incident #${i.number}:\n${lines.join('\n')}`);
}

export function tasksList(i: { number: number }, rows: TaskRow[], now: Date): SlackMessage {
  if (rows.length === 0)
    return message(`No tasks in incident #${i.number} yet. Add one with \`/incident task add <text>\`.`);
  const open = rows.filter((t) => !t.doneAt);
  const done = rows.filter((t) => t.doneAt);
  const line = (t: TaskRow) => {
    const who = t.assigneeId ? ` — ${mentionUser(t.assigneeId)}` : ' — _unassigned_';
    const due =
      t.dueAt && !t.doneAt
        ? ` · ${t.dueAt <= now ? '⏰ overdue since' : 'due'} ${slackDate(t.dueAt, '{time}')}`
        : '';
    return `${t.doneAt ? '✅' : '▫️'} *${t.number}.* ${escapeMrkdwn(truncate(t.text, 200))}${who}${due}`;
  };
  // Open tasks first, the newest done ones after.
  const out = fitLines([...open, ...done.reverse()].map(line));
  return message(`Tasks in incident #${i.number} (${open.length} open):\n${out.join('\n')}`);
}

export function incidentList(rows: IncidentRow[]): SlackMessage {
  if (rows.length === 0) return message('No open incidents. 🎉');
  const lines = rows.map((r) => {
    const where = r.channelId ? mentionChannel(r.channelId) : '_channel being created_';
    return `*#${r.number}* ${escapeMrkdwn(truncate(r.title, 100))} · ${escapeMrkdwn(r.severity)} · ${statusLabel(r.status)} · ${where}${r.isPrivate ? ' · 🔒' : ''}`;
  });
  return message(`Open incidents, newest first:\n${fitLines(lines).join('\n')}`);
}

export function notIncidentChannelMessage(): SlackMessage {
  return message(
    'This is not an incident channel. Declare an incident with `/incident declare <title>`, or see the open ones with `/incident list`.',
  );
}
