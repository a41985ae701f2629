import { and, asc, eq, sql, type WithSubquery } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { reusable } from '../db/prepared.js';
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
 * Appends an event within the statement that makes the change it records: a CTE to put beside `change`
 * (the CTE making the change) in one statement, which inserts only when `change` returned a row. One round
 * trip where a transaction took five (begin, change, event, wake, commit), as atomic. The statement is
 * built once (db/prepared.ts): the event's values are placeholders, filled by `eventValues(event)`.
 */
export function recordEventWith(db: Db | Tx, change: WithSubquery): WithSubquery {
  const t = timelineEvents;
  const columns = [t.incidentId, t.kind, t.actorId, t.data, t.occurredAt].map((c) => sql.identifier(c.name));
  const p = (name: keyof ReturnType<typeof eventValues>) => sql.placeholder(name);
  return db.$with('recorded_event', {}).as(
    sql`insert into ${t} (${sql.join(columns, sql`, `)})
      select ${p('event_incident')}::uuid, ${p('event_kind')}, ${p('event_actor')}, ${p('event_data')}::jsonb, ${p('event_at')}::timestamptz
      where exists (select 1 from ${change})`,
  );
}

/** The placeholder values of `recordEventWith` for this event. */
export function eventValues(event: NewEvent) {
  return {
    event_incident: event.incidentId,
    event_kind: event.kind,
    event_actor: event.actorId ?? null,
    event_data: JSON.stringify(event.data),
    event_at: event.at.toISOString(),
  };
}

/** Built once (db/prepared.ts): nearly every transaction appends an event. */
const insertEvent = reusable('timeline_insert', (db) =>
  db
    .insert(timelineEvents)
    .values({
      incidentId: sql.placeholder('incidentId'),
      kind: sql.placeholder('kind'),
      actorId: sql.placeholder('actorId'),
      data: sql.placeholder('data'),
      occurredAt: sql.placeholder('at'),
    })
    .returning({ id: timelineEvents.id }),
);

/** Appends one event; returns its id. */
export async function recordEvent(tx: Db | Tx, event: NewEvent): Promise<number> {
  const [row] = await insertEvent(tx, {
    incidentId: event.incidentId,
    kind: event.kind,
    actorId: event.actorId ?? null,
    data: event.data,
    at: event.at,
  });
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
