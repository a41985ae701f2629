import { and, asc, eq, sql, type WithSubquery } from 'drizzle-orm';
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

/**
 * Appends `event` within the statement that makes the change it records: a CTE to put beside `change` (the
 * CTE making the change) in one statement, which inserts only when `change` returned a row. One round
 * trip where a transaction took five (begin, change, event, wake, commit), as atomic.
 */
export function recordEventWith(db: Db | Tx, change: WithSubquery, event: NewEvent): WithSubquery {
  const t = timelineEvents;
  const columns = [t.incidentId, t.kind, t.actorId, t.data, t.occurredAt].map((c) => sql.identifier(c.name));
  return db.$with('recorded_event', {}).as(
    sql`insert into ${t} (${sql.join(columns, sql`, `)})
      select ${event.incidentId}::uuid, ${event.kind}, ${event.actorId ?? null}, ${JSON.stringify(event.data)}::jsonb, ${event.at.toISOString()}::timestamptz
      where exists (select 1 from ${change})`,
  );
}

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
