import { and, eq, ne } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { UserError } from '../errors.js';
import { handle, type JobBinding, schedule } from '../jobs/job.js';
import { groupChanged, shouldPage, startPaging, stopPaging } from './changes.js';
import { alertKeys, unsilenceJob } from './jobs.js';
import { type AlertGroupRow, alertEvents, alertGroups, alerts } from './tables.js';

/**
 * What people do to an alert group from its message: acknowledge it (someone is on it), resolve it by
 * hand (every alert in it), or silence it for a while (it keeps counting, but posts nothing new and pages
 * nobody until the silence ends). Each locks the group, changes it, and has its message re-rendered.
 */

export interface GroupDeps {
  db: Db;
  clock: Clock;
  config: IncidentConfig;
}

async function withGroup<T>(
  deps: GroupDeps,
  groupId: number,
  fn: (tx: Tx, group: AlertGroupRow, now: Date) => Promise<T>,
): Promise<T> {
  return deps.db.transaction(async (tx) => {
    const [group] = await tx.select().from(alertGroups).where(eq(alertGroups.id, groupId)).for('update');
    if (!group) throw new UserError('not_found', 'That alert group no longer exists.');
    return fn(tx, group, deps.clock.now());
  });
}

const assertOpen = (group: AlertGroupRow) => {
  if (group.status === 'resolved') throw new UserError('resolved', 'These alerts are resolved already.');
};

export function acknowledgeGroup(deps: GroupDeps, input: { groupId: number; userId: string }) {
  return withGroup(deps, input.groupId, async (tx, group, now) => {
    assertOpen(group);
    if (group.acknowledgedBy) {
      const by = group.acknowledgedBy.startsWith('integration:')
        ? `the ${group.acknowledgedBy.slice('integration:'.length)} integration`
        : `<@${group.acknowledgedBy}>`;
      throw new UserError('already_acknowledged', `${by} acknowledged these alerts already.`);
    }
    const [updated] = await tx
      .update(alertGroups)
      .set({ acknowledgedAt: now, acknowledgedBy: input.userId, updatedAt: now })
      .where(eq(alertGroups.id, group.id))
      .returning();
    await stopPaging(tx, group.id, now);
    await groupChanged(tx, updated ?? group, now);
  });
}

/** Resolves every alert of the group; a later firing reopens or starts anew as usual. */
export function resolveGroup(deps: GroupDeps, input: { groupId: number; userId: string }) {
  return withGroup(deps, input.groupId, async (tx, group, now) => {
    assertOpen(group);
    const resolved = await tx
      .update(alerts)
      .set({ status: 'resolved', resolvedAt: now, endedAt: now, lastReportAt: now })
      .where(and(eq(alerts.groupId, group.id), ne(alerts.status, 'resolved')))
      .returning({ id: alerts.id });
    if (resolved.length > 0)
      await tx
        .insert(alertEvents)
        .values(
          resolved.map((a) => ({ groupId: group.id, alertId: a.id, kind: 'resolved' as const, at: now })),
        );
    const [updated] = await tx
      .update(alertGroups)
      .set({ status: 'resolved', resolvedAt: now, firingCount: 0, updatedAt: now })
      .where(eq(alertGroups.id, group.id))
      .returning();
    await stopPaging(tx, group.id, now);
    await groupChanged(tx, updated ?? group, now);
  });
}

export function silenceGroup(deps: GroupDeps, input: { groupId: number; userId: string; minutes: number }) {
  return withGroup(deps, input.groupId, async (tx, group, now) => {
    assertOpen(group);
    const until = new Date(now.getTime() + input.minutes * 60_000);
    const [updated] = await tx
      .update(alertGroups)
      .set({ silencedUntil: until, updatedAt: now })
      .where(eq(alertGroups.id, group.id))
      .returning();
    await stopPaging(tx, group.id, now);
    await groupChanged(tx, updated ?? group, now);
    // When the silence ends, what it held back goes out, paging resumes, and the message stops saying
    // "silenced".
    await schedule(
      tx,
      unsilenceJob,
      { key: alertKeys.unsilence(group.id), dueAt: until, payload: { groupId: group.id } },
      now,
    );
    return until;
  });
}

export function groupJobs(deps: GroupDeps): JobBinding[] {
  return [
    handle(unsilenceJob, {
      async run(p) {
        await deps.db.transaction(async (tx) => {
          const [group] = await tx
            .select()
            .from(alertGroups)
            .where(eq(alertGroups.id, p.groupId))
            .for('update');
          const now = deps.clock.now();
          // Silenced again for longer meanwhile: that silence's own job will come.
          if (!group || (group.silencedUntil && group.silencedUntil > now)) return;
          if (group.escalationPolicy && shouldPage(group, now))
            await startPaging(tx, deps.config, group, group.escalationPolicy, now, group.escalationStep);
          await groupChanged(tx, group, now);
        });
      },
    }),
  ];
}
