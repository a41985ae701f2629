import type { ButtonAction, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { addOverride, removeOverride, takeRestOfShift } from '../../oncall/overrides.js';
import { ONCALL_ACTION, OVERRIDE_MODAL } from '../ids.js';
import { mentionUser, slackDate } from '../text.js';
import { confirmation } from '../views/blocks.js';
import { overrideModal } from '../views/oncall.js';
import type { ListenerDeps } from './deps.js';

/** The buttons of `/incident oncall` and of the overrides list, and the Override form. */

const ephemeral = (text: string) => ({
  response_type: 'ephemeral' as const,
  replace_original: false,
  ...confirmation(text),
});

const until = (d: Date) => slackDate(d, '{date_short_pretty} {time}');
const overrideId = z.coerce.number().int().positive();

export function registerOncall(deps: ListenerDeps): void {
  const run = deps.incidents;

  deps.on.action<ButtonAction>(ONCALL_ACTION.override, async ({ ack, body, action }) => {
    await ack();
    await deps.slack.openView(
      body.trigger_id,
      overrideModal({
        schedules: Object.values(deps.config.schedules),
        schedule: action.value,
        now: run.clock.now(),
        metadata: {},
      }),
    );
  });

  deps.on.action<ButtonAction>(ONCALL_ACTION.take, async ({ ack, body, action, respond }) => {
    await ack();
    const row = await takeRestOfShift(run, { schedule: action.value ?? '', actorId: body.user.id });
    await respond(ephemeral(`You are on call for *${row.schedule}* until ${until(row.endsAt)}.`));
  });

  deps.on.action<ButtonAction>(ONCALL_ACTION.remove, async ({ ack, body, action, respond }) => {
    await ack();
    const id = overrideId.safeParse(action.value);
    if (!id.success) throw new UserError('not_found', 'That override no longer exists.');
    const row = await removeOverride(run, { overrideId: id.data, actorId: body.user.id });
    await respond(
      ephemeral(
        `Removed ${mentionUser(row.userId)}’s override of *${row.schedule}* (until ${until(row.endsAt)}); both of you are told.`,
      ),
    );
  });

  deps.on.view(
    OVERRIDE_MODAL.callbackId,
    async ({ ack, body, view }: SlackViewMiddlewareArgs<ViewSubmitAction>) => {
      const ids = OVERRIDE_MODAL;
      const values = view.state.values;
      const schedule = values[ids.schedule.block]?.[ids.schedule.action]?.selected_option?.value;
      const userId = values[ids.user.block]?.[ids.user.action]?.selected_user;
      const start = values[ids.start.block]?.[ids.start.action]?.selected_date_time;
      const end = values[ids.end.block]?.[ids.end.action]?.selected_date_time;
      const errors: Record<string, string> = {};
      if (!schedule) errors[ids.schedule.block] = 'Choose a schedule.';
      if (!userId) errors[ids.user.block] = 'Choose who is on call instead.';
      if (!start) errors[ids.start.block] = 'Choose when the override starts.';
      if (!end) errors[ids.end.block] = 'Choose when the override ends.';
      if (!schedule || !userId || !start || !end) {
        await ack({ response_action: 'errors', errors });
        return;
      }
      await addOverride(run, {
        schedule,
        userId,
        startsAt: new Date(start * 1000),
        endsAt: new Date(end * 1000),
        actorId: body.user.id,
      });
      await ack();
    },
    { modalErrorBlock: OVERRIDE_MODAL.schedule.block },
  );
}
