import { and, asc, desc, eq, gt, isNotNull, isNull, lte, max, min, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/client.js';
import { PermanentError } from '../errors.js';
import { findIncident } from '../incidents/queries.js';
import { handle, type JobBinding, jobKey, jobType, schedule } from '../jobs/job.js';
import type { AlertGroupView, AlertNotice, AlertsChat, AlertThreadLine, AlertView } from './chat.js';
import { type AlertGroupRow, alertEvents, alertGroups, alerts, channelPace } from './tables.js';

/**
 * How the hub reaches Slack without flooding it: one message per group, edited in place at most once
 * every 5 s (the latest state wins), and new messages — a group's first, or a post in its thread saying
 * what changed — sent by one job per channel, one message a second, as Slack asks. A storm of 10,000
 * alerts in 20 groups makes 20 messages, their edits, and a thread post per group now and then.
 */

export const EDIT_EVERY_MS = 5000;
export const POST_EVERY_MS = 1000;
/** Alerts shown in a group's message; thread lines per post. */
export const ALERTS_SHOWN = 10;
const THREAD_LINES = 20;

/** Edits one group's message to its current state. */
export const renderJob = jobType('alerts.render', z.object({ groupId: z.number().int() }));
/** Posts the next new message of one channel, then itself again a second later while there is more. */
export const sendJob = jobType('alerts.send', z.object({ channelId: z.string() }));

export const renderKeys = {
  render: (groupId: number) => jobKey('alert-group', groupId, 'render'),
  send: (channelId: string) => jobKey('alert-channel', channelId, 'send'),
};

const later = (a: Date, b: Date) => (a > b ? a : b);

async function nextPostAt(tx: Db | Tx, channelId: string, now: Date): Promise<Date> {
  const [pace] = await tx.select().from(channelPace).where(eq(channelPace.channelId, channelId));
  return pace ? later(pace.nextAt, now) : now;
}

/** After a change to a group (in its transaction): its message is edited, or first posted, in due time. */
export async function groupChanged(tx: Tx, group: AlertGroupRow, now: Date): Promise<void> {
  const dueSend = await nextPostAt(tx, group.channelId, now);
  await schedule(
    tx,
    sendJob,
    { key: renderKeys.send(group.channelId), dueAt: dueSend, payload: { channelId: group.channelId } },
    now,
  );
  if (group.messageTs) {
    const dueEdit = group.renderedAt ? later(new Date(group.renderedAt.getTime() + EDIT_EVERY_MS), now) : now;
    await schedule(
      tx,
      renderJob,
      { key: renderKeys.render(group.id), dueAt: dueEdit, payload: { groupId: group.id } },
      now,
    );
  }
}

export interface RenderDeps {
  db: Db;
  clock: Clock;
  chat: AlertsChat;
}

const RANK = { firing: 0, acknowledged: 1, resolved: 2 } as const;

/** A group as its message shows it, with its first alerts (unresolved first). */
async function groupNotice(
  db: Db,
  group: AlertGroupRow,
  now: Date,
): Promise<Extract<AlertNotice, { kind: 'alert_group' }>> {
  const rows = await db
    .select()
    .from(alerts)
    .where(eq(alerts.groupId, group.id))
    .orderBy(
      sql`case ${alerts.status} when 'firing' then 0 when 'acknowledged' then 1 else 2 end`,
      desc(alerts.lastSeenAt),
    )
    .limit(ALERTS_SHOWN + 1);
  const integrations = await db
    .selectDistinct({ integration: alerts.integration })
    .from(alerts)
    .where(eq(alerts.groupId, group.id));
  const shown: AlertView[] = rows.slice(0, ALERTS_SHOWN).map((a) => ({
    status: a.status,
    severity: a.severity,
    summary: a.summary,
    labels: a.labels,
    links: a.links,
    occurrences: a.occurrences,
  }));
  shown.sort((a, b) => RANK[a.status] - RANK[b.status]);
  return {
    kind: 'alert_group',
    group: await viewOf(db, group, integrations.map((i) => i.integration).sort(), now),
    alerts: shown,
    more: Math.max(0, group.alertCount - shown.length),
  };
}

async function viewOf(
  db: Db,
  group: AlertGroupRow,
  integrations: string[],
  now: Date,
): Promise<AlertGroupView> {
  const incident = group.incidentId ? await findIncident(db, group.incidentId) : undefined;
  return {
    id: group.id,
    title: group.title,
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
    incident: incident ? { number: incident.number, channelId: incident.channelId } : null,
  };
}

/** The channel's next new message: a group not yet posted (oldest first), else the thread furthest behind. */
async function nextInChannel(
  db: Db,
  channelId: string,
  now: Date,
): Promise<{ kind: 'group' | 'thread'; group: AlertGroupRow } | undefined> {
  const [unposted] = await db
    .select()
    .from(alertGroups)
    .where(and(eq(alertGroups.channelId, channelId), isNull(alertGroups.messageTs)))
    .orderBy(asc(alertGroups.openedAt), asc(alertGroups.id))
    .limit(1);
  if (unposted) return { kind: 'group', group: unposted };
  const oldestPending = db
    .select({ groupId: alertEvents.groupId, first: min(alertEvents.id).as('first') })
    .from(alertEvents)
    .innerJoin(alertGroups, eq(alertGroups.id, alertEvents.groupId))
    .where(
      and(
        eq(alertGroups.channelId, channelId),
        isNotNull(alertGroups.messageTs),
        gt(alertEvents.id, alertGroups.threadCursor),
        // A silenced group posts nothing new until the silence ends.
        or(isNull(alertGroups.silencedUntil), lte(alertGroups.silencedUntil, now)),
      ),
    )
    .groupBy(alertEvents.groupId)
    .as('pending');
  const [behind] = await db
    .select({ group: alertGroups })
    .from(oldestPending)
    .innerJoin(alertGroups, eq(alertGroups.id, oldestPending.groupId))
    .orderBy(asc(oldestPending.first))
    .limit(1);
  return behind ? { kind: 'thread', group: behind.group } : undefined;
}

export function renderJobs(deps: RenderDeps): JobBinding[] {
  const { db, chat, clock } = deps;
  return [
    handle(renderJob, {
      async run(p) {
        const [group] = await db.select().from(alertGroups).where(eq(alertGroups.id, p.groupId));
        // Not posted yet: the channel's sender posts it with its latest state.
        if (!group?.messageTs) return;
        await chat.update(
          { channel: group.channelId, ts: group.messageTs },
          await groupNotice(db, group, clock.now()),
        );
        await db.update(alertGroups).set({ renderedAt: clock.now() }).where(eq(alertGroups.id, group.id));
      },
    }),

    handle(sendJob, {
      async run(p, ctx) {
        const next = await nextInChannel(db, p.channelId, clock.now());
        if (!next) return;
        const { group } = next;
        if (next.kind === 'group') {
          const marker = { type: 'alert_group', id: String(group.id) };
          // An earlier attempt may have posted and died before recording it.
          const earlier =
            ctx.attempt > 1
              ? await chat.findMarked(group.channelId, marker, group.openedAt).catch((err: unknown) => {
                  if (err instanceof PermanentError) return undefined;
                  throw err;
                })
              : undefined;
          const [cursor] = await db
            .select({ last: max(alertEvents.id) })
            .from(alertEvents)
            .where(eq(alertEvents.groupId, group.id));
          const posted =
            earlier ??
            (await chat.post(group.channelId, await groupNotice(db, group, clock.now()), { marker }));
          await db
            .update(alertGroups)
            .set({ messageTs: posted.ts, renderedAt: clock.now(), threadCursor: cursor?.last ?? 0 })
            .where(eq(alertGroups.id, group.id));
        } else {
          const events = await db
            .select({
              id: alertEvents.id,
              kind: alertEvents.kind,
              at: alertEvents.at,
              summary: alerts.summary,
            })
            .from(alertEvents)
            .innerJoin(alerts, eq(alerts.id, alertEvents.alertId))
            .where(and(eq(alertEvents.groupId, group.id), gt(alertEvents.id, group.threadCursor)))
            .orderBy(asc(alertEvents.id));
          const lines: AlertThreadLine[] = events
            .slice(0, THREAD_LINES)
            .map((e) => ({ kind: e.kind, summary: e.summary, at: e.at }));
          const notice: AlertNotice = {
            kind: 'alert_group_thread',
            group: await viewOf(db, group, [], clock.now()),
            lines,
            more: events.length - lines.length,
          };
          const last = events.at(-1)?.id ?? group.threadCursor;
          const marker = { type: 'alert_group_thread', id: `${group.id}:${last}` };
          const earlier =
            ctx.attempt > 1
              ? await chat
                  .findMarked(group.channelId, marker, events[0]?.at ?? group.openedAt)
                  .catch(() => undefined)
              : undefined;
          if (!earlier)
            await chat.post(group.channelId, notice, { threadTs: group.messageTs as string, marker });
          await db.update(alertGroups).set({ threadCursor: last }).where(eq(alertGroups.id, group.id));
        }
        // Slack takes about one new message a second per channel; anything more waits its turn.
        const now = clock.now();
        const nextAt = new Date(now.getTime() + POST_EVERY_MS);
        await db
          .insert(channelPace)
          .values({ channelId: p.channelId, nextAt })
          .onConflictDoUpdate({ target: channelPace.channelId, set: { nextAt } });
        if (await nextInChannel(db, p.channelId, now))
          await schedule(db, sendJob, { key: renderKeys.send(p.channelId), dueAt: nextAt, payload: p }, now);
      },
    }),
  ];
}
