import { and, asc, eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { timelineEvents } from '../db/schema.js';
import { readEvent, type TimelineData, type TimelineEvent, type TimelineKind } from './model.js';

/**
 * The append-only timeline. Every state change calls `recordEvent` inside the transaction that makes the
 * change, so the timeline can never disagree with the incident. Messages about a change are rendered from
 * its event (the job that posts one carries the event's id), so what the channel read and what the
 * timeline says are the same facts.
 */

export type { TimelineEvent, TimelineKind } from './model.js';

export type NewEvent = {
  [K in TimelineKind]: {
    incidentId: string;
    kind: K;
    actorId?: string | null;
    data: TimelineData[K];
    at: Date;
  };
}[TimelineKind];

/** Appends one event; returns its id. */
export async function recordEvent(tx: Db | Tx, event: NewEvent): Promise<number> {
  const [row] = await tx
    .insert(timelineEvents)
    .values({
      incidentId: event.incidentId,
      kind: event.kind,
      actorId: event.actorId ?? null,
      data: event.data as Record<string, unknown>,
      occurredAt: event.at,
    })
    .returning({ id: timelineEvents.id });
  if (!row) throw new Error('timeline insert returned no row');
  return row.id;
}

/** An incident's events, oldest first. */
export async function listEvents(db: Db | Tx, incidentId: string): Promise<TimelineEvent[]> {
  const rows = await db
    .select()
    .from(timelineEvents)
    .where(eq(timelineEvents.incidentId, incidentId))
    .orderBy(asc(timelineEvents.id));
  return rows.map(readEvent);
}

/** One event of an incident. */
export async function findEvent(
  db: Db | Tx,
  incidentId: string,
  eventId: number,
): Promise<TimelineEvent | undefined> {
  const [row] = await db
    .select()
    .from(timelineEvents)
    .where(and(eq(timelineEvents.id, eventId), eq(timelineEvents.incidentId, incidentId)));
  return row ? readEvent(row) : undefined;
}

/** One event by its id alone (the webhook outbox names events so). */
export async function eventById(db: Db | Tx, eventId: number): Promise<TimelineEvent | undefined> {
  const [row] = await db.select().from(timelineEvents).where(eq(timelineEvents.id, eventId));
  return row ? readEvent(row) : undefined;
}
