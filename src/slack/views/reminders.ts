import { formatDurationMs } from '../../duration.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { CARD_ACTION, ESCALATION_ACTION } from '../ids.js';
import { mentionUser, slackDate } from '../text.js';
import { button, type SlackMessage, section, withButtons } from './blocks.js';
import { incidentLine, type PagedIncident } from './paging.js';

/** The incident's reminders: update cadence, task time boxes, missing commander, deputy's clock, postmortem. */

export function updateReminderMessage(
  i: PagedIncident,
  who: string | undefined,
  everyMs: number,
): SlackMessage {
  const mention = who ? `${mentionUser(who)}, ` : '';
  return withButtons(
    `⏰ ${mention}it has been ${formatDurationMs(everyMs)} since the last status update of ${incidentLine(i)}. Time for an update.`,
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

export function missingCommanderMessage(i: PagedIncident, afterMs: number): SlackMessage {
  return withButtons(
    `🧭 ${incidentLine(i)} has had no commander for ${formatDurationMs(afterMs)}. Someone needs to take command.`,
    [button(ESCALATION_ACTION.takeCommand, 'Take command', i.id, 'primary')],
  );
}

export function deputyCalloutMessage(i: PagedIncident, elapsedMs: number): SlackMessage {
  const line = `⏱️ ${incidentLine(i)} is now at the ${Math.round(elapsedMs / 60_000)}-minute mark.`;
  return { text: line, blocks: [section(line)] };
}

export function postmortemReminderMessage(
  i: PagedIncident,
  commanderId: string | undefined,
  resolvedAt: Date,
): SlackMessage {
  const who = commanderId ? `${mentionUser(commanderId)}, the` : 'The';
  const line = `📝 ${who} postmortem of ${incidentLine(i)} (resolved ${slackDate(resolvedAt, '{date_short}')}) is due. Name an owner and schedule the review.`;
  return { text: line, blocks: [section(line)] };
}
