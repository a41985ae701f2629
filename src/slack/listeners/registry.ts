import type {
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

/**
 * Every listener is registered here, which does two things: it puts the listener behind the one error
 * path (`guarded`), and it records the command, form or button it answers. The answer to a control no
 * listener knows ("this belongs to an older version", unknown.ts) is derived from these records, so it
 * can never hit a current control.
 */
export class Listeners {
  private readonly commands = new Set<string>();
  private readonly views = new Set<string>();
  private readonly actions = new Set<string>();
  private readonly actionPrefixes: string[] = [];
  private readonly shortcuts = new Set<string>();

  constructor(
    private readonly app: App,
    private readonly logger: Logger,
  ) {}

  command(name: string, listener: (args: SlackCommandMiddlewareArgs) => Promise<void>): void {
    this.commands.add(name);
    this.app.command(name, guarded(this.logger, name, listener));
  }

  /** A form's submission, by its callback_id. */
  view(
    callbackId: string,
    listener: (args: SlackViewMiddlewareArgs<ViewSubmitAction>) => Promise<void>,
    options: GuardOptions = {},
  ): void {
    this.views.add(callbackId);
    this.app.view(callbackId, guarded(this.logger, callbackId, listener, options));
  }

  /** A button or select, by its action_id, or by a prefix (`{ prefix: 'timeline_page_' }`). */
  action<A extends BlockElementAction>(
    id: string | { prefix: string },
    listener: (args: SlackActionMiddlewareArgs<BlockAction<A>>) => Promise<void>,
  ): void {
    if (typeof id === 'string') this.actions.add(id);
    else this.actionPrefixes.push(id.prefix);
    const constraint = typeof id === 'string' ? id : new RegExp(`^${escapeRegExp(id.prefix)}`);
    const name = typeof id === 'string' ? id : `${id.prefix}*`;
    this.app.action<BlockAction<A>>(constraint, guarded(this.logger, name, listener));
  }

  /** A message shortcut, by its callback_id. */
  shortcut(
    callbackId: string,
    listener: (args: SlackShortcutMiddlewareArgs<MessageShortcut>) => Promise<void>,
  ): void {
    this.shortcuts.add(callbackId);
    this.app.shortcut<MessageShortcut>(callbackId, guarded(this.logger, callbackId, listener));
  }

  /** An Events API event (app_home_opened): acknowledged by the receiver, errors logged. */
  event<E extends 'app_home_opened'>(
    name: E,
    listener: (args: SlackEventMiddlewareArgs<E>) => Promise<void>,
  ): void {
    this.app.event(name, async (args) => {
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
    return this.actions.has(actionId) || this.actionPrefixes.some((p) => actionId.startsWith(p));
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
      shortcuts: [...this.shortcuts],
      commands: [...this.commands],
      views: [...this.views],
      actions: [...this.actions],
      actionPrefixes: [...this.actionPrefixes],
    };
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
