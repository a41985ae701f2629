import { and, asc, count, desc, eq, isNull, ne } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { type IncidentRow, incidentRoles, incidents, type TaskRow, tasks } from '../db/schema.js';
import { listEvents, type TimelineEvent } from '../timeline/timeline.js';
import type { IncidentStatus, Role } from './model.js';

/**
 * Reading incidents: what the transports show and what other capabilities may know of an incident. Other
 * folders read incidents through these functions, never the tables.
 */

export type { IncidentRow, TaskRow };

/** What the incident messages show: read from the database here, rendered by the pure view builders. */
export interface IncidentSnapshot {
  id: string;
  number: number;
  title: string;
  summary: string;
  severity: string;
  status: IncidentStatus;
  isPrivate: boolean;
  isTest: boolean;
  reporterId: string;
  commanderId: string | undefined;
  roles: Partial<Record<Role, string>>;
  declaredAt: Date;
  resolvedAt: Date | undefined;
  channelId: string | undefined;
  openTaskCount: number;
  lastUpdateAt: Date | undefined;
  nextUpdateAt: Date | undefined;
  acknowledgedBy: string | undefined;
  /** Escalation is paging tier by tier and nobody has acknowledged yet. */
  paging: boolean;
  /** Unresolved alerts of the alert groups declared as this incident; undefined when there are none linked. */
  alertsFiring: number | undefined;
}

export async function findIncident(db: Db | Tx, id: string): Promise<IncidentRow | undefined> {
  const [row] = await db.select().from(incidents).where(eq(incidents.id, id));
  return row;
}

/** The incident a workspace knows by this channel or declaration key (the modal's view.id), if any. */
async function findIncidentBy(
  db: Db,
  teamId: string,
  by: { channelId: string } | { declareKey: string },
): Promise<IncidentRow | undefined> {
  const match =
    'channelId' in by ? eq(incidents.channelId, by.channelId) : eq(incidents.declareKey, by.declareKey);
  const [row] = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.teamId, teamId), match));
  return row;
}

export const findIncidentByChannel = (db: Db, teamId: string, channelId: string) =>
  findIncidentBy(db, teamId, { channelId });

export const findIncidentByDeclareKey = (db: Db, teamId: string, declareKey: string) =>
  findIncidentBy(db, teamId, { declareKey });

/** Open incidents of a workspace, newest first (the caller filters private ones by membership). */
export function listOpenIncidents(db: Db, teamId: string): Promise<IncidentRow[]> {
  return db
    .select()
    .from(incidents)
    .where(and(eq(incidents.teamId, teamId), ne(incidents.status, 'resolved')))
    .orderBy(desc(incidents.number))
    .limit(200);
}

/** Current holders of each role (relieved_at is null). */
export async function currentRoles(db: Db | Tx, incidentId: string): Promise<Partial<Record<Role, string>>> {
  const rows = await db
    .select({ role: incidentRoles.role, userId: incidentRoles.userId })
    .from(incidentRoles)
    .where(and(eq(incidentRoles.incidentId, incidentId), isNull(incidentRoles.relievedAt)));
  return Object.fromEntries(rows.map((r) => [r.role, r.userId]));
}

export async function openTaskCount(db: Db | Tx, incidentId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(tasks)
    .where(and(eq(tasks.incidentId, incidentId), isNull(tasks.doneAt)));
  return row?.n ?? 0;
}

export function listTasks(db: Db, incidentId: string): Promise<TaskRow[]> {
  return db.select().from(tasks).where(eq(tasks.incidentId, incidentId)).orderBy(asc(tasks.number));
}

/** Task `number` of an incident (tasks are numbered 1, 2, 3 … per incident). */
export async function findTask(
  db: Db | Tx,
  incidentId: string,
  number: number,
): Promise<TaskRow | undefined> {
  const [task] = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.incidentId, incidentId), eq(tasks.number, number)));
  return task;
}

/** The incident's timeline, oldest first. */
export function timelineOf(db: Db, incidentId: string): Promise<TimelineEvent[]> {
  return listEvents(db, incidentId);
}

/** Everything the card shows, read in one go (inside the caller's transaction when given one). */
export async function loadSnapshot(db: Db | Tx, incidentId: string): Promise<IncidentSnapshot | undefined> {
  const row = await findIncident(db, incidentId);
  if (!row) return undefined;
  const [roles, open] = [await currentRoles(db, incidentId), await openTaskCount(db, incidentId)];
  return toSnapshot(row, roles, open);
}

export function toSnapshot(
  row: IncidentRow,
  roles: Partial<Record<Role, string>>,
  openTasks = 0,
): IncidentSnapshot {
  return {
    id: row.id,
    number: row.number,
    title: row.title,
    summary: row.summary,
    severity: row.severity,
    status: row.status,
    isPrivate: row.isPrivate,
    isTest: row.isTest,
    reporterId: row.reporterId,
    commanderId: roles.commander,
    roles,
    declaredAt: row.declaredAt,
    resolvedAt: row.resolvedAt ?? undefined,
    channelId: row.channelId ?? undefined,
    openTaskCount: openTasks,
    lastUpdateAt: row.lastUpdateAt ?? undefined,
    nextUpdateAt: row.nextUpdateAt ?? undefined,
    acknowledgedBy: row.acknowledgedBy ?? undefined,
    paging: !!row.escalationPolicy && !row.acknowledgedAt && row.status !== 'resolved',
    alertsFiring: row.alertsFiring ?? undefined,
  };
}
