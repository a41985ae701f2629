/**
 * Text as the product writes it to people. What people read is Slack's mrkdwn (refusals, messages), so
 * everything a user typed goes through `escapeMrkdwn` before it is placed in it: `<!channel>` or
 * `<https://evil|click>` in a title cannot ping or phish. `stripControl` runs before anything is stored.
 */

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Removes what must never reach Postgres or Slack: NUL (Postgres rejects it in text) and the other C0
 * control characters except tab and newline.
 */
export function stripControl(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '');
}

/** Cuts to at most `max` characters (code points, so emoji are not split), ending with … when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Length in code points, as people count characters (an emoji is one). */
export const codePoints = (text: string): number => Array.from(text).length;
