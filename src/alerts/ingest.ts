import { randomUUID } from 'node:crypto';
import { and, count, desc, eq, gte, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { AlertsConfig, IncidentConfig } from '../config/index.js';
import { type Db, sqlState, type Tx } from '../db/client.js';
import { RetryableError } from '../errors.js';
import { countPending, handle, type JobBinding, jobKey, jobType, scheduleOnce } from '../jobs/job.js';
import { groupChanged, groupOpened, shouldPage, startPaging, stopPaging } from './changes.js';
import type { AlertEvent } from './event.js';
import { ALERT_SEVERITIES, ALERT_STATUSES, type AlertSeverity } from './model.js';
import { place } from './routing.js';
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

type Outcome = { group: AlertGroupRow; opened: boolean } | undefined;

/** Recounts a group's unresolved alerts; resolves it when none is left. */
async function settleGroup(tx: Tx, groupId: number, now: Date): Promise<AlertGroupRow> {
  const [left] = await tx
    .select({ n: count() })
    .from(alerts)
    .where(and(eq(alerts.groupId, groupId), ne(alerts.status, 'resolved')));
  const firing = left?.n ?? 0;
  const [group] = await tx
    .update(alertGroups)
    .set({
      firingCount: firing,
      updatedAt: now,
      ...(firing === 0 ? { status: 'resolved' as const, resolvedAt: now } : {}),
    })
    .where(eq(alertGroups.id, groupId))
    .returning();
  if (!group) throw new Error(`alert group ${groupId} vanished`);
  if (firing === 0) await stopPaging(tx, groupId, now);
  return group;
}

/** The open group for this placement, made if there is none (at most one open per key). */
async function openGroup(
  tx: Tx,
  placement: ReturnType<typeof place>,
  severity: AlertSeverity,
  now: Date,
): Promise<{ group: AlertGroupRow; opened: boolean }> {
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
  const [existing] = await tx
    .select()
    .from(alertGroups)
    .where(and(eq(alertGroups.groupKey, placement.groupKey), eq(alertGroups.status, 'open')))
    .for('update');
  if (!existing) throw new Error(`no open alert group for ${placement.groupKey}`);
  return { group: existing, opened: false };
}

async function lockGroup(tx: Tx, id: number): Promise<AlertGroupRow> {
  const [group] = await tx.select().from(alertGroups).where(eq(alertGroups.id, id)).for('update');
  if (!group) throw new Error(`alert group ${id} vanished`);
  return group;
}

function record(tx: Tx, alert: AlertRow, kind: 'fired' | 'reopened' | 'acknowledged' | 'resolved', at: Date) {
  return tx.insert(alertEvents).values({ groupId: alert.groupId, alertId: alert.id, kind, at });
}

/** Applies one report to its alert and group, in one transaction. */
async function applyReport(
  tx: Tx,
  config: IncidentConfig,
  hub: AlertsConfig,
  integration: string,
  event: AlertEvent,
  receivedAt: Date,
): Promise<Outcome> {
  const sameKey = and(eq(alerts.integration, integration), eq(alerts.dedupKey, event.dedupKey));
  const [open] = await tx
    .select()
    .from(alerts)
    .where(and(sameKey, ne(alerts.status, 'resolved')))
    .for('update');

  if (open) {
    // An older report never undoes a newer one.
    if (receivedAt < open.lastReportAt) return undefined;
    const group = await lockGroup(tx, open.groupId);
    if (event.status === 'firing') {
      // The same notification delivered twice (Alertmanager in HA, a sender's retry) counts once.
      const sameStart = !!event.startedAt && open.startedAt?.getTime() === event.startedAt.getTime();
      if (sameStart && receivedAt.getTime() - open.lastReportAt.getTime() < DUPLICATE_WITHIN_MS)
        return undefined;
      await tx
        .update(alerts)
        .set({
          occurrences: open.occurrences + 1,
          lastSeenAt: receivedAt,
          lastReportAt: receivedAt,
          severity: event.severity,
          summary: event.summary,
          labels: event.labels,
          links: event.links,
        })
        .where(eq(alerts.id, open.id));
      if (worst(group.severity, event.severity) !== group.severity) {
        const [updated] = await tx
          .update(alertGroups)
          .set({ severity: event.severity, updatedAt: receivedAt })
          .where(eq(alertGroups.id, group.id))
          .returning();
        return { group: updated ?? group, opened: false };
      }
      // A repeat: counted, never posted again.
      return undefined;
    }
    if (event.status === 'acknowledged') {
      if (open.status === 'acknowledged') return undefined;
      await tx
        .update(alerts)
        .set({ status: 'acknowledged', acknowledgedAt: receivedAt, lastReportAt: receivedAt })
        .where(eq(alerts.id, open.id));
      await record(tx, open, 'acknowledged', receivedAt);
      const [updated] = await tx
        .update(alertGroups)
        .set({
          acknowledgedAt: group.acknowledgedAt ?? receivedAt,
          acknowledgedBy: group.acknowledgedBy ?? `integration:${integration}`,
          updatedAt: receivedAt,
        })
        .where(eq(alertGroups.id, group.id))
        .returning();
      // The sender says someone is on it: the group's paging stops, as PagerDuty's would.
      await stopPaging(tx, group.id, receivedAt);
      return { group: updated ?? group, opened: false };
    }
    await tx
      .update(alerts)
      .set({
        status: 'resolved',
        resolvedAt: receivedAt,
        endedAt: event.endedAt ?? receivedAt,
        lastReportAt: receivedAt,
      })
      .where(eq(alerts.id, open.id));
    await record(tx, open, 'resolved', receivedAt);
    return { group: await settleGroup(tx, group.id, receivedAt), opened: false };
  }

  // Nothing open: a late acknowledge or resolve is ignored (and never opens a group).
  if (event.status !== 'firing') return undefined;

  // Firing again soon after it resolved: the same alert reopens, and its group with it (a flap).
  const [recent] = await tx
    .select()
    .from(alerts)
    .where(
      and(
        sameKey,
        eq(alerts.status, 'resolved'),
        gte(alerts.resolvedAt, new Date(receivedAt.getTime() - hub.reopenWithinMs)),
      ),
    )
    .orderBy(desc(alerts.resolvedAt))
    .limit(1)
    .for('update');
  if (recent && receivedAt > recent.lastReportAt) {
    const group = await lockGroup(tx, recent.groupId);
    const [otherOpen] =
      group.status === 'resolved'
        ? await tx
            .select({ id: alertGroups.id })
            .from(alertGroups)
            .where(and(eq(alertGroups.groupKey, group.groupKey), eq(alertGroups.status, 'open')))
        : [];
    if (!otherOpen) {
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
      await record(tx, recent, 'reopened', receivedAt);
      await tx
        .update(alertGroups)
        .set({
          status: 'open',
          resolvedAt: null,
          flaps: group.status === 'resolved' ? group.flaps + 1 : group.flaps,
          severity: worst(group.severity, event.severity),
          updatedAt: receivedAt,
        })
        .where(eq(alertGroups.id, group.id));
      const reopened = await settleGroup(tx, group.id, receivedAt);
      // Its paging stopped when it resolved; firing again, it carries on from the next tier.
      if (group.status === 'resolved' && reopened.escalationPolicy && shouldPage(reopened, receivedAt))
        await startPaging(
          tx,
          config,
          reopened,
          reopened.escalationPolicy,
          receivedAt,
          reopened.escalationStep,
        );
      return { group: reopened, opened: false };
    }
  }

  // A new alert: placed by its route into the open group for its key.
  const placement = place(hub, integration, event);
  const { group, opened } = await openGroup(tx, placement, event.severity, receivedAt);
  if (opened) await groupOpened(tx, config, group, placement.route, receivedAt);
  const [alert] = await tx
    .insert(alerts)
    .values({
      groupId: group.id,
      integration,
      dedupKey: event.dedupKey,
      status: 'firing',
      severity: event.severity,
      summary: event.summary,
      source: event.source,
      labels: event.labels,
      links: event.links,
      startedAt: event.startedAt,
      endedAt: null,
      firstSeenAt: receivedAt,
      lastSeenAt: receivedAt,
      lastReportAt: receivedAt,
    })
    .returning();
  if (!alert) throw new Error('alert insert returned nothing');
  await record(tx, alert, 'fired', receivedAt);
  await tx
    .update(alertGroups)
    .set({
      alertCount: sql`${alertGroups.alertCount} + 1`,
      severity: worst(group.severity, event.severity),
      updatedAt: receivedAt,
    })
    .where(eq(alertGroups.id, group.id));
  return { group: await settleGroup(tx, group.id, receivedAt), opened };
}

export function ingestJobs(deps: IngestDeps): JobBinding[] {
  return [
    handle(ingestJob, {
      async run(p) {
        const hub = deps.config.alerts;
        // The hub was switched off since: what it received is dropped, as it would be refused now.
        if (!hub) return;
        const receivedAt = new Date(p.receivedAt);
        // Alerts in a fixed order, so that two notifications lock what they share in the same order.
        const events = [...p.events]
          .sort((a, b) => (a.dedupKey < b.dedupKey ? -1 : a.dedupKey > b.dedupKey ? 1 : 0))
          .map(
            (e): AlertEvent => ({
              ...e,
              startedAt: e.startedAt ? new Date(e.startedAt) : null,
              endedAt: e.endedAt ? new Date(e.endedAt) : null,
            }),
          );
        const apply = () =>
          deps.db.transaction(async (tx) => {
            const changed = new Map<number, AlertGroupRow>();
            for (const event of events) {
              const outcome = await applyReport(tx, deps.config, hub, p.integration, event, receivedAt);
              if (outcome) changed.set(outcome.group.id, outcome.group);
            }
            for (const group of changed.values()) {
              if (p.truncated > 0)
                await tx
                  .update(alertGroups)
                  .set({ truncated: p.truncated })
                  .where(eq(alertGroups.id, group.id));
              await groupChanged(tx, group, deps.clock.now());
            }
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
