import type {
  App,
  BlockAction,
  ButtonAction,
  RespondFn,
  SlackActionMiddlewareArgs,
  StaticSelectAction,
} from '@slack/bolt';
import type { View } from '@slack/web-api';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { acknowledge, snoozeUpdateReminder, takeCommand } from '../../escalation/service.js';
import type { IncidentSnapshot } from '../../incidents/queries.js';
import { changeSeverity, loadSnapshot, reopenIncident, timelineOf } from '../../incidents/run.js';
import { guarded } from '../errors.js';
import { CARD_ACTION, ESCALATION_ACTION, TIMELINE_PAGE_ACTION } from '../ids.js';
import { slackDate } from '../text.js';
import { takeCommandOffer } from '../views/escalation.js';
import {
  confirmation,
  resolveModal,
  rolesModal,
  taskModal,
  timelinePage,
  updateModal,
} from '../views/run.js';
import type { ListenerDeps } from './deps.js';

const incidentId = z.uuid();

/** The incident card's buttons and select, and timeline paging. Every button value is the incident id. */
export function registerActions(app: App, deps: ListenerDeps): void {
  const run = { db: deps.db, clock: deps.clock, config: deps.config };

  const snapshotOf = async (value: string | undefined): Promise<IncidentSnapshot> => {
    const id = incidentId.safeParse(value);
    const snapshot = id.success ? await loadSnapshot(deps.db, id.data) : undefined;
    if (!snapshot) throw new UserError('not_found', 'That incident no longer exists.');
    return snapshot;
  };

  const modalButton = (action: string, build: (s: IncidentSnapshot) => View) =>
    app.action(
      action,
      guarded(
        deps.logger,
        action,
        async ({ ack, body, action: a }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>>) => {
          await ack();
          await deps.slack.openView(body.trigger_id, build(await snapshotOf(a.value)));
        },
      ),
    );
  modalButton(CARD_ACTION.roles, rolesModal);
  modalButton(CARD_ACTION.update, updateModal);
  modalButton(CARD_ACTION.task, taskModal);
  modalButton(CARD_ACTION.resolve, resolveModal);

  app.action(
    CARD_ACTION.severity,
    guarded(
      deps.logger,
      'card severity',
      async ({ ack, body, action }: SlackActionMiddlewareArgs<BlockAction<StaticSelectAction>>) => {
        await ack();
        // A select's value is the chosen option, so the incident id travels in the actions block's id.
        const snapshot = await snapshotOf(action.block_id.split(':')[1]);
        await changeSeverity(run, {
          incidentId: snapshot.id,
          actorId: body.user.id,
          severity: action.selected_option.value,
        });
        deps.kickJobs();
      },
    ),
  );

  app.action(
    CARD_ACTION.reopen,
    guarded(
      deps.logger,
      'card reopen',
      async ({ ack, body, action }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>>) => {
        await ack();
        const snapshot = await snapshotOf(action.value);
        await reopenIncident(run, { incidentId: snapshot.id, actorId: body.user.id });
        deps.kickJobs();
      },
    ),
  );

  const incidentButton = (
    action: string,
    handle: (incidentId: string, userId: string) => Promise<Parameters<RespondFn>[0] | undefined>,
  ) =>
    app.action(
      action,
      guarded(
        deps.logger,
        action,
        async ({ ack, body, action: a, respond }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>>) => {
          await ack();
          const snapshot = await snapshotOf(a.value);
          const answer = await handle(snapshot.id, body.user.id);
          deps.kickJobs();
          if (answer) await respond(answer);
        },
      ),
    );
  const ephemeral = (m: { text: string; blocks?: unknown[] }) =>
    ({ response_type: 'ephemeral' as const, replace_original: false, ...m }) as Parameters<RespondFn>[0];

  incidentButton(ESCALATION_ACTION.ack, async (incidentId, userId) => {
    const { incident, offerCommand } = await acknowledge(run, { incidentId, actorId: userId });
    return ephemeral(
      offerCommand ? takeCommandOffer(incident) : confirmation('Acknowledged; paging has stopped.'),
    );
  });
  incidentButton(ESCALATION_ACTION.takeCommand, async (incidentId, userId) => {
    await takeCommand(run, { incidentId, actorId: userId });
    return ephemeral(confirmation('You are now the commander.'));
  });
  incidentButton(ESCALATION_ACTION.snooze, async (incidentId, userId) => {
    const until = await snoozeUpdateReminder(run, { incidentId, actorId: userId });
    return ephemeral(confirmation(`Snoozed: the next reminder comes at ${slackDate(until, '{time}')}.`));
  });

  app.action(
    new RegExp(`^${TIMELINE_PAGE_ACTION}_`),
    guarded(
      deps.logger,
      'timeline page',
      async ({ ack, action, respond }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>>) => {
        await ack();
        const [id, page] = (action.value ?? '').split(':');
        const snapshot = await snapshotOf(id);
        const events = await timelineOf(deps.db, snapshot.id);
        await respond({
          response_type: 'ephemeral',
          replace_original: true,
          ...timelinePage(snapshot, events, Number(page) || 0),
        });
      },
    ),
  );
}
