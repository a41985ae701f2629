/**
 * Text helpers for Slack. Everything a user typed goes through `escapeMrkdwn` before it is placed in
 * mrkdwn (message text, section text, fallback text), so `<!channel>` or `<https://evil|click>` in a
 * title cannot ping or phish. Mentions the bot writes on purpose are built by `mentionUser` etc.
 */

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Undoes Slack's escaping of slash-command text and turns mentions into readable plain text. */
export function unescapeCommandText(text: string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)\|([^>]*)>/g, '@$2')
    .replace(/<@([UW][A-Z0-9]+)>/g, '@$1')
    .replace(/<#([CG][A-Z0-9]+)\|([^>]*)>/g, '#$2')
    .replace(/<!subteam\^([A-Z0-9]+)\|([^>]*)>/g, '$2')
    .replace(/<(https?:[^|>]+)\|([^>]*)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
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

const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export function mentionUser(userId: string): string {
  if (!USER_ID.test(userId)) throw new Error(`not a Slack user id: ${userId}`);
  return `<@${userId}>`;
}

export function mentionChannel(channelId: string): string {
  if (!/^[CGD][A-Z0-9]{2,}$/.test(channelId)) throw new Error(`not a Slack channel id: ${channelId}`);
  return `<#${channelId}>`;
}

/** A date Slack renders in each reader's time zone, with an ISO fallback for clients that cannot. */
export function slackDate(date: Date, format = '{date_short_pretty} at {time}'): string {
  const seconds = Math.floor(date.getTime() / 1000);
  return `<!date^${seconds}^${format}|${date.toISOString().replace(/\.\d{3}Z$/, 'Z')}>`;
}
