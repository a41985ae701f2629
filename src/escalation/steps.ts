import { z } from 'zod';
import type { EscalationPolicy, IncidentConfig } from '../config/index.js';
import type { Db } from '../db/client.js';
import { UserError } from '../errors.js';
import type { IncidentChat } from '../incidents/chat.js';
import { findIncident } from '../incidents/queries.js';
import { severityOf } from '../incidents/rules.js';
import {
  assertOpen,
  type EscalationControl,
  type IncidentDeps,
  type Locked,
  updateIncident,
  withIncident,
} from '../incidents/unit-of-work.js';
import {
  cancelJobs,
  handle,
  type JobBinding,
  jobKey,
  jobKeyPrefix,
  jobType,
  schedule,
  wakeWaiters,
} from '../jobs/job.js';
import { recordEvent } from '../timeline/timeline.js';
import { expandTargets, onCallLookup, schedulePages, waitForEarlierTiers } from './pages.js';
import {
  type EscalationStep,
  planEscalation,
  reschedule,
  skipAhead,
  stepsBetween,
  tierLabel,
} from './plan.js';

/**
 * Escalation policies at work: an incident whose severity names a policy pages it tier by tier, each
 * step a durable job (`escalation.step`), until someone acknowledges, the incident leaves `investigating`
 * or it is resolved. Steps are keyed per incident and step, so re-planning is an upsert and stopping is
 * one cancel; the incident records which policy runs, since when, and how many steps have paged.
 */

export const stepJob = jobType(
  'escalation.step',
  z.object({
    incidentId: z.uuid(),
    /** Index into the policy's plan (tiers × rounds). */
    index: z.number().int().min(0),
    policy: z.string(),
    /** Paged by `/incident escalate`: pages even after an acknowledgement. */
    manual: z.boolean().optional(),
    by: z.string().optional(),
    reason: z.string().nullable().optional(),
  }),
);

export const stepKeys = {
  all: (incidentId: string) => jobKeyPrefix('incident', incidentId, 'escalation'),
  step: (incidentId: string, index: number) => jobKey('incident', incidentId, 'escalation', index),
};

const policyOf = (config: IncidentConfig, severity: string): EscalationPolicy | undefined => {
  const name = severityOf(config, severity)?.escalationPolicy;
  return name ? config.escalationPolicies[name] : undefined;
};

/**
 * Plans the severity's policy from now (tier 1 at once when its `after` is 0m), replacing any running
 * one. A new incident has nothing running and nothing recorded, so for it only a policy is work.
 */
async function start(l: Locked, config: IncidentConfig, options: { fresh: boolean }): Promise<void> {
  const policy = policyOf(config, l.incident.severity);
  if (options.fresh && !policy) return;
  if (!options.fresh) await cancelJobs(l.tx, stepKeys.all(l.incident.id), l.now);
  await updateIncident(l, {
    escalationPolicy: policy?.name ?? null,
    escalationStartedAt: policy ? l.now : null,
    escalationStep: 0,
  });
  if (!policy) return;
  await scheduleSteps(l, policy.name, reschedule(planEscalation(policy), 0, l.now));
}

/** Schedules (or re-plans, by key) the incident's steps of a policy at the given times. */
async function scheduleSteps(l: Locked, policy: string, plan: { step: EscalationStep; dueAt: Date }[]) {
  for (const { step, dueAt } of plan) {
    await schedule(
      l.tx,
      stepJob,
      {
        key: stepKeys.step(l.incident.id, step.index),
        dueAt,
        payload: { incidentId: l.incident.id, index: step.index, policy },
      },
      l.now,
    );
  }
}

/** What incidents call at the points of their lifecycle where paging starts, changes or stops. */
export function escalationControl(config: IncidentConfig): EscalationControl {
  return {
    declared: (l) => start(l, config, { fresh: true }),
    async severityChanged(l) {
      const policy = policyOf(config, l.incident.severity)?.name ?? null;
      if (!l.incident.acknowledgedAt && policy !== l.incident.escalationPolicy)
        await start(l, config, { fresh: false });
    },
    stop: (l) => cancelJobs(l.tx, stepKeys.all(l.incident.id), l.now),
  };
}

/** `/incident escalate`: pages the next tier now; the tiers after it keep their rhythm from now. */
export async function escalateNow(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; reason?: string },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    assertOpen(l);
    const policy = l.incident.escalationPolicy
      ? deps.config.escalationPolicies[l.incident.escalationPolicy]
      : policyOf(deps.config, l.incident.severity);
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
    await deps.escalation.stop(l);
    if (l.incident.escalationPolicy !== policy.name) {
      await updateIncident(l, {
        escalationPolicy: policy.name,
        escalationStartedAt: l.now,
        escalationStep: 0,
      });
    }
    // After an acknowledgement only the asked-for tier is paged; otherwise the automatic steps continue.
    const plan = reschedule(steps, next, l.now).slice(0, l.incident.acknowledgedAt ? 1 : undefined);
    for (const [n, { step, dueAt }] of plan.entries()) {
      await schedule(
        l.tx,
        stepJob,
        {
          key: stepKeys.step(l.incident.id, step.index),
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
    const tier = (steps[next]?.tier ?? 0) + 1;
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'escalated',
      actorId: input.actorId,
      at: l.now,
      data: { tier, reason: input.reason ?? null },
    });
    return { tier };
  });
}

export interface StepDeps {
  db: Db;
  chat: IncidentChat;
  config: IncidentConfig;
  clock: IncidentDeps['clock'];
}

export function stepJobs(deps: StepDeps): JobBinding[] {
  return [
    handle(stepJob, {
      async run(p, ctx) {
        type Progress = {
          status: string;
          acknowledgedAt: Date | null;
          escalationPolicy: string | null;
          escalationStep: number;
        };
        const escalating = (i: Progress) =>
          i.status !== 'resolved' && (p.manual || !i.acknowledgedAt) && i.escalationPolicy === p.policy;
        const stillDue = (i: Progress) => escalating(i) && p.index >= i.escalationStep;
        const incident = await findIncident(deps.db, p.incidentId);
        const policy = deps.config.escalationPolicies[p.policy];
        const plan = policy ? planEscalation(policy) : [];
        const step = plan[p.index];
        if (!incident || !policy || !step) return;
        /**
         * A later tier paged while this one could not (Slack failing it beyond the time tiers wait for
         * each other): it is not sent late, but the timeline says why it never went out.
         */
        const recordPassed = async (l: Locked) => {
          const paged = plan[l.incident.escalationStep - 1];
          if (!escalating(l.incident) || p.index >= l.incident.escalationStep || !paged) return;
          await recordEvent(l.tx, {
            incidentId: l.incident.id,
            kind: 'tier_passed',
            at: l.now,
            data: { label: tierLabel(step), paged: tierLabel(paged) },
          });
        };
        if (!stillDue(incident)) {
          if (escalating(incident) && p.index < incident.escalationStep)
            await withIncident(deps, p.incidentId, recordPassed);
          return;
        }
        const earlier = (i: { escalationStep: number }) =>
          stepsBetween(i.escalationStep, p.index).map((n) => stepKeys.step(p.incidentId, n));
        const earlierNow = async () => {
          const fresh = await findIncident(deps.db, p.incidentId);
          return fresh ? earlier(fresh) : [];
        };
        if (await waitForEarlierTiers(deps.db, ctx, earlier(incident), deps.clock.now(), earlierNow)) return;
        // Slack first, outside the lock; the lock then checks again that the step still applies.
        const users = await expandTargets(deps.chat, step.notify, onCallLookup(deps));
        await withIncident(deps, p.incidentId, async (l) => {
          if (!stillDue(l.incident)) return recordPassed(l);
          if (await waitForEarlierTiers(l.tx, ctx, earlier(l.incident), l.now)) return;
          await updateIncident(l, { escalationStep: p.index + 1 });
          const skip = users.length === 0 ? skipAhead(planEscalation(policy), p.index, l.now) : undefined;
          await scheduleSteps(l, p.policy, skip?.plan ?? []);
          // Keyed by the escalation run too: a later escalation (after a severity change) pages afresh.
          const run = l.incident.escalationStartedAt?.getTime() ?? 0;
          await schedulePages(l, {
            key: `step:${run}:${p.index}`,
            label: tierLabel(step),
            users,
            reason: p.reason ?? null,
            actorId: p.by ?? null,
            ...(users.length === 0 ? { skippedTo: skip ? tierLabel(skip.next) : null } : {}),
          });
          await wakeWaiters(l.tx, ctx.key, l.now);
        });
      },
    }),
  ];
}
