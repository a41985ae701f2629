import type { AnyMiddlewareArgs } from '@slack/bolt';
import type { Logger } from '../../logger.js';

/**
 * Answers, at once and in words, what no listener handles: a button from an older card, a form the bot
 * no longer knows, another slash command. Without this Slack would wait 3 seconds and show the user a
 * generic error. What counts as known is what was registered (registry.ts, which calls this).
 */

export const STALE_MESSAGE =
  'This button or form belongs to an older version of the bot. Run `/incident` for a fresh card.';

export async function answerUnknown(args: AnyMiddlewareArgs, logger: Logger): Promise<void> {
  const body = args.body as {
    type?: string;
    command?: string;
    view?: { callback_id?: string };
    actions?: { action_id?: string }[];
  };
  const ack = (args as { ack?: (r?: unknown) => Promise<void> }).ack;
  const respond = (args as { respond?: (r: unknown) => Promise<unknown> }).respond;
  if (!ack) return;
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
}
