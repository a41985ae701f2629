import { eq } from 'drizzle-orm';
import ICAL from 'ical.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIncidentConfig } from '../../src/config/index.js';
import { incidents, timelineEvents } from '../../src/db/schema.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, ICAL_TOKEN, startTestBot, type TestBot } from '../helpers/http.js';
import { dmChannelOf, isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/**
 * On-call through the real app: `/incident oncall` and its buttons, overrides and their removal, handoff
 * DMs and the user group kept in step (at startup, at a handoff, after a restart that missed one), paging
 * `schedule:<name>` when a tier fires, and the iCal feed read back by a maintained iCal parser (ical.js).
 *
 * The clock starts on Thursday 26 November 2026 at 10:00 UTC, 11:00 in Berlin. The daily rotation started
 * on Monday 2 November at 09:00 Berlin time: 24 turns ago, so U0AAA (turn 24 mod 3 = 0) is on call until
 * Friday 09:00 Berlin (08:00 UTC), then U0BBB, U0CCC, U0AAA.
 */

const ALERTS_KEY = 'prom-key-0123456789abcdef';
const CONFIG = parseIncidentConfig(
  `
schedules:
  primary:
    time_zone: Europe/Berlin
    usergroup: S0PRIMARY
    layers:
      - start: "2026-11-02 09:00"
        turn: 1d
        users: [U0AAA, U0BBB, U0CCC]
  nights:
    time_zone: Europe/Berlin
    layers:
      - start: "2026-11-02 00:00"
        turn: 1w
        users: [U0NIGHT]
        only: { from: "22:00", to: "06:00" }
  solo:
    time_zone: Europe/Berlin
    layers:
      - { start: "2026-10-01 09:00", turn: 1w, users: [U0SOLO1] }
escalation_policies:
  oncall:
    tiers:
      - after: 0m
        notify: ["schedule:primary"]
      - after: 5m
        notify: [U0TIER2AA]
  nights:
    tiers:
      - after: 0m
        notify: ["schedule:nights"]
      - after: 10m
        notify: [U0BACKUP1]
      - after: 20m
        notify: [U0BACKUP2]
severities:
  - { id: SEV1, description: Critical, escalation_policy: oncall }
  - { id: SEV2, description: Major, escalation_policy: nights }
alerts:
  channel: C0ALERTS
  integrations:
    - { name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS }
  routes:
    - { match: { severity: critical }, escalation_policy: oncall }
`,
  'test-config',
  { ALERTS_KEY_PROMETHEUS: ALERTS_KEY },
);

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;
const db = () => testDb().database.db;
const HOUR = 3_600_000;

async function start() {
  app = await startTestBot({ database: testDb().database, clock, incident: CONFIG });
  await app.bot.engine.drain();
}

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  slack.usergroups.set('S0PRIMARY', ['U0OLDGUARD']);
  clock = new FakeClock('2026-11-26T10:00:00Z');
  await start();
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

async function tick(ms = 0) {
  clock.advance(ms);
  await app.bot.engine.drain();
}

/** An ephemeral answer to a command: its text and blocks as one string. */
async function ask(text: string, user = 'U0REPORTER'): Promise<string> {
  const res = await app.command(text, { user_id: user });
  expect(res.status).toBe(200);
  const body = await res.text();
  await tick();
  if (!body) return JSON.stringify(slack.callsTo('response_url').at(-1)?.args ?? {});
  const json = JSON.parse(body) as { response_type?: string };
  expect(json.response_type).toBe('ephemeral');
  return body;
}

const dmsTo = (user: string) => slack.messages.filter((m) => m.channel === dmChannelOf(user));
const groupUpdates = () => slack.callsTo('usergroups.users.update').map((c) => c.args);
const seconds = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

describe('/incident oncall', () => {
  it('says who is on call, until when, and the next three handoffs, with Override and Take buttons', async () => {
    const answer = await ask('oncall primary');
    expect(answer).toContain('On call now: <@U0AAA>, until <!date^');
    // Handoffs at 09:00 Berlin, as date tokens every reader sees in their own zone.
    for (const [user, iso] of [
      ['U0BBB', '2026-11-27T08:00:00Z'],
      ['U0CCC', '2026-11-28T08:00:00Z'],
      ['U0AAA', '2026-11-29T08:00:00Z'],
    ] as const)
      expect(answer).toContain(`<@${user}> from <!date^${seconds(iso)}^`);
    expect(answer).toContain('oncall_override');
    expect(answer).toContain('oncall_take_shift');
    // Every schedule without a name; a restricted one says nobody, until its window opens (22:00 Berlin).
    const all = await ask('oncall');
    expect(all).toContain('*primary*');
    expect(all).toContain(`Nobody is on call now, until <!date^${seconds('2026-11-26T21:00:00Z')}^`);
    expect(await ask('oncall tertiary')).toContain(
      'There is no schedule called `tertiary`. Schedules: `primary`, `nights`, `solo`.',
    );
    // Names of inherited properties are not schedules either.
    expect(await ask('oncall constructor')).toContain('There is no schedule called `constructor`.');
    expect(await ask('oncall override toString <@U0BBB|bob> 1h')).toContain(
      'There is no schedule called `toString`.',
    );
    expect(await ask('oncall override primary U0BBB 4h')).toContain('is not a mention of a person');
    expect(await ask('oncall override primary <@U0BBB|bob> soon')).toContain('`soon` is not a duration');
  });

  it('an override by command: the person on call now is relieved and told, the new one told with what is open, the group follows', async () => {
    expect(groupUpdates()).toEqual([{ usergroup: 'S0PRIMARY', users: 'U0AAA' }]); // reconciled at startup
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1' }), 'U0REPORTER');
    await tick();
    const answer = await ask('oncall override primary <@U0SUBST|sub> 4h', 'U0LEAD');
    expect(answer).toContain(
      `<@U0SUBST> is on call for *primary* until <!date^${seconds('2026-11-26T14:00:00Z')}^`,
    );
    expect(await ask('oncall primary')).toContain('On call now: <@U0SUBST> (override set by <@U0LEAD>)');
    // The relieved person hears who covers them; the new one gets the handoff DM with the open incident.
    expect(dmsTo('U0AAA').at(-1)?.text).toContain('<@U0SUBST> covers your *primary* shift');
    const handoff = dmsTo('U0SUBST');
    expect(handoff).toHaveLength(1);
    expect(JSON.stringify(handoff[0]?.blocks)).toContain('You are on call for *primary* until');
    expect(JSON.stringify(handoff[0]?.blocks)).toContain('(an override set by <@U0LEAD>)');
    expect(JSON.stringify(handoff[0]?.blocks)).toContain('Incident #1 *Checkout down* (SEV1)');
    expect(groupUpdates().at(-1)).toEqual({ usergroup: 'S0PRIMARY', users: 'U0SUBST' });

    // The override ends at 14:00 UTC: the rotation's person is back, told once, and the group follows.
    await tick(4 * HOUR);
    await tick();
    expect(dmsTo('U0AAA').filter((m) => m.text.includes('You are on call for *primary*'))).toHaveLength(1);
    expect(groupUpdates().at(-1)).toEqual({ usergroup: 'S0PRIMARY', users: 'U0AAA' });
  });

  it('an override across a handoff relieves everyone whose shift it covers, and tells each', async () => {
    // Thursday 10:00 to Friday 10:00 UTC: U0AAA until Friday 08:00, then U0BBB.
    await ask('oncall override primary <@U0SUBST|sub> 1d', 'U0LEAD');
    for (const user of ['U0AAA', 'U0BBB'])
      expect(dmsTo(user).at(-1)?.text).toContain('<@U0SUBST> covers your *primary* shift');
    expect(await ask('oncall overrides')).toContain('instead of <@U0AAA>, <@U0BBB> (set by <@U0LEAD>)');
  });

  it('lists overrides with Remove; removing one tells both and puts the rotation back', async () => {
    await ask('oncall override primary <@U0SUBST|sub> 2h', 'U0LEAD');
    const list = await ask('oncall overrides');
    expect(list).toContain('*primary*: <@U0SUBST> from');
    expect(list).toContain('instead of <@U0AAA> (set by <@U0LEAD>)');
    const id = /"action_id":"oncall_remove_override","text":\{[^}]*\},"value":"(\d+)"/.exec(list)?.[1];
    expect(id).toBeDefined();
    await app.action({ action_id: 'oncall_remove_override', value: id as string }, { user: 'U0OTHER1' });
    await tick();
    expect(JSON.stringify(slack.callsTo('response_url').at(-1)?.args)).toContain('Removed <@U0SUBST>');
    expect(dmsTo('U0SUBST').at(-1)?.text).toContain('<@U0OTHER1> removed your override of *primary*');
    expect(dmsTo('U0AAA').at(-1)?.text).toContain('You are on call for *primary*');
    expect(await ask('oncall primary')).toContain('On call now: <@U0AAA>, until');
    expect(await ask('oncall overrides')).toContain('No overrides now or to come');
    // Removed twice (a stale list): said in words.
    await app.action({ action_id: 'oncall_remove_override', value: id as string });
    await tick();
    expect(JSON.stringify(slack.callsTo('response_url').at(-1)?.args)).toContain('removed already');
  });

  it('the Override button opens the form; a future override is announced now and handed over at its start', async () => {
    await app.action({ action_id: 'oncall_override', value: 'primary' }, { user: 'U0LEAD' });
    const view = slack.callsTo('views.open').at(-1)?.args.view as {
      callback_id: string;
      blocks: { block_id: string; element: Record<string, unknown> }[];
    };
    expect(view.callback_id).toBe('oncall_override');
    expect(view.blocks.find((b) => b.block_id === 'schedule')?.element.initial_option).toMatchObject({
      value: 'primary',
    });
    const submit = (start: string, end: string) =>
      app.submitView(
        {
          id: 'V0OVERRIDE',
          type: 'modal',
          callback_id: 'oncall_override',
          private_metadata: '{}',
          state: {
            values: {
              schedule: { schedule_select: { type: 'static_select', selected_option: { value: 'primary' } } },
              user: { user_select: { type: 'users_select', selected_user: 'U0SUBST' } },
              start: { start_picker: { type: 'datetimepicker', selected_date_time: seconds(start) } },
              end: { end_picker: { type: 'datetimepicker', selected_date_time: seconds(end) } },
            },
          },
        },
        'U0LEAD',
      );
    const refused = await submit('2026-11-27T12:00:00Z', '2026-11-27T10:00:00Z');
    expect(await refused.json()).toEqual({
      response_action: 'errors',
      errors: { end: 'The override must end after it starts.' },
    });
    const ok = await submit('2026-11-27T12:00:00Z', '2026-11-27T18:00:00Z');
    expect(ok.status).toBe(200);
    await tick();
    // Tomorrow U0BBB is on call: relieved; U0SUBST is told now, and handed the shift at noon.
    expect(dmsTo('U0SUBST').at(-1)?.text).toContain('<@U0LEAD> put you on call for *primary* from');
    expect(dmsTo('U0SUBST').at(-1)?.text).toContain('instead of <@U0BBB>');
    expect(dmsTo('U0BBB').at(-1)?.text).toContain('<@U0SUBST> covers your *primary* shift');
    await tick(new Date('2026-11-27T12:00:00Z').getTime() - clock.now().getTime());
    await tick();
    expect(dmsTo('U0SUBST').at(-1)?.text).toContain('You are on call for *primary*');
    expect(groupUpdates().at(-1)).toEqual({ usergroup: 'S0PRIMARY', users: 'U0SUBST' });
  });

  it('Take the rest of this shift: the one who clicks is on call until the next handoff', async () => {
    await app.action({ action_id: 'oncall_take_shift', value: 'primary' }, { user: 'U0HERO1' });
    await tick();
    expect(JSON.stringify(slack.callsTo('response_url').at(-1)?.args)).toContain(
      `You are on call for *primary* until <!date^${seconds('2026-11-27T08:00:00Z')}^`,
    );
    expect(await ask('oncall primary')).toContain('On call now: <@U0HERO1> (override set by <@U0HERO1>)');
    // At the handoff the rotation goes on as planned.
    await tick(new Date('2026-11-27T08:00:00Z').getTime() - clock.now().getTime());
    await tick();
    expect(await ask('oncall primary')).toContain('On call now: <@U0BBB>, until');
    await app.action({ action_id: 'oncall_take_shift', value: 'primary' }, { user: 'U0BBB' });
    await tick();
    expect(JSON.stringify(slack.callsTo('response_url').at(-1)?.args)).toContain(
      'You are on call for primary already.',
    );
  });
});

describe('handoffs', () => {
  it('at a turn the incoming person gets one DM and the group is set; unchanged, the group is left alone', async () => {
    const before = groupUpdates().length;
    await tick(new Date('2026-11-27T08:00:00Z').getTime() - clock.now().getTime());
    await tick();
    await tick(1000);
    const told = dmsTo('U0BBB').filter((m) => m.text.includes('You are on call for *primary*'));
    expect(told).toHaveLength(1);
    expect(JSON.stringify(told[0]?.blocks)).toContain(`until <!date^${seconds('2026-11-28T08:00:00Z')}^`);
    expect(JSON.stringify(told[0]?.blocks)).toContain('Nothing is open.');
    expect(groupUpdates().slice(before)).toEqual([{ usergroup: 'S0PRIMARY', users: 'U0BBB' }]);
    // A restart reconciles the group: already right, so no call.
    await app.stop();
    await start();
    expect(groupUpdates().slice(before)).toHaveLength(1);
  });

  it('a handoff missed while the bot was down is done at startup, once', async () => {
    await app.stop();
    clock.set('2026-11-27T09:30:00Z'); // the 08:00 UTC handoff passed while it was down
    await start();
    await tick(1000);
    expect(dmsTo('U0BBB').filter((m) => m.text.includes('You are on call for *primary*'))).toHaveLength(1);
    expect(groupUpdates().at(-1)).toEqual({ usergroup: 'S0PRIMARY', users: 'U0BBB' });
    await app.stop();
    await start();
    expect(dmsTo('U0BBB').filter((m) => m.text.includes('You are on call for *primary*'))).toHaveLength(1);
  });

  it('nobody on call keeps the user group as it is (Slack refuses an empty one)', async () => {
    await app.stop();
    const config = parseIncidentConfig(
      `
schedules:
  office:
    time_zone: Europe/Berlin
    usergroup: S0OFFICE
    layers:
      - { start: "2026-11-02 09:00", turn: 1d, users: [U0AAA], only: { from: "09:00", to: "10:00" } }
`,
      'test-config',
    );
    slack.usergroups.set('S0OFFICE', ['U0KEEP01']);
    app = await startTestBot({ database: testDb().database, clock, incident: config });
    await app.bot.engine.drain();
    expect(slack.usergroups.get('S0OFFICE')).toEqual(['U0KEEP01']);
    expect(slack.callsTo('usergroups.users.update').filter((c) => c.args.usergroup === 'S0OFFICE')).toEqual(
      [],
    );
    expect(app.logLines.join('\n')).toContain('nobody is on call: the user group keeps its members');
  });
});

describe('paging whoever is on call', () => {
  it('schedule:<name> resolves when the tier fires: after an override, the override pages', async () => {
    await ask('oncall override primary <@U0SUBST|sub> 1h', 'U0LEAD');
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1' }), 'U0REPORTER');
    await tick();
    const paged = await db().select().from(timelineEvents).where(eq(timelineEvents.kind, 'paged'));
    expect(paged.map((e) => (e.data as { users: string[] }).users)).toEqual([['U0SUBST']]);
    expect(dmsTo('U0SUBST').some((m) => m.text.includes('You are paged (tier 1)'))).toBe(true);
    expect(dmsTo('U0AAA').some((m) => m.text.includes('You are paged'))).toBe(false);
  });

  it('a tier that resolves to nobody is recorded and the next tier pages at once', async () => {
    await app.submitView(declareView({ title: 'Night shift missing', severity: 'SEV2' }), 'U0REPORTER');
    await tick();
    const [incident] = await db().select().from(incidents);
    const paged = (
      await db()
        .select()
        .from(timelineEvents)
        .where(eq(timelineEvents.incidentId, incident?.id as string))
    ).filter((e) => e.kind === 'paged');
    expect(paged.map((e) => e.data)).toEqual([
      expect.objectContaining({ label: 'tier 1', users: [], skippedTo: 'tier 2' }),
      expect.objectContaining({ label: 'tier 2', users: ['U0BACKUP1'] }),
    ]);
    expect(
      slack.messages.some((m) =>
        m.text.includes('nobody to page (nobody on call, no members) — tier 2 pages now'),
      ),
    ).toBe(true);
    // Tier 3 keeps its rhythm from tier 2: ten minutes after it, not twenty after the start.
    await tick(10 * 60_000);
    expect(dmsTo('U0BACKUP2').some((m) => m.text.includes('You are paged (tier 3)'))).toBe(true);
  });
});

describe('the alert hub pages whoever is on call', () => {
  it('a route through a policy with schedule:<name> pages the person on call; the next one inherits the group', async () => {
    const base = app.url.replace(/\/slack\/events$/, '');
    const res = await fetch(`${base}/alerts/prometheus`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALERTS_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        status: 'firing',
        alerts: [
          { status: 'firing', labels: { alertname: 'DiskFull', severity: 'critical' }, annotations: {} },
        ],
      }),
    });
    expect(res.status).toBe(202);
    await tick();
    await tick(1000);
    expect(dmsTo('U0AAA').some((m) => m.text.startsWith('📟 Paged: [FIRING:1] DiskFull'))).toBe(true);
    // Friday's handoff: U0BBB is told the group is open, with a link to its message.
    await tick(new Date('2026-11-27T08:00:00Z').getTime() - clock.now().getTime());
    await tick();
    const told = JSON.stringify(
      dmsTo('U0BBB').find((m) => m.text.includes('You are on call for *primary*'))?.blocks,
    );
    expect(told).toMatch(
      /• Alerts: <https:\/\/acme\.slack\.com\/archives\/C0ALERTS\/p\d+\|DiskFull> — 1 firing/,
    );
  });
});

describe('the iCal feed', () => {
  const feed = async (query: string, path = '/oncall/primary.ics') => {
    const base = app.url.replace(/\/slack\/events$/, '');
    return fetch(`${base}${path}${query}`);
  };

  it('serves the next 8 weeks of shifts, per person if asked, only with the token', async () => {
    expect((await feed('')).status).toBe(401);
    expect((await feed('?token=wrong-token-0123456789')).status).toBe(401);
    expect((await feed(`?token=${ICAL_TOKEN}`, '/oncall/tertiary.ics')).status).toBe(404);
    expect((await feed(`?token=${ICAL_TOKEN}`, '/oncall/constructor.ics')).status).toBe(404);
    expect((await feed(`?token=${ICAL_TOKEN}&user=bob`)).status).toBe(400);
    const res = await feed(`?token=${ICAL_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    const calendar = new ICAL.Component(ICAL.parse(await res.text()));
    const events = calendar.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
    // One event per daily shift, from the one in progress (it began at 09:00 Berlin today) for 8 weeks.
    expect(events.length).toBe(57);
    expect(events[0]?.summary).toBe('On call: primary — U0AAA');
    expect(events[0]?.startDate.toJSDate().toISOString()).toBe('2026-11-26T08:00:00.000Z');
    expect(events[1]?.startDate.toJSDate().toISOString()).toBe('2026-11-27T08:00:00.000Z');
    expect(events[1]?.endDate.toJSDate().toISOString()).toBe('2026-11-28T08:00:00.000Z');
    expect(new Set(events.map((e) => e.uid)).size).toBe(events.length);
    const mine = new ICAL.Component(ICAL.parse(await (await feed(`?token=${ICAL_TOKEN}&user=U0BBB`)).text()))
      .getAllSubcomponents('vevent')
      .map((v) => new ICAL.Event(v));
    expect(mine.length).toBe(19);
    expect(mine.every((e) => e.summary === 'On call: primary')).toBe(true);
    // No clock change in these weeks: every handoff is 09:00 CET, 08:00 UTC.
    expect(mine.every((e) => e.startDate.toJSDate().toISOString().endsWith('T08:00:00.000Z'))).toBe(true);
  });

  it('a shift that began weeks ago keeps its real start, and its id from fetch to fetch', async () => {
    const events = async () =>
      new ICAL.Component(ICAL.parse(await (await feed(`?token=${ICAL_TOKEN}`, '/oncall/solo.ics')).text()))
        .getAllSubcomponents('vevent')
        .map((v) => new ICAL.Event(v));
    const [first] = await events();
    expect(first?.startDate.toJSDate().toISOString()).toBe('2026-10-01T07:00:00.000Z'); // 09:00 CEST
    await tick(3 * 86_400_000);
    const [later] = await events();
    expect(later?.uid).toBe(first?.uid);
  });

  it('is off without ONCALL_ICAL_TOKEN', async () => {
    await app.stop();
    app = await startTestBot({ database: testDb().database, clock, incident: CONFIG, noIcalToken: true });
    expect((await feed(`?token=${ICAL_TOKEN}`)).status).toBe(404);
  });
});
