import type { ButtonAction } from '@slack/bolt';
import { redeliver } from '../../webhooks/deliveries.js';
import { WEBHOOK_ACTION } from '../ids.js';
import { confirmation } from '../views/blocks.js';
import type { ListenerDeps } from './deps.js';

/** The Redeliver button of `/incident webhooks`. */
export function registerWebhooks(deps: ListenerDeps): void {
  deps.on.action<ButtonAction>(WEBHOOK_ACTION.redeliver, async ({ ack, body, action, respond }) => {
    await ack();
    const row = await redeliver(deps.incidents, { deliveryId: action.value ?? '', actorId: body.user.id });
    await respond({
      response_type: 'ephemeral',
      replace_original: false,
      ...confirmation(`Redelivering \`${row.id}\` (the same webhook-id).`),
    });
  });
}
