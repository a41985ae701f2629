import type { IncidentSnapshot } from '../../incidents/queries.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { mentionChannel, slackDate } from '../text.js';
import type { SlackMessage } from './blocks.js';
import { personOrUnassigned } from './labels.js';

/** What setting up an incident says outside its channel: the announcement and the word to the reporter. */

/** The message in the announcements channel. */
export function announcement(i: IncidentSnapshot): SlackMessage {
  const where = i.channelId ? mentionChannel(i.channelId) : 'its channel';
  const line = `🚨 *New incident #${i.number}: ${escapeMrkdwn(i.title)}* (${escapeMrkdwn(i.severity)})`;
  return {
    text: truncate(`${line} — join ${where}`, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(line, 3000) } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `Join ${where} · Commander: ${personOrUnassigned(i.commanderId)} · Declared by ${personOrUnassigned(i.reporterId)} ${slackDate(i.declaredAt)}`,
          },
        ],
      },
    ],
  };
}

/** Tells the reporter where the incident lives. */
export function reporterNotice(i: IncidentSnapshot): SlackMessage {
  const where = i.channelId ? mentionChannel(i.channelId) : 'its channel (being created)';
  const text = `Incident #${i.number} *${escapeMrkdwn(i.title)}* is declared. It lives in ${where}.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }] };
}

/** Tells the reporter that a part of setting up the incident failed for good, and what to do. */
export function setupFailureNotice(
  i: { number: number; title: string },
  step: string,
  error: string,
): SlackMessage {
  const text =
    `⚠️ Incident #${i.number} *${escapeMrkdwn(i.title)}* is recorded, but ${step} failed: ` +
    `\`${escapeMrkdwn(error)}\`. ${FAILURE_ADVICE[step] ?? 'Please check the bot’s permissions.'}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }] };
}

const FAILURE_ADVICE: Record<string, string> = {
  'creating the channel': 'Ask a workspace admin whether the bot may create channels, then declare again.',
  'posting the announcement':
    'Invite the bot to the announcements channel so future incidents are announced.',
};
