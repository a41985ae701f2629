import type { ButtonAction, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { addFollowup } from '../../incidents/followups.js';
import { findIncidentByChannel, recentIncidents } from '../../incidents/queries.js';
import { homeData } from '../../learn/home.js';
import { FOLLOWUP_SHORTCUT, HOME_ACTION } from '../ids.js';
import { unescapeCommandText } from '../text.js';
import { messageLink } from '../views/alerts.js';
import { declareModal } from '../views/declare-modal.js';
import { followupModal } from '../views/followup-modal.js';
import { homeView } from '../views/home.js';
import type { ListenerDeps } from './deps.js';

/** App Home (published when opened, with a Declare incident button) and the Create follow-up shortcut. */

const metadataSchema = z.object({ channelId: z.string().regex(/^[CGD][A-Z0-9]+$/), ts: z.string() });

export function registerHome(deps: ListenerDeps): void {
  const run = deps.incidents;

  deps.on.event('app_home_opened', async ({ event, body }) => {
    if (event.tab !== 'home') return;
    const teamId = (body as { team_id?: string }).team_id ?? (await deps.slack.whoAmI()).teamId;
    const data = await homeData(run, { teamId, userId: event.user, now: run.clock.now() });
    await deps.slack.publishHome(
      event.user,
      homeView(
        data,
        deps.config.severities.map((s) => s.id),
      ),
    );
  });

  deps.on.action<ButtonAction>(HOME_ACTION.declare, async ({ ack, body }) => {
    await ack();
    await deps.slack.openView(
      body.trigger_id,
      declareModal({ severities: deps.config.severities, metadata: {} }),
    );
  });

  // Create follow-up: any message becomes a follow-up of an incident (the one of its channel, preselected).
  deps.on.shortcut(FOLLOWUP_SHORTCUT.callbackId, async ({ ack, shortcut }) => {
    await ack();
    const teamId = shortcut.team?.id ?? (await deps.slack.whoAmI()).teamId;
    const here = await findIncidentByChannel(run.db, teamId, shortcut.channel.id);
    const recent = await recentIncidents(run.db, teamId);
    const incidents = here ? [here, ...recent.filter((i) => i.id !== here.id)] : recent;
    await deps.slack.openView(
      shortcut.trigger_id,
      followupModal({
        incidents,
        ...(here ? { selected: here.id } : {}),
        text: unescapeCommandText(shortcut.message.text ?? ''),
        metadata: { channelId: shortcut.channel.id, ts: shortcut.message.ts },
      }),
    );
  });

  deps.on.view(
    FOLLOWUP_SHORTCUT.modal,
    async ({ ack, body, view }: SlackViewMiddlewareArgs<ViewSubmitAction>) => {
      const ids = FOLLOWUP_SHORTCUT;
      const values = view.state.values;
      const incidentId = values[ids.incident.block]?.[ids.incident.action]?.selected_option?.value;
      const text = values[ids.text.block]?.[ids.text.action]?.value ?? '';
      const ownerId = values[ids.owner.block]?.[ids.owner.action]?.selected_user ?? undefined;
      const dueOn = values[ids.due.block]?.[ids.due.action]?.selected_date ?? undefined;
      if (!incidentId || incidentId === 'none')
        throw new UserError('no_incident', 'Choose the incident.', ids.incident.block);
      let source: string | undefined;
      try {
        const meta = metadataSchema.parse(JSON.parse(view.private_metadata || '{}'));
        source = messageLink((await deps.slack.whoAmI()).url, meta.channelId, meta.ts);
      } catch {
        source = undefined;
      }
      try {
        await addFollowup(run, {
          incidentId,
          actorId: body.user.id,
          text,
          ...(ownerId ? { ownerId } : {}),
          ...(dueOn ? { dueOn } : {}),
          ...(source ? { sourceUrl: source } : {}),
        });
      } catch (err) {
        // Date problems belong under the date picker.
        if (err instanceof UserError && (err.code === 'past_due' || err.code === 'bad_due'))
          throw new UserError(err.code, err.message, ids.due.block);
        throw err;
      }
      await ack();
    },
    { modalErrorBlock: FOLLOWUP_SHORTCUT.text.block },
  );
}
