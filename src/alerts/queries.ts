import { count, desc, eq, gte, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import type { AlertGroupView } from './chat.js';
import { viewOf } from './notices.js';
import { alertGroups, alerts } from './tables.js';

/** Reading the hub: what the transports show (other folders read alerts through these, never the tables). */

/** How many open groups `/incident alerts` lists. */
export const OPEN_GROUPS_LISTED = 30;

export interface ListedGroup {
  group: AlertGroupView;
  /** The group's message, once posted. */
  messageTs: string | null;
}

/** Open alert groups, newest first, and how many are open in all. */
export async function listOpenGroups(db: Db, now: Date): Promise<{ groups: ListedGroup[]; total: number }> {
  const rows = await db
    .select()
    .from(alertGroups)
    .where(eq(alertGroups.status, 'open'))
    .orderBy(desc(alertGroups.openedAt), desc(alertGroups.id))
    .limit(OPEN_GROUPS_LISTED + 1);
  const groups = await Promise.all(
    rows.slice(0, OPEN_GROUPS_LISTED).map(async (g) => ({
      group: await viewOf(db, g, [], now),
      messageTs: g.messageTs,
    })),
  );
  const total =
    rows.length > OPEN_GROUPS_LISTED
      ? await db.$count(alertGroups, eq(alertGroups.status, 'open'))
      : rows.length;
  return { groups, total };
}

/** What the hub did since `since`: reports received, distinct alerts, groups opened, and groups declared. */
export async function alertTotalsSince(
  db: Db,
  since: Date,
): Promise<{ received: number; alerts: number; groups: number; declared: number }> {
  const [a] = await db
    .select({ received: sql<number>`coalesce(sum(${alerts.occurrences}), 0)::int`, alerts: count() })
    .from(alerts)
    .where(gte(alerts.firstSeenAt, since));
  const [g] = await db
    .select({
      groups: count(),
      declared: sql<number>`count(*) filter (where ${alertGroups.incidentId} is not null)::int`,
    })
    .from(alertGroups)
    .where(gte(alertGroups.openedAt, since));
  return {
    received: a?.received ?? 0,
    alerts: a?.alerts ?? 0,
    groups: g?.groups ?? 0,
    declared: g?.declared ?? 0,
  };
}

/** How many alert groups are open. */
export function openGroupCount(db: Db): Promise<number> {
  return db.$count(alertGroups, eq(alertGroups.status, 'open'));
}

/** An alert group as others see it (webhooks): what it is, where, and how it stands. */
export async function groupFacts(db: Db | Tx, id: number) {
  const [g] = await db.select().from(alertGroups).where(eq(alertGroups.id, id));
  if (!g) return undefined;
  return {
    id: g.id,
    title: g.title,
    status: g.status,
    severity: g.severity,
    firing: g.firingCount,
    alerts: g.alertCount,
    labels: g.groupLabels,
    channelId: g.channelId,
    openedAt: g.openedAt,
    resolvedAt: g.resolvedAt,
    acknowledgedBy: g.acknowledgedBy,
    incidentId: g.incidentId,
  };
}
