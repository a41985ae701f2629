import type { KnownBlock } from '@slack/web-api';
import { escapeMrkdwn, truncate } from '../../text.js';
import type { DeliveryRow } from '../../webhooks/deliveries.js';
import { WEBHOOK_ACTION } from '../ids.js';
import { slackDate } from '../text.js';
import { button, message, type SlackMessage, section } from './blocks.js';

/** `/incident webhooks`: the latest deliveries, failures with Redeliver. */

const ICON = { pending: '⏳', delivered: '✅', failed: '❌' } as const;

export function webhooksMessage(rows: DeliveryRow[], endpoints: number): SlackMessage {
  if (endpoints === 0) return message('No webhooks are configured (`webhooks:` in the config file).');
  if (rows.length === 0)
    return message('No webhook deliveries yet. `/incident webhooks ping` sends a ping to every endpoint.');
  const blocks: KnownBlock[] = [
    section(`*Webhook deliveries*, newest first (${endpoints} endpoint${endpoints === 1 ? '' : 's'}):`),
  ];
  for (const d of rows) {
    const host = (() => {
      try {
        return new URL(d.endpoint).host;
      } catch {
        return 'endpoint';
      }
    })();
    const outcome =
      d.status === 'delivered'
        ? `delivered${d.lastStatus ? ` (${d.lastStatus})` : ''}`
        : d.status === 'failed'
          ? `failed: ${escapeMrkdwn(truncate(d.lastError ?? 'unknown', 200))}`
          : `pending${d.lastError ? `, last try: ${escapeMrkdwn(truncate(d.lastError, 200))}` : ''}`;
    const line = `${ICON[d.status]} \`${escapeMrkdwn(d.eventType)}\` → ${escapeMrkdwn(host)} · ${outcome} · ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} · ${slackDate(d.createdAt, '{date_short_pretty} {time}')} · \`${escapeMrkdwn(d.id)}\``;
    blocks.push(
      d.status === 'failed'
        ? {
            type: 'section',
            text: { type: 'mrkdwn', text: line },
            accessory: button(WEBHOOK_ACTION.redeliver, 'Redeliver', d.id),
          }
        : section(line),
    );
  }
  return { text: `Webhook deliveries: ${rows.length}`, blocks };
}
