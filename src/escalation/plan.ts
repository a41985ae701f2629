import type { EscalationPolicy } from '../config/index.js';

/**
 * Pure escalation planning: which tier pages when. Tier k of round r pages at
 * `r × period + tiers[k].after` after the escalation starts, where the period is the last tier's `after`
 * plus the gap before it (5 minutes with a single tier, PROCESS.md's default timeout), so a repeated round
 * keeps the policy's own rhythm.
 */

export const DEFAULT_TIER_TIMEOUT_MS = 5 * 60_000;

export interface EscalationStep {
  /** Position in the whole plan: 0, 1, 2 … across rounds. */
  index: number;
  round: number;
  /** 0-based tier within the policy. */
  tier: number;
  offsetMs: number;
  notify: string[];
}

export function roundPeriodMs(policy: EscalationPolicy): number {
  const last = policy.tiers.at(-1);
  const before = policy.tiers.at(-2);
  if (!last) return DEFAULT_TIER_TIMEOUT_MS;
  const gap = before ? last.afterMs - before.afterMs : DEFAULT_TIER_TIMEOUT_MS;
  return last.afterMs + (gap > 0 ? gap : DEFAULT_TIER_TIMEOUT_MS);
}

export function planEscalation(policy: EscalationPolicy): EscalationStep[] {
  const period = roundPeriodMs(policy);
  const steps: EscalationStep[] = [];
  for (let round = 0; round <= policy.repeat; round++) {
    policy.tiers.forEach((t, tier) => {
      steps.push({
        index: steps.length,
        round,
        tier,
        offsetMs: round * period + t.afterMs,
        notify: t.notify,
      });
    });
  }
  return steps;
}

/**
 * When each remaining step should fire if step `from` fires at `at` (escalating now keeps the rhythm of the
 * steps after it).
 */
export function reschedule(
  steps: EscalationStep[],
  from: number,
  at: Date,
): { step: EscalationStep; dueAt: Date }[] {
  const base = steps[from];
  if (!base) return [];
  return steps
    .slice(from)
    .map((step) => ({ step, dueAt: new Date(at.getTime() + step.offsetMs - base.offsetMs) }));
}

/** How a step is named in messages: "tier 2", "tier 1 (round 2)". */
export const tierLabel = (step: EscalationStep): string =>
  `tier ${step.tier + 1}${step.round > 0 ? ` (round ${step.round + 1})` : ''}`;

/**
 * A step found nobody to page (nobody on call, an empty group): the next tier of the same round pages at
 * once, and the steps after it keep their rhythm from now. Across the end of a round the plan stands, so
 * a policy whose every tier is empty goes quiet until its next round instead of spinning.
 */
export function skipAhead(
  steps: EscalationStep[],
  index: number,
  at: Date,
): { next: EscalationStep; plan: { step: EscalationStep; dueAt: Date }[] } | undefined {
  const step = steps[index];
  const next = steps[index + 1];
  if (!step || !next || next.round !== step.round) return undefined;
  return { next, plan: reschedule(steps, index + 1, at) };
}

/** The indexes from `from` up to but not including `to`: the steps before `to` still to page. */
export const stepsBetween = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, n) => from + n);
