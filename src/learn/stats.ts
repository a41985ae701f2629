import { DateTime } from 'luxon';
import { z } from 'zod';
import { alertTotalsSince } from '../alerts/queries.js';
import { localDate } from '../calendar.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db } from '../db/client.js';
import { followupTotals, incidentTimesSince } from '../incidents/queries.js';
import { handle, type JobBinding, jobKey, jobType, schedule } from '../jobs/job.js';
import type { WeeklyPoint } from './chart.js';
import type { LearnChat } from './chat.js';

/**
 * The numbers a team lead asks for on Monday, over a window of days: incidents by severity, and for
 * MTTA (declared → first acknowledged), MTTM (declared → first mitigated: monitoring, or resolved without
 * it) and MTTR (declared → final resolved) the median, p90 and mean over the incidents that got there;
 * test incidents are left out. Plus follow-ups, and what the alert hub did.
 */

export const STAT_KINDS = ['mtta', 'mttm', 'mttr'] as const;
export type StatKind = (typeof STAT_KINDS)[number];

export interface Summary {
  /** How many incidents the figure is over. */
  n: number;
  medianMs: number | null;
  p90Ms: number | null;
  meanMs: number | null;
}

/** The nearest-rank percentile (p in 0–100) of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Median (the mean of the middle two for an even count), p90 (nearest rank) and mean. */
export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n, medianMs: null, p90Ms: null, meanMs: null };
  const mid = Math.floor(n / 2);
  const median =
    n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    n,
    medianMs: median,
    p90Ms: percentile(sorted, 90),
    meanMs: sorted.reduce((a, b) => a + b, 0) / n,
  };
}

export interface IncidentTimes {
  severity: string;
  status: string;
  declaredAt: Date;
  acknowledgedAt: Date | null;
  mitigatedAt: Date | null;
  resolvedAt: Date | null;
}

const since = (from: Date, to: Date | null) => (to ? [to.getTime() - from.getTime()] : []);

/** MTTA / MTTM / MTTR over the incidents given. */
export function timeTo(rows: IncidentTimes[]): Record<StatKind, Summary> {
  return {
    mtta: summarize(rows.flatMap((r) => since(r.declaredAt, r.acknowledgedAt))),
    mttm: summarize(rows.flatMap((r) => since(r.declaredAt, r.mitigatedAt))),
    // The final resolve: an incident reopened and not resolved again has no time to resolve yet.
    mttr: summarize(rows.flatMap((r) => (r.status === 'resolved' ? since(r.declaredAt, r.resolvedAt) : []))),
  };
}

/** ISO week of an instant in a zone, as `2026-W48`. */
export const isoWeek = (at: Date, zone: string) => DateTime.fromJSDate(at, { zone }).toFormat("kkkk-'W'WW");

export type { WeeklyPoint };

/** MTTR by severity per ISO week of the declaration, every week of the window listed (empty ones as gaps). */
export function weeklyMttr(rows: IncidentTimes[], from: Date, to: Date, zone: string): WeeklyPoint[] {
  const weeks: string[] = [];
  for (
    let t = DateTime.fromJSDate(from, { zone }).startOf('week');
    t.toJSDate() <= to;
    t = t.plus({ weeks: 1 })
  ) {
    weeks.push(t.toFormat("kkkk-'W'WW"));
  }
  const severities = [...new Set(rows.map((r) => r.severity))].sort();
  return severities.flatMap((severity) =>
    weeks.map((week) => {
      const resolved = rows.filter(
        (r) => r.severity === severity && r.status === 'resolved' && isoWeek(r.declaredAt, zone) === week,
      );
      return {
        week,
        severity,
        mttrMs: summarize(resolved.flatMap((r) => since(r.declaredAt, r.resolvedAt))).medianMs,
      };
    }),
  );
}

export interface Stats {
  days: number;
  severity: string | undefined;
  from: Date;
  to: Date;
  /** Incidents declared in the window, by severity in the config's order (then any others). */
  bySeverity: { severity: string; count: number }[];
  total: number;
  times: Record<StatKind, Summary>;
  followups: { open: number; overdue: number };
  alerts: { received: number; alerts: number; groups: number; declared: number; dedupShare: number | null };
  weekly: WeeklyPoint[];
}

/** `/incident stats`: the window's numbers for a workspace. */
export async function incidentStats(
  db: Db,
  config: IncidentConfig,
  input: { teamId: string; now: Date; days: number; severity?: string },
): Promise<Stats> {
  const from = new Date(input.now.getTime() - input.days * 86_400_000);
  const rows = await incidentTimesSince(db, input.teamId, from, input.severity);
  const order = config.severities.map((s) => s.id);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.severity, (counts.get(r.severity) ?? 0) + 1);
  const bySeverity = [...counts.entries()]
    .map(([severity, count]) => ({ severity, count }))
    .sort(
      (a, b) => rank(order, a.severity) - rank(order, b.severity) || a.severity.localeCompare(b.severity),
    );
  const hub = await alertTotalsSince(db, from);
  return {
    days: input.days,
    severity: input.severity,
    from,
    to: input.now,
    bySeverity,
    total: rows.length,
    times: timeTo(rows),
    followups: await followupTotals(db, input.teamId, localDate(input.now, config.businessTimeZone)),
    alerts: { ...hub, dedupShare: hub.received > 0 ? (hub.received - hub.alerts) / hub.received : null },
    weekly: weeklyMttr(rows, from, input.now, config.businessTimeZone),
  };
}

const rank = (order: string[], severity: string) => {
  const i = order.indexOf(severity);
  return i < 0 ? order.length : i;
};

/** The MTTR chart, rendered and sent to whoever asked for the numbers (a file needs a channel: their DM). */
export const chartJob = jobType(
  'stats.chart',
  z.object({
    teamId: z.string(),
    userId: z.string(),
    days: z.number().int().min(1),
    severity: z.string().optional(),
  }),
);

/** `/incident stats` asks for its chart: rendered and uploaded by a job, so a slow render never holds Slack's 3 s. */
export async function requestChart(
  deps: { db: Db; clock: { now(): Date } },
  input: { teamId: string; userId: string; days: number; severity?: string },
): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction((tx) =>
    schedule(
      tx,
      chartJob,
      { key: jobKey('stats', 'chart', input.userId, now.getTime()), dueAt: now, payload: input },
      now,
    ),
  );
}

export function statsJobs(deps: {
  db: Db;
  chat: LearnChat;
  config: IncidentConfig;
  clock: { now(): Date };
}): JobBinding[] {
  return [
    handle(chartJob, {
      async run(p) {
        const stats = await incidentStats(deps.db, deps.config, { ...p, now: deps.clock.now() });
        const title = `MTTR by severity per ISO week, last ${p.days} days${p.severity ? ` (${p.severity})` : ''}`;
        // Loaded on first use: Vega and resvg are large, and most processes never draw a chart.
        const { mttrChartPng } = await import('./chart.js');
        const png = await mttrChartPng(stats.weekly, title);
        await deps.chat.uploadFile({
          channelId: await deps.chat.openDm(p.userId),
          filename: `mttr-${p.days}d.png`,
          title,
          content: png,
          comment: `📈 ${title}. Weeks without a resolved incident of a severity are gaps.`,
        });
      },
    }),
  ];
}
