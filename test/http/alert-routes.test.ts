import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertGroups } from '../../src/alerts/tables.js';
import { parseIncidentConfig } from '../../src/config/index.js';
import { incidents, timelineEvents } from '../../src/db/schema.js';
import { timers } from '../../src/jobs/table.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { startTestBot, type TestBot } from '../helpers/http.js';
import {
  BOT_USER_ID,
  dmChannelOf,
  isolateNetwork,
  resetNetwork,
  SlackApiMock,
} from '../helpers/slack-api.js';

/**
 * What a route does for a new alert group, through the real app: page through an escalation policy until
 * someone acknowledges (in the channel, in the DM, or by a PagerDuty acknowledge event), declare an
 * incident by itself, or — with the Declare incident button — through the prefilled declare form; and
 * what a declared group tells its incident.
 */

const KEYS = {
  ALERTS_KEY_PROMETHEUS: 'prom-key-0123456789abcdef',
  ALERTS_KEY_PD: '3f2a9c8e1b7d4e05a6c9f0b1d2e3a4b5',
};
const CONFIG = parseIncidentConfig(
  `
escalation_policies:
  oncall:
    tiers:
      - after: 0m
        notify: [S0ONCALL1]
      - after: 5m
        notify: [U0TIER2AA]
  incident:
    tiers:
      - after: 0m
        notify: [U0INCPAGE]
severities:
  - id: SEV1
    description: Critical
    escalation_policy: incident
  - id: SEV2
    description: Major
  - id: SEV3
    description: Minor
alerts:
  channel: C0ALERTS
  group_by: [alertname]
  integrations:
    - {name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS}
    - {name: pd, type: pagerduty, key_env: ALERTS_KEY_PD}
  routes:
    - match: {service: payments}
      declare: SEV1
    - match: {severity: critical}
      escalation_policy: oncall
`,
  'test-config',
  KEYS,
);

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;
const db = () => testDb().database.db;
const min = (n: number) => n * 60_000;

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

async function tick(ms = 0) {
  clock.advance(ms);
  await app.bot.engine.drain();
}

const base = () => app.url.replace(/\/slack\/events$/, '');
async function fire(
  alertname: string,
  labels: Record<string, string> = {},
  status: 'firing' | 'resolved' = 'firing',
) {
  const alert = { status, labels: { alertname, severity: 'critical', ...labels }, annotations: {} };
  const res = await fetch(`${base()}/alerts/prometheus`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.ALERTS_KEY_PROMETHEUS}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version: '4', status, alerts: [alert] }),
  });
  expect(res.status).toBe(202);
  await tick();
}
async function pagerDuty(event: Record<string, unknown>) {
  const res = await fetch(`${base()}/v2/enqueue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ routing_key: KEYS.ALERTS_KEY_PD, ...event }),
  });
  expect(res.status).toBe(202);
  await tick();
}

const pagesOf = (user: string) =>
  slack.messages.filter((m) => m.channel === dmChannelOf(user) && m.text.startsWith('📟 Paged:'));
const group = async (title: string) => {
  const [row] = await db().select().from(alertGroups).where(eq(alertGroups.title, title));
  if (!row) throw new Error(`no group ${title}`);
  return row;
};
const groupMessage = (title: string) =>
  slack.messages.find((m) => m.channel === 'C0ALERTS' && !m.thread_ts && m.text.endsWith(title));
const responses = () => slack.callsTo('response_url').map((c) => c.args as { text?: string });
const steps = async () =>
  (await db().select().from(timers).where(eq(timers.kind, 'alerts.page_step'))).map((t) => t.status).sort();

describe('a route with an escalation policy', () => {
  it('pages tier by tier, once per person per tier, until someone acknowledges from the DM', async () => {
    await fire('DiskFull', { instance: 'db-1' });
    for (const user of ['U0ONCALL1', 'U0ONCALL2']) {
      expect(pagesOf(user)).toHaveLength(1);
      const blocks = JSON.stringify(pagesOf(user)[0]?.blocks);
      expect(blocks).toContain('"action_id":"alert_group_ack"');
      expect(blocks).toContain('<#C0ALERTS>');
    }
    // More alerts for the open group page nobody again.
    await fire('DiskFull', { instance: 'db-2' });
    await tick(5000);
    expect(pagesOf('U0ONCALL1')).toHaveLength(1);
    const thread = slack.messages.filter((m) => m.channel === 'C0ALERTS' && m.thread_ts);
    expect(thread.map((m) => m.text).join('\n')).toContain('Paged tier 1: <@U0ONCALL1>, <@U0ONCALL2>');
    expect(JSON.stringify(groupMessage('DiskFull')?.blocks)).toContain('Paging through oncall');

    await tick(min(5));
    expect(pagesOf('U0TIER2AA')).toHaveLength(1);
    const id = String((await group('DiskFull')).id);
    await app.action(
      { action_id: 'alert_group_ack', value: id },
      { user: 'U0TIER2AA', channel: dmChannelOf('U0TIER2AA') },
    );
    await tick(5000);
    expect(responses().at(-1)?.text).toBe('Acknowledged: these alerts are yours.');
    expect(await group('DiskFull')).toMatchObject({ acknowledgedBy: 'U0TIER2AA', escalationStep: 2 });
    // The policy repeats no rounds: every step ran once, and nothing is left to page.
    await tick(min(60));
    expect(pagesOf('U0TIER2AA')).toHaveLength(1);
    expect(pagesOf('U0ONCALL1')).toHaveLength(1);
    expect(await steps()).toEqual(['done', 'done']);
    expect(JSON.stringify(groupMessage('DiskFull')?.blocks)).not.toContain('Paging through');
  });

  it('pages every tier once, in order, when tier 1 is still retrying as tier 2 falls due', async () => {
    // Tier 1's user group cannot be read at first, so its step retries; by the time it runs again tier 2
    // is due as well, and both are claimed together. Tier 2 must neither page first nor make tier 1's
    // step think its turn has passed (which left tier 1 unpaged).
    let failing = true;
    slack.override('usergroups.users.list', () =>
      failing ? { status: 500, body: { ok: false, error: 'internal_error' } } : undefined,
    );
    await fire('DiskFull', { instance: 'db-1' });
    expect(pagesOf('U0ONCALL1')).toHaveLength(0);
    failing = false;
    // Tier 2 is woken by tier 1 as it pages: no time has to pass.
    await tick(min(6));
    for (const user of ['U0ONCALL1', 'U0ONCALL2', 'U0TIER2AA']) expect(pagesOf(user)).toHaveLength(1);
    const dmOrder = slack.messages.filter((m) => m.text.startsWith('📟 Paged:')).map((m) => m.channel);
    expect(dmOrder.indexOf(dmChannelOf('U0TIER2AA'))).toBeGreaterThan(
      dmOrder.indexOf(dmChannelOf('U0ONCALL1')),
    );
    // The thread tells both, tier 1 first (paced at one post a second, so it may carry them in one).
    await tick(5000);
    const thread = slack.messages
      .filter((m) => m.channel === 'C0ALERTS' && m.thread_ts)
      .map((m) => m.text)
      .join('\n');
    expect(thread.match(/Paged tier \d: [^\n]*/g)).toEqual([
      'Paged tier 1: <@U0ONCALL1>, <@U0ONCALL2>',
      'Paged tier 2: <@U0TIER2AA>',
    ]);
    expect(await group('DiskFull')).toMatchObject({ escalationStep: 2 });
    expect(await steps()).toEqual(['done', 'done']);
  });

  it('stops when PagerDuty says acknowledge, when the group resolves, and while it is silenced', async () => {
    // A PagerDuty trigger with severity critical takes the paging route too.
    await pagerDuty({
      event_action: 'trigger',
      dedup_key: 'disk-db-9',
      payload: { summary: 'Disk full on db-9', source: 'db-9', severity: 'critical' },
    });
    const pd = (await db().select().from(alertGroups))[0];
    expect(pagesOf('U0ONCALL1')).toHaveLength(1);
    await pagerDuty({ event_action: 'acknowledge', dedup_key: 'disk-db-9' });
    await tick(min(10));
    expect(pagesOf('U0TIER2AA')).toHaveLength(0);
    expect(
      (
        await db()
          .select()
          .from(alertGroups)
          .where(eq(alertGroups.id, pd?.id ?? 0))
      )[0],
    ).toMatchObject({
      acknowledgedBy: 'integration:pd',
    });

    // Resolved before tier 2: tier 2 never pages.
    await fire('CPUHot');
    expect(pagesOf('U0ONCALL2')).toHaveLength(2);
    await fire('CPUHot', {}, 'resolved');
    await tick(min(10));
    expect(pagesOf('U0TIER2AA')).toHaveLength(0);

    // Silenced after tier 1: nothing while silent; when the silence ends, tier 2 pages.
    await fire('MemHot');
    expect(pagesOf('U0ONCALL2')).toHaveLength(3);
    const id = (await group('MemHot')).id;
    await app.action({
      action_id: 'alert_group_silence',
      type: 'static_select',
      selected_option: { value: `${id}:60`, text: { type: 'plain_text', text: 'Silence 1 hour' } },
    });
    await tick(min(59));
    expect(pagesOf('U0TIER2AA')).toHaveLength(0);
    await tick(min(1));
    expect(pagesOf('U0TIER2AA')).toHaveLength(1);
  });
});

describe('declaring an incident for a group', () => {
  const incidentRows = () => db().select().from(incidents).orderBy(asc(incidents.number));
  const timeline = async (incidentId: string) =>
    (await db().select().from(timelineEvents).where(eq(timelineEvents.incidentId, incidentId))).map(
      (e) => e.kind,
    );

  it('a route with declare: declares once per group, the bot as reporter, and the incident hears of its alerts', async () => {
    await fire('PaymentsDown', { service: 'payments', instance: 'a' });
    await fire('PaymentsDown', { service: 'payments', instance: 'b' });
    await tick(5000);
    const [incident, more] = await incidentRows();
    expect(more).toBeUndefined();
    expect(incident).toMatchObject({
      title: 'PaymentsDown',
      severity: 'SEV1',
      reporterId: BOT_USER_ID,
      declareKey: `alert-group:${(await group('PaymentsDown')).id}`,
      alertsFiring: 2,
    });
    const channel = incident?.channelId as string;
    expect(channel).toBeTruthy();
    // The incident's own policy pages; the group pages nobody (its route declares).
    expect(slack.messages.some((m) => m.channel === dmChannelOf('U0INCPAGE'))).toBe(true);
    expect(pagesOf('U0ONCALL1')).toHaveLength(0);
    // Nobody to tell as the reporter: the bot does not DM itself.
    expect(slack.callsTo('conversations.open').map((c) => c.args.users)).not.toContain(BOT_USER_ID);
    // The group's message names the incident and offers no Declare button.
    const triage = JSON.stringify(groupMessage('PaymentsDown')?.blocks);
    expect(triage).toContain(`Incident #1 in <#${channel}>`);
    expect(triage).not.toContain('alert_group_declare');
    // The incident channel gets the group, the card counts its alerts, the timeline has the first alert.
    // The page notice and the group's relay are separate jobs, so only the relay's own order is fixed.
    const inIncident = slack.messages.filter((m) => m.channel === channel).map((m) => m.text);
    expect(inIncident[0]).toBe('Incident #1: PaymentsDown (SEV1, Investigating)');
    expect(inIncident.filter((t) => t.startsWith('📟'))).toEqual(['📟 Paged tier 1: <@U0INCPAGE>']);
    expect(inIncident.filter((t) => t.startsWith('[FIRING'))).toEqual([
      '[FIRING:1] PaymentsDown',
      expect.stringMatching(/^\[FIRING:2\] PaymentsDown: .* 🔥 Firing: PaymentsDown$/),
    ]);
    expect(inIncident).toHaveLength(4);
    const card = slack.messages.find((m) => m.metadata?.event_type === 'incident_card');
    expect(JSON.stringify(card?.blocks)).toContain('*Alerts*\\n2 firing');
    expect(await timeline(incident?.id as string)).toContain('alerts_linked');

    // Changes reach the incident channel, coalesced; all resolved prompts the commander, never resolves.
    await fire('PaymentsDown', { service: 'payments', instance: 'a' }, 'resolved');
    await fire('PaymentsDown', { service: 'payments', instance: 'b' }, 'resolved');
    await tick(5000);
    await tick(5000);
    const relayed = slack.messages.filter((m) => m.channel === channel && m.text.includes('Resolved:'));
    expect(relayed).toHaveLength(1);
    expect(relayed[0]?.text).toContain('[RESOLVED] PaymentsDown');
    const prompt = slack.messages.find((m) => m.channel === channel && m.text.startsWith('✅ All alerts'));
    expect(prompt?.text).toBe(
      '✅ All alerts of *PaymentsDown* have resolved. If the incident is over, resolve it; if not, carry on.',
    );
    expect(JSON.stringify(prompt?.blocks)).toContain('card_resolve');
    const [after] = await incidentRows();
    expect(after).toMatchObject({ status: 'investigating', alertsFiring: 0 });
    expect(await timeline(after?.id as string)).toContain('alerts_resolved');
    expect(
      JSON.stringify(slack.messages.find((m) => m.metadata?.event_type === 'incident_card')?.blocks),
    ).toContain('*Alerts*\\n0 firing');
    // One declaration, however often the job could have run.
    expect(await db().select().from(timers).where(eq(timers.kind, 'alerts.declare'))).toHaveLength(1);
  });

  it('the Declare incident button opens the declare form prefilled; submitting it links the group and stops its paging', async () => {
    await fire('DiskFull', { instance: 'db-1' });
    expect(pagesOf('U0ONCALL1')).toHaveLength(1);
    const id = (await group('DiskFull')).id;
    await app.action({ action_id: 'alert_group_declare', value: String(id) }, { channel: 'C0ALERTS' });
    const view = slack.callsTo('views.open').at(-1)?.args.view as {
      private_metadata: string;
      blocks: { block_id: string; element: Record<string, unknown> }[];
    };
    const field = (block: string) => view.blocks.find((b) => b.block_id === block)?.element;
    expect(field('title')?.initial_value).toBe('DiskFull');
    // An alert severity of critical preselects the first severity.
    expect(field('severity')?.initial_option).toMatchObject({ value: 'SEV1' });
    expect(field('summary')?.initial_value).toBe('1 firing of 1 alert (critical):\n• [firing] DiskFull');
    expect(JSON.parse(view.private_metadata)).toEqual({ sourceChannelId: 'C0ALERTS', alertGroupId: id });

    const submitted = {
      id: 'V0FROMALERT',
      type: 'modal',
      callback_id: 'incident_declare',
      private_metadata: view.private_metadata,
      state: {
        values: {
          title: { title_input: { type: 'plain_text_input', value: 'Disk full on db-1' } },
          severity: {
            severity_select: {
              type: 'static_select',
              selected_option: { value: 'SEV2', text: { type: 'plain_text', text: 'SEV2' } },
            },
          },
          summary: { summary_input: { type: 'plain_text_input', value: 'db-1 disk' } },
          commander: { commander_select: { type: 'users_select', selected_user: 'U0ONCALL1' } },
          options: { options_checkboxes: { type: 'checkboxes', selected_options: [] } },
        },
      },
    };
    expect((await app.submitView(submitted, 'U0ONCALL1')).status).toBe(200);
    await tick(5000);
    const [incident] = await incidentRows();
    expect(incident).toMatchObject({ title: 'Disk full on db-1', severity: 'SEV2', reporterId: 'U0ONCALL1' });
    expect(await group('DiskFull')).toMatchObject({ incidentId: incident?.id });
    // Nobody is paged twice for one problem: the group's tier 2 never comes.
    await tick(min(10));
    expect(pagesOf('U0TIER2AA')).toHaveLength(0);
    expect(await steps()).toEqual(['cancelled', 'done']);
    // A second form for the same group (opened before the first was sent) is refused, under the title.
    const again = await app.submitView({ ...submitted, id: 'V0FROMALERT2' }, 'U0OTHER');
    expect(await again.json()).toEqual({
      response_action: 'errors',
      errors: { title: `These alerts are incident #1 already in <#${incident?.channelId}>.` },
    });
    expect(await incidentRows()).toHaveLength(1);
    // And the button itself now answers so.
    await app.action({ action_id: 'alert_group_declare', value: String(id) }, { channel: 'C0ALERTS' });
    expect(responses().at(-1)?.text).toBe(
      `These alerts are incident #1 already in <#${incident?.channelId}>.`,
    );
  });
});

describe('/incident alerts', () => {
  it('lists the open groups, newest first, with counts and links to their messages', async () => {
    expect((await app.command('alerts')).status).toBe(200);
    await tick();
    expect(responses().at(-1)?.text).toBe('No open alert groups. All quiet.');
    await fire('DiskFull', { instance: 'db-1' });
    await tick(1000);
    await fire('CPUHot', { instance: 'web-1' });
    await tick(1000);
    await app.command('alerts');
    await tick();
    const text = responses().at(-1)?.text ?? '';
    const lines = text.split('\n');
    expect(lines[0]).toBe('*Open alert groups* (2):');
    expect(lines[1]).toMatch(
      /^🔴 \*<https:\/\/acme\.slack\.com\/archives\/C0ALERTS\/p\d{16}\|CPUHot>\* — 1 firing of 1 · in <#C0ALERTS> · since /,
    );
    expect(lines[2]).toMatch(/\|DiskFull>\* — 1 firing of 1 · /);
  });
});
