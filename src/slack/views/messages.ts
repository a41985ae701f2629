import { type IncidentStatus, ROLES, type Role, type UpdateAudience } from '../../incidents/model.js';
import type { IncidentSnapshot } from '../../incidents/queries.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { CARD_ACTION, POSTMORTEM_ACTION } from '../ids.js';
import { mentionChannel, mentionUser, slackDate } from '../text.js';
import { button, message, type SlackMessage, section, withButtons } from './blocks.js';
import { roleLabel, statusLabel } from './labels.js';

/** What the incident channel (and the announcement thread) hears about each change, and the role DM. */

export function roleAssignedMessage(
  role: Role,
  userId: string,
  actorId: string,
  previous: string | undefined,
): SlackMessage {
  if (role === 'commander') {
    if (previous && previous === actorId)
      return message(`🎖️ ${mentionUser(previous)} handed command to ${mentionUser(userId)}.`);
    if (previous)
      return message(
        `🎖️ ${mentionUser(actorId)} handed command from ${mentionUser(previous)} to ${mentionUser(userId)}.`,
      );
    if (actorId === userId) return message(`🎖️ ${mentionUser(userId)} took command.`);
  }
  return message(
    `${mentionUser(actorId)} made ${mentionUser(userId)} the ${roleLabel(role).toLowerCase()}${previous ? ` (was ${mentionUser(previous)})` : ''}.`,
  );
}

export function roleDm(
  i: { number: number; title: string; channelId: string | null },
  role: Role,
  description: string,
): SlackMessage {
  const where = i.channelId ? ` in ${mentionChannel(i.channelId)}` : '';
  return message(
    `You are now the *${roleLabel(role).toLowerCase()}* of incident #${i.number} *${escapeMrkdwn(i.title)}*${where}.\n${escapeMrkdwn(description)}`,
  );
}

export function severityChangedMessage(actorId: string, from: string, to: string): SlackMessage {
  return message(
    `${mentionUser(actorId)} changed severity from *${escapeMrkdwn(from)}* to *${escapeMrkdwn(to)}*.`,
  );
}

export function statusUpdateMessage(
  i: { number: number; title: string },
  u: {
    status: IncidentStatus;
    message: string;
    audience: UpdateAudience;
    postedBy: string;
    nextUpdateAt: Date | null;
  },
): SlackMessage {
  const head = `${u.audience === 'customers' ? '📣 *Customer-facing update*' : '📝 *Status update*'} · incident #${i.number} *${escapeMrkdwn(i.title)}* · ${statusLabel(u.status)}`;
  const next = u.nextUpdateAt
    ? `Next update by ${slackDate(u.nextUpdateAt, '{time}')}`
    : 'No further update promised';
  return {
    text: truncate(`${head}: ${escapeMrkdwn(u.message)}`, 3000),
    blocks: [
      section(head),
      section(escapeMrkdwn(u.message)),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Posted by ${mentionUser(u.postedBy)} · ${next}` }],
      },
    ],
  };
}

export function taskMessage(
  what: 'added' | 'completed' | 'assigned',
  t: { number: number; text: string; assigneeId: string | null; dueAt: Date | null },
  actorId: string,
): SlackMessage {
  const task = `task *${t.number}*: ${escapeMrkdwn(truncate(t.text, 500))}`;
  const forWhom = t.assigneeId ? ` for ${mentionUser(t.assigneeId)}` : '';
  const due = t.dueAt ? `, due ${slackDate(t.dueAt, '{time}')}` : '';
  switch (what) {
    case 'added':
      return message(`📋 ${mentionUser(actorId)} added ${task}${forWhom}${due}`);
    case 'assigned':
      return message(
        `📋 ${mentionUser(actorId)} gave ${task} to ${t.assigneeId ? mentionUser(t.assigneeId) : 'nobody'}${due}`,
      );
    case 'completed':
      return message(`✅ ${mentionUser(actorId)} completed ${task}`);
  }
}

export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', `${m}m`].filter(Boolean).join(' ');
}

export function resolvedMessage(
  i: IncidentSnapshot,
  actorId: string,
  summary: string,
  resolvedAt: Date,
): SlackMessage {
  const roles = ROLES.filter((r) => i.roles[r]).map(
    (r) => `${roleLabel(r)} ${mentionUser(i.roles[r] as string)}`,
  );
  const lines = [
    `✅ *Incident #${i.number} ${escapeMrkdwn(i.title)}* was resolved by ${mentionUser(actorId)} after ${formatDuration(resolvedAt.getTime() - i.declaredAt.getTime())}.`,
    `*Severity:* ${escapeMrkdwn(i.severity)} · *Roles:* ${roles.length ? roles.join(', ') : 'none assigned'} · *Open tasks left:* ${i.openTaskCount}`,
    `*Summary:* ${escapeMrkdwn(summary)}`,
  ];
  const due = i.postmortem.dueAt;
  if (!due) return message(lines.join('\n'));
  // The severity wants a postmortem: say when, whose, and offer to start it.
  const owner = i.postmortem.ownerId ? `, owner ${mentionUser(i.postmortem.ownerId)}` : '';
  lines.push(`📝 *Postmortem* due ${slackDate(due, '{date_short_pretty} {time}')}${owner}.`);
  return withButtons(lines.join('\n'), [
    button(POSTMORTEM_ACTION.write, 'Write the postmortem', i.id, 'primary'),
  ]);
}

/**
 * Every alert behind the incident has resolved: the commander decides whether the incident is over (the
 * bot never resolves it by itself). The Resolve button opens the resolve form.
 */
export function alertsResolvedMessage(i: IncidentSnapshot, title: string): SlackMessage {
  const who = i.commanderId ? `${mentionUser(i.commanderId)}, if` : 'If';
  return withButtons(
    `✅ All alerts of *${escapeMrkdwn(truncate(title, 150))}* have resolved. ${who} the incident is over, resolve it; if not, carry on.`,
    [button(CARD_ACTION.resolve, 'Resolve the incident', i.id, 'primary')],
  );
}

export function reopenedMessage(i: { number: number; title: string }, actorId: string): SlackMessage {
  return message(
    `🔁 ${mentionUser(actorId)} reopened incident #${i.number} *${escapeMrkdwn(i.title)}*; it is investigating again.`,
  );
}
