import { Counter, collectDefaultMetrics, Histogram, type Metric, Registry } from 'prom-client';

/**
 * What `GET /metrics` serves, in Prometheus' text format, with prom-client (the maintained client every
 * Node exporter uses). Two kinds of figure:
 *
 * - This process's own, counted as they happen: Slack API calls by method and outcome, HTTP request
 *   durations by route, alert notifications by integration and outcome, and Node's defaults. Sum them
 *   over replicas.
 * - The database's, read when scraped (`fromDatabase`): open incidents by severity, incidents declared,
 *   the time-to-acknowledge and time-to-resolve histograms, open alert groups, the job queue. Every
 *   replica reports the same numbers: take `max` over replicas, not `sum`.
 */

export const PREFIX = 'incident_bot_';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/** A histogram's cumulative bucket counts (one per upper bound, +Inf last), sum and count. */
export interface HistogramSample {
  bounds: number[];
  cumulative: number[];
  sum: number;
  count: number;
}

export class Metrics {
  readonly registry = new Registry();

  readonly slackCalls = new Counter({
    name: `${PREFIX}slack_api_calls_total`,
    help: 'Slack Web API calls made by this process, by method and outcome (ok, an error code, 429, http_<status>, request_error).',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'HTTP requests served by this process, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly alertsReceived = new Counter({
    name: `${PREFIX}alerts_received_total`,
    help: 'Alerts in the notifications this process accepted, by integration (a notification carries many).',
    labelNames: ['integration'] as const,
    registers: [this.registry],
  });

  readonly alertNotifications = new Counter({
    name: `${PREFIX}alert_notifications_total`,
    help: 'Alert notifications received by this process, by integration and outcome (accepted, unauthorized, invalid, too_large, unavailable).',
    labelNames: ['integration', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /** A gauge (or a running total: `counter`) whose samples are read from the database at each scrape. */
  fromDatabase(
    name: string,
    help: string,
    read: () => Promise<Sample[]>,
    type: 'gauge' | 'counter' = 'gauge',
  ): void {
    const metric = {
      name: `${PREFIX}${name}`,
      help,
      type,
      aggregator: 'max',
      async get() {
        return { name: metric.name, help, type, aggregator: 'max', values: await read() };
      },
      reset() {},
    };
    this.registry.registerMetric(metric as unknown as Metric);
  }

  /** A histogram whose buckets are counted in the database at each scrape (cumulative, like any histogram). */
  histogramFromDatabase(name: string, help: string, read: () => Promise<HistogramSample>): void {
    const full = `${PREFIX}${name}`;
    const metric = {
      name: full,
      help,
      type: 'histogram',
      aggregator: 'max',
      async get() {
        const h = await read();
        const values = [
          ...h.bounds.map((le, i) => ({
            metricName: `${full}_bucket`,
            labels: { le: Number.isFinite(le) ? String(le) : '+Inf' },
            value: h.cumulative[i] ?? 0,
          })),
          { metricName: `${full}_sum`, labels: {}, value: h.sum },
          { metricName: `${full}_count`, labels: {}, value: h.count },
        ];
        return { name: full, help, type: 'histogram', aggregator: 'max', values };
      },
      reset() {},
    };
    this.registry.registerMetric(metric as unknown as Metric);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
