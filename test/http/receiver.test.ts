import { HTTPModuleFunctions } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { sign, startTestBot, type TestBot } from '../helpers/http.js';
import { isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/**
 * The bot's own HTTP server and Slack receiver (src/http/server.ts, src/slack/receiver.ts): a Bolt
 * `Receiver` built from Bolt's exported helpers, with Bolt itself left exactly as shipped.
 */

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;

// Bolt's exported helpers as they are before the bot exists: the bot must not replace any of them.
const boltHelpersBefore = { ...HTTPModuleFunctions };

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  app = await startTestBot({ database: testDb().database, clock: new FakeClock() });
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

const base = () => app.url.replace(/\/slack\/events$/, '');
const now = () => Math.floor(Date.now() / 1000);

describe('the Slack receiver', () => {
  it('leaves Bolt as shipped: no exported function is replaced', () => {
    expect({ ...HTTPModuleFunctions }).toEqual(boltHelpersBefore);
    for (const [name, fn] of Object.entries(boltHelpersBefore))
      expect(HTTPModuleFunctions[name as keyof typeof HTTPModuleFunctions], name).toBe(fn);
  });

  it('refuses a correctly signed request from more than 5 minutes in the future with 401, before parsing', async () => {
    const body = 'payload=null';
    const future = now() + 6 * 60;
    const res = await app.post(body, { timestamp: future });
    expect(res.status).toBe(401);
    // Within the 5 minutes it is authentic, and then judged on its content (payload=null is not Slack's).
    expect((await app.post(body, { timestamp: now() + 60 })).status).toBe(400);
    expect(slack.calls.map((c) => c.method)).toEqual(['auth.test']);
  });

  it('answers payload=null and other bodies Slack never sends with 400, and keeps serving', async () => {
    for (const body of ['payload=null', 'payload=%22text%22', 'payload=%7B%7D', 'payload=%7B', '']) {
      expect((await app.post(body)).status, body).toBe(400);
    }
    const json = '{"type":"event_callback","event":{"type":"app_mention"}}';
    const res = await app.post(json, { headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
  });

  it('refuses a missing or forged signature with 401', async () => {
    const body = 'command=%2Fincident&text=help&team_id=T1&user_id=U1&channel_id=C1';
    const noHeaders = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(noHeaders.status).toBe(401);
    const ts = now();
    expect(
      (await app.post(body, { signature: sign(body, ts, 'another-secret-0123456789'), timestamp: ts }))
        .status,
    ).toBe(401);
  });

  it("answers Slack's SSL check and URL verification", async () => {
    const ssl = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'ssl_check=1&token=anything',
    });
    expect(ssl.status).toBe(200);
    const challenge = await app.post('{"type":"url_verification","challenge":"c-123"}', {
      headers: { 'content-type': 'application/json' },
    });
    expect(challenge.status).toBe(200);
    expect(await challenge.json()).toEqual({ challenge: 'c-123' });
  });

  it('serves only what it routes: 404 for unknown paths, 405 with Allow for a known path and another method', async () => {
    expect((await fetch(`${base()}/nothing-here`)).status).toBe(404);
    const get = await fetch(app.url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${base()}/readyz`)).status).toBe(200);
  });
});
