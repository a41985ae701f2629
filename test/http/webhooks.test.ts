import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIncidentConfig } from '../../src/config/index.js';
import { webhookDeliveries } from '../../src/webhooks/tables.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/**
 * Outgoing webhooks through the real app to a real HTTP receiver on loopback: signed as Standard Webhooks
 * says (checked with the `standardwebhooks` library), retried with the same id until a 2xx, private
 * incidents only where asked for, private addresses refused, and the admin's view with Redeliver.
 */

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const ADMIN = 'U0ADMIN01';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const testDb = useTestDatabase();
let app: TestBot;
let clock: FakeClock;
let receiver: Server;
let received: Received[];
/** Status codes the receiver answers with, in turn (then 200). */
let answers: number[];
/** The next request is held unanswered until `held(status)` is called. */
let holdNext = false;
let held: ((status: number) => void) | undefined;
let base: string;

async function start(webhooks: string, extra = '') {
  const config = parseIncidentConfig(
    `
admins: [${ADMIN}]
severities:
  - { id: SEV1, description: Critical }
  - { id: SEV2, description: Major }
webhooks:
${webhooks}
${extra}
`,
    'test-config',
    { WH_SECRET: SECRET },
  );
  app = await startTestBot({ database: testDb().database, clock, incident: config });
}

beforeEach(async () => {
  isolateNetwork();
  SlackApiMock.withNock();
  // Now: the library checks a signature's timestamp against the real time (5 minutes either way).
  clock = new FakeClock(new Date());
  received = [];
  answers = [];
  holdNext = false;
  held = undefined;
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (holdNext) {
        holdNext = false;
        held = (status) => res.writeHead(status).end('ok');
        return;
      }
      res.writeHead(answers.shift() ?? 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await app.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  resetNetwork();
});

async function tick(ms = 0) {
  clock.advance(ms);
  await app.bot.engine.drain();
}

const endpoint = (path: string, more = '') =>
  `  - { url: "${base}${path}", secret_env: WH_SECRET, allow_private: true${more} }`;
const bodies = (path: string) => received.filter((r) => r.path === path).map((r) => JSON.parse(r.body));
const verify = (r: Received) =>
  new Webhook(SECRET).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

describe('outgoing webhooks', () => {
  it('are signed per Standard Webhooks: the library verifies ours and rejects a tampered body', async () => {
    await start(endpoint('/all'));
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1', commander: ADMIN }, 'V0W1'));
    await tick(1000);
    await tick(1000);
    const declared = received.find((r) => JSON.parse(r.body).type === 'incident.declared');
    expect(declared).toBeDefined();
    const payload = verify(declared as Received) as {
      id: string;
      type: string;
      timestamp: string;
      data: Record<string, unknown>;
    };
    expect(payload.id).toBe(declared?.headers['webhook-id']);
    expect(payload.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(payload.data).toMatchObject({
      version: 1,
      incident: {
        number: 1,
        title: 'Checkout down',
        severity: 'SEV1',
        status: 'investigating',
        private: false,
      },
    });
    expect(declared?.headers['content-type']).toBe('application/json');
    expect(() =>
      verify({ ...(declared as Received), body: (declared as Received).body.replace('Checkout', 'Checkin') }),
    ).toThrow();
    // Its role assignment came too, in order of the timeline.
    expect(bodies('/all').map((b) => b.type)).toEqual(
      expect.arrayContaining(['incident.declared', 'incident.role_assigned']),
    );
  });

  it('tell of a renamed incident (incident.updated), which only those in charge may do', async () => {
    await start(endpoint('/edits', ', events: [incident.updated]'));
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1', commander: ADMIN }, 'V0W6'));
    await tick(0);
    const channel = (await testDb().database.db.query.incidents.findFirst())?.channelId as string;
    const refused = await (
      await app.command('title Nope', { channel_id: channel, user_id: 'U0SOMEONE' })
    ).text();
    expect(refused).toContain('may change the title or summary');
    await app.command('title Checkout fails in the EU', { channel_id: channel, user_id: ADMIN });
    await tick(1000);
    await tick(0);
    const [edit] = bodies('/edits');
    expect(edit?.type).toBe('incident.updated');
    expect(edit?.data.changes).toEqual({ title: { from: 'Checkout down', to: 'Checkout fails in the EU' } });
    expect(edit?.data.incident.title).toBe('Checkout fails in the EU');
  });

  it('retry a failing endpoint with the same id (500, 500, 200: three attempts), then stop', async () => {
    await start(endpoint('/flaky', ', events: [incident.declared]'));
    answers = [500, 500];
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1' }, 'V0W2'));
    await tick(1000);
    await tick(0);
    expect(received).toHaveLength(1);
    await tick(5000); // the first back-off
    expect(received).toHaveLength(2);
    await tick(300_000); // the second
    expect(received).toHaveLength(3);
    await tick(3_600_000);
    expect(received).toHaveLength(3);
    const ids = new Set(received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    // Each attempt is signed afresh at its own time (the later ones are in the fake clock's future).
    expect(new Set(received.map((r) => r.headers['webhook-timestamp'])).size).toBe(3);
    expect(() => verify(received[0] as Received)).not.toThrow();
    const [row] = await testDb().database.db.select().from(webhookDeliveries);
    expect(row).toMatchObject({
      status: 'delivered',
      attempts: 3,
      lastStatus: 200,
      eventType: 'incident.declared',
    });
  });

  it('send private incidents only to endpoints that opt in, and only the events an endpoint names', async () => {
    await start(
      [
        endpoint('/public', ', events: [incident.declared, incident.resolved]'),
        endpoint('/private', ', include_private: true, events: [incident.declared]'),
      ].join('\n'),
    );
    await app.submitView(
      declareView({ title: 'Secret thing', severity: 'SEV2', private: true, commander: ADMIN }, 'V0W3'),
    );
    await tick(1000);
    await tick(0);
    expect(bodies('/public')).toEqual([]);
    expect(bodies('/private').map((b) => b.type)).toEqual(['incident.declared']);
    expect(bodies('/private')[0].data.incident.private).toBe(true);
  });

  it('refuse private and loopback addresses unless the endpoint allows them', async () => {
    await start(
      [
        '  - { url: "https://127.0.0.1:9/hook", secret_env: WH_SECRET }',
        '  - { url: "https://localhost:9/hook", secret_env: WH_SECRET }',
      ].join('\n'),
    );
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1' }, 'V0W4'));
    await tick(1000);
    await tick(0);
    const rows = await testDb()
      .database.db.select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.eventType, 'incident.declared'));
    expect(rows.map((r) => [r.status, r.lastError?.replace(/\(.*\)/, '')])).toEqual(
      expect.arrayContaining([
        ['failed', 'refused: 127.0.0.1 is a private address'],
        ['failed', expect.stringMatching(/^refused: localhost resolves to a private address/)],
      ]),
    );
    expect(app.logLines.join('\n')).toContain('webhook refused');
  });

  it('show admins the deliveries, redeliver a failed one with the same id, and ping', async () => {
    await start(endpoint('/admin', ', events: [incident.declared, ping]'));
    answers = [500, 500, 500, 500, 500, 500, 500, 500];
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1' }, 'V0W5'));
    await tick(1000);
    for (const wait of [0, 5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000])
      await tick(wait);
    expect(received).toHaveLength(8);
    const [failed] = await testDb().database.db.select().from(webhookDeliveries);
    expect(failed).toMatchObject({ status: 'failed', attempts: 8, lastError: 'HTTP 500' });
    expect(app.logLines.join('\n')).toContain('webhook given up after 8 attempts');

    const list = await (await app.command('webhooks', { user_id: ADMIN })).text();
    expect(list).toContain('`incident.declared` → 127.0.0.1');
    expect(list).toContain('failed: HTTP 500');
    expect(list).toContain('"action_id":"webhook_redeliver"');
    expect(await (await app.command('webhooks', { user_id: 'U0SOMEONE' })).text()).toContain(
      'Only admins can see the webhook deliveries.',
    );

    await app.action({ action_id: 'webhook_redeliver', value: failed?.id as string }, { user: ADMIN });
    await tick(0);
    expect(received).toHaveLength(9);
    expect(received[8]?.headers['webhook-id']).toBe(failed?.id);
    const [again] = await testDb()
      .database.db.select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, failed?.id as string));
    expect(again).toMatchObject({ status: 'delivered', attempts: 1 });

    await app.command('webhooks ping', { user_id: ADMIN });
    await tick(0);
    expect(received.at(-1)?.body).toContain('"type":"ping"');
  });

  it('keep a Redeliver clicked while the last attempt is in flight: that attempt failing does not undo it', async () => {
    await start(endpoint('/late', ', events: [incident.declared]'));
    answers = [500, 500, 500, 500, 500, 500, 500];
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1' }, 'V0W6'));
    await tick(1000);
    for (const wait of [0, 5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000]) await tick(wait);
    expect(received).toHaveLength(7);
    // The eighth and last attempt is sent and held; meanwhile an admin clicks Redeliver.
    holdNext = true;
    clock.advance(36_000_000);
    await app.bot.engine.kick();
    for (let waited = 0; !held && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(received).toHaveLength(8);
    const [delivery] = await testDb().database.db.select().from(webhookDeliveries);
    await app.action({ action_id: 'webhook_redeliver', value: delivery?.id as string }, { user: ADMIN });
    held?.(500);
    await tick(0);
    await tick(0);
    expect(received).toHaveLength(9);
    expect(received[8]?.headers['webhook-id']).toBe(delivery?.id);
    const [after] = await testDb().database.db.select().from(webhookDeliveries);
    expect(after).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('need an https URL (http only with allow_private) and a Standard Webhooks secret', () => {
    expect(() =>
      parseIncidentConfig(
        'webhooks:\n  - { url: "http://hooks.example.com/x", secret_env: WH_SECRET }\n  - { url: "https://hooks.example.com/y", secret_env: WH_WEAK }\n',
        'cfg.yml',
        { WH_SECRET: SECRET, WH_WEAK: 'hunter2' },
      ),
    ).toThrow(
      [
        'cfg.yml: webhooks[0].url: must be https (plain http only with allow_private: true, for a private network)',
        'cfg.yml: webhooks[1].secret_env: WH_WEAK must hold a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes',
      ].join('\n'),
    );
  });
});
