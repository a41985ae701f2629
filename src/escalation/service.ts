import { eq } from 'drizzle-orm';
import { incidents } from '../db/schema.js';
import { UserError } from '../errors.js';
import {
  INVITE_KIND,
  type Locked,
  post,
  type RunDeps,
  refreshCard,
  withIncident,
} from '../incidents/locked.js';
import { assignRoles } from '../incidents/run.js';
import { acknowledgedMessage } from '../slack/views/escalation.js';
import { recordEvent } from '../timeline/timeline.js';
import { scheduleTimer, scheduleTimerOnce } from '../timers/engine.js';
import { planEscalation, reschedule } from './plan.js';
import { PAGE_KIND, REMIND_KIND, STEP_KIND, severityOf, stopEscalation, timerKeys } from './timers.js';

/** Use-cases of escalation: acknowledge, escalate now, page people, take command, snooze a reminder. */

function assertOpen(l: Locked) {
  if (l.incident.status === 'resolved') {
    throw new UserError('resolved', 'The incident is resolved. Reopen it first with `/incident reopen`.');
  }
}

/**
 * Acknowledges the incident: paging stops, the timeline and the card say who and when. Returns whether the
 * incident has no commander, so the caller can offer (not force) the role.
 */
export async function acknowledge(deps: RunDeps, input: { incidentId: string; actorId: string }) {
  return withIncident(deps, input.incidentId, async (l) => {
    assertOpen(l);
    if (l.incident.acknowledgedBy) {
      throw new UserError(
        'already_acknowledged',
        `<@${l.incident.acknowledgedBy}> already acknowledged the incident.`,
      );
    }
    await l.tx
      .update(incidents)
      .set({
        acknowledgedAt: l.incident.acknowledgedAt ?? l.now,
        acknowledgedBy: input.actorId,
        updatedAt: l.now,
      })
      .where(eq(incidents.id, l.incident.id));
    const stopped = await stopEscalation(l.tx, l.incident.id, l.now);
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'acknowledged',
      actorId: input.actorId,
      at: l.now,
      data: { stoppedSteps: stopped },
    });
    await post(l, `ack:${input.actorId}`, 'channel', acknowledgedMessage(input.actorId));
    // Someone acknowledging from a DM belongs in the channel.
    await scheduleTimerOnce(
      l.tx,
      {
        key: `incident:${l.incident.id}:invite:ack:${input.actorId}`,
        kind: INVITE_KIND,
        dueAt: l.now,
        payload: { incidentId: l.incident.id, userIds: [input.actorId] },
      },
      l.now,
    );
    await refreshCard(l);
    return { incident: l.incident, offerCommand: !l.roles.commander };
  });
}

/** Anyone may take command while nobody has it (PROCESS.md: anyone may take the empty commander role). */
export async function takeCommand(deps: RunDeps, input: { incidentId: string; actorId: string }) {
  const changed = await assignRoles(deps, { ...input, assignments: { commander: input.actorId } });
  if (changed.length === 0) throw new UserError('unchanged', 'You are already the commander.');
}

/** Pages the next tier of the severity's policy now; the tiers after it keep their rhythm from now. */
export async function escalateNow(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; reason?: string },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    assertOpen(l);
    const name =
      l.incident.escalationPolicy ?? severityOf(deps.config, l.incident.severity)?.escalationPolicy;
    const policy = name ? deps.config.escalationPolicies[name] : undefined;
    if (!policy) {
      throw new UserError(
        'no_policy',
        `${l.incident.severity} has no escalation policy. Page people directly with \`/incident page @person\`.`,
      );
    }
    const steps = planEscalation(policy);
    const next = l.incident.escalationPolicy === policy.name ? l.incident.escalationStep : 0;
    if (next >= steps.length) {
      throw new UserError(
        'all_paged',
        'Every tier has been paged. Page more people with `/incident page @person`.',
      );
    }
    await stopEscalation(l.tx, l.incident.id, l.now);
    if (l.incident.escalationPolicy !== policy.name) {
      await l.tx
        .update(incidents)
        .set({ escalationPolicy: policy.name, escalationStartedAt: l.now, escalationStep: 0 })
        .where(eq(incidents.id, l.incident.id));
    }
    // After an acknowledgement only the asked-for tier is paged; otherwise the automatic steps continue.
    const plan = reschedule(steps, next, l.now).slice(0, l.incident.acknowledgedAt ? 1 : undefined);
    for (const [n, { step, dueAt }] of plan.entries()) {
      await scheduleTimer(
        l.tx,
        {
          key: timerKeys.step(l.incident.id, step.index),
          kind: STEP_KIND,
          dueAt,
          payload: {
            incidentId: l.incident.id,
            index: step.index,
            policy: policy.name,
            ...(n === 0 ? { manual: true, by: input.actorId, reason: input.reason ?? null } : {}),
          },
        },
        l.now,
      );
    }
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'escalated',
      actorId: input.actorId,
      at: l.now,
      data: { tier: (steps[next]?.tier ?? 0) + 1, reason: input.reason ?? null },
    });
    return { tier: (steps[next]?.tier ?? 0) + 1 };
  });
}

/** Pages people (and user groups) by hand, with the same DM, invite and Acknowledge flow as a tier. */
export async function pagePeople(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; targets: string[]; reason?: string },
) {
  if (input.targets.length === 0) throw new UserError('nobody', 'Name at least one person or group to page.');
  return withIncident(deps, input.incidentId, async (l) => {
    assertOpen(l);
    await scheduleTimerOnce(
      l.tx,
      {
        key: `incident:${l.incident.id}:page:manual:${l.now.getTime()}:${input.actorId}`,
        kind: PAGE_KIND,
        dueAt: l.now,
        payload: {
          incidentId: l.incident.id,
          targets: input.targets,
          label: `by <@${input.actorId}>`,
          actorId: input.actorId,
          reason: input.reason ?? null,
        },
      },
      l.now,
    );
  });
}

export async function snoozeUpdateReminder(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; minutes?: number },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    assertOpen(l);
    const until = new Date(l.now.getTime() + (input.minutes ?? 15) * 60_000);
    await scheduleTimer(
      l.tx,
      {
        key: timerKeys.remind(l.incident.id, 'update'),
        kind: REMIND_KIND,
        dueAt: until,
        payload: { incidentId: l.incident.id, reminder: 'update' },
      },
      l.now,
    );
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'reminder_snoozed',
      actorId: input.actorId,
      at: l.now,
      data: { until: until.toISOString() },
    });
    return until;
  });
}
