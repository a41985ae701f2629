import type { ButtonAction, RespondFn, StaticSelectAction } from '@slack/bolt';
import type { View } from '@slack/web-api';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { acknowledge, changeSeverity, reopenIncident } from '../../incidents/lifecycle.js';
import { type IncidentSnapshot, loadSnapshot, timelineOf } from '../../incidents/queries.js';
import { snoozeUpdateReminder } from '../../incidents/reminders.js';
import { takeCommand } from '../../incidents/roles.js';
import { CARD_ACTION, ESCALATION_ACTION, TIMELINE_PAGE_ACTION } from '../ids.js';
import { slackDate } from '../text.js';
import { confirmation } from '../views/blocks.js';
import { resolveModal, rolesModal, taskModal, updateModal } from '../views/modals.js';
import { takeCommandOffer } from '../views/paging.js';
import { timelinePage } from '../views/timeline.js';
import type { ListenerDeps } from './deps.js';

const incidentId = z.uuid();

/** The incident card's buttons and select, paging and reminder buttons, and timeline paging. Every button value is the incident id. */
export function registerActions(deps: ListenerDeps): void {
  const run = deps.incidents;

  const snapshotOf = async (value: string | undefined): Promise<IncidentSnapshot> => {
    const id = incidentId.safeParse(value);
    const snapshot = id.success ? await loadSnapshot(run.db, id.data) : undefined;
    if (!snapshot) throw new UserError('not_found', 'That incident no longer exists.');
    return snapshot;
  };

  const modalButton = (action: string, build: (s: IncidentSnapshot) => View) =>
    deps.on.action<ButtonAction>(action, async ({ ack, body, action: a }) => {
      await ack();
      await deps.slack.openView(body.trigger_id, build(await snapshotOf(a.value)));
    });
  modalButton(CARD_ACTION.roles, rolesModal);
  modalButton(CARD_ACTION.update, (s) => updateModal(s, deps.config.statusPage));
  modalButton(CARD_ACTION.task, taskModal);
  modalButton(CARD_ACTION.resolve, (s) => resolveModal(s, deps.config.statusPage));

  deps.on.action<StaticSelectAction>(CARD_ACTION.severity, async ({ ack, body, action }) => {
    await ack();
    // A select's value is the chosen option, so the incident id travels in the actions block's id.
    const snapshot = await snapshotOf(action.block_id.split(':')[1]);
    await changeSeverity(run, {
      incidentId: snapshot.id,
      actorId: body.user.id,
      severity: action.selected_option.value,
    });
  });

  deps.on.action<ButtonAction>(CARD_ACTION.reopen, async ({ ack, body, action }) => {
    await ack();
    const snapshot = await snapshotOf(action.value);
    await reopenIncident(run, { incidentId: snapshot.id, actorId: body.user.id });
  });

  const incidentButton = (
    action: string,
    handle: (incidentId: string, userId: string) => Promise<Parameters<RespondFn>[0] | undefined>,
  ) =>
    deps.on.action<ButtonAction>(action, async ({ ack, body, action: a, respond }) => {
      await ack();
      const snapshot = await snapshotOf(a.value);
      const answer = await handle(snapshot.id, body.user.id);
      if (answer) await respond(answer);
    });
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

  deps.on.action<ButtonAction>({ prefix: `${TIMELINE_PAGE_ACTION}_` }, async ({ ack, action, respond }) => {
    await ack();
    const [id, page] = (action.value ?? '').split(':');
    const snapshot = await snapshotOf(id);
    const events = await timelineOf(run.db, snapshot.id);
    await respond({
      response_type: 'ephemeral',
      replace_original: true,
      ...timelinePage(snapshot, events, Number(page) || 0),
    });
  });
}
