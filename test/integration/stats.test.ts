import { describe, expect, it } from 'vitest';
import { alertGroups, alerts } from '../../src/alerts/tables.js';
import { parseIncidentConfig } from '../../src/config/index.js';
import { followups, incidents } from '../../src/db/schema.js';
import { incidentStats, percentile, summarize } from '../../src/learn/stats.js';
import { useTestDatabase } from '../helpers/db.js';

/**
 * The numbers of `/incident stats` on a hand-computed fixture, read from a real database: a reopened
 * incident not resolved again (no MTTR), a test incident and an old one (left out), a severity filter,
 * a week with no incident (a gap in the chart's series), follow-ups and the alert hub's counts.
 */

const testDb = useTestDatabase();
const CONFIG = parseIncidentConfig(
  'severities:\n  - {id: SEV1, description: a}\n  - {id: SEV2, description: b}\n',
  'test-config',
);
const TEAM = 'T0STATS01';
const NOW = new Date('2026-11-26T12:00:00Z');
const min = (n: number) => n * 60_000;
const t = (iso: string, plus = 0) => new Date(new Date(iso).getTime() + plus);

let number = 0;
async function incident(row: {
  severity: string;
  declared: string;
  ack?: number;
  mitigated?: number;
  resolved?: number;
  status?: 'investigating' | 'resolved';
  test?: boolean;
  reopens?: number;
}) {
  number++;
  const declaredAt = new Date(row.declared);
  const [inserted] = await testDb()
    .database.db.insert(incidents)
    .values({
      teamId: TEAM,
      number,
      title: `Incident ${number}`,
      severity: row.severity,
      status: row.status ?? (row.resolved !== undefined ? 'resolved' : 'investigating'),
      isTest: row.test ?? false,
      reporterId: 'U0REP',
      declareKey: `k${number}`,
      channelName: `inc-${number}`,
      declaredAt,
      acknowledgedAt: row.ack === undefined ? null : t(row.declared, min(row.ack)),
      mitigatedAt: row.mitigated === undefined ? null : t(row.declared, min(row.mitigated)),
      resolvedAt: row.resolved === undefined ? null : t(row.declared, min(row.resolved)),
      reopenCount: row.reopens ?? 0,
      updatedAt: declaredAt,
    })
    .returning();
  return inserted?.id as string;
}

describe('incident numbers', () => {
  it('median, p90 (nearest rank) and mean', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ n: 4, medianMs: 2.5, p90Ms: 4, meanMs: 2.5 });
    expect(summarize([])).toEqual({ n: 0, medianMs: null, p90Ms: null, meanMs: null });
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90)).toBe(90);
  });

  it('counts the window, leaves out test incidents, and takes a severity filter', async () => {
    const db = testDb().database.db;
    const first = await incident({
      severity: 'SEV1',
      declared: '2026-11-02T10:00:00Z',
      ack: 4,
      mitigated: 30,
      resolved: 60,
    });
    await incident({
      severity: 'SEV1',
      declared: '2026-11-03T10:00:00Z',
      ack: 10,
      mitigated: 20,
      resolved: 120,
      reopens: 1,
    });
    // Reopened and not resolved again: it has a first mitigation but no final resolve.
    await incident({ severity: 'SEV2', declared: '2026-11-17T10:00:00Z', ack: 2, mitigated: 15, reopens: 1 });
    const fourth = await incident({
      severity: 'SEV2',
      declared: '2026-11-24T09:00:00Z',
      ack: 6,
      mitigated: 40,
      resolved: 50,
    });
    const test = await incident({
      severity: 'SEV1',
      declared: '2026-11-20T10:00:00Z',
      ack: 1,
      resolved: 5,
      test: true,
    });
    await incident({ severity: 'SEV1', declared: '2026-10-01T10:00:00Z', ack: 1, resolved: 5 }); // before the window

    const followup = (incidentId: string, n: number, status: 'open' | 'done', dueOn: string | null) => ({
      incidentId,
      number: n,
      text: 'x',
      status,
      dueOn,
      createdBy: 'U0REP',
      createdAt: NOW,
    });
    await db
      .insert(followups)
      .values([
        followup(first, 1, 'open', '2026-11-20'),
        followup(first, 2, 'open', '2026-12-10'),
        followup(first, 3, 'done', '2026-11-01'),
        followup(test, 1, 'open', '2026-11-01'),
      ]);
    const [group] = await db
      .insert(alertGroups)
      .values({
        groupKey: 'k',
        routeIndex: -1,
        groupLabels: {},
        title: 'DiskFull',
        channelId: 'C0ALERTS',
        severity: 'critical',
        openedAt: t('2026-11-24T08:55:00Z'),
        incidentId: fourth,
        updatedAt: NOW,
      })
      .returning();
    const alert = (key: string, occurrences: number) => ({
      groupId: group?.id as number,
      integration: 'prometheus',
      dedupKey: key,
      status: 'firing' as const,
      severity: 'critical' as const,
      summary: 'disk full',
      labels: {},
      links: [],
      firstSeenAt: t('2026-11-24T08:55:00Z'),
      lastSeenAt: NOW,
      lastReportAt: NOW,
      occurrences,
    });
    await db.insert(alerts).values([alert('a', 3), alert('b', 1)]);

    const all = await incidentStats(db, CONFIG, { teamId: TEAM, now: NOW, days: 30 });
    expect(all.total).toBe(4);
    expect(all.bySeverity).toEqual([
      { severity: 'SEV1', count: 2 },
      { severity: 'SEV2', count: 2 },
    ]);
    // MTTA 2, 4, 6, 10 minutes; MTTM 15, 20, 30, 40; MTTR 50, 60, 120 (the reopened one has none).
    expect(all.times.mtta).toEqual({ n: 4, medianMs: min(5), p90Ms: min(10), meanMs: min(5.5) });
    expect(all.times.mttm).toEqual({ n: 4, medianMs: min(25), p90Ms: min(40), meanMs: min(26.25) });
    expect(all.times.mttr.n).toBe(3);
    expect(all.times.mttr.medianMs).toBe(min(60));
    expect(all.times.mttr.p90Ms).toBe(min(120));
    expect(all.times.mttr.meanMs).toBeCloseTo(min(230 / 3), 0);
    expect(all.followups).toEqual({ open: 2, overdue: 1 });
    expect(all.alerts).toEqual({ received: 4, alerts: 2, groups: 1, declared: 1, dedupShare: 0.5 });
    // Weekly MTTR: SEV1 in week 45 (median of 60 and 120), nothing in week 46 for anyone (gaps).
    const week = (severity: string, w: string) =>
      all.weekly.find((p) => p.severity === severity && p.week === w)?.mttrMs;
    expect([...new Set(all.weekly.map((p) => p.week))]).toEqual([
      '2026-W44',
      '2026-W45',
      '2026-W46',
      '2026-W47',
      '2026-W48',
    ]);
    expect(week('SEV1', '2026-W45')).toBe(min(90));
    expect(week('SEV1', '2026-W46')).toBeNull();
    expect(week('SEV2', '2026-W47')).toBeNull();
    expect(week('SEV2', '2026-W48')).toBe(min(50));

    const sev2 = await incidentStats(db, CONFIG, { teamId: TEAM, now: NOW, days: 30, severity: 'SEV2' });
    expect(sev2.total).toBe(2);
    expect(sev2.times.mtta).toEqual({ n: 2, medianMs: min(4), p90Ms: min(6), meanMs: min(4) });
    expect(sev2.times.mttr).toEqual({ n: 1, medianMs: min(50), p90Ms: min(50), meanMs: min(50) });

    const week7 = await incidentStats(db, CONFIG, { teamId: TEAM, now: NOW, days: 7 });
    expect(week7.total).toBe(1);
  });
});
