/**
 * The words of outgoing webhooks. A leaf: it imports nothing from the project.
 *
 * Every webhook is `{ id, type, timestamp, data }`, signed as Standard Webhooks specifies; `data.version`
 * says which shape of `data` it is (1 here), so receivers can tell a future change.
 */

export const WEBHOOK_EVENTS = [
  'incident.declared',
  'incident.updated',
  'incident.severity_changed',
  'incident.status_changed',
  'incident.role_assigned',
  'incident.status_update',
  'incident.resolved',
  'incident.reopened',
  'alert_group.opened',
  'alert_group.acknowledged',
  'alert_group.resolved',
  'followup.created',
  'followup.updated',
  'postmortem.status_changed',
  'ping',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const WEBHOOK_DATA_VERSION = 1;

/** When a failed delivery is tried again, after each attempt: about a day in all, then it is given up. */
export const WEBHOOK_BACKOFF_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** How long one delivery may take. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
