import { and, asc, count, desc, eq, gt, gte, isNull, ne, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { batchedLookup } from '../db/prepared.js';
import {
  type FollowupRow,
  followups,
  type IncidentRow,
  incidentRoles,
  incidents,
  type RoleRow,
  type StatusUpdateRow,
  statusUpdates,
  type TaskRow,
  tasks,
} from '../db/schema.js';
import { listEvents, type TimelineEvent } from '../timeline/timeline.js';
import type { IncidentStatus, PostmortemStatus, Role } from './model.js';

/**
 * Reading incidents: what the transports show and what other capabilities may know of an incident. Other
 * folders read incidents through these functions, never the tables.
 */

export type { FollowupRow, IncidentRow, StatusUpdateRow, TaskRow };

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
  /** Its follow-ups: how many, how many are still open, and the first open ones. */
  followups: FollowupSummary;
  /** The postmortem, once started (or due): status, named owner (else the commander), due date. */
  postmortem: { status: PostmortemStatus | undefined; ownerId: string | undefined; dueAt: Date | undefined };
}

const incidentsByIds = batchedLookup(
  'incidents_by_ids',
  (db) =>
    db
      .select()
      .from(incidents)
      .where(sql`${incidents.id} = any(string_to_array(${sql.placeholder('keys')}, ',')::uuid[])`),
  (row) => row.id,
);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The incident with this id; none for an id that is not a UUID (a tampered button value, say). */
export async function findIncident(db: Db | Tx, id: string): Promise<IncidentRow | undefined> {
  return UUID.test(id) ? incidentsByIds(db, id.toLowerCase()) : undefined;
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

/** How many open incidents one read lists at most. */
export const OPEN_INCIDENTS_LISTED = 200;

/** Open incidents of a workspace, newest first (the caller filters private ones by membership). */
export function listOpenIncidents(db: Db, teamId: string): Promise<IncidentRow[]> {
  return db
    .select()
    .from(incidents)
    .where(and(eq(incidents.teamId, teamId), ne(incidents.status, 'resolved')))
    .orderBy(desc(incidents.number))
    .limit(OPEN_INCIDENTS_LISTED);
}

/**
 * Current holders of each role (relieved_at is null), as one row per incident that has any, batched like
 * the incident itself: a claim's setup jobs read their roles in one statement, and a use-case's
 * transaction runs a statement built once.
 */
const rolesByIncidentIds = batchedLookup(
  'roles_by_incident_ids',
  (db) =>
    db
      .select({
        incidentId: incidentRoles.incidentId,
        holders: sql<
          Record<string, string> | string
        >`json_object_agg(${incidentRoles.role}, ${incidentRoles.userId})`,
      })
      .from(incidentRoles)
      .where(
        and(
          sql`${incidentRoles.incidentId} = any(string_to_array(${sql.placeholder('keys')}, ',')::uuid[])`,
          isNull(incidentRoles.relievedAt),
        ),
      )
      .groupBy(incidentRoles.incidentId),
  (row) => row.incidentId,
);

/** Current holders of each role; none for an id that is not a UUID. */
export async function currentRoles(db: Db | Tx, incidentId: string): Promise<Partial<Record<Role, string>>> {
  if (!UUID.test(incidentId)) return {};
  const row = await rolesByIncidentIds(db, incidentId.toLowerCase());
  // A json value: postgres.js and PGlite both parse it, unless a driver's settings say otherwise.
  return !row ? {} : typeof row.holders === 'string' ? JSON.parse(row.holders) : row.holders;
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
  const [roles, open, followupCount] = [
    await currentRoles(db, incidentId),
    await openTaskCount(db, incidentId),
    await countFollowups(db, incidentId),
  ];
  return toSnapshot(row, roles, open, followupCount);
}

/** The open follow-ups the card lists. */
export const CARD_FOLLOWUPS = 5;

export interface FollowupSummary {
  total: number;
  open: number;
  /** The first open ones, by number. */
  items: { number: number; text: string; ownerId: string | null; dueOn: string | null }[];
}

/** The incident's follow-ups as the card shows them, in one statement. */
export async function countFollowups(db: Db | Tx, incidentId: string): Promise<FollowupSummary> {
  const rows = await db
    .select({
      number: followups.number,
      text: followups.text,
      ownerId: followups.ownerId,
      dueOn: followups.dueOn,
      status: followups.status,
    })
    .from(followups)
    .where(eq(followups.incidentId, incidentId))
    .orderBy(asc(followups.number));
  const open = rows.filter((r) => r.status === 'open');
  return {
    total: rows.length,
    open: open.length,
    items: open.slice(0, CARD_FOLLOWUPS).map(({ status: _status, ...r }) => r),
  };
}

export function toSnapshot(
  row: IncidentRow,
  roles: Partial<Record<Role, string>>,
  openTasks = 0,
  followupCount: FollowupSummary = { total: 0, open: 0, items: [] },
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
    followups: followupCount,
    postmortem: {
      status: row.postmortemStatus ?? undefined,
      ownerId: row.postmortemOwnerId ?? roles.commander,
      dueAt: row.postmortemDueAt ?? undefined,
    },
  };
}

/** Every role holder of the incident, relieved ones included, in order of assignment. */
export function roleHistory(db: Db | Tx, incidentId: string): Promise<RoleRow[]> {
  return db
    .select()
    .from(incidentRoles)
    .where(eq(incidentRoles.incidentId, incidentId))
    .orderBy(asc(incidentRoles.assignedAt), asc(incidentRoles.id));
}

/** The status updates as posted, oldest first. */
export function statusUpdatesOf(db: Db | Tx, incidentId: string): Promise<StatusUpdateRow[]> {
  return db
    .select()
    .from(statusUpdates)
    .where(eq(statusUpdates.incidentId, incidentId))
    .orderBy(asc(statusUpdates.postedAt), asc(statusUpdates.id));
}

/** The times that make MTTA / MTTM / MTTR, of the incidents declared since `since` (test ones left out). */
export function incidentTimesSince(db: Db, teamId: string, since: Date, severity?: string) {
  return db
    .select({
      severity: incidents.severity,
      status: incidents.status,
      declaredAt: incidents.declaredAt,
      acknowledgedAt: incidents.acknowledgedAt,
      mitigatedAt: incidents.mitigatedAt,
      resolvedAt: incidents.resolvedAt,
      reopenCount: incidents.reopenCount,
    })
    .from(incidents)
    .where(
      and(
        eq(incidents.teamId, teamId),
        eq(incidents.isTest, false),
        gte(incidents.declaredAt, since),
        gt(incidents.number, 0),
        severity === undefined ? undefined : eq(incidents.severity, severity),
      ),
    )
    .orderBy(asc(incidents.declaredAt));
}

/** Open follow-ups of a workspace (test incidents' left out), and how many are overdue on `today`. */
export async function followupTotals(
  db: Db,
  teamId: string,
  today: string,
): Promise<{ open: number; overdue: number }> {
  const [row] = await db
    .select({
      open: count(),
      overdue: sql<number>`count(*) filter (where ${followups.dueOn} < ${today})::int`,
    })
    .from(followups)
    .innerJoin(incidents, eq(incidents.id, followups.incidentId))
    .where(and(eq(incidents.teamId, teamId), eq(incidents.isTest, false), eq(followups.status, 'open')));
  return { open: row?.open ?? 0, overdue: row?.overdue ?? 0 };
}

/** Open incidents of every workspace by severity (test incidents left out): the /metrics gauge. */
export function openIncidentsBySeverity(db: Db): Promise<{ severity: string; n: number }[]> {
  return db
    .select({ severity: incidents.severity, n: count() })
    .from(incidents)
    .where(and(ne(incidents.status, 'resolved'), eq(incidents.isTest, false), gt(incidents.number, 0)))
    .groupBy(incidents.severity)
    .orderBy(incidents.severity);
}

/** How many incidents were ever declared (test incidents left out). */
export async function declaredCount(db: Db): Promise<number> {
  return db.$count(incidents, and(eq(incidents.isTest, false), gt(incidents.number, 0)));
}

/**
 * Declared → first acknowledged, or → final resolve, of every incident that got there (test ones left
 * out), counted into cumulative buckets (upper bounds in seconds, +Inf last) in one statement.
 */
export async function durationBuckets(
  db: Db,
  until: 'acknowledged' | 'resolved',
  bounds: number[],
): Promise<{ cumulative: number[]; sum: number; count: number }> {
  const end = until === 'acknowledged' ? incidents.acknowledgedAt : incidents.resolvedAt;
  const seconds = sql`extract(epoch from (${end} - ${incidents.declaredAt}))`;
  const finite = bounds.filter((b) => Number.isFinite(b));
  const [row] = await db
    .select({
      buckets: sql<number[]>`array[${sql.join(
        finite.map((b) => sql`count(*) filter (where ${seconds} <= ${b})::int`),
        sql`, `,
      )}]`,
      sum: sql<number>`coalesce(sum(${seconds}), 0)::float8`,
      count: sql<number>`count(*)::int`,
    })
    .from(incidents)
    .where(
      and(
        eq(incidents.isTest, false),
        sql`${end} is not null`,
        until === 'resolved' ? eq(incidents.status, 'resolved') : undefined,
      ),
    );
  const count = row?.count ?? 0;
  return { cumulative: [...(row?.buckets ?? finite.map(() => 0)), count], sum: row?.sum ?? 0, count };
}

/** Open incidents of a workspace in which the person holds a role now. */
export function openIncidentsWithRole(db: Db, teamId: string, userId: string) {
  return db
    .selectDistinct({ incident: incidents })
    .from(incidents)
    .innerJoin(incidentRoles, eq(incidentRoles.incidentId, incidents.id))
    .where(
      and(
        eq(incidents.teamId, teamId),
        ne(incidents.status, 'resolved'),
        eq(incidentRoles.userId, userId),
        isNull(incidentRoles.relievedAt),
      ),
    )
    .orderBy(desc(incidents.number))
    .then((rows) => rows.map((r) => r.incident));
}

/** Open tasks assigned to a person, in open incidents of a workspace, the ones due soonest first. */
export function openTasksOf(db: Db, teamId: string, userId: string, limit = 100) {
  return db
    .select({ task: tasks, number: incidents.number, channelId: incidents.channelId })
    .from(tasks)
    .innerJoin(incidents, eq(incidents.id, tasks.incidentId))
    .where(
      and(
        eq(incidents.teamId, teamId),
        ne(incidents.status, 'resolved'),
        eq(tasks.assigneeId, userId),
        isNull(tasks.doneAt),
      ),
    )
    .orderBy(sql`${tasks.dueAt} asc nulls last`, asc(tasks.id))
    .limit(limit);
}

/** The newest incidents of a workspace, resolved ones too (not private or test ones): to pick one from. */
export function recentIncidents(db: Db, teamId: string, limit = 100): Promise<IncidentRow[]> {
  return db
    .select()
    .from(incidents)
    .where(
      and(
        eq(incidents.teamId, teamId),
        eq(incidents.isPrivate, false),
        eq(incidents.isTest, false),
        gt(incidents.number, 0),
      ),
    )
    .orderBy(desc(incidents.number))
    .limit(limit);
}

/**
 * What the public status page may show: incidents (not private, not test) that have customer-facing
 * updates and are open or were resolved since `since`, each with those updates, oldest first.
 */
export async function publicIncidents(
  db: Db,
  since: Date,
): Promise<{ incident: IncidentRow; updates: StatusUpdateRow[] }[]> {
  const rows = await db
    .select({ incident: incidents, update: statusUpdates })
    .from(statusUpdates)
    .innerJoin(incidents, eq(incidents.id, statusUpdates.incidentId))
    .where(
      and(
        eq(statusUpdates.audience, 'customers'),
        eq(incidents.isPrivate, false),
        eq(incidents.isTest, false),
        sql`(${incidents.status} <> 'resolved' or ${incidents.resolvedAt} >= ${since.toISOString()})`,
      ),
    )
    .orderBy(desc(incidents.declaredAt), asc(statusUpdates.id));
  const byIncident = new Map<string, { incident: IncidentRow; updates: StatusUpdateRow[] }>();
  for (const r of rows) {
    const entry = byIncident.get(r.incident.id) ?? { incident: r.incident, updates: [] };
    entry.updates.push(r.update);
    byIncident.set(r.incident.id, entry);
  }
  return [...byIncident.values()];
}
