import { unescapeCommandText } from './text.js';

/** What `/incident <text>` asks for. Pure parsing; the listener decides what to do. */
export type IncidentCommand = { kind: 'declare'; title: string } | { kind: 'help'; unknown?: string };

export function parseCommand(rawText: string): IncidentCommand {
  const text = rawText.trim();
  if (text === '') return { kind: 'declare', title: '' };
  const first = text.split(/\s+/)[0] ?? '';
  const sub = first.toLowerCase();
  const remainder = text.slice(first.length).trim();
  switch (sub) {
    case 'declare':
    case 'new':
      return { kind: 'declare', title: unescapeCommandText(remainder) };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return { kind: 'help', unknown: first };
  }
}
