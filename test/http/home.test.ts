import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIncidentConfig } from '../../src/config/index.js';
import { followups, incidentRoles, incidents } from '../../src/db/schema.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { isolateNetwork, resetNetwork, SlackApiMock, TEAM_ID } from '../helpers/slack-api.js';

/**
 * App Home (the app_home_opened event, signed, through the real receiver, answered with views.publish)
 * and the Create follow-up message shortcut.
 */

const CONFIG = parseIncidentConfig(
  `
schedules:
  primary:
    time_zone: Europe/Berlin
    layers: [{ start: "2026-11-02 09:00", turn: 1w, users: [U0AAA] }]
severities:
  - { id: SEV1, description: Critical }
  - { id: SEV2, description: Major }
`,
  'test-config',
);

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;
const db = () => testDb().database.db;
const ME = 'U0ME00001';

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  clock = new FakeClock('2026-11-26T10:00:00Z');
  app = await startTestBot({ database: testDb().database, clock, incident: CONFIG });
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

async function openHome(user = ME) {
  const body = JSON.stringify({
    token: 'legacy',
    team_id: TEAM_ID,
    api_app_id: 'A0APP0001',
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 10)}`,
    event_time: Math.floor(clock.now().getTime() / 1000),
    event: {
      type: 'app_home_opened',
      user,
      channel: 'D0ME00001',
      tab: 'home',
      event_ts: '1700000000.000100',
    },
  });
  const res = await app.post(body, { headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(200);
  await app.bot.engine.drain();
  const call = slack.callsTo('views.publish').at(-1);
  expect(call?.args.user_id).toBe(user);
  return call?.args.view as { type: string; blocks: { type: string; text?: { text: string } }[] };
}

describe('App Home', () => {
  it('shows Declare, your incidents, every open one by severity, on call, your follow-ups and tasks, the numbers', async () => {
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1', commander: ME }, 'V0H1'));
    await app.submitView(
      declareView({ title: 'Slow search', severity: 'SEV2', commander: 'U0OTHER1' }, 'V0H2'),
    );
    await app.bot.engine.drain();
    // The two setups run side by side, so Slack's first channel may be either incident's.
    const [first] = await db().select().from(incidents).where(eq(incidents.number, 1));
    const channel = first?.channelId as string;
    await app.command('task add Roll back <@U0ME00001|me> in 30m', { channel_id: channel, user_id: ME });
    await app.command('followup add Canary EU traffic <@U0ME00001|me> due 2026-12-01', {
      channel_id: channel,
      user_id: ME,
    });
    await app.bot.engine.drain();

    const view = await openHome();
    expect(view.type).toBe('home');
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('"action_id":"home_declare"');
    expect(text).toContain('*Where you hold a role*\\n*#1* Checkout down');
    expect(text).toContain('*SEV1 (1)*');
    expect(text).toContain('*SEV2 (1)*\\n*#2* Slow search');
    expect(text).toContain('*primary*: <@U0AAA>');
    expect(text).toContain('#1.1 Canary EU traffic · due 2026-12-01');
    expect(text).toContain('#1 task 1: Roll back');
    expect(text).toContain('*Last 30 days*: 2 incidents (SEV1 1 · SEV2 1)');

    // The Declare button opens the declare form.
    await app.action({ action_id: 'home_declare', value: 'home' });
    const opened = slack.callsTo('views.open').at(-1)?.args.view as { callback_id: string } | undefined;
    expect(opened?.callback_id).toBe('incident_declare');
  });

  it('with 200 open incidents stays within 100 blocks and 3,000 characters a section', async () => {
    const severities = ['SEV1', 'SEV2'];
    await db()
      .insert(incidents)
      .values(
        Array.from({ length: 200 }, (_, n) => ({
          teamId: TEAM_ID,
          number: n + 1,
          title: `Incident ${n + 1} ${'x'.repeat(60)}`,
          severity: severities[n % 2] as string,
          reporterId: 'U0REP',
          declareKey: `k${n}`,
          channelName: `inc-${n + 1}`,
          channelId: `C0INC${n + 1}`,
          declaredAt: clock.now(),
          updatedAt: clock.now(),
        })),
      );
    const rows = await db().select().from(incidents);
    await db()
      .insert(incidentRoles)
      .values(
        rows.map((r) => ({
          incidentId: r.id,
          role: 'commander' as const,
          userId: ME,
          assignedBy: ME,
          assignedAt: clock.now(),
        })),
      );
    const view = await openHome();
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    for (const b of view.blocks) expect((b.text?.text ?? '').length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(view.blocks)).toContain('…and');
  });
});

describe('the Create follow-up shortcut', () => {
  it('turns a message into a follow-up of the incident of its channel, linking the message', async () => {
    await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV1', commander: ME }, 'V0S1'));
    await app.bot.engine.drain();
    const channel = slack.channels[0]?.id as string;
    const payload = {
      type: 'message_action',
      callback_id: 'create_followup',
      trigger_id: '1234.5678.shortcut',
      response_url: 'https://hooks.slack.com/app/T0TEAM001/1/abc',
      team: { id: TEAM_ID, domain: 'acme' },
      channel: { id: channel, name: 'inc-1-checkout-down' },
      user: { id: ME, name: 'me' },
      message: {
        type: 'message',
        text: 'we should canary EU traffic &amp; alert on it',
        ts: '1700000123.000200',
        user: 'U0OTHER1',
      },
      message_ts: '1700000123.000200',
      action_ts: '1700000124.000300',
      token: 'legacy',
    };
    const res = await app.post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    expect(res.status).toBe(200);
    const view = slack.callsTo('views.open').at(-1)?.args.view as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id: string; element: Record<string, unknown> }[];
    };
    expect(view.callback_id).toBe('followup_create');
    const field = (block: string) => view.blocks.find((b) => b.block_id === block)?.element;
    expect(field('text')?.initial_value).toBe('we should canary EU traffic & alert on it');
    const preselected = field('incident')?.initial_option as { value: string } | undefined;
    const incidentId = preselected?.value as string;
    expect(incidentId).toBeTruthy();

    const submit = (due: string) =>
      app.submitView(
        {
          id: 'V0FOLLOW1',
          type: 'modal',
          callback_id: 'followup_create',
          private_metadata: view.private_metadata,
          state: {
            values: {
              incident: {
                incident_select: { type: 'static_select', selected_option: { value: incidentId } },
              },
              text: { text_input: { type: 'plain_text_input', value: 'Canary EU traffic' } },
              owner: { owner_select: { type: 'users_select', selected_user: ME } },
              due: { due_picker: { type: 'datepicker', selected_date: due } },
            },
          },
        },
        ME,
      );
    // A date in the past is refused under the date picker.
    expect(await (await submit('2026-11-01')).json()).toEqual({
      response_action: 'errors',
      errors: { due: 'The due date is in the past.' },
    });
    const ok = await submit('2026-12-01');
    expect(ok.status).toBe(200);
    const [row] = await db().select().from(followups).where(eq(followups.incidentId, incidentId));
    expect(row).toMatchObject({
      text: 'Canary EU traffic',
      ownerId: ME,
      dueOn: '2026-12-01',
      sourceUrl: `https://acme.slack.com/archives/${channel}/p1700000123000200`,
    });
  });
});
