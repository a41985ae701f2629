import { and, count, eq, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import {
  type IncidentRow,
  type IncidentStatus,
  incidentRoles,
  incidents,
  type Role,
  tasks,
} from '../db/schema.js';

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
}

export async function findIncident(db: Db | Tx, id: string): Promise<IncidentRow | undefined> {
  const [row] = await db.select().from(incidents).where(eq(incidents.id, id));
  return row;
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
  };
}
