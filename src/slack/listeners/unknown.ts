import type { AnyMiddlewareArgs, App, Middleware } from '@slack/bolt';
import type { Logger } from '../../logger.js';
import type { Listeners } from './registry.js';

/**
 * Answers, at once and in words, what no listener handles: a button from an older card, a form the bot
 * no longer knows, another slash command. Without this Bolt would leave Slack waiting 3 seconds and the
 * user with a generic error. What counts as known is what was registered (registry.ts).
 */

export const STALE_MESSAGE =
  'This button or form belongs to an older version of the bot. Run `/incident` for a fresh card.';

export function registerUnknownHandler(app: App, listeners: Listeners, logger: Logger): void {
  const middleware: Middleware<AnyMiddlewareArgs> = async (args) => {
    const body = args.body as {
      type?: string;
      command?: string;
      view?: { callback_id?: string };
      actions?: { action_id?: string }[];
      callback_id?: string;
    };
    const ack = (args as { ack?: (r?: unknown) => Promise<void> }).ack;
    const respond = (args as { respond?: (r: unknown) => Promise<unknown> }).respond;
    const unknown =
      (body.command !== undefined && !listeners.knowsCommand(body.command)) ||
      (body.type === 'view_submission' && !listeners.knowsView(String(body.view?.callback_id ?? ''))) ||
      (body.type === 'block_actions' &&
        !(body.actions ?? []).every((a) => listeners.knowsAction(String(a.action_id ?? '')))) ||
      (body.type === 'message_action' && !listeners.knowsShortcut(String(body.callback_id ?? ''))) ||
      ['shortcut', 'block_suggestion', 'interactive_message'].includes(String(body.type));
    if (!unknown || !ack) {
      // view_closed needs no answer beyond the acknowledgement.
      if (body.type === 'view_closed' && ack) return ack();
      return args.next();
    }
    logger.info(
      { control: body.command ?? body.view?.callback_id ?? body.actions?.[0]?.action_id },
      `unhandled ${body.type ?? 'command'}`,
    );
    if (body.type === 'view_submission') {
      await ack({
        response_action: 'update',
        view: {
          type: 'modal',
          title: { type: 'plain_text', text: 'Incident bot' },
          close: { type: 'plain_text', text: 'Close' },
          blocks: [{ type: 'section', text: { type: 'mrkdwn', text: STALE_MESSAGE } }],
        },
      });
      return;
    }
    if (body.command !== undefined) {
      await ack({
        response_type: 'ephemeral',
        text: 'This app only answers `/incident`. Try `/incident help`.',
      });
      return;
    }
    await ack();
    await respond?.({ response_type: 'ephemeral', replace_original: false, text: STALE_MESSAGE }).catch(
      () => undefined,
    );
  };
  app.use(middleware);
}
