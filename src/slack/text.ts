import { USER_ID } from '../incidents/model.js';

/**
 * Slack's own text forms: mentions the bot writes on purpose (`mentionUser` …), dates Slack renders in each
 * reader's time zone, and slash-command text turned back into plain text. Escaping what users typed is
 * `escapeMrkdwn` in src/text.ts.
 */

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
