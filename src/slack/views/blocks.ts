import type { KnownBlock } from '@slack/web-api';
import { truncate } from '../../text.js';

/** The pieces every view is built from. Views are pure: the same input always gives the same output. */

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

export const text = (t: string) => ({ type: 'plain_text' as const, text: t });

export const section = (mrkdwn: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(mrkdwn, 3000) },
});

/** A message of one section (and any extra blocks), with the same line as its notification text. */
export const message = (line: string, extra: KnownBlock[] = []): SlackMessage => ({
  text: truncate(line, 3000),
  blocks: [section(line), ...extra],
});

export const button = (action: string, label: string, value: string, style?: 'primary' | 'danger') => ({
  type: 'button' as const,
  action_id: action,
  text: { type: 'plain_text' as const, text: label },
  value,
  ...(style ? { style } : {}),
});

export const withButtons = (line: string, buttons: ReturnType<typeof button>[]): SlackMessage =>
  message(line, [{ type: 'actions', elements: buttons }]);

/** A one-line ephemeral answer; the text is trusted (built by the bot, user input already escaped). */
export const confirmation = (line: string): SlackMessage => message(line);

/** As many whole lines as fit in one section (never cutting a mention or date token), then a count of the rest. */
export function fitLines(lines: string[], budget = 2800): string[] {
  const out: string[] = [];
  let used = 0;
  for (const [n, l] of lines.entries()) {
    if (used + l.length + 1 > budget) {
      out.push(`…and ${lines.length - n} more`);
      break;
    }
    out.push(l);
    used += l.length + 1;
  }
  return out;
}
