import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { findIncident } from '../incidents/queries.js';
import type { AlertGroupView, AlertNotice, AlertThreadLine, AlertView } from './chat.js';
import { type AlertGroupRow, alertEvents, alerts } from './tables.js';

/**
 * What the hub's messages say, read from the committed state: a group as its message shows it, and what
 * changed in it since a cursor. The Slack side renders these (slack/views/alerts.ts).
 */

/** Alerts shown in a group's message (and a page); lines per thread post. */
export const ALERTS_SHOWN = 10;
export const THREAD_LINES = 20;

const RANK = { firing: 0, acknowledged: 1, resolved: 2 } as const;

export async function viewOf(
  db: Db,
  group: AlertGroupRow,
  integrations: string[],
  now: Date,
): Promise<AlertGroupView> {
  const incident = group.incidentId ? await findIncident(db, group.incidentId) : undefined;
  const paging =
    group.escalationPolicy &&
    group.status === 'open' &&
    !group.acknowledgedAt &&
    !group.incidentId &&
    group.escalationStep > 0
      ? { policy: group.escalationPolicy, steps: group.escalationStep }
      : null;
  return {
    id: group.id,
    title: group.title,
    channelId: group.channelId,
    status: group.status,
    severity: group.severity,
    firingCount: group.firingCount,
    alertCount: group.alertCount,
    truncated: group.truncated,
    flaps: group.flaps,
    groupLabels: group.groupLabels,
    integrations,
    openedAt: group.openedAt,
    resolvedAt: group.resolvedAt,
    acknowledgedBy: group.acknowledgedBy,
    silencedUntil: group.silencedUntil && group.silencedUntil > now ? group.silencedUntil : null,
    paging,
    incident: incident ? { number: incident.number, channelId: incident.channelId } : null,
  };
}

/** A group with its first alerts (unresolved first), and how many more it has. */
export async function groupWithAlerts(
  db: Db,
  group: AlertGroupRow,
  now: Date,
  shownMax = ALERTS_SHOWN,
): Promise<{ group: AlertGroupView; alerts: AlertView[]; more: number }> {
  const rows = await db
    .select()
    .from(alerts)
    .where(eq(alerts.groupId, group.id))
    .orderBy(
      sql`case ${alerts.status} when 'firing' then 0 when 'acknowledged' then 1 else 2 end`,
      desc(alerts.lastSeenAt),
    )
    .limit(shownMax);
  const integrations = await db
    .selectDistinct({ integration: alerts.integration })
    .from(alerts)
    .where(eq(alerts.groupId, group.id));
  const shown: AlertView[] = rows.map((a) => ({
    status: a.status,
    severity: a.severity,
    summary: a.summary,
    labels: a.labels,
    links: a.links,
    occurrences: a.occurrences,
  }));
  shown.sort((a, b) => RANK[a.status] - RANK[b.status]);
  return {
    group: await viewOf(db, group, integrations.map((i) => i.integration).sort(), now),
    alerts: shown,
    more: Math.max(0, group.alertCount - shown.length),
  };
}

/** The group's message. */
export async function groupNotice(
  db: Db,
  group: AlertGroupRow,
  now: Date,
): Promise<Extract<AlertNotice, { kind: 'alert_group' }>> {
  return { kind: 'alert_group', ...(await groupWithAlerts(db, group, now)) };
}

/** What changed in the group after event `cursor`: up to THREAD_LINES lines, and the last event's id. */
export async function changesSince(
  db: Db,
  group: AlertGroupRow,
  cursor: number,
  now: Date,
): Promise<{ notice: Extract<AlertNotice, { kind: 'alert_group_thread' }>; last: number; first: Date }> {
  // One statement, so the lines shown, the count of the rest and the new cursor come from one snapshot:
  // read in two, an event committed between them (a tier paged just then) was counted past by the cursor
  // and never shown. A storm leaves thousands of events behind the cursor: the post shows the first ones
  // and counts the rest (the window functions see every event after the cursor, before the limit).
  const events = await db
    .select({
      id: alertEvents.id,
      kind: alertEvents.kind,
      at: alertEvents.at,
      data: alertEvents.data,
      summary: alerts.summary,
      total: sql<number>`count(*) over ()`.mapWith(Number),
      last: sql<number>`max(${alertEvents.id}) over ()`.mapWith(Number),
    })
    .from(alertEvents)
    .leftJoin(alerts, eq(alerts.id, alertEvents.alertId))
    .where(and(eq(alertEvents.groupId, group.id), gt(alertEvents.id, cursor)))
    .orderBy(asc(alertEvents.id))
    .limit(THREAD_LINES);
  const lines: AlertThreadLine[] = events.map((e) =>
    e.kind === 'paged'
      ? {
          kind: 'paged',
          label: e.data?.label ?? '',
          users: e.data?.users ?? [],
          skippedTo: e.data?.skippedTo,
          at: e.at,
        }
      : { kind: e.kind, summary: e.summary ?? '', at: e.at },
  );
  return {
    notice: {
      kind: 'alert_group_thread',
      group: await viewOf(db, group, [], now),
      lines,
      more: Math.max(0, (events[0]?.total ?? 0) - lines.length),
    },
    last: events[0]?.last ?? cursor,
    first: events[0]?.at ?? group.openedAt,
  };
}
