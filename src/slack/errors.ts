import { randomUUID } from 'node:crypto';
import type { RespondArguments, RespondFn } from '@slack/bolt';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * The one error path of the Slack layer. Every listener is registered through `guarded`, which remembers
 * whether the request was acknowledged and turns whatever the listener throws into an answer the user
 * sees: a UserError's own message (under its modal field, or ephemeral), anything else a generic message
 * with a reference that is also in the log next to the stack.
 */

type AckFn = (response?: never) => Promise<void>;

interface GuardedArgs {
  ack: AckFn;
  respond?: RespondFn;
  body: unknown;
}

export interface GuardOptions {
  /** For modal submissions: the block that shows errors that belong to no particular field. */
  modalErrorBlock?: string;
}

export function describeError(
  err: unknown,
  logger: Logger,
  where: string,
): { message: string; blockId?: string } {
  if (err instanceof UserError) return { message: err.message, blockId: err.blockId };
  const ref = randomUUID().slice(0, 8);
  logger.error({ err, ref, where }, `[ref ${ref}] ${where} failed`);
  return {
    message: `Something went wrong on our side (ref ${ref}). Please try again; if it keeps failing, give the reference to whoever runs this bot.`,
  };
}

export function guarded<A extends GuardedArgs>(
  logger: Logger,
  where: string,
  listener: (args: A) => Promise<void>,
  options: GuardOptions = {},
): (args: A) => Promise<void> {
  return async (args: A) => {
    const body = args.body as {
      team_id?: string;
      team?: { id?: string };
      user_id?: string;
      user?: { id?: string };
    };
    // Made only when something went wrong: a pino child per request showed in the ack profile.
    const log = () =>
      logger.child({
        team_id: body.team_id ?? body.team?.id,
        user_id: body.user_id ?? body.user?.id,
      });
    let acked = false;
    const ack = (async (response?: never) => {
      acked = true;
      await args.ack(response);
    }) as AckFn;
    try {
      await listener({ ...args, ack });
    } catch (err) {
      const { message, blockId } = describeError(err, log(), where);
      const type = (args.body as { type?: string }).type;
      if (type === 'view_submission') {
        if (!acked) {
          const block = blockId ?? options.modalErrorBlock ?? 'error';
          await args.ack({ response_action: 'errors', errors: { [block]: message } } as never);
        }
        return;
      }
      const reply: RespondArguments = { response_type: 'ephemeral', replace_original: false, text: message };
      if (!acked && type === undefined) {
        // A slash command not yet acknowledged: the acknowledgement itself carries the answer.
        await args.ack(reply as never);
        return;
      }
      if (!acked) await args.ack();
      await args.respond?.(reply);
    }
  };
}
