import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentRoles, incidents, timelineEvents } from '../../src/db/schema.js';
import { timers } from '../../src/jobs/table.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import {
  BOT_USER_ID,
  dmChannelOf,
  isolateNetwork,
  resetNetwork,
  SlackApiMock,
} from '../helpers/slack-api.js';
import { mrkdwnTexts } from '../helpers/slack-limits.js';

const ANNOUNCE = 'C0ANNOUNCE';

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  clock = new FakeClock();
  app = await startTestBot({
    database: testDb().database,
    clock,
    incident: { announcementsChannel: ANNOUNCE },
  });
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

const db = () => testDb().database.db;

async function submitAndSettle(view: Record<string, unknown>, user?: string) {
  const res = await app.submitView(view, user);
  await app.bot.engine.drain();
  return res;
}

/** Slack posts the message, then the answer is lost (a 503 after the fact). */
const postButLoseTheAnswer = (args: Record<string, unknown>, ts: string) => {
  slack.messages.push({
    channel: String(args.channel),
    ts,
    text: String(args.text),
    blocks: args.blocks,
    metadata: args.metadata as never,
  });
  return { status: 503, body: { ok: false } };
};

describe('/incident command', () => {
  it('opens the declare modal at once, with the title from the command text', async () => {
    const res = await app.command('declare Checkout &lt;EU&gt; is down');
    expect(res.status).toBe(200);
    const [open] = slack.callsTo('views.open');
    expect(open?.args.trigger_id).toBe('1234.5678.abcdef');
    const view = open?.args.view as {
      callback_id: string;
      blocks: { block_id: string; element: { initial_value?: string } }[];
    };
    expect(view.callback_id).toBe('incident_declare');
    expect(view.blocks.find((b) => b.block_id === 'title')?.element.initial_value).toBe(
      'Checkout <EU> is down',
    );
  });

  it('opens the modal for a bare /incident', async () => {
    await app.command('');
    expect(slack.callsTo('views.open')).toHaveLength(1);
  });

  it('answers help with the command reference, ephemerally', async () => {
    const res = await app.command('help');
    const body = (await res.json()) as { response_type: string; text: string; blocks: unknown[] };
    expect(body.response_type).toBe('ephemeral');
    // The reference is in the blocks (several sections: it is longer than one can hold).
    expect(JSON.stringify(body.blocks)).toContain('/incident declare [title]');
    expect(JSON.stringify(body.blocks)).toContain('/incident webhooks ping');
    expect(slack.callsTo('views.open')).toHaveLength(0);
  });

  it('answers an unknown subcommand with help, never silence', async () => {
    const res = await app.command('frobnicate <!channel>');
    const body = (await res.json()) as { text: string };
    expect(body.text).toContain('I don’t know `frobnicate`');
    expect(body.text).toContain('/incident help');
  });

  it('tells the user when the modal cannot be opened', async () => {
    slack.override('views.open', () => ({ body: { ok: false, error: 'expired_trigger_id' } }));
    const res = await app.command('declare x');
    expect(res.status).toBe(200);
    const [answer] = slack.callsTo('response_url');
    expect(answer?.args).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Something went wrong on our side \(ref [0-9a-f]{8}\)/),
    });
    expect(app.logLines.some((l) => l.includes('expired_trigger_id'))).toBe(true);
  });
});

describe('declaring an incident', () => {
  it('runs the full flow: incident stored, channel, invites, topic, pinned card, announcement, reporter told', async () => {
    const started = performance.now();
    const res = await app.submitView(
      declareView({
        title: 'Database is down',
        severity: 'SEV1',
        summary: 'Writes fail',
        commander: 'U0COMMAND',
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    // The incident is committed before the modal closes.
    const [row] = await db().select().from(incidents);
    expect(row).toMatchObject({
      number: 1,
      title: 'Database is down',
      severity: 'SEV1',
      reporterId: 'U0REPORTER',
    });

    await app.bot.engine.drain();
    const pinnedAfterMs = (slack.callsTo('pins.add')[0]?.at ?? Number.NaN) - started;
    const settledAfterMs = performance.now() - started;
    console.log(
      `[measure] submit → card pinned: ${pinnedAfterMs.toFixed(1)} ms; all setup done: ${settledAfterMs.toFixed(1)} ms (nock Slack, ${testDb().database.kind})`,
    );

    const [create] = slack.callsTo('conversations.create');
    expect(create?.args).toMatchObject({ name: 'inc-1-database-is-down', is_private: 'false' });
    const channel = slack.channels[0];
    expect(channel?.members).toEqual(new Set([BOT_USER_ID, 'U0REPORTER', 'U0COMMAND']));
    expect(channel?.topic).toBe('SEV1 · Investigating · Commander: <@U0COMMAND>');

    const card = slack.messages.find((m) => m.channel === channel?.id);
    expect(card?.metadata?.event_type).toBe('incident_card');
    const cardJson = JSON.stringify(card?.blocks);
    expect(cardJson).toContain('#1 Database is down');
    expect(cardJson).toContain('<@U0COMMAND>');
    expect(cardJson).toContain('<@U0REPORTER>');
    expect(cardJson).toContain('Writes fail');
    expect(cardJson).toMatch(/<!date\^\d+\^/);
    expect(slack.pins).toEqual([{ channel: channel?.id, ts: card?.ts }]);

    const announcement = slack.messages.find((m) => m.channel === ANNOUNCE);
    expect(announcement?.text).toContain(`<#${channel?.id}>`);
    const dm = slack.messages.find((m) => m.channel === dmChannelOf('U0REPORTER'));
    expect(dm?.text).toContain(`<#${channel?.id}>`);

    const [stored] = await db().select().from(incidents);
    expect(stored).toMatchObject({
      channelId: channel?.id,
      cardTs: card?.ts,
      announcementChannelId: ANNOUNCE,
      announcementTs: announcement?.ts,
      invitesSettled: true,
      topicSettled: true,
      pinSettled: true,
      announceSettled: true,
      notifySettled: true,
    });
    const roles = await db().select().from(incidentRoles);
    expect(roles).toMatchObject([{ role: 'commander', userId: 'U0COMMAND', assignedBy: 'U0REPORTER' }]);
    const kinds = (await db().select().from(timelineEvents)).map((e) => e.kind).sort();
    expect(kinds).toEqual(['announced', 'card_posted', 'channel_created', 'declared', 'role_assigned']);
    // The card is posted while the channel is recorded and pinned while the card is; the timeline still
    // tells it in order.
    const story = (await db().select().from(timelineEvents).orderBy(timelineEvents.id))
      .map((e) => e.kind)
      .filter((k) => k !== 'announced');
    expect(story).toEqual(['declared', 'role_assigned', 'channel_created', 'card_posted']);
    const order = slack.calls.map((c) => c.method);
    expect(order.indexOf('conversations.create')).toBeLessThan(order.indexOf('chat.postMessage'));
    expect(order.indexOf('chat.postMessage')).toBeLessThan(order.indexOf('pins.add'));
    const [job] = await db().select().from(timers);
    expect(job?.status).toBe('done');
  });

  it('shows each bad field under that field and stores nothing', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [declareView({ title: '   ' }), 'title', /Give the incident a title/],
      [declareView({ title: 'x'.repeat(151) }), 'title', /150 characters or fewer \(this one has 151\)/],
      [declareView({ title: 'ok', severity: null }), 'severity', /Choose a severity/],
      [declareView({ title: 'ok', severity: 'SEV9' }), 'severity', /"SEV9" is not a severity/],
    ];
    for (const [view, block, message] of cases) {
      const res = await app.submitView(view);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { response_action: string; errors: Record<string, string> };
      expect(body.response_action).toBe('errors');
      expect(body.errors[block]).toMatch(message);
    }
    expect(await db().select().from(incidents)).toHaveLength(0);
    expect(slack.calls.filter((c) => c.method !== 'auth.test')).toHaveLength(0);
  });

  it('creates one incident and one channel when the same submission arrives twice', async () => {
    const view = declareView({ title: 'Double click' });
    const [a, b] = await Promise.all([app.submitView(view), app.submitView(view)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await app.submitView(view); // and a Slack retry later
    await app.bot.engine.drain();
    expect(await db().select().from(incidents)).toHaveLength(1);
    expect(slack.callsTo('conversations.create')).toHaveLength(1);
  });

  it('adds a suffix when the channel name is taken by someone else', async () => {
    slack.addChannel('inc-1-payments-slow');
    await submitAndSettle(declareView({ title: 'Payments slow' }));
    expect(slack.callsTo('conversations.create').map((c) => c.args.name)).toEqual([
      'inc-1-payments-slow',
      'inc-1-payments-slow-2',
    ]);
    const [row] = await db().select().from(incidents);
    expect(row?.channelName).toBe('inc-1-payments-slow-2');
    expect(row?.cardTs).toBeTruthy();
  });

  it('completes after conversations.create fails with HTTP 500, on the retry', async () => {
    slack.override('conversations.create', (_args, nth) =>
      nth === 1 ? { status: 500, body: { ok: false } } : undefined,
    );
    await submitAndSettle(declareView({ title: 'Flaky Slack' }));
    let [row] = await db().select().from(incidents);
    expect(row?.channelId).toBeNull();
    const [job] = await db().select().from(timers);
    expect(job).toMatchObject({ status: 'pending', attempts: 1 });
    expect(job?.lastError).toMatch(/HTTP 500/);

    clock.advance(60_000);
    await app.bot.engine.drain();
    [row] = await db().select().from(incidents);
    expect(row?.channelId).toBeTruthy();
    expect(row?.pinSettled).toBe(true);
    expect(slack.channels).toHaveLength(1);
  });

  it('backs off by the attempts that achieved nothing, and retries in a second after progress', async () => {
    slack.override('conversations.create', (_args, nth) =>
      nth <= 5 ? { status: 500, body: { ok: false } } : undefined,
    );
    slack.override('pins.add', (_args, nth) => (nth <= 2 ? { status: 500, body: { ok: false } } : undefined));
    await submitAndSettle(declareView({ title: 'Slow start' }));
    for (let attempt = 2; attempt <= 5; attempt++) {
      clock.advance(10 * 60_000);
      await app.bot.engine.drain();
    }
    const waitAfter = async () => {
      const [job] = await db().select().from(timers);
      return { attempts: job?.attempts, waitMs: (job?.dueAt.getTime() ?? 0) - clock.now().getTime() };
    };
    // Five attempts without progress: exponential backoff (16 s ± 25% after the fifth).
    const backedOff = await waitAfter();
    expect(backedOff.attempts).toBe(5);
    expect(backedOff.waitMs).toBeGreaterThanOrEqual(12_000);
    // The sixth makes the channel and the card, then the pin fails: the next try is a second away.
    clock.advance(10 * 60_000);
    await app.bot.engine.drain();
    expect(await waitAfter()).toEqual({ attempts: 6, waitMs: 1000 });
    // The seventh achieves nothing (the pin fails again). Seven of setup's steps are done, so it backs
    // off as a first failure (1 s ± 25%), not as a seventh (64 s).
    clock.advance(1000);
    await app.bot.engine.drain();
    const seventh = await waitAfter();
    expect(seventh.attempts).toBe(7);
    expect(seventh.waitMs).toBeGreaterThanOrEqual(750);
    expect(seventh.waitMs).toBeLessThanOrEqual(1250);
    clock.advance(2000);
    await app.bot.engine.drain();
    const [row] = await db().select().from(incidents);
    expect(row?.pinSettled).toBe(true);
    expect(slack.pins).toHaveLength(1);
    expect(slack.channels).toHaveLength(1);
  });

  it('adopts the channel it created when Slack applied the call but the answer was lost', async () => {
    // Slack creates the channel, then the response never arrives (a 500 after the fact).
    slack.override('conversations.create', (args, nth) => {
      if (nth !== 1) return undefined;
      slack.addChannel(String(args.name), BOT_USER_ID);
      return { status: 500, body: { ok: false } };
    });
    await submitAndSettle(declareView({ title: 'Lost answer' }));
    clock.advance(60_000);
    await app.bot.engine.drain();
    expect(slack.channels).toHaveLength(1);
    const [row] = await db().select().from(incidents);
    expect(row?.channelId).toBe(slack.channels[0]?.id);
    expect(row?.channelName).toBe('inc-1-lost-answer');
    const created = (await db().select().from(timelineEvents)).find((e) => e.kind === 'channel_created');
    expect(created?.data).toMatchObject({ adopted: true });
  });

  it('does not post a second card when the first post succeeded but its answer was lost', async () => {
    slack.override('chat.postMessage', (args, nth) =>
      nth === 1 ? postButLoseTheAnswer(args, '1700000000.999999') : undefined,
    );
    await submitAndSettle(declareView({ title: 'Card once' }));
    clock.advance(60_000);
    await app.bot.engine.drain();
    const cards = slack.messages.filter((m) => m.metadata?.event_type === 'incident_card');
    expect(cards).toHaveLength(1);
    const [row] = await db().select().from(incidents);
    expect(row?.cardTs).toBe('1700000000.999999');
    expect(slack.pins).toEqual([{ channel: row?.channelId, ts: '1700000000.999999' }]);
  });

  it('does not tell the reporter twice when the first DM was delivered but its answer was lost', async () => {
    const dm = dmChannelOf('U0REPORTER');
    let dmCalls = 0;
    slack.override('chat.postMessage', (args) =>
      args.channel === dm && ++dmCalls === 1 ? postButLoseTheAnswer(args, '1700000000.888888') : undefined,
    );
    await submitAndSettle(declareView({ title: 'Tell once' }));
    const [before] = await db().select().from(incidents);
    expect(before?.notifySettled).toBe(false);
    clock.advance(60_000);
    await app.bot.engine.drain();
    const [row] = await db().select().from(incidents);
    expect(row?.notifySettled).toBe(true);
    expect(slack.messages.filter((m) => m.channel === dm)).toHaveLength(1);
    expect(slack.callsTo('conversations.history').some((c) => c.args.channel === dm)).toBe(true);
  });

  it('records a permanent failure on the timeline and tells the reporter', async () => {
    slack.override('conversations.create', () => ({ body: { ok: false, error: 'restricted_action' } }));
    await submitAndSettle(declareView({ title: 'Not allowed' }));
    const [job] = await db().select().from(timers);
    expect(job?.status).toBe('failed');
    const failure = (await db().select().from(timelineEvents)).find((e) => e.kind === 'side_effect_failed');
    expect(failure?.data).toMatchObject({ step: 'creating the channel', final: true });
    const dm = slack.messages.find((m) => m.channel === dmChannelOf('U0REPORTER'));
    expect(dm?.text).toContain('restricted_action');
    expect(slack.callsTo('conversations.create')).toHaveLength(1);
  });

  it('keeps going when the announcement fails for good, and says so', async () => {
    slack.override('chat.postMessage', (args) =>
      args.channel === ANNOUNCE ? { body: { ok: false, error: 'not_in_channel' } } : undefined,
    );
    await submitAndSettle(declareView({ title: 'Quiet announce' }));
    const [row] = await db().select().from(incidents);
    expect(row).toMatchObject({ announceSettled: true, announcementTs: null, pinSettled: true });
    const dms = slack.messages.filter((m) => m.channel === dmChannelOf('U0REPORTER')).map((m) => m.text);
    expect(dms.some((t) => t.includes('not_in_channel') && t.includes('posting the announcement'))).toBe(
      true,
    );
    const [job] = await db().select().from(timers);
    expect(job?.status).toBe('done');
  });

  it('retries at Retry-After when Slack rate limits', async () => {
    slack.override('pins.add', (_a, nth) =>
      nth === 1 ? { status: 429, headers: { 'retry-after': '7' }, body: {} } : undefined,
    );
    await submitAndSettle(declareView({ title: 'Rate limited' }));
    const [job] = await db().select().from(timers);
    expect(job?.status).toBe('pending');
    expect(job?.dueAt.getTime()).toBe(clock.now().getTime() + 7000);
    clock.advance(7000);
    await app.bot.engine.drain();
    expect(slack.pins).toHaveLength(1);
    // Steps that had settled are not repeated.
    expect(slack.callsTo('conversations.setTopic')).toHaveLength(1);
    expect(slack.messages.filter((m) => m.channel === ANNOUNCE)).toHaveLength(1);
  });

  it('gives private incidents a private channel and no announcement; test incidents are not announced', async () => {
    await submitAndSettle(declareView({ title: 'Secret', private: true }, 'V0PRIVATE1'));
    await submitAndSettle(declareView({ title: 'Drill', test: true }, 'V0TEST0001'));
    const creates = slack.callsTo('conversations.create');
    expect(creates.map((c) => [c.args.name, c.args.is_private])).toEqual([
      ['inc-1-secret', 'true'],
      ['inc-2-drill', 'false'],
    ]);
    expect(slack.messages.filter((m) => m.channel === ANNOUNCE)).toHaveLength(0);
    const rows = await db().select().from(incidents);
    expect(rows.map((r) => [r.number, r.isPrivate, r.isTest]).sort()).toEqual([
      [1, true, false],
      [2, false, true],
    ]);
  });

  it('escapes <!channel> and links in user text in every message', async () => {
    const title = '<!channel> <https://evil.example|click> & co';
    await submitAndSettle(declareView({ title, summary: '<!here> <@U0VICTIM>' }));
    const posted = slack.callsTo('chat.postMessage');
    expect(posted.length).toBe(3); // card, announcement, DM
    for (const call of posted) {
      // Everything Slack parses as mrkdwn: the fallback text and every mrkdwn text object.
      const mrkdwn = [String(call.args.text), ...mrkdwnTexts(call.args.blocks)].join('\n');
      expect(mrkdwn).not.toMatch(/<!channel>|<!here>|<https:\/\/evil|<@U0VICTIM>/);
      expect(mrkdwn).toContain('&lt;!channel&gt;');
    }
    const [row] = await db().select().from(incidents);
    expect(row?.title).toBe(title);
    expect(row?.channelName).toBe('inc-1-channel-https-evil-example-click-co');
  });

  it('never lets NUL bytes reach Postgres', async () => {
    await submitAndSettle(declareView({ title: 'Nul\u0000byte', summary: 'a\u0000b' }));
    const [row] = await db().select().from(incidents).where(eq(incidents.number, 1));
    expect(row?.title).toBe('Nulbyte');
    expect(row?.summary).toBe('ab');
  });
});

describe('request signing', () => {
  it('rejects a forged signature with 401 and writes nothing', async () => {
    const res = await app.post(
      new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission' }) }).toString(),
      {
        signature: `v0=${'0'.repeat(64)}`,
      },
    );
    expect(res.status).toBe(401);
    const forgedCommand = await app.post('command=%2Fincident&text=help', { signature: 'v0=deadbeef' });
    expect(forgedCommand.status).toBe(401);
    expect(await db().select().from(incidents)).toHaveLength(0);
    expect(slack.calls.filter((c) => c.method !== 'auth.test')).toHaveLength(0);
  });

  it('rejects a correctly signed request older than 5 minutes with 401', async () => {
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    const res = await app.post('command=%2Fincident&text=help', { timestamp: old });
    expect(res.status).toBe(401);
  });

  it('rejects a correctly signed request from more than 5 minutes in the future with 401', async () => {
    const future = Math.floor(Date.now() / 1000) + 6 * 60;
    expect((await app.post('command=%2Fincident&text=help', { timestamp: future })).status).toBe(401);
  });

  it('answers 400 to a signed body that is not a Slack request, instead of crashing or timing out', async () => {
    for (const body of [
      'payload=null',
      'payload=%5B%5D',
      'payload=%7B%22type%22%3A%22view_submission%22%7D',
      'just=fields',
    ]) {
      expect((await app.post(body)).status).toBe(400);
    }
    expect((await app.post('command=%2Fincident&text=help&team_id=T1&user_id=U1&channel_id=C1')).status).toBe(
      200,
    );
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await app.post(`payload=${'a'.repeat(2 * 1024 * 1024)}`);
    expect(res.status).toBe(413);
  });
});
