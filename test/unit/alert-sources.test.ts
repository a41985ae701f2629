import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelsFingerprint, type Normalized } from '../../src/alerts/event.js';
import { normalizeAlertmanager } from '../../src/alerts/sources/alertmanager.js';
import { pagerDutyAnswer, parsePagerDuty } from '../../src/alerts/sources/pagerduty.js';
import { normalizeWebhook } from '../../src/alerts/sources/webhook.js';

/** The senders' own payloads (test/fixtures/alerts: built field by field from their source code). */
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/alerts', name), 'utf8'));

function events(n: Normalized) {
  if (!n.ok) throw new Error(n.errors.join('\n'));
  return n.events;
}

describe('Alertmanager webhook (version 4)', () => {
  it('normalises each alert of a notification, by its own status', () => {
    const n = normalizeAlertmanager(fixture('alertmanager-firing.json'));
    const [first] = events(n);
    expect(events(n)).toHaveLength(3);
    expect(n.ok && n.truncated).toBe(0);
    expect(first).toEqual({
      dedupKey: '3890e0fe343b8214',
      status: 'firing',
      severity: 'critical',
      summary: 'checkout-api is returning too many 5xx errors',
      source: '10.2.3.14:8080',
      labels: {
        alertname: 'HighErrorRate',
        cluster: 'prod-eu-1',
        instance: '10.2.3.14:8080',
        job: 'checkout-api',
        namespace: 'payments',
        severity: 'critical',
        team: 'payments',
      },
      links: [
        {
          href: expect.stringMatching(/^https:\/\/prometheus\.example\.com\/graph\?g0\.expr=/),
          text: 'Source',
        },
        { href: 'https://runbooks.example.com/payments/high-error-rate', text: 'Runbook' },
      ],
      startedAt: new Date('2026-11-29T12:58:37.482Z'),
      endedAt: null,
    });
  });

  it('takes status alert by alert: a "firing" notification can resolve some of its alerts', () => {
    const body = fixture('alertmanager-resolved.json') as { status: string };
    expect(body.status).toBe('firing');
    const list = events(normalizeAlertmanager(body));
    expect(list.map((e) => [e.dedupKey, e.status])).toEqual([
      ['3890e0fe343b8214', 'resolved'],
      ['9ff7559bb610d3bf', 'firing'],
      ['09aa26a032a92c56', 'resolved'],
    ]);
    expect(list[0]?.endedAt).toEqual(new Date('2026-11-29T13:21:07.482Z'));
    // Go's zero time means "still firing", not year 1.
    expect(list[1]?.endedAt).toBeNull();
  });

  it('says how many alerts the sender left out (max_alerts)', () => {
    const n = normalizeAlertmanager(fixture('alertmanager-truncated.json'));
    expect(events(n)).toHaveLength(2);
    expect(n.ok && n.truncated).toBe(3);
  });

  it("reads Grafana's webhook (version 1): its links, and its labels' severity", () => {
    const list = events(normalizeAlertmanager(fixture('grafana-firing.json')));
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({
      dedupKey: 'c093ed164cca2249',
      status: 'firing',
      severity: 'warning',
      summary: 'High CPU usage on node-3.prod-eu-1:9100',
    });
    expect(list[0]?.links.map((l) => l.text)).toEqual(['Source', 'Runbook', 'Dashboard', 'Panel', 'Silence']);
  });

  it('maps severities onto critical, error, warning and info; anything else is a warning', () => {
    const severityOf = (severity: string | undefined) =>
      events(
        normalizeAlertmanager({
          alerts: [{ status: 'firing', labels: { alertname: 'X', ...(severity ? { severity } : {}) } }],
        }),
      )[0]?.severity;
    expect(['critical', 'ERROR', 'info', 'page', undefined].map(severityOf)).toEqual([
      'critical',
      'error',
      'info',
      'warning',
      'warning',
    ]);
  });

  it('keys an alert without a fingerprint as Alertmanager would (the Prometheus fingerprint of its labels)', () => {
    // grafana/alerting's own test vectors for Prometheus' FNV-1a label fingerprint.
    expect(labelsFingerprint({})).toBe('cbf29ce484222325');
    const labels = { alertname: 'HighErrorRate', cluster: 'prod-eu-1' };
    const [event] = events(normalizeAlertmanager({ alerts: [{ status: 'firing', labels }] }));
    expect(event?.dedupKey).toBe(labelsFingerprint(labels));
    expect(event?.dedupKey).toMatch(/^[0-9a-f]{16}$/);
  });

  it('names what is wrong with a malformed body', () => {
    const bad = normalizeAlertmanager({
      alerts: [
        { status: 'firing', labels: { a: 'b' } },
        { status: 'burning', labels: { a: 1 } },
      ],
    });
    expect(bad).toEqual({
      ok: false,
      errors: ['alerts[1].status: must be "firing" or "resolved"', 'alerts[1].labels.a: must be a string'],
    });
    expect(normalizeAlertmanager({ status: 'firing' })).toEqual({
      ok: false,
      errors: ['alerts: must be a list of alerts'],
    });
  });
});

describe('PagerDuty Events API v2', () => {
  it('reads a trigger as Alertmanager sends it, and the minimal acknowledge and resolve', () => {
    const trigger = parsePagerDuty(fixture('pagerduty-trigger.json'));
    if (!trigger.ok) throw new Error(trigger.errors.join());
    expect(trigger.pd).toMatchObject({
      routingKey: '3f2a9c8e1b7d4e05a6c9f0b1d2e3a4b5',
      action: 'trigger',
      dedupKey: '3cf1ac7e7c511f72e37a2d911d46f35c3bb28d22a702a9a86f08e32ff50dee95',
      event: {
        status: 'firing',
        severity: 'error',
        summary: '[FIRING:3] HighErrorRate prod-eu-1 (checkout-api payments critical payments)',
        source: 'Alertmanager',
      },
    });
    const full = parsePagerDuty(fixture('pagerduty-trigger-full.json'));
    expect(full.ok && full.pd.event.links.length).toBeGreaterThan(0);
    for (const [name, status] of [
      ['pagerduty-acknowledge.json', 'acknowledged'],
      ['pagerduty-resolve-minimal.json', 'resolved'],
      ['pagerduty-resolve.json', 'resolved'],
    ] as const) {
      const parsed = parsePagerDuty(fixture(name));
      expect(parsed.ok && parsed.pd.event.status, name).toBe(status);
    }
  });

  it('gives a trigger without a dedup_key a generated one', () => {
    const body = fixture('pagerduty-trigger-full.json') as Record<string, unknown>;
    const { dedup_key: _drop, ...withoutKey } = body;
    const parsed = parsePagerDuty(withoutKey);
    expect(parsed.ok && parsed.pd.dedupKey).toMatch(/^[0-9a-f]{32}$/);
  });

  it("refuses what PagerDuty refuses, with PagerDuty's own words", () => {
    const examples = (
      fixture('pagerduty-invalid-examples.json') as {
        examples: {
          id: string;
          request: unknown;
          response: { status: number; body: { errors: string[] } };
        }[];
      }
    ).examples.filter((e) => e.id !== 'malformed_json');
    expect(examples.length).toBeGreaterThanOrEqual(7);
    for (const example of examples) {
      const parsed = parsePagerDuty(example.request);
      expect(parsed, example.id).toEqual({ ok: false, errors: example.response.body.errors });
    }
    expect(pagerDutyAnswer.invalid(['x'])).toEqual({
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: ['x'],
    });
  });
});

describe('generic webhook', () => {
  const fields = { dedupKey: 'id', summary: 'title', severity: 'level', status: 'state', labels: 'tags' };

  it('reads the fields where the integration says they are, one alert or a list', () => {
    const one = events(
      normalizeWebhook(
        {
          id: 42,
          title: 'Queue backlog',
          level: 'CRITICAL',
          state: 'open',
          tags: { service: 'payments', n: 3 },
        },
        fields,
      ),
    );
    expect(one).toEqual([
      {
        dedupKey: '42',
        status: 'firing',
        severity: 'critical',
        summary: 'Queue backlog',
        source: null,
        labels: { alertname: 'Queue backlog', service: 'payments', n: '3' },
        links: [],
        startedAt: null,
        endedAt: null,
      },
    ]);
    const many = events(
      normalizeWebhook(
        [
          { id: 'a', title: 'A', state: 'Resolved', tags: ['service:payments', 'env=prod', 'urgent'] },
          { id: 'b', title: 'B', state: 'OK' },
          { id: 'c', title: 'C', state: 'CLOSED' },
          { id: 'd', title: 'D' },
        ],
        fields,
      ),
    );
    expect(many.map((e) => e.status)).toEqual(['resolved', 'resolved', 'resolved', 'firing']);
    expect(many[0]?.labels).toEqual({ alertname: 'A', service: 'payments', env: 'prod', urgent: 'true' });
  });

  it('follows dot paths, and names each missing field', () => {
    const nested = { dedupKey: 'data.id', summary: 'data.attributes.title' };
    expect(
      events(normalizeWebhook({ data: { id: 'x1', attributes: { title: 'Nested' } } }, nested)),
    ).toHaveLength(1);
    expect(normalizeWebhook({ data: { attributes: {} } }, nested)).toEqual({
      ok: false,
      errors: [
        'data.id: is missing (fields.dedup_key says the dedup key is here)',
        'data.attributes.title: is missing (fields.summary says the summary is here)',
      ],
    });
    expect(normalizeWebhook([{ id: 1, title: 'ok' }, 'nope'], fields)).toEqual({
      ok: false,
      errors: ['[1]: must be a JSON object'],
    });
    expect(normalizeWebhook({ id: 1, title: 'x', tags: 7 }, fields)).toEqual({
      ok: false,
      errors: ['tags: must be an object, or a list of "key:value" tags'],
    });
  });
});
