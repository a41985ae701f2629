import { and, eq, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { type IncidentRow, type IncidentStatus, incidentRoles, incidents, type Role } from '../db/schema.js';

/** What the incident messages show: read from the database here, rendered by the pure view builders. */
export interface IncidentSnapshot {
  number: number;
  title: string;
  summary: string;
  severity: string;
  status: IncidentStatus;
  isPrivate: boolean;
  isTest: boolean;
  reporterId: string;
  commanderId: string | undefined;
  declaredAt: Date;
  channelId: string | undefined;
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

export function toSnapshot(row: IncidentRow, roles: Partial<Record<Role, string>>): IncidentSnapshot {
  return {
    number: row.number,
    title: row.title,
    summary: row.summary,
    severity: row.severity,
    status: row.status,
    isPrivate: row.isPrivate,
    isTest: row.isTest,
    reporterId: row.reporterId,
    commanderId: roles.commander,
    declaredAt: row.declaredAt,
    channelId: row.channelId ?? undefined,
  };
}
