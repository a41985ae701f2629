import { describe, expect, it } from 'vitest';
import type { EscalationPolicy } from '../../src/config/index.js';
import { planEscalation, reschedule, roundPeriodMs } from '../../src/escalation/plan.js';

const m = (n: number) => n * 60_000;
const policy: EscalationPolicy = {
  name: 'default',
  repeat: 0,
  tiers: [
    { afterMs: 0, notify: ['S0ONCALL'] },
    { afterMs: m(5), notify: ['U0TIER2'] },
    { afterMs: m(15), notify: ['U0INCMGR'] },
  ],
};

describe('escalation planning', () => {
  it('pages each tier at its `after`', () => {
    expect(
      planEscalation(policy).map((s) => [s.index, s.round, s.tier, s.offsetMs / 60_000, s.notify]),
    ).toEqual([
      [0, 0, 0, 0, ['S0ONCALL']],
      [1, 0, 1, 5, ['U0TIER2']],
      [2, 0, 2, 15, ['U0INCMGR']],
    ]);
  });

  it('starts over `repeat` more times, one tier gap after the last tier', () => {
    expect(roundPeriodMs(policy)).toBe(m(25));
    const steps = planEscalation({ ...policy, repeat: 1 });
    expect(steps.map((s) => [s.round, s.tier, s.offsetMs / 60_000])).toEqual([
      [0, 0, 0],
      [0, 1, 5],
      [0, 2, 15],
      [1, 0, 25],
      [1, 1, 30],
      [1, 2, 40],
    ]);
  });

  it('uses the 5-minute default timeout for a single tier', () => {
    const single = { name: 'one', repeat: 2, tiers: [{ afterMs: m(1), notify: ['U0A'] }] };
    expect(planEscalation(single).map((s) => s.offsetMs / 60_000)).toEqual([1, 7, 13]);
  });

  it('escalating now keeps the rhythm of the later tiers', () => {
    const at = new Date('2026-11-26T10:02:00Z');
    const plan = reschedule(planEscalation(policy), 1, at);
    expect(plan.map((p) => [p.step.tier, p.dueAt.toISOString()])).toEqual([
      [1, '2026-11-26T10:02:00.000Z'],
      [2, '2026-11-26T10:12:00.000Z'],
    ]);
    expect(reschedule(planEscalation(policy), 3, at)).toEqual([]);
  });
});
