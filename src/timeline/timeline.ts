import { asc, eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { type TimelineEventRow, timelineEvents } from '../db/schema.js';

/**
 * The append-only timeline. Every state change calls `recordEvent` inside the transaction that makes the
 * change, so the timeline can never disagree with the incident.
 */

export type TimelineKind =
  | 'declared'
  | 'role_assigned'
  | 'channel_created'
  | 'card_posted'
  | 'announced'
  | 'side_effect_failed'
  | 'severity_changed'
  | 'status_changed'
  | 'status_update'
  | 'task_added'
  | 'task_assigned'
  | 'task_completed'
  | 'note'
  | 'resolved'
  | 'reopened'
  | 'acknowledged'
  | 'escalated'
  | 'paged'
  | 'reminded'
  | 'reminder_snoozed';

export async function recordEvent(
  tx: Db | Tx,
  event: {
    incidentId: string;
    kind: TimelineKind;
    actorId?: string | null;
    data?: Record<string, unknown>;
    at: Date;
  },
): Promise<void> {
  await tx.insert(timelineEvents).values({
    incidentId: event.incidentId,
    kind: event.kind,
    actorId: event.actorId ?? null,
    data: event.data ?? {},
    occurredAt: event.at,
  });
}

export function listEvents(db: Db | Tx, incidentId: string): Promise<TimelineEventRow[]> {
  return db
    .select()
    .from(timelineEvents)
    .where(eq(timelineEvents.incidentId, incidentId))
    .orderBy(asc(timelineEvents.id));
}
