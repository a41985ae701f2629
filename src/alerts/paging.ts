import { eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db } from '../db/client.js';
import { expandTargets, onCallLookup, waitForEarlierTiers } from '../escalation/pages.js';
import { planEscalation, skipAhead, stepsBetween, tierLabel } from '../escalation/plan.js';
import { postedBefore } from '../incidents/chat.js';
import { handle, type JobBinding, scheduleOnce, wakeWaiters } from '../jobs/job.js';
import { groupChanged, scheduleSteps, shouldPage } from './changes.js';
import type { AlertsChat } from './chat.js';
import { alertKeys, pageJob, pageStepJob } from './jobs.js';
import { groupWithAlerts } from './notices.js';
import { type AlertGroupRow, alertEvents, alertGroups } from './tables.js';

/**
 * Paging for an alert group whose route names an escalation policy: the policy's tiers, in its rhythm,
 * through the same plan incidents use. Each step is a job keyed per group and step; each person paged is a
 * job keyed per group, run, step and person, so a person is paged once per tier across replicas and
 * restarts. Acknowledging the group (its message, the DM, or a PagerDuty acknowledge event), resolving it,
 * silencing it or declaring it an incident cancels the steps; a step that runs anyway checks again first.
 */

const PAGE_SHOWS = 5;

export interface PagingDeps {
  db: Db;
  clock: Clock;
  config: IncidentConfig;
  chat: AlertsChat;
}

const stepStillDue = (g: AlertGroupRow, p: { index: number; policy: string }, now: Date) =>
  shouldPage(g, now) && g.escalationPolicy === p.policy && p.index >= g.escalationStep;

export function pagingJobs(deps: PagingDeps): JobBinding[] {
  const { db, chat, clock } = deps;
  const findGroup = async (id: number) => {
    const [group] = await db.select().from(alertGroups).where(eq(alertGroups.id, id));
    return group;
  };
  return [
    handle(pageStepJob, {
      async run(p, ctx) {
        const policy = deps.config.escalationPolicies[p.policy];
        const step = policy ? planEscalation(policy)[p.index] : undefined;
        const group = await findGroup(p.groupId);
        if (!group || !policy || !step || !stepStillDue(group, p, clock.now())) return;
        const earlier = (g: AlertGroupRow) =>
          stepsBetween(g.escalationStep, p.index).map((i) => alertKeys.step(g.id, i));
        const earlierNow = async () => {
          const fresh = await findGroup(p.groupId);
          return fresh ? earlier(fresh) : [];
        };
        if (await waitForEarlierTiers(db, ctx, earlier(group), clock.now(), earlierNow)) return;
        // Slack first (user groups to people, schedules to who is on call), outside the lock; the lock
        // then checks again.
        const users = await expandTargets(chat, step.notify, onCallLookup(deps));
        await db.transaction(async (tx) => {
          const now = clock.now();
          const [locked] = await tx
            .select()
            .from(alertGroups)
            .where(eq(alertGroups.id, p.groupId))
            .for('update');
          if (!locked || !stepStillDue(locked, p, now)) return;
          if (await waitForEarlierTiers(tx, ctx, earlier(locked), now)) return;
          const [updated] = await tx
            .update(alertGroups)
            .set({ escalationStep: p.index + 1, updatedAt: now })
            .where(eq(alertGroups.id, locked.id))
            .returning();
          // Nobody to page: the next tier of the round pages at once.
          const skip = users.length === 0 ? skipAhead(planEscalation(policy), p.index, now) : undefined;
          await scheduleSteps(tx, locked.id, p.policy, skip?.plan ?? [], now);
          const data = {
            label: tierLabel(step),
            users,
            ...(users.length === 0 ? { skippedTo: skip ? tierLabel(skip.next) : null } : {}),
          };
          const [event] = await tx
            .insert(alertEvents)
            .values({ groupId: locked.id, kind: 'paged', at: now, data })
            .returning({ id: alertEvents.id });
          const run = locked.escalationStartedAt?.getTime() ?? 0;
          for (const userId of users) {
            await scheduleOnce(
              tx,
              pageJob,
              {
                key: alertKeys.page(locked.id, run, p.index, userId),
                dueAt: now,
                payload: { groupId: locked.id, userId, eventId: event?.id ?? 0 },
              },
              now,
            );
          }
          await groupChanged(tx, updated ?? locked, now);
          await wakeWaiters(tx, ctx.key, now);
        });
      },
    }),

    handle(pageJob, {
      async run(p, ctx) {
        const group = await findGroup(p.groupId);
        // Acknowledged, resolved, silenced or declared meanwhile: nobody needs waking any more.
        if (!group || !shouldPage(group, clock.now())) return;
        const [event] = await db.select().from(alertEvents).where(eq(alertEvents.id, p.eventId));
        const dm = await chat.openDm(p.userId);
        const marker = { type: 'alert_page', id: ctx.key };
        if (await postedBefore(chat, ctx.attempt, dm, marker, ctx.createdAt)) return;
        const { group: view, alerts, more } = await groupWithAlerts(db, group, clock.now(), PAGE_SHOWS);
        await chat.post(
          dm,
          {
            kind: 'alert_page',
            group: view,
            alerts,
            more,
            label: event?.data?.label ?? 'the escalation policy',
          },
          { marker },
        );
      },
    }),
  ];
}
