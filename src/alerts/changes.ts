import { eq } from 'drizzle-orm';
import type { AlertRoute, IncidentConfig } from '../config/index.js';
import type { Tx } from '../db/client.js';
import { type EscalationStep, planEscalation, reschedule } from '../escalation/plan.js';
import { cancelJobs, ensureScheduled, schedule, scheduleOnce } from '../jobs/job.js';
import { alertKeys, declareJob, pageStepJob, relayJob, renderJob, sendJob } from './jobs.js';
import { type AlertGroupRow, alertGroups } from './tables.js';

/**
 * What follows a change to a group, scheduled inside the change's transaction: its Slack message is
 * posted or edited, its linked incident hears of it, and a new group does what its route says (declare,
 * or page through an escalation policy). Slack is reached at a pace it accepts: one new message a second
 * per channel, one edit per group every 5 s, one relay to the incident every 5 s.
 */

export const EDIT_EVERY_MS = 5000;
export const POST_EVERY_MS = 1000;
export const RELAY_EVERY_MS = 5000;

const later = (a: Date, b: Date) => (a > b ? a : b);
const after = (last: Date | null, everyMs: number, now: Date) =>
  last ? later(new Date(last.getTime() + everyMs), now) : now;

/**
 * After a change to a group, in its transaction: its message is posted or edited, and its incident told,
 * in due time. The jobs are made sure of, not re-planned: one already waiting (the channel's sender
 * keeping Slack's pace, an edit within its 5 s) stays as it is and will see this change.
 */
export async function groupChanged(tx: Tx, group: AlertGroupRow, now: Date): Promise<void> {
  const writes = [
    ensureScheduled(
      tx,
      sendJob,
      { key: alertKeys.send(group.channelId), dueAt: now, payload: { channelId: group.channelId } },
      now,
    ),
  ];
  if (group.messageTs) {
    writes.push(
      ensureScheduled(
        tx,
        renderJob,
        {
          key: alertKeys.render(group.id),
          dueAt: after(group.renderedAt, EDIT_EVERY_MS, now),
          payload: { groupId: group.id },
        },
        now,
      ),
    );
  }
  if (group.incidentId) {
    writes.push(
      ensureScheduled(
        tx,
        relayJob,
        {
          key: alertKeys.relay(group.id),
          dueAt: after(group.relayedAt, RELAY_EVERY_MS, now),
          payload: { groupId: group.id },
        },
        now,
      ),
    );
  }
  // Issued together: one round trip to the database, not three.
  await Promise.all(writes);
}

/** Whether the group's escalation should page now: open, nobody on it, not silenced, not an incident. */
export const shouldPage = (g: AlertGroupRow, now: Date): boolean =>
  g.status === 'open' &&
  !g.acknowledgedAt &&
  !g.incidentId &&
  !!g.escalationPolicy &&
  !(g.silencedUntil && g.silencedUntil > now);

/**
 * Plans the group's escalation policy from step `from` (tier 1 at once when its `after` is 0m; the
 * steps after keep the policy's rhythm from now).
 */
export async function startPaging(
  tx: Tx,
  config: IncidentConfig,
  group: AlertGroupRow,
  policyName: string,
  now: Date,
  from = 0,
): Promise<void> {
  const policy = config.escalationPolicies[policyName];
  if (!policy) return;
  await tx
    .update(alertGroups)
    .set({
      escalationPolicy: policy.name,
      escalationStep: from,
      ...(from === 0 ? { escalationStartedAt: now } : {}),
    })
    .where(eq(alertGroups.id, group.id));
  await scheduleSteps(tx, group.id, policy.name, reschedule(planEscalation(policy), from, now), now);
}

/** Schedules (or re-plans, by key) a group's steps of a policy at the given times. */
export async function scheduleSteps(
  tx: Tx,
  groupId: number,
  policy: string,
  plan: { step: EscalationStep; dueAt: Date }[],
  now: Date,
): Promise<void> {
  for (const { step, dueAt } of plan) {
    await schedule(
      tx,
      pageStepJob,
      { key: alertKeys.step(groupId, step.index), dueAt, payload: { groupId, index: step.index, policy } },
      now,
    );
  }
}

/** Acknowledged, resolved, silenced or declared as an incident: no more steps. */
export function stopPaging(tx: Tx, groupId: number, now: Date): Promise<number> {
  return cancelJobs(tx, alertKeys.steps(groupId), now);
}

/** A new group does what its route says, once: declare an incident, or else page through a policy. */
export async function groupOpened(
  tx: Tx,
  config: IncidentConfig,
  group: AlertGroupRow,
  route: AlertRoute | undefined,
  now: Date,
): Promise<void> {
  if (route?.declare) {
    await scheduleOnce(
      tx,
      declareJob,
      { key: alertKeys.declare(group.id), dueAt: now, payload: { groupId: group.id } },
      now,
    );
  } else if (route?.escalationPolicy) {
    await startPaging(tx, config, group, route.escalationPolicy, now);
  }
}
