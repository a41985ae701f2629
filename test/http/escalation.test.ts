import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIncidentConfig } from '../../src/config/index.js';
import { incidents, timelineEvents } from '../../src/db/schema.js';
import { timers } from '../../src/jobs/table.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { dmChannelOf, isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

const CONFIG = parseIncidentConfig(
  `
announcements_channel: C0ANNOUNCE
escalation_policies:
  default:
    tiers:
      - after: 0m
        notify: [S0ONCALL1]
      - after: 5m
        notify: [U0TIER2AA]
      - after: 15m
        notify: [U0INCMGR1]
severities:
  - id: SEV1
    description: Critical
    escalation_policy: default
    update_every: 20m
    postmortem_due: 3d
  - id: SEV2
    description: Major
reminders:
  missing_commander_after: 10m
  deputy_callouts: 10m
`,
  'test-config',
);

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;
let channel: string;
const min = (n: number) => n * 60_000;
const db = () => testDb().database.db;

async function tick(ms = 0) {
  clock.advance(ms);
  await app.bot.engine.drain();
}

async function declare(fields: Parameters<typeof declareView>[0], viewId = 'V0ESC00001') {
  const before = slack.channels.length;
  await app.submitView(declareView({ title: 'Payments down', ...fields }, viewId));
  await tick();
  channel = slack.channels[before]?.id as string;
}

async function command(text: string, user = 'U0CMD0001') {
  const res = await app.command(text, { channel_id: channel, user_id: user });
  const body = await res.text();
  await tick();
  return body ? (JSON.parse(body) as { text: string; blocks?: unknown[] }) : { text: '' };
}

const dms = (user: string) => slack.messages.filter((m) => m.channel === dmChannelOf(user));
const pagesOf = (user: string) => dms(user).filter((m) => m.text.startsWith('📟 You are paged'));
const channelTexts = () => slack.messages.filter((m) => m.channel === channel).map((m) => m.text);
const responses = () =>
  slack.callsTo('response_url').map((c) => c.args as { text?: string; blocks?: unknown[] });
async function incident() {
  const [row] = await db().select().from(incidents).where(eq(incidents.channelId, channel));
  if (!row) throw new Error('no incident');
  return row;
}

/** The first DM to `user` is applied by Slack, but its answer is lost (HTTP 500): a retry must find it. */
function loseFirstDmAnswer(user: string) {
  slack.override('chat.postMessage', (args, nth) => {
    if (
      args.channel !== dmChannelOf(user) ||
      nth > 50 ||
      slack.messages.some((m) => m.channel === args.channel)
    )
      return undefined;
    slack.messages.push({
      channel: String(args.channel),
      ts: '1700000001.000001',
      text: String(args.text),
      blocks: args.blocks,
      metadata: args.metadata as never,
    });
    return { status: 500, body: { ok: false } };
  });
}

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  slack.usergroups.set('S0ONCALL1', ['U0ONCALL1', 'U0ONCALL2']);
  clock = new FakeClock();
  app = await startTestBot({ database: testDb().database, clock, incident: CONFIG });
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

describe('escalation', () => {
  it('pages tier 1 on declare, tier 2 after 5 minutes, and stops after /incident ack', async () => {
    await declare({ severity: 'SEV1' });
    // Tier 1 is a user group: each member gets a DM with an Acknowledge button and an invite.
    for (const user of ['U0ONCALL1', 'U0ONCALL2']) {
      expect(pagesOf(user)).toHaveLength(1);
      expect(JSON.stringify(pagesOf(user)[0]?.blocks)).toContain('"action_id":"incident_ack"');
      expect(slack.channels[0]?.members.has(user)).toBe(true);
    }
    expect(slack.callsTo('usergroups.users.list')[0]?.args.usergroup).toBe('S0ONCALL1');
    const posted = slack.messages.find((m) => m.channel === channel && m.text.startsWith('📟 Paged tier 1'));
    expect(posted?.text).toBe('📟 Paged tier 1: <@U0ONCALL1>, <@U0ONCALL2>');
    expect(JSON.stringify(posted?.blocks)).toContain('incident_ack');

    await tick(min(4) + 59_000);
    expect(pagesOf('U0TIER2AA')).toHaveLength(0);
    await tick(1000);
    expect(pagesOf('U0TIER2AA')).toHaveLength(1);
    expect(channelTexts()).toContain('📟 Paged tier 2: <@U0TIER2AA>');

    const ack = await command('ack', 'U0TIER2AA');
    // No commander yet: the acknowledger is offered the role, not given it.
    expect(ack.text).toContain('will you take command?');
    expect(JSON.stringify(ack.blocks)).toContain('take_command');
    expect(channelTexts()).toContain('✅ <@U0TIER2AA> acknowledged the incident; paging has stopped.');
    const row = await incident();
    expect(row.acknowledgedBy).toBe('U0TIER2AA');
    expect(row.acknowledgedAt?.toISOString()).toBe(clock.now().toISOString());
    const card = slack.messages.find((m) => m.metadata?.event_type === 'incident_card');
    expect(JSON.stringify(card?.blocks)).toContain('Acknowledged by <@U0TIER2AA>');

    await tick(min(30));
    expect(pagesOf('U0INCMGR1')).toHaveLength(0);
    const steps = await db().select().from(timers).where(eq(timers.kind, 'escalation.step'));
    expect(steps.map((s) => s.status).sort()).toEqual(['cancelled', 'done', 'done']);
    expect((await command('ack', 'U0ONCALL1')).text).toBe('<@U0TIER2AA> already acknowledged the incident.');

    await app.action({ action_id: 'take_command', value: row.id }, { user: 'U0TIER2AA', channel });
    await tick();
    expect(responses().at(-1)?.text).toBe('You are now the commander.');
    expect(channelTexts()).toContain('🎖️ <@U0TIER2AA> took command.');
  });

  it('acknowledges from the DM button; escalate pages the next tier now; page pages anyone', async () => {
    await declare({ severity: 'SEV1', commander: 'U0CMD0001' });
    expect((await command('escalate need the DBA')).text).toBe('Paging tier 2 now.');
    expect(pagesOf('U0TIER2AA')).toHaveLength(1);
    expect(pagesOf('U0TIER2AA')[0]?.text).toContain('need the DBA');
    // Tier 3 keeps its distance from tier 2: 10 minutes from now, not 15 from declare.
    await tick(min(9));
    expect(pagesOf('U0INCMGR1')).toHaveLength(0);
    await tick(min(1));
    expect(pagesOf('U0INCMGR1')).toHaveLength(1);
    expect((await command('escalate')).text).toBe(
      'Every tier has been paged. Page more people with `/incident page @person`.',
    );

    expect((await command('page <@U0EXTRA01|extra> <!subteam^S0ONCALL1|@oncall> please join')).text).toBe(
      'Paging <@U0EXTRA01>, <!subteam^S0ONCALL1>.',
    );
    expect(pagesOf('U0EXTRA01')).toHaveLength(1);
    expect(pagesOf('U0ONCALL1')).toHaveLength(2); // tier 1, then this page
    expect(channelTexts()).toContain(
      '📟 Paged by <@U0CMD0001>: <@U0EXTRA01>, <@U0ONCALL1>, <@U0ONCALL2> — please join',
    );

    const row = await incident();
    await app.action(
      { action_id: 'incident_ack', value: row.id },
      { user: 'U0EXTRA01', channel: dmChannelOf('U0EXTRA01') },
    );
    await tick();
    expect(responses().at(-1)?.text).toBe('Acknowledged; paging has stopped.');
    expect((await incident()).acknowledgedBy).toBe('U0EXTRA01');
    expect((await command('page nobody')).text).toMatch(/Mention who to page\. Usage/);
  });

  it('re-plans on severity change and stops everything on resolve', async () => {
    await declare({ severity: 'SEV2', commander: 'U0CMD0001' });
    expect(slack.messages.filter((m) => m.text.startsWith('📟'))).toHaveLength(0);
    await command('severity 1');
    expect(pagesOf('U0ONCALL1')).toHaveLength(1);
    await command('severity 2');
    await tick(min(20));
    expect(pagesOf('U0TIER2AA')).toHaveLength(0);
    await command('severity 1');
    expect(pagesOf('U0ONCALL1')).toHaveLength(2); // a new escalation for the new policy
    // Back on SEV1's cadence, 20 minutes have passed since declare: the update reminder is due at once.
    const reminders = () => channelTexts().filter((t) => t.startsWith('⏰'));
    expect(reminders()).toHaveLength(1);
    await command('resolve fixed');
    await tick(min(60));
    expect(pagesOf('U0TIER2AA')).toHaveLength(0);
    expect(reminders()).toHaveLength(1);
    const pending = await db().select().from(timers).where(eq(timers.status, 'pending'));
    expect(pending.map((t) => t.key.split(':').slice(2).join(':'))).toEqual(['postmortem']);
  });

  it('does not let a tier that keeps failing hold the next one back', async () => {
    // Tier 1's user group cannot be read at all: its step retries with growing backoff for an hour. Tier 2
    // waits for it only while it has failed fewer than three times, then pages on its own time.
    slack.override('usergroups.users.list', () => ({
      status: 500,
      body: { ok: false, error: 'internal_error' },
    }));
    await declare({ severity: 'SEV1' });
    for (let i = 0; i < 4; i++) await tick(min(1));
    expect(pagesOf('U0TIER2AA')).toHaveLength(0);
    await tick(min(1)); // tier 2's five minutes
    expect(pagesOf('U0TIER2AA')).toHaveLength(1);
    expect(channelTexts()).toContain('📟 Paged tier 2: <@U0TIER2AA>');
    expect(pagesOf('U0ONCALL1')).toHaveLength(0);
    // Slack lets tier 1's step through at last: tier 2 has paged, so it is not paged late, and the
    // timeline says why it never went out.
    slack.override('usergroups.users.list', () => undefined);
    for (let i = 0; i < 10; i++) await tick(min(1));
    expect(pagesOf('U0ONCALL1')).toHaveLength(0);
    const passed = await db().select().from(timelineEvents).where(eq(timelineEvents.kind, 'tier_passed'));
    expect(passed.map((e) => e.data)).toEqual([{ label: 'tier 1', paged: 'tier 2' }]);
  });

  it('sends a page once when, on the retry, Slack fails the look for the first copy for a while', async () => {
    // The first DM is applied but its answer lost; the retry's look for it then fails with a 500. Taking
    // that as "not sent" posted the page a second time; the look is tried again instead.
    loseFirstDmAnswer('U0ONCALL1');
    slack.override('conversations.history', (args, nth) =>
      args.channel === dmChannelOf('U0ONCALL1') && nth <= 2
        ? { status: 500, body: { ok: false } }
        : undefined,
    );
    await declare({ severity: 'SEV1' });
    for (let i = 0; i < 5; i++) await tick(min(1)); // the retries, each after its backoff
    expect(pagesOf('U0ONCALL1')).toHaveLength(1);
    expect(pagesOf('U0ONCALL2')).toHaveLength(1);
    // It did look again, past the two failures.
    expect(slack.callsTo('conversations.history').length).toBeGreaterThan(2);
  });

  it('pages every tier once, in order, when tier 1 is still retrying as tier 2 falls due', async () => {
    // Tier 1's user group cannot be read at first, so its step retries; when it runs again tier 2 is due
    // too and both are claimed together. Tier 2 waits for tier 1 rather than pass it by.
    let failing = true;
    slack.override('usergroups.users.list', () =>
      failing ? { status: 500, body: { ok: false, error: 'internal_error' } } : undefined,
    );
    await declare({ severity: 'SEV1' });
    expect(pagesOf('U0ONCALL1')).toHaveLength(0);
    failing = false;
    // Tier 2 is woken by tier 1 as it pages: no time has to pass.
    await tick(min(6));
    for (const user of ['U0ONCALL1', 'U0ONCALL2', 'U0TIER2AA']) expect(pagesOf(user)).toHaveLength(1);
    const paged = channelTexts().filter((t) => t.startsWith('📟 Paged tier'));
    expect(paged).toEqual(['📟 Paged tier 1: <@U0ONCALL1>, <@U0ONCALL2>', '📟 Paged tier 2: <@U0TIER2AA>']);
    expect(await incident()).toMatchObject({ escalationStep: 2 });
  });

  it('sends each page once even when Slack applied a DM whose answer was lost', async () => {
    loseFirstDmAnswer('U0ONCALL1');
    await declare({ severity: 'SEV1' });
    await tick(min(1));
    expect(pagesOf('U0ONCALL1')).toHaveLength(1);
    expect(slack.channels[0]?.members.has('U0ONCALL1')).toBe(true);
  });
});

describe('reminders', () => {
  it('reminds about status updates on the cadence; an update resets the clock; snooze pushes it', async () => {
    await declare({ severity: 'SEV1', commander: 'U0CMD0001' });
    await command('role liaison <@U0LIAISON>');
    const reminders = () => channelTexts().filter((t) => t.startsWith('⏰') && t.includes('status update'));
    await tick(min(19));
    expect(reminders()).toHaveLength(0);
    await tick(min(1));
    expect(reminders()).toEqual([
      '⏰ <@U0LIAISON>, it has been 20m since the last status update of incident #1 *Payments down* (SEV1). Time for an update.',
    ]);
    const reminder = slack.messages.find((m) => m.text.startsWith('⏰'));
    expect(JSON.stringify(reminder?.blocks)).toContain('card_update');
    expect(JSON.stringify(reminder?.blocks)).toContain('snooze_update_reminder');

    await command('update still on it', 'U0LIAISON');
    await tick(min(19));
    expect(reminders()).toHaveLength(1);
    await tick(min(1));
    expect(reminders()).toHaveLength(2);

    const row = await incident();
    await app.action({ action_id: 'snooze_update_reminder', value: row.id }, { user: 'U0LIAISON', channel });
    await tick();
    expect(responses().at(-1)?.text).toMatch(/^Snoozed: the next reminder comes at <!date\^/);
    await tick(min(14));
    expect(reminders()).toHaveLength(2);
    await tick(min(1));
    expect(reminders()).toHaveLength(3);
  });

  it('reminds a task assignee once when the time box runs out, not after it is done', async () => {
    await declare({ severity: 'SEV2', commander: 'U0CMD0001' });
    await command('task add Check replica lag <@U0BOB0001|bob> in 10m');
    await command('task add Already done in 10m');
    await command('task done 2');
    await tick(min(10));
    await tick(min(30));
    const due = channelTexts().filter((t) => t.includes('time box'));
    expect(due).toEqual([
      '⏰ <@U0BOB0001>, the time box of task *1* (Check replica lag) is up. Report back, or close it with `/incident task done 1`.',
    ]);
  });

  it('nudges a channel without a commander, offers command, and stays quiet once someone takes it', async () => {
    await declare({ severity: 'SEV2' });
    await tick(min(10));
    const nudge = slack.messages.find((m) => m.channel === channel && m.text.startsWith('🧭'));
    expect(nudge?.text).toContain('has had no commander for 10m');
    expect(JSON.stringify(nudge?.blocks)).toContain('take_command');

    await declare({ severity: 'SEV2', title: 'Has a lead' }, 'V0ESC00002');
    await command('role commander <@U0LEAD001>', 'U0LEAD001');
    await tick(min(30));
    expect(slack.messages.filter((m) => m.channel === channel && m.text.startsWith('🧭'))).toHaveLength(0);
  });

  it("calls out the deputy's 10-minute marks", async () => {
    await declare({ severity: 'SEV2', commander: 'U0CMD0001' });
    await command('role deputy <@U0DEPUTY1>');
    await tick(min(10));
    await tick(min(10));
    expect(
      dms('U0DEPUTY1')
        .map((m) => m.text)
        .filter((t) => t.startsWith('⏱️')),
    ).toEqual([
      '⏱️ incident #1 *Payments down* (SEV2) is now at the 10-minute mark.',
      '⏱️ incident #1 *Payments down* (SEV2) is now at the 20-minute mark.',
    ]);
    // Down over three marks (the clock jumps from 20 to 55 minutes): one call-out, saying where the clock
    // is, not one per missed mark in a row; the next mark keeps the rhythm.
    await tick(min(35));
    await tick(min(5));
    expect(
      dms('U0DEPUTY1')
        .map((m) => m.text)
        .filter((t) => t.startsWith('⏱️'))
        .slice(2),
    ).toEqual([
      '⏱️ incident #1 *Payments down* (SEV2) is now at the 55-minute mark.',
      '⏱️ incident #1 *Payments down* (SEV2) is now at the 60-minute mark.',
    ]);
  });

  it('reminds the commander of the postmortem when due; reopening withdraws it and restarts the cadence', async () => {
    await declare({ severity: 'SEV1', commander: 'U0CMD0001' });
    await command('ack', 'U0CMD0001');
    await command('resolve rolled back');
    await tick(3 * 24 * 60 * 60_000);
    const due = (t: string) => t.startsWith('📝') && t.includes('postmortem');
    expect(channelTexts().filter(due)).toHaveLength(1);
    expect(
      dms('U0CMD0001')
        .map((m) => m.text)
        .filter(due),
    ).toHaveLength(1);

    await declare({ severity: 'SEV1', commander: 'U0CMD0001', title: 'Second' }, 'V0ESC00003');
    await command('ack', 'U0CMD0001');
    await command('resolve quick fix');
    await tick(min(60));
    await command('reopen');
    await tick(3 * 24 * 60 * 60_000);
    expect(channelTexts().filter(due)).toHaveLength(0);
    expect(
      channelTexts().filter((t) => t.startsWith('⏰') && t.includes('status update')).length,
    ).toBeGreaterThan(0);
    const row = await incident();
    const kinds = (
      await db()
        .select()
        .from(timelineEvents)
        .where(eq(timelineEvents.incidentId, row.id))
        .orderBy(asc(timelineEvents.id))
    ).map((e) => e.kind);
    expect(kinds).toContain('reminded');
  });
});
