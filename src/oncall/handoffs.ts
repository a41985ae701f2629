import { eq } from 'drizzle-orm';
import { listOpenGroups } from '../alerts/queries.js';
import type { Db } from '../db/client.js';
import { postedBefore } from '../incidents/chat.js';
import { listOpenIncidents } from '../incidents/queries.js';
import {
  ensureScheduled,
  handle,
  type JobBinding,
  schedule as scheduleJob,
  scheduleOnce,
} from '../jobs/job.js';
import type { OncallChat, OncallNotice } from './chat.js';
import { handoffDmJob, handoffJob, oncallKeys, overrideDmJob, usergroupJob } from './jobs.js';
import type { OncallDeps } from './overrides.js';
import { findOverride, lockSchedule, scheduleState } from './queries.js';
import { nextHandoff, onCallAt } from './schedule.js';
import { oncallHandoffs } from './tables.js';

/**
 * Handoffs as durable jobs. Each schedule has one handoff job, due at its next change of who is on call
 * (a turn, a restriction's edge, an override's start or end). When it runs it compares who is on call
 * with who the bot last handed the shift to (a row per schedule, under a lock): on a change it records
 * the new person, queues their DM (keyed by the change, so it goes out once) and the user-group sync, and
 * re-arms itself for the next change. Exactly once across replicas and restarts: the engine runs a key
 * once at a time, and the record makes a second run a no-op. At every start each schedule's job runs
 * at once, so a handoff missed while the bot was down is done then, and each user group is reconciled.
 */

const DAY = 86_400_000;
/** How far the next change is looked for; a schedule that does not change for a year is re-checked then. */
const LOOKAHEAD_MS = 366 * DAY;
/** What a handoff DM lists of the open incidents and alert groups. */
const INHERITED_SHOWN = 10;

export interface HandoffDeps extends OncallDeps {
  chat: OncallChat;
}

/** At startup: every schedule's handoff job now (missed handoffs, the next one armed) and its user group synced. */
export async function startOncall(deps: OncallDeps): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    for (const schedule of Object.values(deps.config.schedules)) {
      const payload = { schedule: schedule.name };
      await scheduleJob(tx, handoffJob, { key: oncallKeys.handoff(schedule.name), dueAt: now, payload }, now);
      if (schedule.usergroup)
        await ensureScheduled(
          tx,
          usergroupJob,
          { key: oncallKeys.usergroup(schedule.name), dueAt: now, payload },
          now,
        );
    }
  });
}

/** Open work someone coming on call inherits: incidents anyone may see, and the open alert groups. */
async function inheritedWork(db: Db, chat: OncallChat, now: Date) {
  const workspace = await chat.workspace();
  const incidents = (await listOpenIncidents(db, workspace.teamId)).filter((i) => !i.isPrivate && !i.isTest);
  const { groups, total } = await listOpenGroups(db, now);
  const shownIncidents = incidents.slice(0, INHERITED_SHOWN);
  const shownGroups = groups.slice(0, INHERITED_SHOWN);
  return {
    workspaceUrl: workspace.url,
    incidents: shownIncidents.map((i) => ({
      number: i.number,
      title: i.title,
      severity: i.severity,
      channelId: i.channelId,
    })),
    alertGroups: shownGroups.map((g) => ({
      title: g.group.title,
      firingCount: g.group.firingCount,
      channelId: g.group.channelId,
      messageTs: g.messageTs,
    })),
    more: incidents.length - shownIncidents.length + (total - shownGroups.length),
  };
}

/** Posts a DM once: a retry first looks for the copy an earlier attempt may have posted. */
async function dmOnce(
  chat: OncallChat,
  userId: string,
  notice: OncallNotice,
  ctx: { key: string; attempt: number; createdAt: Date },
) {
  const dm = await chat.openDm(userId);
  const marker = { type: 'oncall_dm', id: ctx.key };
  if (await postedBefore(chat, ctx.attempt, dm, marker, ctx.createdAt)) return;
  await chat.post(dm, notice, { marker });
}

export function oncallJobs(deps: HandoffDeps): JobBinding[] {
  const { db, chat, clock, config } = deps;
  return [
    handle(handoffJob, {
      async run(p) {
        const schedule = config.schedules[p.schedule];
        if (!schedule) return; // taken out of the config since
        await db.transaction(async (tx) => {
          await lockSchedule(tx, schedule.name);
          const now = clock.now();
          const { overrides } = await scheduleState(tx, schedule, now);
          const current = onCallAt(schedule, overrides, now.getTime());
          const userId = current?.userId ?? null;
          const first = await tx
            .insert(oncallHandoffs)
            .values({ schedule: schedule.name, userId, since: now })
            .onConflictDoNothing()
            .returning();
          let changed = first.length > 0;
          if (!changed) {
            const [last] = await tx
              .select()
              .from(oncallHandoffs)
              .where(eq(oncallHandoffs.schedule, schedule.name))
              .for('update');
            if (last && last.userId !== userId) {
              changed = true;
              await tx
                .update(oncallHandoffs)
                .set({ userId, since: now })
                .where(eq(oncallHandoffs.schedule, schedule.name));
              // The very first record is silent (a new schedule, a first start); a change is told.
              if (current)
                await scheduleOnce(
                  tx,
                  handoffDmJob,
                  {
                    key: oncallKeys.handoffDm(schedule.name, now, current.userId),
                    dueAt: now,
                    payload: {
                      schedule: schedule.name,
                      userId: current.userId,
                      at: now.toISOString(),
                      overrideBy:
                        current.source.kind === 'override' ? current.source.override.createdBy : null,
                    },
                  },
                  now,
                );
            }
          }
          const payload = { schedule: schedule.name };
          if (changed && schedule.usergroup)
            await ensureScheduled(
              tx,
              usergroupJob,
              { key: oncallKeys.usergroup(schedule.name), dueAt: now, payload },
              now,
            );
          const next = nextHandoff(schedule, overrides, now.getTime(), now.getTime() + LOOKAHEAD_MS);
          await scheduleJob(
            tx,
            handoffJob,
            {
              key: oncallKeys.handoff(schedule.name),
              dueAt: new Date(next ?? now.getTime() + LOOKAHEAD_MS),
              payload,
            },
            now,
          );
        });
      },
    }),

    handle(handoffDmJob, {
      async run(p, ctx) {
        const schedule = config.schedules[p.schedule];
        if (!schedule) return;
        const now = clock.now();
        const { overrides } = await scheduleState(db, schedule, now);
        // Handed on again before this went out (a long outage): the later handoff has its own DM.
        if (onCallAt(schedule, overrides, now.getTime())?.userId !== p.userId) return;
        const until = nextHandoff(schedule, overrides, now.getTime(), now.getTime() + LOOKAHEAD_MS);
        await dmOnce(
          chat,
          p.userId,
          {
            kind: 'oncall_handoff',
            schedule: schedule.name,
            userId: p.userId,
            until: until === undefined ? null : new Date(until),
            overrideBy: p.overrideBy,
            ...(await inheritedWork(db, chat, now)),
          },
          ctx,
        );
      },
    }),

    handle(overrideDmJob, {
      async run(p, ctx) {
        const override = await findOverride(db, p.overrideId);
        if (!override) return;
        await dmOnce(
          chat,
          p.userId,
          {
            kind: 'oncall_override',
            change: p.change,
            audience: p.audience,
            schedule: override.schedule,
            userId: override.userId,
            relievedUserIds: override.relievedUserIds,
            by: (p.change === 'removed' ? override.removedBy : override.createdBy) ?? override.createdBy,
            startsAt: override.startsAt,
            endsAt: override.endsAt,
          },
          ctx,
        );
      },
    }),

    handle(usergroupJob, {
      async run(p, ctx) {
        const schedule = config.schedules[p.schedule];
        if (!schedule?.usergroup) return;
        const now = clock.now();
        const { overrides } = await scheduleState(db, schedule, now);
        const current = onCallAt(schedule, overrides, now.getTime());
        if (!current) {
          // Slack refuses an empty user group: the last people stay in it until someone is on call.
          ctx.log.warn(
            { schedule: schedule.name, usergroup: schedule.usergroup },
            'nobody is on call: the user group keeps its members (Slack refuses an empty group)',
          );
          return;
        }
        const members = await chat.usergroupMembers(schedule.usergroup);
        if (members.length === 1 && members[0] === current.userId) return;
        await chat.setUsergroupMembers(schedule.usergroup, [current.userId]);
        ctx.log.info(
          { schedule: schedule.name, usergroup: schedule.usergroup, user_id: current.userId },
          'user group set to whoever is on call',
        );
      },
    }),
  ];
}
