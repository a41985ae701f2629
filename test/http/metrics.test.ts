// @ts-expect-error: the parser ships no types; what it returns is described below.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIncidentConfig } from '../../src/config/index.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/** GET /metrics, read back by a Prometheus text-format parser (parse-prometheus-text-format). */

interface Family {
  name: string;
  type: string;
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

const KEY = 'prom-key-0123456789abcdef';
const CONFIG = parseIncidentConfig(
  `
alerts:
  channel: C0ALERTS
  integrations:
    - { name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS }
severities:
  - { id: SEV1, description: Critical }
  - { id: SEV2, description: Major }
`,
  'test-config',
  { ALERTS_KEY_PROMETHEUS: KEY },
);

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;
const base = () => app.url.replace(/\/slack\/events$/, '');

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  clock = new FakeClock();
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

let text = '';
async function scrape(headers: Record<string, string> = {}): Promise<Map<string, Family>> {
  const res = await fetch(`${base()}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  text = await res.text();
  const families = parsePrometheusTextFormat(text) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

const value = (f: Family | undefined, labels: Record<string, string> = {}) =>
  Number(
    f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ??
      Number.NaN,
  );

describe('GET /metrics', () => {
  it('serves the process counts and the database figures in Prometheus text format', async () => {
    app = await startTestBot({ database: testDb().database, clock, incident: CONFIG });
    await app.submitView(
      declareView({ title: 'Checkout down', severity: 'SEV1', commander: 'U0CMD0001' }, 'V0M1'),
    );
    await app.submitView(
      declareView({ title: 'Slow search', severity: 'SEV2', commander: 'U0CMD0001' }, 'V0M2'),
    );
    await app.bot.engine.drain();
    // The SEV1 incident's channel, whichever setup made its channel first.
    const channel = slack.channels.find((c) => c.name.endsWith('checkout-down'))?.id as string;
    clock.advance(5 * 60_000);
    await app.command('ack', { channel_id: channel, user_id: 'U0CMD0001' });
    clock.advance(5 * 60_000);
    await app.command('resolve fixed', { channel_id: channel, user_id: 'U0CMD0001' });
    await app.bot.engine.drain();
    const fire = (key: string) =>
      fetch(`${base()}/alerts/prometheus`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          status: 'firing',
          alerts: [{ status: 'firing', labels: { alertname: 'X' } }],
        }),
      });
    expect((await fire(KEY)).status).toBe(202);
    expect((await fire('wrong-key-0123456789')).status).toBe(401);
    await app.bot.engine.drain();

    const m = await scrape();
    expect(value(m.get('incident_bot_open_incidents'), { severity: 'SEV2' })).toBe(1);
    expect(m.get('incident_bot_open_incidents')?.metrics.some((x) => x.labels?.severity === 'SEV1')).toBe(
      false,
    );
    expect(m.get('incident_bot_incidents_declared_total')?.type).toBe('COUNTER');
    expect(value(m.get('incident_bot_incidents_declared_total'))).toBe(2);
    expect(value(m.get('incident_bot_alerts_received_total'), { integration: 'prometheus' })).toBe(1);
    // The resolved incident: acknowledged after 5 minutes, resolved after 10.
    const ack = m.get('incident_bot_time_to_acknowledge_seconds');
    expect(ack?.type).toBe('HISTOGRAM');
    expect(ack?.metrics[0]?.buckets?.['300']).toBe('1');
    expect(ack?.metrics[0]?.buckets?.['60']).toBe('0');
    expect(ack?.metrics[0]?.count).toBe('1');
    const resolve = m.get('incident_bot_time_to_resolve_seconds');
    expect(resolve?.metrics[0]?.buckets?.['900']).toBe('1');
    expect(resolve?.metrics[0]?.buckets?.['300']).toBe('0');
    expect(Number(resolve?.metrics[0]?.sum)).toBe(600);
    expect(value(m.get('incident_bot_open_alert_groups'))).toBe(1);
    expect(value(m.get('incident_bot_jobs_due'))).toBe(0);
    const alerts = m.get('incident_bot_alert_notifications_total');
    expect(value(alerts, { integration: 'prometheus', outcome: 'accepted' })).toBe(1);
    expect(value(alerts, { integration: 'prometheus', outcome: 'unauthorized' })).toBe(1);
    const calls = m.get('incident_bot_slack_api_calls_total');
    expect(value(calls, { method: 'conversations.create', outcome: 'ok' })).toBe(2);
    expect(value(calls, { method: 'chat.postMessage', outcome: 'ok' })).toBeGreaterThan(2);
    // The parser folds a histogram's labelled series into one (its bug with labels on histograms): the
    // request durations are read from the lines themselves.
    expect(text).toMatch(
      /^incident_bot_http_request_duration_seconds_count\{route="\/slack\/events",method="POST",status="200"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(
      /^incident_bot_http_request_duration_seconds_count\{route="\/alerts\/:integration",method="POST",status="401"\} 1$/m,
    );
    expect(m.has('incident_bot_process_cpu_user_seconds_total')).toBe(true);
  });

  it('asks for METRICS_TOKEN when it is set, and counts a Slack error by its code', async () => {
    app = await startTestBot({
      database: testDb().database,
      clock,
      incident: CONFIG,
      metricsToken: 'metrics-token-0123456789',
    });
    expect((await fetch(`${base()}/metrics`)).status).toBe(401);
    expect((await fetch(`${base()}/metrics`, { headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
    slack.override('conversations.create', () => ({ body: { ok: false, error: 'restricted_action' } }));
    await app.submitView(declareView({ title: 'No channel', severity: 'SEV2' }, 'V0M3'));
    await app.bot.engine.drain();
    const m = await scrape({ authorization: 'Bearer metrics-token-0123456789' });
    expect(
      value(m.get('incident_bot_slack_api_calls_total'), {
        method: 'conversations.create',
        outcome: 'restricted_action',
      }),
    ).toBeGreaterThanOrEqual(1);
  });
});
