import { groupFacts } from '../alerts/queries.js';
import type { Db, Tx } from '../db/client.js';
import { findIncident, type IncidentRow } from '../incidents/queries.js';
import { eventById, type TimelineEvent } from '../timeline/timeline.js';
import { WEBHOOK_DATA_VERSION, type WebhookEvent } from './model.js';

/**
 * What an outbox row says, as a webhook event: its type and `data` (shape version 1, documented in the
 * README). Timeline events that have no webhook (a card pinned, a reminder) say nothing.
 */

export interface Built {
  type: WebhookEvent;
  /** When it happened. */
  at: Date;
  /** Private incidents' events go only to endpoints that opt in. */
  private: boolean;
  data: Record<string, unknown>;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const incidentData = (i: IncidentRow) => ({
  id: i.id,
  number: i.number,
  title: i.title,
  summary: i.summary,
  severity: i.severity,
  status: i.status,
  private: i.isPrivate,
  test: i.isTest,
  channel_id: i.channelId,
  declared_at: iso(i.declaredAt),
  acknowledged_at: iso(i.acknowledgedAt),
  mitigated_at: iso(i.mitigatedAt),
  resolved_at: iso(i.resolvedAt),
  reopen_count: i.reopenCount,
});

/** A timeline event's webhook, or undefined when it has none. */
function fromTimeline(e: TimelineEvent): { type: WebhookEvent; data: Record<string, unknown> } | undefined {
  switch (e.kind) {
    case 'declared':
      return { type: 'incident.declared', data: {} };
    case 'incident_updated':
      return {
        type: 'incident.updated',
        data: {
          changes: {
            ...(e.data.title ? { title: e.data.title } : {}),
            ...(e.data.summary ? { summary: e.data.summary } : {}),
          },
        },
      };
    case 'severity_changed':
      return { type: 'incident.severity_changed', data: { from: e.data.from, to: e.data.to } };
    case 'status_changed':
      return { type: 'incident.status_changed', data: { from: e.data.from, to: e.data.to } };
    case 'role_assigned':
      return {
        type: 'incident.role_assigned',
        data: { role: e.data.role, user_id: e.data.userId, previous_user_id: e.data.previous ?? null },
      };
    case 'status_update':
      return {
        type: 'incident.status_update',
        data: {
          update: {
            status: e.data.status,
            audience: e.data.audience,
            message: e.data.message,
            next_update_at: e.data.nextUpdateAt,
          },
        },
      };
    case 'resolved':
      return { type: 'incident.resolved', data: { summary: e.data.summary } };
    case 'reopened':
      return { type: 'incident.reopened', data: {} };
    case 'followup_added':
      return {
        type: 'followup.created',
        data: {
          followup: {
            number: e.data.number,
            text: e.data.text,
            owner_id: e.data.ownerId,
            due_on: e.data.dueOn,
            status: 'open',
          },
        },
      };
    case 'followup_done':
      return { type: 'followup.updated', data: { followup: { number: e.data.number, status: 'done' } } };
    case 'followup_dropped':
      return {
        type: 'followup.updated',
        data: { followup: { number: e.data.number, status: 'dropped', drop_reason: e.data.reason } },
      };
    case 'postmortem_status_changed':
      return { type: 'postmortem.status_changed', data: { from: e.data.from, to: e.data.to } };
    default:
      return undefined;
  }
}

/** The webhook an outbox row stands for, read now (undefined: none, or its subject is gone). */
export async function buildEvent(
  db: Db | Tx,
  row: { source: string; ref: number; createdAt: Date },
): Promise<Built | undefined> {
  if (row.source === 'timeline') {
    const event = await eventById(db, row.ref);
    const mapped = event ? fromTimeline(event) : undefined;
    if (!event || !mapped) return undefined;
    const incident = await findIncident(db, event.incidentId);
    if (!incident) return undefined;
    return {
      type: mapped.type,
      at: event.occurredAt,
      private: incident.isPrivate,
      data: {
        version: WEBHOOK_DATA_VERSION,
        incident: incidentData(incident),
        actor_id: event.actorId,
        ...mapped.data,
      },
    };
  }
  if (
    row.source === 'alert_group.opened' ||
    row.source === 'alert_group.acknowledged' ||
    row.source === 'alert_group.resolved'
  ) {
    const g = await groupFacts(db, row.ref);
    if (!g) return undefined;
    return {
      type: row.source,
      at: row.createdAt,
      private: false,
      data: {
        version: WEBHOOK_DATA_VERSION,
        alert_group: {
          id: g.id,
          title: g.title,
          status: g.status,
          severity: g.severity,
          firing: g.firing,
          alerts: g.alerts,
          labels: g.labels,
          channel_id: g.channelId,
          opened_at: iso(g.openedAt),
          resolved_at: iso(g.resolvedAt),
          acknowledged_by: g.acknowledgedBy,
          incident_id: g.incidentId,
        },
      },
    };
  }
  return undefined;
}
