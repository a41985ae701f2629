import type { KnownBlock } from '@slack/web-api';
import { escapeMrkdwn, truncate } from '../../text.js';
import type { TimelineEvent } from '../../timeline/model.js';
import { type Dialect, describeEvent as describeInWords } from '../../timeline/words.js';
import { TIMELINE_PAGE_ACTION } from '../ids.js';
import { mentionChannel, mentionUser, slackDate } from '../text.js';
import { type SlackMessage, section, text } from './blocks.js';

/** The timeline in words, page by page. */

/** Slack's mrkdwn: mentions, date tokens each reader sees in their own zone, escaped user text. */
export const MRKDWN: Dialect = {
  user: mentionUser,
  channel: (id) => (/^[CG][A-Z0-9]+$/.test(id) ? mentionChannel(id) : 'the channel'),
  text: (v) => escapeMrkdwn(truncate(String(v ?? ''), 300)),
  time: (at) => slackDate(at, '{time}'),
  code: (v) => `\`${escapeMrkdwn(truncate(v, 300))}\``,
};

/** One line of the timeline, in mrkdwn. */
export const describeEvent = (e: TimelineEvent): string => describeInWords(e, MRKDWN);

export const TIMELINE_PAGE_SIZE = 25;

/** One page of the timeline (oldest first), with a button to the next page when there is one. */
export function timelinePage(
  i: { id: string; number: number },
  events: TimelineEvent[],
  page: number,
): SlackMessage {
  const pages = Math.max(1, Math.ceil(events.length / TIMELINE_PAGE_SIZE));
  const current = Math.min(Math.max(0, page), pages - 1);
  const slice = events.slice(current * TIMELINE_PAGE_SIZE, (current + 1) * TIMELINE_PAGE_SIZE);
  const lines = slice.map((e) => `${slackDate(e.occurredAt, '{date_short} {time}')} ${describeEvent(e)}`);
  const blocks: KnownBlock[] = [
    section(`*Timeline of incident #${i.number}* (page ${current + 1} of ${pages})`),
  ];
  // Several sections, each well under 3000 characters.
  for (let n = 0; n < lines.length; n += 8) blocks.push(section(lines.slice(n, n + 8).join('\n')));
  const nav = [
    ...(current > 0 ? [{ label: '← Earlier', page: current - 1 }] : []),
    ...(current < pages - 1 ? [{ label: 'Later →', page: current + 1 }] : []),
  ];
  if (nav.length > 0) {
    blocks.push({
      type: 'actions',
      elements: nav.map((n) => ({
        type: 'button',
        action_id: `${TIMELINE_PAGE_ACTION}_${n.page > current ? 'next' : 'prev'}`,
        text: text(n.label),
        value: `${i.id}:${n.page}`,
      })),
    });
  }
  return { text: `Timeline of incident #${i.number}`, blocks };
}
