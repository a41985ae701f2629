import type { ButtonAction, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { POSTMORTEM_PARTS, POSTMORTEM_STATUS_WORDS, type PostmortemPart } from '../../incidents/model.js';
import {
  editPostmortem,
  postmortemForm,
  setPostmortemStatus,
  writePostmortem,
} from '../../learn/postmortems.js';
import { POSTMORTEM_ACTION, POSTMORTEM_MODAL } from '../ids.js';
import { confirmation, type SlackMessage } from '../views/blocks.js';
import { editPostmortemModal, partPrint, postmortemAnswer } from '../views/postmortem.js';
import type { ListenerDeps } from './deps.js';

/** The postmortem's buttons (Write, Edit, the review steps) and the Edit postmortem form. */

const incidentId = z.uuid();

function incidentOf(value: string | undefined): string {
  const id = incidentId.safeParse(value);
  if (!id.success) throw new UserError('not_found', 'That incident no longer exists.');
  return id.data;
}

const ephemeral = (message: SlackMessage) => ({
  response_type: 'ephemeral' as const,
  replace_original: false,
  ...message,
});

export function registerLearn(deps: ListenerDeps): void {
  const run = deps.incidents;

  deps.on.action<ButtonAction>(POSTMORTEM_ACTION.write, async ({ ack, body, action, respond }) => {
    await ack();
    const id = incidentOf(action.value);
    const { status, canvas } = await writePostmortem(run, { incidentId: id, actorId: body.user.id });
    await respond(ephemeral(postmortemAnswer(id, status, canvas)));
  });

  deps.on.action<ButtonAction>(POSTMORTEM_ACTION.edit, async ({ ack, body, action }) => {
    await ack();
    const id = incidentOf(action.value);
    const form = await postmortemForm(run.db, id);
    if (!form) throw new UserError('not_found', 'That incident no longer exists.');
    await deps.slack.openView(body.trigger_id, editPostmortemModal({ id, number: form.number }, form.parts));
  });

  deps.on.action<ButtonAction>(POSTMORTEM_ACTION.status, async ({ ack, body, action, respond }) => {
    await ack();
    const [id, status = ''] = (action.value ?? '').split(':');
    const moved = await setPostmortemStatus(run, {
      incidentId: incidentOf(id),
      actorId: body.user.id,
      status,
    });
    await respond(ephemeral(confirmation(`The postmortem is ${POSTMORTEM_STATUS_WORDS[moved.status]} now.`)));
  });

  deps.on.view(
    POSTMORTEM_MODAL.callbackId,
    async ({ ack, body, view }: SlackViewMiddlewareArgs<ViewSubmitAction>) => {
      let meta: unknown;
      try {
        meta = JSON.parse(view.private_metadata || '{}');
      } catch {
        meta = {};
      }
      const { incidentId, shown = {} } = meta as { incidentId?: string; shown?: Record<string, string> };
      const id = incidentOf(incidentId);
      // Only what this person changed from what their form showed.
      const parts = Object.fromEntries(
        POSTMORTEM_PARTS.flatMap((p) => {
          const text = view.state.values[p]?.[p]?.value ?? '';
          return partPrint(text) === shown[p] ? [] : [[p, text]];
        }),
      ) as Partial<Record<PostmortemPart, string>>;
      await editPostmortem(run, { incidentId: id, actorId: body.user.id, parts });
      await ack();
    },
    { modalErrorBlock: POSTMORTEM_PARTS[0] },
  );
}
