import { escapeMrkdwn, truncate } from '../text.js';
import type { SlackMessage } from './incident.js';

/** The command reference; README.md's command table lists the same commands (a test keeps them in step). */
export const COMMANDS: { usage: string; does: string }[] = [
  { usage: '/incident', does: 'Open the form to declare an incident' },
  { usage: '/incident declare [title]', does: 'Open the form with the title filled in' },
  { usage: '/incident help', does: 'Show this command reference' },
];

export function helpMessage(unknownSubcommand?: string): SlackMessage {
  const intro = unknownSubcommand
    ? `I don’t know \`${escapeMrkdwn(truncate(unknownSubcommand, 40))}\`. Here is what I can do:`
    : 'Here is what I can do:';
  const lines = COMMANDS.map((c) => `\`${c.usage}\` — ${c.does}`).join('\n');
  return {
    text: `${intro}\n${lines}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: intro } },
      { type: 'section', text: { type: 'mrkdwn', text: lines } },
    ],
  };
}
