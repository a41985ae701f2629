import { and, asc, eq, gt, isNotNull, isNull, lte, max, min, or, sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { postedBefore } from '../incidents/chat.js';
import { handle, type JobBinding, schedule } from '../jobs/job.js';
import { EDIT_EVERY_MS, POST_EVERY_MS } from './changes.js';
import type { AlertsChat } from './chat.js';
import { alertKeys, renderJob, sendJob } from './jobs.js';
import { changesSince, groupNotice } from './notices.js';
import { type AlertGroupRow, alertEvents, alertGroups, channelPace } from './tables.js';

/**
 * How the hub reaches its triage channels without flooding Slack: one message per group, edited in place
 * at most once every 5 s (the latest state wins), and new messages — a group's first, or a post in its
 * thread saying what changed — sent by one job per channel, one message a second, as Slack asks. A storm
 * of 10,000 alerts in 20 groups makes 20 messages, their edits, and a thread post per group now and then.
 */

export interface RenderDeps {
  db: Db;
  clock: Clock;
  chat: AlertsChat;
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

/** What a group's message shows of the group row: a change to any of it needs an edit. */
const shownState = (g: AlertGroupRow) =>
  JSON.stringify([
    g.status,
    g.title,
    g.severity,
    g.firingCount,
    g.alertCount,
    g.truncated,
    g.flaps,
    g.acknowledgedBy,
    g.silencedUntil,
    g.incidentId,
    g.escalationStep,
  ]);

export function renderJobs(deps: RenderDeps): JobBinding[] {
  const { db, chat, clock } = deps;
  return [
    handle(renderJob, {
      async run(p) {
        const [group] = await db.select().from(alertGroups).where(eq(alertGroups.id, p.groupId));
        // Not posted yet: the channel's sender posts it with its latest state.
        if (!group?.messageTs) return;
        // At most one edit every 5 s, whoever asked for this one and whatever they knew of the last.
        const now = clock.now();
        const allowed = group.renderedAt ? new Date(group.renderedAt.getTime() + EDIT_EVERY_MS) : now;
        if (allowed > now) {
          await schedule(db, renderJob, { key: alertKeys.render(group.id), dueAt: allowed, payload: p }, now);
          return;
        }
        await chat.update(
          { channel: group.channelId, ts: group.messageTs },
          await groupNotice(db, group, clock.now()),
        );
        await db.update(alertGroups).set({ renderedAt: clock.now() }).where(eq(alertGroups.id, group.id));
      },
    }),

    handle(sendJob, {
      async run(p, ctx) {
        // Slack's pace: woken early (by a change), it comes back when the channel may take a message.
        const [pace] = await db.select().from(channelPace).where(eq(channelPace.channelId, p.channelId));
        if (pace && pace.nextAt > clock.now()) {
          const now = clock.now();
          await schedule(
            db,
            sendJob,
            { key: alertKeys.send(p.channelId), dueAt: pace.nextAt, payload: p },
            now,
          );
          return;
        }
        const next = await nextInChannel(db, p.channelId, clock.now());
        if (!next) return;
        const { group } = next;
        if (next.kind === 'group') {
          const marker = { type: 'alert_group', id: String(group.id) };
          const earlier = await postedBefore(chat, ctx.attempt, group.channelId, marker, group.openedAt);
          // The message shows the alerts as they are, so the thread starts after their events; but not
          // after a page, which the message does not name: paged as it was being posted, the thread would
          // otherwise never say who was paged (or say it, depending on which job got there first).
          const [cursor] = await db
            .select({ last: max(alertEvents.id) })
            .from(alertEvents)
            .where(
              and(
                eq(alertEvents.groupId, group.id),
                sql`not exists (select 1 from ${alertEvents} page where page.group_id = ${group.id} and page.kind = 'paged' and page.id <= ${alertEvents.id})`,
              ),
            );
          const posted =
            earlier ??
            (await chat.post(group.channelId, await groupNotice(db, group, clock.now()), { marker }));
          const [after] = await db
            .update(alertGroups)
            .set({ messageTs: posted.ts, renderedAt: clock.now(), threadCursor: cursor?.last ?? 0 })
            .where(eq(alertGroups.id, group.id))
            .returning();
          // Changed while being posted: those changes saw no message to edit, so the edit is due now.
          if (earlier || (after && shownState(after) !== shownState(group))) {
            const now = clock.now();
            await schedule(
              db,
              renderJob,
              {
                key: alertKeys.render(group.id),
                dueAt: new Date(now.getTime() + EDIT_EVERY_MS),
                payload: { groupId: group.id },
              },
              now,
            );
          }
        } else {
          const { notice, last, first } = await changesSince(db, group, group.threadCursor, clock.now());
          const marker = { type: 'alert_group_thread', id: `${group.id}:${last}` };
          const earlier = await postedBefore(chat, ctx.attempt, group.channelId, marker, first);
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
          await schedule(db, sendJob, { key: alertKeys.send(p.channelId), dueAt: nextAt, payload: p }, now);
      },
    }),
  ];
}
