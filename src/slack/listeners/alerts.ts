import type { ButtonAction, StaticSelectAction } from '@slack/bolt';
import { z } from 'zod';
import { acknowledgeGroup, resolveGroup, silenceGroup } from '../../alerts/groups.js';
import { declareDraft } from '../../alerts/incidents.js';
import { SILENCE_CHOICES_MINUTES } from '../../alerts/model.js';
import { UserError } from '../../errors.js';
import { ALERT_ACTION } from '../ids.js';
import { slackDate } from '../text.js';
import { confirmation } from '../views/blocks.js';
import { declareModal } from '../views/declare-modal.js';
import type { ListenerDeps } from './deps.js';

/** The controls on an alert group's message (and a page's DM): Acknowledge, Resolve, Declare incident, Silence. */

const groupId = z.coerce.number().int().positive();

function groupOf(value: string | undefined): number {
  const id = groupId.safeParse(value);
  if (!id.success) throw new UserError('not_found', 'That alert group no longer exists.');
  return id.data;
}

const ephemeral = (text: string) => ({
  response_type: 'ephemeral' as const,
  replace_original: false,
  ...confirmation(text),
});

export function registerAlertActions(deps: ListenerDeps): void {
  deps.on.action<ButtonAction>(ALERT_ACTION.ack, async ({ ack, body, action, respond }) => {
    await ack();
    await acknowledgeGroup(deps.alerts, { groupId: groupOf(action.value), userId: body.user.id });
    await respond(ephemeral('Acknowledged: these alerts are yours.'));
  });

  deps.on.action<ButtonAction>(ALERT_ACTION.resolve, async ({ ack, body, action, respond }) => {
    await ack();
    await resolveGroup(deps.alerts, { groupId: groupOf(action.value), userId: body.user.id });
    await respond(ephemeral('Resolved. If they fire again, they come back.'));
  });

  // The declare form, prefilled from the group; submitting it declares and links in one transaction.
  deps.on.action<ButtonAction>(ALERT_ACTION.declare, async ({ ack, body, action }) => {
    await ack();
    const draft = await declareDraft(deps.alerts, groupOf(action.value));
    await deps.slack.openView(
      body.trigger_id,
      declareModal({
        severities: deps.config.severities,
        initialTitle: draft.title,
        initialSeverity: draft.severity,
        initialSummary: draft.summary,
        metadata: { sourceChannelId: draft.channelId, alertGroupId: draft.groupId },
      }),
    );
  });

  deps.on.action<StaticSelectAction>(ALERT_ACTION.silence, async ({ ack, body, action, respond }) => {
    await ack();
    const [id, minutes] = action.selected_option.value.split(':');
    const m = Number(minutes);
    if (!(SILENCE_CHOICES_MINUTES as readonly number[]).includes(m))
      throw new UserError('bad_silence', 'Choose a silence from the list.');
    const until = await silenceGroup(deps.alerts, { groupId: groupOf(id), userId: body.user.id, minutes: m });
    await respond(ephemeral(`Silenced until ${slackDate(until, '{date_short_pretty} {time}')}.`));
  });
}
