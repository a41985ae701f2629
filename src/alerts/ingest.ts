import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gte, ne, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { AlertsConfig, IncidentConfig } from '../config/index.js';
import { type Db, sqlState, type Tx } from '../db/client.js';
import { RetryableError } from '../errors.js';
import { countPending, handle, type JobBinding, jobKey, jobType, scheduleOnce } from '../jobs/job.js';
import { groupChanged, groupOpened, shouldPage, startPaging, stopPaging } from './changes.js';
import type { AlertEvent } from './event.js';
import { ALERT_SEVERITIES, ALERT_STATUSES, type AlertSeverity } from './model.js';
import { type Placement, place } from './routing.js';
import { type AlertGroupRow, type AlertRow, alertEvents, alertGroups, alerts } from './tables.js';

/**
 * Store first, answer second, work third. An alert endpoint writes what a sender reported — normalised,
 * in one statement — as an `alerts.ingest` job and only then answers 2xx, so nothing answered is lost;
 * the job engine's workers then apply it — de-duplicate, group, resolve — in one transaction, so a
 * notification applies whole or not at all. A report older than the last one applied to an alert changes
 * nothing, and the same notification delivered twice (Alertmanager in HA, a sender's retry) counts once.
 */

const isoTime = z.iso.datetime({ offset: true });
const eventPayload = z.object({
  dedupKey: z.string().min(1).max(255),
  status: z.enum(ALERT_STATUSES),
  severity: z.enum(ALERT_SEVERITIES),
  summary: z.string(),
  source: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  links: z.array(z.object({ href: z.string(), text: z.string() })),
  startedAt: isoTime.nullable(),
  endedAt: isoTime.nullable(),
});

export const ingestJob = jobType(
  'alerts.ingest',
  z.object({
    integration: z.string(),
    receivedAt: isoTime,
    /** Alerts the sender left out of this notification. */
    truncated: z.number().int().min(0),
    events: z.array(eventPayload),
  }),
);

/**
 * A firing report with the same start as the last one applied, this soon after it, is the same
 * notification delivered again: Alertmanager's HA peers send within their peer timeout (15 s by default),
 * and repeats of a still-firing alert come a group_interval (5 m by default) apart.
 */
const DUPLICATE_WITHIN_MS = 60_000;

/** How many received notifications may wait to be applied before the endpoints answer 503. */
export const INBOX_BOUND = 5000;

export interface IngestDeps {
  db: Db;
  clock: Clock;
  config: IncidentConfig;
}

export type ReceiveDeps = Pick<IngestDeps, 'db' | 'clock'>;

/** Stores one notification for the workers, in one statement. Resolves once it is committed. */
export async function receiveAlerts(
  deps: ReceiveDeps,
  input: { integration: string; events: AlertEvent[]; truncated: number },
): Promise<void> {
  const now = deps.clock.now();
  await scheduleOnce(
    deps.db,
    ingestJob,
    {
      key: jobKey('alerts', 'ingest', randomUUID()),
      dueAt: now,
      payload: {
        integration: input.integration,
        receivedAt: now.toISOString(),
        truncated: input.truncated,
        events: input.events.map((e) => ({
          ...e,
          startedAt: e.startedAt?.toISOString() ?? null,
          endedAt: e.endedAt?.toISOString() ?? null,
        })),
      },
    },
    now,
  );
}

/** How many notifications wait to be applied (the inbox's depth). */
export function inboxDepth(db: Db): Promise<number> {
  return countPending(db, ingestJob);
}

const RANK: Record<AlertSeverity, number> = { critical: 4, error: 3, warning: 2, info: 1 };
const worst = (a: AlertSeverity, b: AlertSeverity): AlertSeverity => (RANK[a] >= RANK[b] ? a : b);

type ReportEvent = 'reopened' | 'acknowledged' | 'resolved';

/**
 * What one notification changes, gathered while it is read and written at the end in statements sent
 * together: an Alertmanager notification carries up to thousands of alerts, and a round trip per alert
 * (or per change) would cap the hub at a few hundred alerts a second.
 */
class Batch {
  constructor(readonly integration: string) {}
  /** Groups touched (recounted at the end), and those that opened or reopened here. */
  readonly touched = new Set<number>();
  readonly opened = new Set<number>();
  readonly reopened = new Set<number>();
  /** Groups whose message must change even if their counts do not (a new severity, an acknowledgement). */
  readonly changed = new Set<number>();
  readonly repeats: { id: number; event: AlertEvent }[] = [];
  readonly acks: number[] = [];
  readonly ackedGroups = new Set<number>();
  readonly resolves: { id: number; endedAt: Date }[] = [];
  readonly inserts: { groupId: number; event: AlertEvent }[] = [];
  readonly events: { groupId: number; alertId: number; kind: ReportEvent }[] = [];
}

const byKey = (a: { dedupKey: string }, b: { dedupKey: string }) =>
  a.dedupKey < b.dedupKey ? -1 : a.dedupKey > b.dedupKey ? 1 : 0;

/** The open group for this placement, made if there is none (at most one open per key), locked. */
async function openGroup(
  tx: Tx,
  placement: Placement,
  severity: AlertSeverity,
  now: Date,
): Promise<{ group: AlertGroupRow; opened: boolean }> {
  const existing = () =>
    tx
      .select()
      .from(alertGroups)
      .where(and(eq(alertGroups.groupKey, placement.groupKey), eq(alertGroups.status, 'open')))
      .for('update');
  // Usually the group is there already (a storm is many notifications for few groups): one statement.
  const [open] = await existing();
  if (open) return { group: open, opened: false };
  const [made] = await tx
    .insert(alertGroups)
    .values({
      groupKey: placement.groupKey,
      routeIndex: placement.routeIndex,
      groupLabels: placement.groupLabels,
      title: placement.title,
      channelId: placement.channelId,
      severity,
      openedAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing({ target: alertGroups.groupKey, where: sql`${alertGroups.status} = 'open'` })
    .returning();
  if (made) return { group: made, opened: true };
  // Another notification made it a moment ago.
  const [theirs] = await existing();
  if (!theirs) throw new Error(`no open alert group for ${placement.groupKey}`);
  return { group: theirs, opened: false };
}

/** One report about an alert that is open: a repeat, an acknowledgement or a resolve. */
function applyToOpen(batch: Batch, open: AlertRow, event: AlertEvent, receivedAt: Date): void {
  // An older report never undoes a newer one.
  if (receivedAt < open.lastReportAt) return;
  if (event.status === 'firing') {
    // The same notification delivered twice (Alertmanager in HA, a sender's retry) counts once.
    const sameStart = !!event.startedAt && open.startedAt?.getTime() === event.startedAt.getTime();
    if (sameStart && receivedAt.getTime() - open.lastReportAt.getTime() < DUPLICATE_WITHIN_MS) return;
    // A repeat: counted, never posted again (unless it makes the group's severity worse).
    batch.repeats.push({ id: open.id, event });
    batch.touched.add(open.groupId);
    if (RANK[event.severity] > RANK[open.severity]) batch.changed.add(open.groupId);
  } else if (event.status === 'acknowledged') {
    if (open.status === 'acknowledged') return;
    batch.acks.push(open.id);
    batch.ackedGroups.add(open.groupId);
    batch.events.push({ groupId: open.groupId, alertId: open.id, kind: 'acknowledged' });
    batch.changed.add(open.groupId);
  } else {
    batch.resolves.push({ id: open.id, endedAt: event.endedAt ?? receivedAt });
    batch.events.push({ groupId: open.groupId, alertId: open.id, kind: 'resolved' });
    batch.touched.add(open.groupId);
  }
}

/**
 * `= any(…)` of a list passed as one JSON parameter: the statement's text is the same however long the
 * list (one prepared statement), and an array, unlike `in (select …)`, lets PostgreSQL use the index.
 */
const anyText = (values: string[]) =>
  sql`any(array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb)))`;
const anyId = (ids: number[]) =>
  sql`any(array(select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::bigint))`;

/** Applies one notification, in the caller's transaction; returns the groups whose message must change. */
async function applyNotification(
  tx: Tx,
  config: IncidentConfig,
  hub: AlertsConfig,
  integration: string,
  reported: AlertEvent[],
  receivedAt: Date,
): Promise<AlertGroupRow[]> {
  if (reported.length === 0) return [];
  // One report per alert (the last, should a sender repeat one), in key order: locks are taken in it.
  const events = [...new Map(reported.map((e) => [e.dedupKey, e])).values()].sort(byKey);
  const batch = new Batch(integration);

  // The alerts the notification is about, locked: open ones, and ones resolved within reopen_within
  // (a firing report for those is a flap). One statement.
  const known = await tx
    .select()
    .from(alerts)
    .where(
      and(
        eq(alerts.integration, integration),
        sql`${alerts.dedupKey} = ${anyText(events.map((e) => e.dedupKey))}`,
        or(
          ne(alerts.status, 'resolved'),
          gte(alerts.resolvedAt, new Date(receivedAt.getTime() - hub.reopenWithinMs)),
        ),
      ),
    )
    .orderBy(asc(alerts.dedupKey), desc(alerts.resolvedAt))
    .for('update');
  const openByKey = new Map<string, AlertRow>();
  const recentByKey = new Map<string, AlertRow>();
  for (const a of known) {
    if (a.status !== 'resolved') openByKey.set(a.dedupKey, a);
    else if (!recentByKey.has(a.dedupKey)) recentByKey.set(a.dedupKey, a);
  }

  const newcomers: { event: AlertEvent; placement: Placement }[] = [];
  for (const event of events) {
    const open = openByKey.get(event.dedupKey);
    if (open) {
      applyToOpen(batch, open, event, receivedAt);
      continue;
    }
    // Nothing open: a late acknowledge or resolve is ignored (and never opens a group).
    if (event.status !== 'firing') continue;
    const recent = recentByKey.get(event.dedupKey);
    if (recent) {
      // Older than the resolve that closed it (two notifications applied out of order, by two workers or a
      // slow one): it is not news, and must not open the alert again.
      if (receivedAt <= recent.lastReportAt) continue;
      if (await reopen(tx, batch, recent, event, receivedAt)) continue;
    }
    newcomers.push({ event, placement: place(hub, integration, event) });
  }

  // New alerts: each joins the open group of its route and key (made if there is none), in key order.
  const byGroupKey = new Map<string, { placement: Placement; events: AlertEvent[] }>();
  for (const { event, placement } of newcomers) {
    const entry = byGroupKey.get(placement.groupKey) ?? { placement, events: [] };
    entry.events.push(event);
    byGroupKey.set(placement.groupKey, entry);
  }
  for (const [, { placement, events: joining }] of [...byGroupKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const severity = joining.map((e) => e.severity).reduce(worst);
    const { group, opened } = await openGroup(tx, placement, severity, receivedAt);
    if (opened) {
      batch.opened.add(group.id);
      await groupOpened(tx, config, group, placement.route, receivedAt);
    }
    for (const event of joining) batch.inserts.push({ groupId: group.id, event });
    batch.touched.add(group.id);
  }

  // Everything written, in statements sent together (one round trip); then the groups recounted.
  await Promise.all(writeBatch(tx, batch, receivedAt));
  const settled = await settleGroups(tx, [...batch.touched, ...batch.changed], receivedAt);
  const followUps: Promise<unknown>[] = [];
  for (const group of settled) {
    if (group.status === 'resolved' || batch.ackedGroups.has(group.id))
      // Resolved, or the sender says someone is on it: the group's paging stops, as PagerDuty's would.
      followUps.push(stopPaging(tx, group.id, receivedAt));
    else if (batch.reopened.has(group.id) && group.escalationPolicy && shouldPage(group, receivedAt))
      // Its paging stopped when it resolved; firing again, it carries on from the next tier.
      followUps.push(
        startPaging(tx, config, group, group.escalationPolicy, receivedAt, group.escalationStep),
      );
  }
  await Promise.all(followUps);
  // A repeat alone changes a count the message need not show at once: it is shown with the next change.
  const shown = new Set([
    ...batch.changed,
    ...batch.opened,
    ...batch.events.map((e) => e.groupId),
    ...batch.inserts.map((i) => i.groupId),
  ]);
  return settled.filter((g) => shown.has(g.id));
}

/**
 * Firing again soon after it resolved: the same alert reopens, and its group with it (a flap) — unless
 * another group for its key opened meanwhile. Returns whether it reopened.
 */
async function reopen(
  tx: Tx,
  batch: Batch,
  recent: AlertRow,
  event: AlertEvent,
  receivedAt: Date,
): Promise<boolean> {
  const [group] = await tx.select().from(alertGroups).where(eq(alertGroups.id, recent.groupId)).for('update');
  if (!group) return false;
  if (group.status === 'resolved') {
    const [other] = await tx
      .select({ id: alertGroups.id })
      .from(alertGroups)
      .where(and(eq(alertGroups.groupKey, group.groupKey), eq(alertGroups.status, 'open')));
    if (other) return false;
    await tx
      .update(alertGroups)
      .set({ status: 'open', resolvedAt: null, flaps: group.flaps + 1, updatedAt: receivedAt })
      .where(eq(alertGroups.id, group.id));
    batch.reopened.add(group.id);
  }
  await tx
    .update(alerts)
    .set({
      status: 'firing',
      resolvedAt: null,
      endedAt: null,
      acknowledgedAt: null,
      flaps: recent.flaps + 1,
      occurrences: recent.occurrences + 1,
      lastSeenAt: receivedAt,
      lastReportAt: receivedAt,
      severity: event.severity,
      summary: event.summary,
    })
    .where(eq(alerts.id, recent.id));
  batch.events.push({ groupId: group.id, alertId: recent.id, kind: 'reopened' });
  batch.touched.add(group.id);
  return true;
}

const iso = (d: Date) => d.toISOString();

/**
 * The statements that write what the notification changed in alerts and their events, and the groups'
 * acknowledgements: independent of each other, so they are sent together (each takes its rows as one
 * JSON parameter, so its text is the same for any number of rows).
 */
function writeBatch(tx: Tx, batch: Batch, receivedAt: Date): Promise<unknown>[] {
  const at = iso(receivedAt);
  const writes: Promise<unknown>[] = [];
  if (batch.repeats.length > 0) {
    const rows = batch.repeats.map(({ id, event }) => ({
      id,
      severity: event.severity,
      summary: event.summary,
      labels: event.labels,
      links: event.links,
    }));
    writes.push(
      tx.execute(sql`
        update ${alerts} as a set
          occurrences = a.occurrences + 1, last_seen_at = ${at}::timestamptz, last_report_at = ${at}::timestamptz,
          severity = r.severity, summary = r.summary, labels = r.labels, links = r.links
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as r(id bigint, severity text, summary text, labels jsonb, links jsonb)
        where a.id = r.id`),
    );
  }
  if (batch.acks.length > 0) {
    writes.push(
      tx.execute(sql`
        update ${alerts} set status = 'acknowledged', acknowledged_at = ${at}::timestamptz,
          last_report_at = ${at}::timestamptz
        where id = ${anyId(batch.acks)}`),
      // The group shows the first acknowledgement: by the integration, for a sender's acknowledge event.
      tx.execute(sql`
        update ${alertGroups} set acknowledged_at = coalesce(acknowledged_at, ${at}::timestamptz),
          acknowledged_by = coalesce(acknowledged_by, ${`integration:${batch.integration}`}),
          updated_at = ${at}::timestamptz
        where id = ${anyId([...batch.ackedGroups])}`),
    );
  }
  if (batch.resolves.length > 0) {
    const rows = batch.resolves.map(({ id, endedAt }) => ({ id, ended_at: iso(endedAt) }));
    writes.push(
      tx.execute(sql`
        update ${alerts} as a set
          status = 'resolved', resolved_at = ${at}::timestamptz, last_report_at = ${at}::timestamptz,
          ended_at = r.ended_at
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id bigint, ended_at timestamptz)
        where a.id = r.id`),
    );
  }
  if (batch.events.length > 0) {
    writes.push(
      tx.execute(sql`
        insert into ${alertEvents} (group_id, alert_id, kind, at)
        select "groupId", "alertId", kind, ${at}::timestamptz
        from jsonb_to_recordset(${JSON.stringify(batch.events)}::jsonb)
          as e("groupId" bigint, "alertId" bigint, kind text)`),
    );
  }
  if (batch.inserts.length > 0) {
    // New alerts and their `fired` events, in one statement.
    const rows = batch.inserts.map(({ groupId, event }) => ({
      group_id: groupId,
      dedup_key: event.dedupKey,
      severity: event.severity,
      summary: event.summary,
      source: event.source,
      labels: event.labels,
      links: event.links,
      started_at: event.startedAt ? iso(event.startedAt) : null,
    }));
    writes.push(
      tx.execute(sql`
        with added as (
          insert into ${alerts} (group_id, integration, dedup_key, status, severity, summary, source, labels,
            links, started_at, first_seen_at, last_seen_at, last_report_at)
          select group_id, ${batch.integration}, dedup_key, 'firing', severity, summary, source, labels, links,
            started_at, ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(group_id bigint, dedup_key text,
            severity text, summary text, source text, labels jsonb, links jsonb, started_at timestamptz)
          returning id, group_id)
        insert into ${alertEvents} (group_id, alert_id, kind, at)
        select group_id, id, 'fired', ${at}::timestamptz from added order by id`),
    );
  }
  return writes;
}

const SEVERITY_RANK_SQL = sql`case a.severity when 'critical' then 4 when 'error' then 3 when 'warning' then 2 else 1 end`;
/** The group being updated, spelled out: inside the subqueries an unqualified "id" would be the alert's. */
const GROUP_ID = sql.raw('"alert_groups"."id"');
const UNRESOLVED = sql`(select count(*)::int from ${alerts} a where a.group_id = ${GROUP_ID} and a.status <> 'resolved')`;

/**
 * Recounts groups from their alerts, in one statement: unresolved (the FIRING count), all, and the worst
 * severity; a group with no unresolved alert left resolves. Sent after the writes it counts.
 */
async function settleGroups(tx: Tx, ids: number[], now: Date): Promise<AlertGroupRow[]> {
  if (ids.length === 0) return [];
  return tx
    .update(alertGroups)
    .set({
      firingCount: UNRESOLVED,
      alertCount: sql`(select count(*)::int from ${alerts} a where a.group_id = ${GROUP_ID})`,
      severity: sql`(select case max(${SEVERITY_RANK_SQL}) when 4 then 'critical' when 3 then 'error' when 2 then 'warning' else 'info' end from ${alerts} a where a.group_id = ${GROUP_ID})`,
      status: sql`case when ${UNRESOLVED} = 0 then 'resolved' else ${alertGroups.status} end`,
      resolvedAt: sql`case when ${UNRESOLVED} = 0 and ${alertGroups.status} = 'open' then ${iso(now)}::timestamptz else ${alertGroups.resolvedAt} end`,
      updatedAt: now,
    })
    .where(sql`${alertGroups.id} = ${anyId([...new Set(ids)])}`)
    .returning();
}

export function ingestJobs(deps: IngestDeps): JobBinding[] {
  return [
    handle(ingestJob, {
      async run(p) {
        const hub = deps.config.alerts;
        // The hub was switched off since: what it received is dropped, as it would be refused now.
        if (!hub) return;
        const receivedAt = new Date(p.receivedAt);
        const events = p.events.map(
          (e): AlertEvent => ({
            ...e,
            startedAt: e.startedAt ? new Date(e.startedAt) : null,
            endedAt: e.endedAt ? new Date(e.endedAt) : null,
          }),
        );
        const apply = () =>
          deps.db.transaction(async (tx) => {
            const changed = await applyNotification(tx, deps.config, hub, p.integration, events, receivedAt);
            const now = deps.clock.now();
            await Promise.all(
              changed.flatMap((group) => [
                ...(p.truncated > 0
                  ? [
                      tx
                        .update(alertGroups)
                        .set({ truncated: p.truncated })
                        .where(eq(alertGroups.id, group.id)),
                    ]
                  : []),
                groupChanged(tx, group, now),
              ]),
            );
          });
        try {
          await apply();
        } catch (err) {
          const state = sqlState(err);
          // Two workers opened the same alert or group at once: the loser rolled back, and again finds the
          // winner's rows. Two notifications waited on each other: PostgreSQL cancelled one; it runs again.
          if (state === '23505') await apply();
          else if (state === '40P01') throw new RetryableError('deadlock with another notification', 100);
          else throw err;
        }
      },
    }),
  ];
}
