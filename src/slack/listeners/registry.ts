import type {
  AllMiddlewareArgs,
  AnyMiddlewareArgs,
  App,
  BlockAction,
  BlockElementAction,
  MessageShortcut,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackShortcutMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import type { Logger } from '../../logger.js';
import { type GuardOptions, guarded } from '../errors.js';
import { answerUnknown } from './unknown.js';

/** What Bolt hands a global middleware: the same arguments it would hand a listener. */
type Args = AnyMiddlewareArgs & AllMiddlewareArgs;
/** A registered listener, stored by what it answers; it is only ever called with requests of its kind. */
type Handler = (args: Args) => Promise<void>;

/** The fields of a request body the dispatch reads. */
interface Envelope {
  type?: string;
  command?: string;
  callback_id?: string;
  view?: { callback_id?: string };
  actions?: { action_id?: string }[];
  event?: { type?: string };
}

/**
 * Every listener is registered here, which does three things: it puts the listener behind the one error
 * path (`guarded`); it records the command, form or button it answers, so the answer to a control no
 * listener knows ("this belongs to an older version", unknown.ts) can never hit a current control; and it
 * dispatches each request to its one listener by a map lookup.
 *
 * Why one dispatching middleware instead of Bolt's `app.command` / `app.action` / `app.view`: Bolt runs
 * every registered listener's matcher chain for every request (copying the arguments at each step), so
 * with the bot's ~30 listeners the dispatch cost more CPU per request than the rest of the
 * acknowledgement (`invokeMiddleware` was the bot's top function in the ack benchmark's profile). One
 * global middleware that looks the listener up and does not call `next()` runs exactly one listener and no
 * matcher; Bolt's own listener list stays empty. The matching is Bolt's: a command by name, a form's
 * submission by callback_id, block actions by the first action's action_id, a message shortcut by
 * callback_id, an event by its type (already acknowledged by Bolt).
 */
export class Listeners {
  private readonly commands = new Map<string, Handler>();
  private readonly views = new Map<string, Handler>();
  private readonly actions = new Map<string, Handler>();
  private readonly actionPrefixes: { prefix: string; handler: Handler }[] = [];
  private readonly shortcuts = new Map<string, Handler>();
  private readonly events = new Map<string, Handler>();

  constructor(
    app: App,
    private readonly logger: Logger,
  ) {
    app.use((args) => this.dispatch(args));
  }

  command(name: string, listener: (args: SlackCommandMiddlewareArgs) => Promise<void>): void {
    this.add(this.commands, name, guarded(this.logger, name, listener));
  }

  /** A form's submission, by its callback_id. */
  view(
    callbackId: string,
    listener: (args: SlackViewMiddlewareArgs<ViewSubmitAction>) => Promise<void>,
    options: GuardOptions = {},
  ): void {
    this.add(this.views, callbackId, guarded(this.logger, callbackId, listener, options));
  }

  /** A button or select, by its action_id, or by a prefix (`{ prefix: 'timeline_page_' }`). */
  action<A extends BlockElementAction>(
    id: string | { prefix: string },
    listener: (args: SlackActionMiddlewareArgs<BlockAction<A>>) => Promise<void>,
  ): void {
    if (typeof id === 'string') {
      this.add(this.actions, id, guarded(this.logger, id, listener));
      return;
    }
    const handler = guarded(this.logger, `${id.prefix}*`, listener) as unknown as Handler;
    this.actionPrefixes.push({ prefix: id.prefix, handler });
  }

  /** A message shortcut, by its callback_id. */
  shortcut(
    callbackId: string,
    listener: (args: SlackShortcutMiddlewareArgs<MessageShortcut>) => Promise<void>,
  ): void {
    this.add(this.shortcuts, callbackId, guarded(this.logger, callbackId, listener));
  }

  /** An Events API event (app_home_opened): acknowledged by Bolt before dispatch, errors logged. */
  event<E extends 'app_home_opened'>(
    name: E,
    listener: (args: SlackEventMiddlewareArgs<E>) => Promise<void>,
  ): void {
    this.add(this.events, name, async (args: SlackEventMiddlewareArgs<E>) => {
      try {
        await listener(args);
      } catch (err) {
        this.logger.error({ err, event: name }, `${name} failed`);
      }
    });
  }

  knowsShortcut(callbackId: string): boolean {
    return this.shortcuts.has(callbackId);
  }

  knowsCommand(name: string): boolean {
    return this.commands.has(name);
  }

  knowsView(callbackId: string): boolean {
    return this.views.has(callbackId);
  }

  knowsAction(actionId: string): boolean {
    return this.actionFor(actionId) !== undefined;
  }

  /** What is registered, for tests and the startup log. */
  registered(): {
    commands: string[];
    views: string[];
    actions: string[];
    actionPrefixes: string[];
    shortcuts: string[];
  } {
    return {
      shortcuts: [...this.shortcuts.keys()],
      commands: [...this.commands.keys()],
      views: [...this.views.keys()],
      actions: [...this.actions.keys()],
      actionPrefixes: this.actionPrefixes.map((p) => p.prefix),
    };
  }

  private add<A>(into: Map<string, Handler>, key: string, handler: (args: A) => Promise<void>): void {
    if (into.has(key)) throw new Error(`two listeners for "${key}"`);
    into.set(key, handler as unknown as Handler);
  }

  private actionFor(actionId: string): Handler | undefined {
    return (
      this.actions.get(actionId) ?? this.actionPrefixes.find((p) => actionId.startsWith(p.prefix))?.handler
    );
  }

  /** The listener for this request, `undefined` for a control nobody registered, `null` for nothing to do. */
  private listenerFor(body: Envelope): Handler | undefined | null {
    if (body.command !== undefined) return this.commands.get(body.command);
    switch (body.type) {
      case 'view_submission':
        return this.views.get(String(body.view?.callback_id ?? ''));
      case 'block_actions': {
        // Bolt dispatches on the first action; a request carrying any control nobody knows is stale.
        const actions = body.actions ?? [];
        if (!actions.every((a) => this.knowsAction(String(a.action_id ?? '')))) return undefined;
        return this.actionFor(String(actions[0]?.action_id ?? ''));
      }
      case 'message_action':
        return this.shortcuts.get(String(body.callback_id ?? ''));
      case 'shortcut':
      case 'block_suggestion':
      case 'interactive_message':
        return undefined;
      case 'event_callback':
        return this.events.get(String(body.event?.type ?? '')) ?? null;
      default:
        return null;
    }
  }

  private async dispatch(args: Args): Promise<void> {
    const body = args.body as Envelope;
    // view_closed needs no answer beyond the acknowledgement.
    const ack = (args as { ack?: () => Promise<void> }).ack;
    if (body.type === 'view_closed') return ack?.();
    const listener = this.listenerFor(body);
    if (listener) return listener(args);
    if (listener === undefined) return answerUnknown(args, this.logger);
  }
}
