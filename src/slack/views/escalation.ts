import type { KnownBlock } from '@slack/web-api';
import { formatDurationMs } from '../../duration.js';
import { CARD_ACTION, ESCALATION_ACTION } from '../ids.js';
import { escapeMrkdwn, mentionChannel, mentionUser, slackDate, truncate } from '../text.js';
import type { SlackMessage } from './incident.js';

/** Pure builders for paging, acknowledgement and reminders. */

interface Incident {
  id: string;
  number: number;
  title: string;
  severity: string;
  channelId: string | null;
}

const section = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(text, 3000) },
});
const button = (action: string, text: string, value: string, style?: 'primary' | 'danger') => ({
  type: 'button' as const,
  action_id: action,
  text: { type: 'plain_text' as const, text },
  value,
  ...(style ? { style } : {}),
});
const withButtons = (line: string, buttons: ReturnType<typeof button>[]): SlackMessage => ({
  text: truncate(line, 3000),
  blocks: [section(line), { type: 'actions', elements: buttons }],
});
const name = (i: Incident) =>
  `incident #${i.number} *${escapeMrkdwn(i.title)}* (${escapeMrkdwn(i.severity)})`;
const ackButton = (i: Incident) => button(ESCALATION_ACTION.ack, 'Acknowledge', i.id, 'primary');

/** The DM that pages a person. `label` is built by the bot ("tier 2", "by <@U…>"); the reason is user text. */
export function pageDm(i: Incident, label: string, reason: string | undefined): SlackMessage {
  const where = i.channelId ? ` Join ${mentionChannel(i.channelId)}.` : '';
  const why = reason ? `\n>${escapeMrkdwn(truncate(reason, 500))}` : '';
  return withButtons(`📟 You are paged (${label}) for ${name(i)}.${where}${why}`, [ackButton(i)]);
}

/** The channel post saying who was paged. */
export function pagedMessage(
  i: Incident,
  label: string,
  users: string[],
  reason: string | undefined,
): SlackMessage {
  const who = users.length ? users.map(mentionUser).join(', ') : 'nobody (no members)';
  const why = reason ? ` — ${escapeMrkdwn(truncate(reason, 500))}` : '';
  return withButtons(`📟 Paged ${label}: ${who}${why}`, [ackButton(i)]);
}

export function acknowledgedMessage(userId: string): SlackMessage {
  const line = `✅ ${mentionUser(userId)} acknowledged the incident; paging has stopped.`;
  return { text: line, blocks: [section(line)] };
}

/** Offered (not forced) to whoever acknowledges an incident that has no commander. */
export function takeCommandOffer(i: Incident): SlackMessage {
  return withButtons(`Thanks for acknowledging. ${name(i)} has no commander yet — will you take command?`, [
    button(ESCALATION_ACTION.takeCommand, 'Take command', i.id, 'primary'),
  ]);
}

export function updateReminderMessage(i: Incident, who: string | undefined, everyMs: number): SlackMessage {
  const mention = who ? `${mentionUser(who)}, ` : '';
  return withButtons(
    `⏰ ${mention}it has been ${formatDurationMs(everyMs)} since the last status update of ${name(i)}. Time for an update.`,
    [
      button(CARD_ACTION.update, 'Post update', i.id, 'primary'),
      button(ESCALATION_ACTION.snooze, 'Snooze 15m', i.id),
    ],
  );
}

export function taskDueMessage(t: { number: number; text: string; assigneeId: string | null }): SlackMessage {
  const who = t.assigneeId ? `${mentionUser(t.assigneeId)}, the` : 'The';
  const line = `⏰ ${who} time box of task *${t.number}* (${escapeMrkdwn(truncate(t.text, 300))}) is up. Report back, or close it with \`/incident task done ${t.number}\`.`;
  return { text: line, blocks: [section(line)] };
}

export function missingCommanderMessage(i: Incident, afterMs: number): SlackMessage {
  return withButtons(
    `🧭 ${name(i)} has had no commander for ${formatDurationMs(afterMs)}. Someone needs to take command.`,
    [button(ESCALATION_ACTION.takeCommand, 'Take command', i.id, 'primary')],
  );
}

export function deputyCalloutMessage(i: Incident, elapsedMs: number): SlackMessage {
  const line = `⏱️ ${name(i)} is now at the ${Math.round(elapsedMs / 60_000)}-minute mark.`;
  return { text: line, blocks: [section(line)] };
}

export function postmortemReminderMessage(
  i: Incident,
  commanderId: string | undefined,
  resolvedAt: Date,
): SlackMessage {
  const who = commanderId ? `${mentionUser(commanderId)}, the` : 'The';
  const line = `📝 ${who} postmortem of ${name(i)} (resolved ${slackDate(resolvedAt, '{date_short}')}) is due. Name an owner and schedule the review.`;
  return { text: line, blocks: [section(line)] };
}
