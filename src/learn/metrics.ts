import { openGroupCount } from '../alerts/queries.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { declaredCount, durationBuckets, openIncidentsBySeverity } from '../incidents/queries.js';
import { queueHealth } from '../jobs/job.js';
import type { Metrics } from '../metrics.js';

/**
 * The figures of `/metrics` that live in the database, read at each scrape (one statement each). The
 * same on every replica: aggregate them with `max`, not `sum`.
 */

/** Upper bounds, in seconds, of the time-to-acknowledge and time-to-resolve histograms. */
export const DURATION_BOUNDS = [60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400, 259_200, Infinity];

export function registerDatabaseMetrics(metrics: Metrics, deps: { db: Db; clock: Clock }): void {
  const { db } = deps;
  metrics.fromDatabase('open_incidents', 'Open incidents by severity (test incidents left out).', async () =>
    (await openIncidentsBySeverity(db)).map((r) => ({ labels: { severity: r.severity }, value: r.n })),
  );
  metrics.fromDatabase(
    'incidents_declared_total',
    'Incidents declared so far (test incidents left out).',
    async () => [{ value: await declaredCount(db) }],
    'counter',
  );
  metrics.histogramFromDatabase(
    'time_to_acknowledge_seconds',
    'Declared → first acknowledged, of every incident acknowledged (test incidents left out).',
    async () => ({
      bounds: DURATION_BOUNDS,
      ...(await durationBuckets(db, 'acknowledged', DURATION_BOUNDS)),
    }),
  );
  metrics.histogramFromDatabase(
    'time_to_resolve_seconds',
    'Declared → final resolve, of every incident resolved (test incidents left out).',
    async () => ({ bounds: DURATION_BOUNDS, ...(await durationBuckets(db, 'resolved', DURATION_BOUNDS)) }),
  );
  metrics.fromDatabase('open_alert_groups', 'Alert groups open now.', async () => [
    { value: await openGroupCount(db) },
  ]);
  metrics.fromDatabase('jobs_due', 'Jobs due and not yet taken by a worker.', async () => [
    { value: (await queueHealth(db, deps.clock.now())).due },
  ]);
  metrics.fromDatabase('jobs_oldest_due_lag_seconds', 'How late the oldest due job is.', async () => [
    { value: (await queueHealth(db, deps.clock.now())).oldestLagMs / 1000 },
  ]);
}
