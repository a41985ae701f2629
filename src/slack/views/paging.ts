import { escapeMrkdwn, truncate } from '../../text.js';
import { pagedWho as pagedWhoInWords } from '../../timeline/words.js';
import { ESCALATION_ACTION } from '../ids.js';
import { mentionChannel, mentionUser } from '../text.js';
import { button, type SlackMessage, section, withButtons } from './blocks.js';
import { MRKDWN } from './timeline.js';

/** Paging and acknowledgement. */

/** What the paging and reminder messages need to know of the incident. */
export interface PagedIncident {
  id: string;
  number: number;
  title: string;
  severity: string;
  channelId: string | null | undefined;
}

export const incidentLine = (i: PagedIncident) =>
  `incident #${i.number} *${escapeMrkdwn(i.title)}* (${escapeMrkdwn(i.severity)})`;

const ackButton = (i: PagedIncident) => button(ESCALATION_ACTION.ack, 'Acknowledge', i.id, 'primary');

/** The DM that pages a person. `label` is built by the bot ("tier 2", "by <@U…>"); the reason is user text. */
export function pageDm(i: PagedIncident, label: string, reason: string | undefined): SlackMessage {
  const where = i.channelId ? ` Join ${mentionChannel(i.channelId)}.` : '';
  const why = reason ? `\n>${escapeMrkdwn(truncate(reason, 500))}` : '';
  return withButtons(`📟 You are paged (${label}) for ${incidentLine(i)}.${where}${why}`, [ackButton(i)]);
}

/** Who a page reached, in mrkdwn (see timeline/words.ts). */
export const pagedWho = (users: string[], skippedTo?: string | null): string =>
  pagedWhoInWords(MRKDWN, users, skippedTo);

/** The channel post saying who was paged. */
export function pagedMessage(
  i: PagedIncident,
  label: string,
  users: string[],
  reason: string | undefined,
  skippedTo?: string | null,
): SlackMessage {
  const who = pagedWho(users, skippedTo);
  const why = reason ? ` — ${escapeMrkdwn(truncate(reason, 500))}` : '';
  return withButtons(`📟 Paged ${label}: ${who}${why}`, [ackButton(i)]);
}

export function acknowledgedMessage(userId: string): SlackMessage {
  const line = `✅ ${mentionUser(userId)} acknowledged the incident; paging has stopped.`;
  return { text: line, blocks: [section(line)] };
}

/** Offered (not forced) to whoever acknowledges an incident that has no commander. */
export function takeCommandOffer(i: PagedIncident): SlackMessage {
  return withButtons(
    `Thanks for acknowledging. ${incidentLine(i)} has no commander yet — will you take command?`,
    [button(ESCALATION_ACTION.takeCommand, 'Take command', i.id, 'primary')],
  );
}
