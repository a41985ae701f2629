import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ingestJob } from '../../src/alerts/ingest.js';
import { alertGroups, alerts } from '../../src/alerts/tables.js';
import { parseIncidentConfig } from '../../src/config/index.js';
import { jobKey, scheduleOnce } from '../../src/jobs/job.js';
import { timers } from '../../src/jobs/table.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { startTestBot, type TestBot } from '../helpers/http.js';
import { isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/**
 * The alert hub over HTTP, through the real app: what each status code means, store first and answer
 * second, de-duplication and grouping, and the one Slack message per group, edited at Slack's pace.
 */

const KEYS = {
  ALERTS_KEY_PROMETHEUS: 'prom-key-0123456789abcdef',
  ALERTS_KEY_PD: '3f2a9c8e1b7d4e05a6c9f0b1d2e3a4b5',
  ALERTS_KEY_HOOK: 'hook-key-0123456789abcdef',
};
const HUB = parseIncidentConfig(
  `alerts:
  channel: C0ALERTS
  group_by: [alertname]
  reopen_within: 5m
  integrations:
    - {name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS}
    - {name: pd, type: pagerduty, key_env: ALERTS_KEY_PD}
    - name: hook
      type: webhook
      key_env: ALERTS_KEY_HOOK
      fields: {dedup_key: id, summary: title, severity: level, status: state, labels: tags}
`,
  'test',
  KEYS,
).alerts;

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/alerts', name), 'utf8');

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;
const db = () => testDb().database.db;

async function start(options: { alertInboxBound?: number } = {}) {
  app = await startTestBot({ database: testDb().database, clock, incident: { alerts: HUB }, ...options });
}

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  clock = new FakeClock();
});

afterEach(async () => {
  await app?.stop();
  resetNetwork();
});

const base = () => app.url.replace(/\/slack\/events$/, '');
function send(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${base()}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}
const prometheus = (body: string) =>
  send('/alerts/prometheus', body, { authorization: `Bearer ${KEYS.ALERTS_KEY_PROMETHEUS}` });
const settle = () => app.bot.engine.drain();
const inChannel = () => slack.messages.filter((m) => m.channel === 'C0ALERTS');
const groupMessages = () => inChannel().filter((m) => !m.thread_ts);
const threadPosts = () => inChannel().filter((m) => m.thread_ts);

describe('alert endpoints', () => {
  it('commits a notification before answering 202; the workers then group it into one message', async () => {
    await start();
    const res = await prometheus(fixture('alertmanager-firing.json'));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', alerts: 3 });
    // Stored before the answer: the notification waits in the inbox as a job.
    const queued = await db().select().from(timers).where(eq(timers.kind, 'alerts.ingest'));
    expect(queued).toHaveLength(1);
    await settle();
    expect(await db().select().from(alerts)).toHaveLength(3);
    const [group] = await db().select().from(alertGroups);
    expect(group).toMatchObject({ title: 'HighErrorRate', status: 'open', firingCount: 3, alertCount: 3 });
    expect(groupMessages()).toHaveLength(1);
    expect(groupMessages()[0]?.text).toBe('[FIRING:3] HighErrorRate');
  });

  it('takes the key from the Authorization header or the URL, and refuses a wrong or missing one with 401', async () => {
    await start();
    const body = fixture('alertmanager-firing.json');
    expect((await send(`/alerts/prometheus/${KEYS.ALERTS_KEY_PROMETHEUS}`, body)).status).toBe(202);
    const wrong = await send('/alerts/prometheus', body, { authorization: 'Bearer not-the-key-0123456789' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect((await send('/alerts/prometheus', body)).status).toBe(401);
    expect((await send('/alerts/prometheus/not-the-key-0123456789', body)).status).toBe(401);
    // The other integration's key is not this one's.
    expect((await send(`/alerts/prometheus/${KEYS.ALERTS_KEY_HOOK}`, body)).status).toBe(401);
    expect(app.logLines.join('\n')).not.toContain(KEYS.ALERTS_KEY_PROMETHEUS);
  });

  it('answers 404 for an unknown integration, 400 naming what is malformed, 413 over 5 MB', async () => {
    await start();
    const auth = { authorization: `Bearer ${KEYS.ALERTS_KEY_PROMETHEUS}` };
    expect((await send('/alerts/nagios', '{}', auth)).status).toBe(404);
    const pd = await send('/alerts/pd', '{}', { authorization: `Bearer ${KEYS.ALERTS_KEY_PD}` });
    expect(pd.status).toBe(404);
    expect(await pd.json()).toEqual({ error: 'integration "pd" takes PagerDuty events at POST /v2/enqueue' });
    const notJson = await prometheus('{"alerts": [');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/^body is not JSON/);
    const malformed = await prometheus('{"alerts": [{"status": "burning", "labels": {}}]}');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: 'malformed body',
      problems: ['alerts[0].status: must be "firing" or "resolved"'],
    });
    const huge = await prometheus(`{"alerts": [], "pad": "${'x'.repeat(5 * 1024 * 1024)}"}`);
    expect(huge.status).toBe(413);
    expect(await db().select().from(timers).where(eq(timers.kind, 'alerts.ingest'))).toEqual([]);
  });

  it('answers 503 with Retry-After, never 429, while the inbox is over its bound', async () => {
    await start({ alertInboxBound: 0 });
    const res = await prometheus(fixture('alertmanager-firing.json'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const pd = await send('/v2/enqueue', fixture('pagerduty-trigger.json'));
    expect(pd.status).toBe(503);
    expect(await pd.json()).toMatchObject({ status: 'unavailable' });
  });

  it('reads a generic webhook by its field paths', async () => {
    await start();
    const res = await send(
      '/alerts/hook',
      JSON.stringify([
        { id: 'q-1', title: 'Queue backlog', level: 'critical', tags: { service: 'payments' } },
        { id: 'q-2', title: 'Queue backlog', level: 'warning', state: 'ok' },
      ]),
      { authorization: `Bearer ${KEYS.ALERTS_KEY_HOOK}` },
    );
    expect(res.status).toBe(202);
    await settle();
    // q-2 arrived resolved and was never open: nothing to resolve, no alert made.
    const rows = await db().select().from(alerts);
    expect(rows.map((r) => [r.dedupKey, r.status, r.severity])).toEqual([['q-1', 'firing', 'critical']]);
    expect(groupMessages()[0]?.text).toBe('[FIRING:1] Queue backlog');
  });
});

describe('PagerDuty Events API v2 at /v2/enqueue', () => {
  it('answers as PagerDuty does, and acts on the open alert by dedup_key', async () => {
    await start();
    const trigger = await send('/v2/enqueue', fixture('pagerduty-trigger.json'));
    expect(trigger.status).toBe(202);
    expect(await trigger.json()).toEqual({
      status: 'success',
      message: 'Event processed',
      dedup_key: '3cf1ac7e7c511f72e37a2d911d46f35c3bb28d22a702a9a86f08e32ff50dee95',
    });
    await settle();
    const ack = JSON.parse(fixture('pagerduty-acknowledge.json')) as Record<string, unknown>;
    ack.dedup_key = '3cf1ac7e7c511f72e37a2d911d46f35c3bb28d22a702a9a86f08e32ff50dee95';
    expect((await send('/v2/enqueue', JSON.stringify(ack))).status).toBe(202);
    clock.advance(1000);
    await settle();
    const [group] = await db().select().from(alertGroups);
    expect(group).toMatchObject({ acknowledgedBy: 'integration:pd', status: 'open' });
    expect((await send('/v2/enqueue', fixture('pagerduty-resolve.json'))).status).toBe(202);
    clock.advance(1000);
    await settle();
    expect((await db().select().from(alertGroups))[0]).toMatchObject({ status: 'resolved', firingCount: 0 });
    // After the resolve, acknowledge and resolve are accepted and change nothing, as at PagerDuty.
    expect((await send('/v2/enqueue', JSON.stringify(ack))).status).toBe(202);
    clock.advance(1000);
    await settle();
    expect((await db().select().from(alertGroups))[0]?.status).toBe('resolved');
    expect(await db().select().from(alertGroups)).toHaveLength(1);
  });

  it('generates and returns a dedup_key when a trigger has none', async () => {
    await start();
    const body = JSON.parse(fixture('pagerduty-trigger-full.json')) as Record<string, unknown>;
    body.routing_key = KEYS.ALERTS_KEY_PD;
    delete body.dedup_key;
    const res = await send('/v2/enqueue', JSON.stringify(body));
    expect(res.status).toBe(202);
    const { dedup_key } = (await res.json()) as { dedup_key: string };
    expect(dedup_key).toMatch(/^[0-9a-f]{32}$/);
    await settle();
    expect((await db().select().from(alerts))[0]?.dedupKey).toBe(dedup_key);
  });

  it('refuses invalid events, unknown routing keys and unreadable JSON with 400 and PagerDuty’s words', async () => {
    await start();
    const bad = await send('/v2/enqueue', JSON.stringify({ routing_key: 'short', event_action: 'trigger' }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: [
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'payload' is missing or blank",
      ],
    });
    const stranger = JSON.parse(fixture('pagerduty-trigger.json')) as Record<string, unknown>;
    stranger.routing_key = 'f'.repeat(32);
    const unknown = await send('/v2/enqueue', JSON.stringify(stranger));
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ status: 'invalid event' });
    const garbled = await send('/v2/enqueue', '{"routing_key":');
    expect(garbled.status).toBe(400);
    expect(await garbled.json()).toEqual({
      status: 'Unrecognized object',
      message: 'Event object format is unrecognized',
      errors: ['JSON parse error'],
    });
  });
});

describe('de-duplication, grouping and the group message', () => {
  it('counts a notification delivered twice once, and resolves alert by alert', async () => {
    await start();
    await prometheus(fixture('alertmanager-firing.json'));
    clock.advance(100);
    await prometheus(fixture('alertmanager-firing.json'));
    await settle();
    const rows = await db().select().from(alerts);
    expect(rows.map((r) => r.occurrences)).toEqual([1, 1, 1]);
    expect(groupMessages()).toHaveLength(1);

    // Two of three resolved: the same message, edited (at most once in 5 s), and a word in its thread.
    clock.advance(60_000);
    await prometheus(fixture('alertmanager-resolved.json'));
    await settle();
    clock.advance(5000);
    await settle();
    const [message] = groupMessages();
    expect(message?.text).toBe('[FIRING:1] HighErrorRate');
    expect(threadPosts()).toHaveLength(1);
    expect(threadPosts()[0]?.text).toMatch(/Resolved: checkout-api is returning too many 5xx errors/);

    // The last one resolves: the group resolves.
    clock.advance(60_000);
    const all = JSON.parse(fixture('alertmanager-resolved.json')) as {
      alerts: { status: string; endsAt: string }[];
    };
    for (const a of all.alerts) {
      a.status = 'resolved';
      a.endsAt = '2026-11-29T13:23:00Z';
    }
    await prometheus(JSON.stringify(all));
    await settle();
    clock.advance(5000);
    await settle();
    expect((await db().select().from(alertGroups))[0]).toMatchObject({ status: 'resolved', firingCount: 0 });
    expect(groupMessages()).toHaveLength(1);
    expect(groupMessages()[0]?.text).toBe('[RESOLVED] HighErrorRate');
  });

  it('reopens an alert that fires again soon after resolving (a flap); later, it starts a new group', async () => {
    await start();
    const one = (status: 'firing' | 'resolved') =>
      JSON.stringify({
        alerts: [
          { status, labels: { alertname: 'DiskFull', instance: 'db-1' }, fingerprint: 'aaaa000011112222' },
        ],
      });
    await prometheus(one('firing'));
    await settle();
    clock.advance(60_000);
    await prometheus(one('resolved'));
    await settle();
    // A late resolve changes nothing and opens nothing.
    clock.advance(1000);
    await prometheus(one('resolved'));
    await settle();
    expect(await db().select().from(alertGroups)).toHaveLength(1);
    clock.advance(60_000);
    await prometheus(one('firing'));
    await settle();
    const [group] = await db().select().from(alertGroups);
    expect(group).toMatchObject({ status: 'open', flaps: 1 });
    expect((await db().select().from(alerts))[0]).toMatchObject({
      status: 'firing',
      flaps: 1,
      occurrences: 2,
    });
    // Resolved, then quiet for longer than reopen_within: the next firing is a new alert in a new group.
    clock.advance(60_000);
    await prometheus(one('resolved'));
    await settle();
    clock.advance(6 * 60_000);
    await prometheus(one('firing'));
    await settle();
    const groups = await db().select().from(alertGroups);
    expect(groups.map((g) => g.status)).toEqual(['resolved', 'open']);
    expect(await db().select().from(alerts)).toHaveLength(2);
  });

  it('never lets an older firing report, applied after a newer resolve, open the alert again', async () => {
    await start();
    await prometheus(
      JSON.stringify({
        alerts: [
          { status: 'firing', labels: { alertname: 'CPUHot', instance: 'web-1' }, fingerprint: 'bbbb0000' },
        ],
      }),
    );
    await settle();
    // A repeat (received at 1:00) and the resolve (1:01) are applied in the opposite order, as two workers,
    // or a slow one, can: the repeat's job is held back a minute.
    const [first] = await db().select().from(timers).where(eq(timers.kind, ingestJob.kind));
    const payload = first?.payload as z.infer<typeof ingestJob.payload>;
    const report = (status: 'firing' | 'resolved', at: number, dueAt: number) =>
      scheduleOnce(
        db(),
        ingestJob,
        {
          key: jobKey('test', status, at),
          dueAt: new Date(dueAt),
          payload: {
            ...payload,
            receivedAt: new Date(at).toISOString(),
            events: payload.events.map((e) => ({ ...e, status })),
          },
        },
        clock.now(),
      );
    const t0 = clock.now().getTime();
    clock.advance(61_000);
    await report('firing', t0 + 60_000, t0 + 120_000);
    await report('resolved', t0 + 61_000, t0 + 61_000);
    await settle();
    expect((await db().select().from(alerts))[0]).toMatchObject({ status: 'resolved' });
    clock.advance(60_000);
    await settle();
    // The repeat was older than the resolve: nothing fires again, nothing new opens.
    expect(await db().select().from(alerts)).toMatchObject([{ status: 'resolved', flaps: 0 }]);
    expect((await db().select().from(alertGroups)).map((g) => g.status)).toEqual(['resolved']);
  });

  it('posts new messages one a second per channel, and edits each at most once every 5 s', async () => {
    await start();
    const named = (alertname: string, n: number) =>
      JSON.stringify({
        alerts: [{ status: 'firing', labels: { alertname, instance: `host-${n}` } }],
      });
    await prometheus(named('A', 0));
    await settle();
    // Received a millisecond apart, while A's message has just gone: they wait their turn, and the
    // oldest is posted first. (Sent together with A, they could be applied before A, as the workers run
    // notifications side by side, and the sender can only post what has been applied.)
    for (const name of ['C', 'B']) {
      clock.advance(1);
      await prometheus(named(name, 0));
    }
    await settle();
    expect(groupMessages().map((m) => m.text)).toEqual(['[FIRING:1] A']);
    clock.advance(1000);
    await settle();
    clock.advance(1000);
    await settle();
    expect(groupMessages().map((m) => m.text)).toEqual(['[FIRING:1] A', '[FIRING:1] C', '[FIRING:1] B']);

    // Ten more alerts for A within a second: one edit, once 5 s have passed since the post.
    const updatesBefore = slack.callsTo('chat.update').length;
    for (let n = 1; n <= 10; n++) await prometheus(named('A', n));
    await settle();
    expect(slack.callsTo('chat.update').length).toBe(updatesBefore);
    clock.advance(5000);
    await settle();
    expect(slack.callsTo('chat.update').length).toBe(updatesBefore + 1);
    expect(groupMessages()[0]?.text).toBe('[FIRING:11] A');
  });
});

describe('a group changed while its first message is on its way to Slack', () => {
  it('edits the message afterwards: the change is not lost', async () => {
    await start();
    const one = (instance: string) =>
      JSON.stringify({ alerts: [{ status: 'firing', labels: { alertname: 'DiskFull', instance } }] });
    const held = slack.holdNext('chat.postMessage');
    await prometheus(one('db-1'));
    const draining = settle();
    await held.arrived;
    // The message is being posted with one alert; a second arrives and is applied meanwhile.
    await prometheus(one('db-2'));
    void app.bot.engine.kick();
    for (let n = 0; n < 100; n++) {
      const [g] = await db().select().from(alertGroups);
      if (g?.alertCount === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    held.release();
    await draining;
    await settle();
    expect(groupMessages()[0]?.text).toBe('[FIRING:1] DiskFull');
    clock.advance(5000);
    await settle();
    expect(groupMessages()).toHaveLength(1);
    expect(groupMessages()[0]?.text).toBe('[FIRING:2] DiskFull');
  });
});

describe("the group message's controls", () => {
  const one = (alertname: string, instance: string, status: 'firing' | 'resolved' = 'firing') =>
    JSON.stringify({ alerts: [{ status, labels: { alertname, instance } }] });
  const groupRow = async () => (await db().select().from(alertGroups))[0];

  it('acknowledges, silences and resolves from the message, and the message says so', async () => {
    await start();
    await prometheus(one('DiskFull', 'db-1'));
    await settle();
    const id = String((await groupRow())?.id);
    const controls = JSON.stringify(groupMessages()[0]?.blocks);
    expect(controls).toContain('alert_group_ack');
    expect(controls).toContain('alert_group_silence');

    expect((await app.action({ action_id: 'alert_group_ack', value: id }, { user: 'U0ONCALL' })).status).toBe(
      200,
    );
    await settle();
    expect(await groupRow()).toMatchObject({ acknowledgedBy: 'U0ONCALL' });
    clock.advance(5000);
    await settle();
    const acked = JSON.stringify(groupMessages()[0]?.blocks);
    expect(acked).toContain('Acknowledged by <@U0ONCALL>');
    expect(acked).not.toContain('alert_group_ack');
    // A second acknowledgement is refused, in words.
    await app.action({ action_id: 'alert_group_ack', value: id }, { user: 'U0OTHER' });
    const answers = slack.callsTo('response_url').map((c) => String(c.args.text));
    expect(answers.at(-1)).toBe('<@U0ONCALL> acknowledged these alerts already.');

    // Silenced for an hour: a new alert is counted, but its thread post waits for the silence to end.
    await app.action({
      action_id: 'alert_group_silence',
      type: 'static_select',
      selected_option: { value: `${id}:60`, text: { type: 'plain_text', text: 'Silence 1 hour' } },
    });
    clock.advance(1000);
    await prometheus(one('DiskFull', 'db-2'));
    await settle();
    clock.advance(5000);
    await settle();
    expect(await groupRow()).toMatchObject({ alertCount: 2, firingCount: 2 });
    expect(threadPosts()).toHaveLength(0);
    expect(JSON.stringify(groupMessages()[0]?.blocks)).toContain('Silenced until');
    clock.advance(60 * 60_000);
    await settle();
    clock.advance(5000);
    await settle();
    expect(threadPosts().map((m) => m.text)).toEqual([expect.stringMatching(/Firing: DiskFull/)]);
    expect(JSON.stringify(groupMessages()[0]?.blocks)).not.toContain('Silenced until');

    // Resolved by hand: every alert, and the message.
    await app.action({ action_id: 'alert_group_resolve', value: id });
    await settle();
    clock.advance(5000);
    await settle();
    expect(await groupRow()).toMatchObject({ status: 'resolved', firingCount: 0 });
    expect(groupMessages()[0]?.text).toBe('[RESOLVED] DiskFull');
    expect(JSON.stringify(groupMessages()[0]?.blocks)).not.toContain('alert_group_resolve');
  });
});
