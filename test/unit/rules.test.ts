import { describe, expect, it } from 'vitest';
import { DEFAULT_SEVERITIES } from '../../src/config/index.js';
import { UserError } from '../../src/errors.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../src/incidents/model.js';
import {
  assertTransition,
  authorize,
  canTransition,
  parseSeverity,
  timestampsAfter,
} from '../../src/incidents/rules.js';

const LEGAL: [IncidentStatus, IncidentStatus][] = [
  ['investigating', 'identified'],
  ['investigating', 'monitoring'],
  ['investigating', 'resolved'],
  ['identified', 'investigating'],
  ['identified', 'monitoring'],
  ['identified', 'resolved'],
  ['monitoring', 'investigating'],
  ['monitoring', 'identified'],
  ['monitoring', 'resolved'],
  ['resolved', 'investigating'],
];

function refusal(run: () => void): string {
  try {
    run();
  } catch (err) {
    if (err instanceof UserError) return err.message;
    throw err;
  }
  return 'allowed';
}

describe('lifecycle state machine', () => {
  const all = INCIDENT_STATUSES.flatMap((from) => INCIDENT_STATUSES.map((to) => [from, to] as const));

  it.each(all)('%s → %s', (from, to) => {
    const legal = LEGAL.some(([f, t]) => f === from && t === to);
    expect(canTransition(from, to)).toBe(legal);
    const answer = refusal(() => assertTransition(from, to));
    if (legal) expect(answer).toBe('allowed');
    else if (from === to) expect(answer).toBe(`The incident is already ${from}.`);
    else expect(answer).toBe('The incident is resolved. Reopen it first with `/incident reopen`.');
  });

  it('stamps first acknowledgement and mitigation, and clears resolution on reopen', () => {
    const t = (m: number) => new Date(Date.UTC(2026, 10, 26, 10, m));
    const none = { acknowledgedAt: null, mitigatedAt: null, resolvedAt: null };
    const identified = timestampsAfter(none, 'identified', t(5));
    expect(identified).toEqual({ acknowledgedAt: t(5), mitigatedAt: null, resolvedAt: null });
    const monitoring = timestampsAfter(identified, 'monitoring', t(20));
    expect(monitoring).toEqual({ acknowledgedAt: t(5), mitigatedAt: t(20), resolvedAt: null });
    const back = timestampsAfter(monitoring, 'identified', t(30));
    expect(back).toEqual(monitoring);
    const resolved = timestampsAfter(back, 'resolved', t(45));
    expect(resolved).toEqual({ acknowledgedAt: t(5), mitigatedAt: t(20), resolvedAt: t(45) });
    expect(timestampsAfter(resolved, 'investigating', t(50))).toEqual({
      acknowledgedAt: t(5),
      mitigatedAt: t(20),
      resolvedAt: null,
    });
    // Resolving straight from investigating counts as acknowledged and mitigated then.
    expect(timestampsAfter(none, 'resolved', t(9))).toEqual({
      acknowledgedAt: t(9),
      mitigatedAt: t(9),
      resolvedAt: t(9),
    });
  });

  it('returns only the timestamps, whatever else the row carries', () => {
    const row = {
      acknowledgedAt: null,
      mitigatedAt: null,
      resolvedAt: null,
      status: 'investigating',
      title: 'x',
    };
    expect(Object.keys(timestampsAfter(row, 'resolved', new Date()))).toEqual([
      'acknowledgedAt',
      'mitigatedAt',
      'resolvedAt',
    ]);
  });
});

describe('permissions', () => {
  const roles = { commander: 'U0CMD', deputy: 'U0DEP', liaison: 'U0LIA', scribe: 'U0SCR' };
  const actor = (userId: string, r: Partial<typeof roles> = roles, admins: string[] = ['U0ADM']) => ({
    userId,
    roles: r,
    admins,
  });

  it('lets the commander, the deputy and admins run the incident', () => {
    for (const who of ['U0CMD', 'U0DEP', 'U0ADM']) {
      for (const action of ['assign_role', 'change_severity', 'resolve', 'reopen', 'post_update'] as const) {
        expect(refusal(() => authorize(action, actor(who)))).toBe('allowed');
      }
    }
  });

  it('lets the liaison post updates but nothing else', () => {
    expect(refusal(() => authorize('post_update', actor('U0LIA')))).toBe('allowed');
    expect(refusal(() => authorize('resolve', actor('U0LIA')))).toBe(
      'Only the commander (<@U0CMD>), the deputy (<@U0DEP>) or an admin may resolve the incident.',
    );
  });

  it('refuses everyone else and names who may', () => {
    expect(refusal(() => authorize('assign_role', actor('U0SCR')))).toBe(
      'Only the commander (<@U0CMD>), the deputy (<@U0DEP>) or an admin may reassign roles.',
    );
    expect(refusal(() => authorize('post_update', actor('U0X', { commander: 'U0CMD' }, [])))).toBe(
      'Only the commander (<@U0CMD>) may post status updates.',
    );
  });

  it('lets anyone act while nobody has command', () => {
    for (const action of ['assign_role', 'change_severity', 'resolve', 'reopen', 'post_update'] as const) {
      expect(refusal(() => authorize(action, actor('U0ANYONE', { deputy: 'U0DEP' })))).toBe('allowed');
    }
  });
});

describe('severity parsing', () => {
  it.each([
    ['SEV1', 'SEV1'],
    ['sev1', 'SEV1'],
    ['SEV-1', 'SEV1'],
    ['sev_2', 'SEV2'],
    ['3', 'SEV3'],
  ])('%s → %s', (input, id) => {
    expect(parseSeverity(input, DEFAULT_SEVERITIES).id).toBe(id);
  });

  it('refuses unknown and ambiguous numbers, listing the choices', () => {
    expect(refusal(() => parseSeverity('9', DEFAULT_SEVERITIES))).toBe(
      '"9" is not a severity. Choose one of SEV1, SEV2, SEV3, SEV4, SEV5.',
    );
    const twoOnes = [
      { id: 'SEV1', description: 'a' },
      { id: 'P1', description: 'b' },
    ];
    expect(refusal(() => parseSeverity('1', twoOnes))).toMatch(/is not a severity/);
    expect(refusal(() => parseSeverity('<!channel>', DEFAULT_SEVERITIES))).not.toContain('<!channel>');
  });
});
