import type { App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { parseCommand } from '../command.js';
import { guarded } from '../errors.js';
import { declareModal } from '../views/declare-modal.js';
import { helpMessage } from '../views/help.js';
import type { ListenerDeps } from './deps.js';

/** `/incident …`: answers within Slack's 3 seconds; the declare form opens before any slow work. */
export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command(
    '/incident',
    guarded(deps.logger, '/incident', async ({ command, ack }: SlackCommandMiddlewareArgs) => {
      const parsed = parseCommand(command.text ?? '');
      switch (parsed.kind) {
        case 'help':
          await ack({ response_type: 'ephemeral', ...helpMessage(parsed.unknown) });
          return;
        case 'declare':
          await ack();
          await deps.slack.openView(
            command.trigger_id,
            declareModal({
              severities: deps.config.severities,
              initialTitle: parsed.title,
              metadata: { sourceChannelId: command.channel_id },
            }),
          );
          return;
      }
    }),
  );
}
