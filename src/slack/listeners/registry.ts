import type {
  App,
  BlockAction,
  BlockElementAction,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
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
  registered(): { commands: string[]; views: string[]; actions: string[]; actionPrefixes: string[] } {
    return {
      commands: [...this.commands],
      views: [...this.views],
      actions: [...this.actions],
      actionPrefixes: [...this.actionPrefixes],
    };
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
