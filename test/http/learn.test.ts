import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIncidentConfig } from '../../src/config/index.js';
import { incidents } from '../../src/db/schema.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { dmChannelOf, isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/**
 * The learn loop through the real app: the postmortem generated into the channel canvas (or a Markdown
 * file where Slack refuses canvases), its human parts edited and kept across regenerations, its owner,
 * review status and business-day due date; follow-ups with their owners' reminders on the injected clock.
 *
 * The clock starts on Friday 27 November 2026 at 16:30 UTC (17:30 in Berlin, the business time zone).
 */

const CONFIG = parseIncidentConfig(
  `
business_time_zone: Europe/Berlin
severities:
  - { id: SEV1, description: Critical, postmortem_due: 3d }
  - { id: SEV2, description: Major, postmortem_due: 5bd }
  - { id: SEV3, description: Minor }
`,
  'test-config',
);

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;
let channel: string;
const db = () => testDb().database.db;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const COMMANDER = 'U0CMD0001';

async function tick(ms = 0) {
  clock.advance(ms);
  await app.bot.engine.drain();
}
async function tickTo(iso: string) {
  await tick(new Date(iso).getTime() - clock.now().getTime());
}

async function declare(severity: string) {
  const before = slack.channels.length;
  await app.submitView(declareView({ title: 'Checkout down', severity, commander: COMMANDER }));
  await tick();
  channel = slack.channels[before]?.id as string;
}

/** A command in the incident channel (or elsewhere); the ephemeral answer's text and blocks as one string. */
async function command(text: string, user = COMMANDER, where = channel): Promise<string> {
  const res = await app.command(text, { channel_id: where, user_id: user });
  const body = await res.text();
  await tick();
  return body;
}

const responses = () => slack.callsTo('response_url').map((c) => JSON.stringify(c.args));
const dms = (user: string) => slack.messages.filter((m) => m.channel === dmChannelOf(user));
const channelTexts = () => slack.messages.filter((m) => m.channel === channel).map((m) => m.text);
const canvasOf = (ch: string) => [...slack.canvases.values()].find((c) => c.channel === ch);
async function incident() {
  const [row] = await db().select().from(incidents).where(eq(incidents.channelId, channel));
  if (!row) throw new Error('no incident');
  return row;
}

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  clock = new FakeClock('2026-11-27T16:30:00Z');
  app = await startTestBot({ database: testDb().database, clock, incident: CONFIG });
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

describe('the postmortem', () => {
  it('is due 5 business days after a Friday resolve, prompted at resolve, and lives in the channel canvas', async () => {
    await declare('SEV2');
    await command('resolve rolled back the gateway');
    const row = await incident();
    expect(row.postmortemDueAt?.toISOString()).toBe('2026-12-04T16:30:00.000Z');
    expect(row.postmortemStatus).toBe('draft');
    const resolved = slack.messages.find(
      (m) => m.channel === channel && m.text.startsWith('✅ *Incident #1'),
    );
    expect(JSON.stringify(resolved?.blocks)).toContain('📝 *Postmortem* due <!date^1796401800^');
    expect(JSON.stringify(resolved?.blocks)).toContain('"action_id":"postmortem_write"');

    // The button (or /incident postmortem) writes it into the channel's canvas.
    await app.action({ action_id: 'postmortem_write', value: row.id }, { channel, user: COMMANDER });
    await tick();
    const canvas = canvasOf(channel);
    expect(canvas?.title).toBe('Postmortem: incident #1');
    expect(canvas?.markdown).toContain('# Postmortem: incident #1, Checkout down');
    expect(canvas?.markdown).toContain('| Due | 2026-12-04 16:30 UTC |');
    expect(canvas?.markdown).toContain(`| Owner | ![](@${COMMANDER}) |`);
    expect(canvas?.markdown).toContain('_To be written: What happened, in a few sentences, and its impact._');
    expect(channelTexts().some((t) => t.includes('is in this channel’s canvas'))).toBe(true);

    // Edit postmortem: the form, prefilled with what is stored; saving updates the canvas.
    await app.action({ action_id: 'postmortem_edit', value: row.id }, { channel });
    const view = slack.callsTo('views.open').at(-1)?.args.view as {
      callback_id: string;
      blocks: { block_id: string }[];
    };
    expect(view.callback_id).toBe('postmortem_edit');
    expect(view.blocks.map((b) => b.block_id)).toEqual([
      'overview',
      'whatHappened',
      'contributingFactors',
      'resolution',
      'wentWell',
      'wentBadly',
      'lucky',
    ]);
    const values = (overview: string, factors: string) => ({
      overview: { overview: { type: 'plain_text_input', value: overview } },
      contributingFactors: { contributingFactors: { type: 'plain_text_input', value: factors } },
    });
    const saved = await app.submitView({
      id: 'V0PMEDIT01',
      type: 'modal',
      callback_id: 'postmortem_edit',
      private_metadata: JSON.stringify({ incidentId: row.id }),
      state: { values: values('EU card payments failed for 40 minutes.', '- No canary for EU traffic.') },
    });
    expect(saved.status).toBe(200);
    await tick();
    expect(canvasOf(channel)?.markdown).toContain('EU card payments failed for 40 minutes.');

    // Regenerating (after more happened) keeps what people wrote.
    await command('postmortem owner <@U0OWNER1|owner>');
    await command('followup add Canary EU traffic <@U0OWNER1|owner> due 2026-12-10');
    const answer = await command('postmortem');
    expect(answer).toContain('Regenerating the postmortem in the channel canvas');
    const markdown = canvasOf(channel)?.markdown ?? '';
    expect(markdown).toContain('EU card payments failed for 40 minutes.');
    expect(markdown).toContain('- No canary for EU traffic.');
    expect(markdown).toContain('| Owner | ![](@U0OWNER1) |');
    expect(markdown).toContain('| 1 | Canary EU traffic | ![](@U0OWNER1) | 2026-12-10 | Open |');
    expect(slack.callsTo('conversations.canvases.create')).toHaveLength(1);

    // Review buttons move the status; the card says where it is.
    await app.action({ action_id: 'postmortem_status', value: `${row.id}:in_review` }, { channel });
    await tick();
    expect(responses().at(-1)).toContain('The postmortem is in review now.');
    expect(canvasOf(channel)?.markdown).toContain('| Postmortem status | In review |');
    const card = slack.messages.find((m) => m.metadata?.event_type === 'incident_card');
    expect(JSON.stringify(card?.blocks)).toContain('📝 Postmortem: in review, owner <@U0OWNER1>');
    expect(JSON.stringify(card?.blocks)).toContain('📌 Follow-ups: 1 open of 1');
  });

  it('where Slack refuses canvases, is a Markdown file in the channel; export gets the file any time', async () => {
    slack.refuseCanvases = 'team_tier_cannot_create_channel_canvases';
    await declare('SEV3');
    await command('postmortem');
    const [file] = slack.files;
    expect(file).toMatchObject({
      filename: 'postmortem-incident-1.md',
      channel,
      title: 'Postmortem: incident #1',
    });
    expect(file?.content).toContain('# Postmortem: incident #1, Checkout down');
    expect(file?.content).toContain(`| Owner | @${COMMANDER} |`);
    expect(file?.content).not.toContain('![](@');
    expect(file?.length).toBe(Buffer.byteLength(file?.content ?? ''));
    expect(channelTexts().some((t) => t.includes('team_tier_cannot_create_channel_canvases'))).toBe(true);
    // No severity due date here: none is shown.
    expect(file?.content).toContain('| Due | — |');

    expect(await command('postmortem export')).toContain('Uploading the postmortem as a Markdown file here.');
    expect(slack.files).toHaveLength(2);
    expect(slack.files[1]?.comment).toContain(`for <@${COMMANDER}>`);
  });

  it('two people editing at once keep each other’s parts: a save writes only what its form changed', async () => {
    await declare('SEV3');
    const row = await incident();
    const openForm = async () => {
      await app.action({ action_id: 'postmortem_edit', value: row.id }, { channel });
      return slack.callsTo('views.open').at(-1)?.args.view as { private_metadata: string };
    };
    const save = (form: { private_metadata: string }, values: Record<string, string>, id: string) =>
      app.submitView({
        id,
        type: 'modal',
        callback_id: 'postmortem_edit',
        private_metadata: form.private_metadata,
        state: {
          values: Object.fromEntries(
            [
              'overview',
              'whatHappened',
              'contributingFactors',
              'resolution',
              'wentWell',
              'wentBadly',
              'lucky',
            ].map((p) => [p, { [p]: { type: 'plain_text_input', value: values[p] ?? '' } }]),
          ),
        },
      });
    const first = await openForm();
    const second = await openForm();
    await save(second, { overview: 'Written by the second person.' }, 'V0PM2');
    await save(first, { contributingFactors: 'Written by the first person.' }, 'V0PM1');
    await command('postmortem export');
    const file = slack.files.at(-1)?.content ?? '';
    expect(file).toContain('Written by the second person.');
    expect(file).toContain('Written by the first person.');
  });

  it('a canvas Slack made but never confirmed is adopted on the retry: one canvas, one notice, no file', async () => {
    await declare('SEV3');
    // Slack applies the first create and the answer is lost (a 500 after the fact).
    slack.override('conversations.canvases.create', (args, nth) => {
      if (nth > 1) return undefined;
      slack.canvases.set('F0CANVASX', { channel: String(args.channel_id), title: 'x', markdown: '' });
      return { status: 500, body: { ok: false, error: 'internal_error' } };
    });
    await command('postmortem');
    await tick(60_000);
    await tick(60_000);
    expect(slack.callsTo('conversations.canvases.create').length).toBe(2);
    expect((await incident()).postmortemCanvasId).toBe('F0CANVASX');
    expect(canvasOf(channel)?.markdown).toContain('# Postmortem: incident #1, Checkout down');
    expect(slack.files).toHaveLength(0);
    expect(channelTexts().filter((t) => t.includes('is in this channel’s canvas'))).toHaveLength(1);
  });

  it('a channel that already has someone else’s canvas gets the file, and the canvas is left alone', async () => {
    await declare('SEV3');
    slack.canvases.set('F0HUMAN01', { channel, title: 'Runbook', markdown: 'our runbook' });
    await command('postmortem');
    expect(canvasOf(channel)?.markdown).toBe('our runbook');
    expect(slack.files[0]?.filename).toBe('postmortem-incident-1.md');
    expect(channelTexts().some((t) => t.includes('channel_canvas_already_exists'))).toBe(true);
  });

  it('the reminder at the due date goes to the owner, not the commander, unless the review is done', async () => {
    await declare('SEV1');
    await command('postmortem owner <@U0OWNER1|owner>');
    await command('resolve fixed');
    await tick(3 * DAY - 1000);
    expect(dms('U0OWNER1').filter((m) => m.text.includes('postmortem'))).toHaveLength(0);
    await tick(1000);
    expect(dms('U0OWNER1').filter((m) => m.text.includes('postmortem'))).toHaveLength(1);
    expect(dms(COMMANDER).filter((m) => m.text.includes('postmortem'))).toHaveLength(0);
  });
});

describe('follow-ups', () => {
  it('are added, listed, completed and dropped; outside an incident channel yours come first, overdue first', async () => {
    await declare('SEV3');
    expect(await command('followup add Add a canary <@U0BOB0001|bob> in 3d')).toContain(
      'Added follow-up 1, due 2026-11-30.',
    );
    // The channel hears of each one (the post job used to fail: the event had no message).
    expect(channelTexts().filter((t) => t.includes('added follow-up'))).toEqual([
      '📌 <@U0CMD0001> added follow-up *1.* Add a canary for <@U0BOB0001>, due 2026-11-30',
    ]);
    await command('followup add Alert on 3-D Secure errors due 2026-12-01');
    await command('followup add Rewrite the client');
    expect(await command('followup add Old work due 2026-11-01')).toContain('The due date is in the past.');
    expect(await command('followup add x due 2026-02-30')).toContain('is not a date like 2026-12-04');
    const list = await command('followups');
    expect(list).toContain('Follow-ups of incident #1 (3 open)');
    expect(list).toContain('*1.* Add a canary — <@U0BOB0001> · due 2026-11-30');
    expect(await command('followup done 2')).toContain('Follow-up 2 is done.');
    expect(await command('followup drop 3 superseded by the migration')).toContain('Follow-up 3 is dropped.');
    expect(await command('followup done 3')).toContain('Follow-up 3 is dropped already.');

    // Outside: the asker's own first, then everyone's, overdue first.
    await tickTo('2026-12-02T10:00:00Z');
    const elsewhere = await command('followups', 'U0BOB0001', 'C0GENERAL');
    expect(elsewhere.indexOf('*Yours:*')).toBeLessThan(elsewhere.indexOf('Add a canary'));
    expect(elsewhere).toContain('⏰ overdue since 2026-11-30');
  });

  it('remind the owner two days before the due date and each day it is overdue, once a day', async () => {
    await declare('SEV3');
    await command('followup add Add a canary <@U0BOB0001|bob> due 2026-12-03');
    const reminders = () => dms('U0BOB0001').map((m) => m.text);
    await tickTo('2026-12-01T07:59:00Z'); // 08:59 in Berlin, two days before
    expect(reminders()).toEqual([]);
    await tickTo('2026-12-01T08:00:00Z');
    expect(reminders()).toHaveLength(1);
    expect(reminders()[0]).toContain('📌 Due 2026-12-03: follow-up 1 of incident #1');
    // Nothing more until the first overdue morning; then one a day.
    await tickTo('2026-12-03T20:00:00Z');
    expect(reminders()).toHaveLength(1);
    await tickTo('2026-12-04T08:00:00Z');
    expect(reminders()).toHaveLength(2);
    expect(reminders()[1]).toContain('⏰ Overdue since 2026-12-03');
    await tick(HOUR);
    expect(reminders()).toHaveLength(2);
    await tickTo('2026-12-05T08:00:00Z');
    expect(reminders()).toHaveLength(3);
    await command('followup done 1', 'U0BOB0001');
    await tickTo('2026-12-08T08:00:00Z');
    expect(reminders()).toHaveLength(3);
  });
});

describe('numbers', () => {
  it('/incident stats answers with the definitions, and sends the MTTR chart as a PNG by DM', async () => {
    await declare('SEV2');
    await tick(10 * 60_000);
    await command('resolve fixed');
    const answer = await command('stats 7d', 'U0LEAD001', 'C0GENERAL');
    expect(answer).toContain('📊 *Incidents, last 7 days*');
    expect(answer).toContain('*1* — SEV2 1');
    expect(answer).toContain(
      '*MTTR* (declared → final resolve): median 10m · p90 10m · mean 10m (1 incident)',
    );
    expect(answer).toContain('*MTTA* (declared → first acknowledged): median 10m');
    expect(await command('stats 7d sev9', 'U0LEAD001', 'C0GENERAL')).toContain('"sev9\\" is not a severity');
    const chart = slack.files.find((f) => f.filename === 'mttr-7d.png');
    expect(chart?.channel).toBe(dmChannelOf('U0LEAD001'));
    const png = chart?.bytes as Buffer;
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    // IHDR: width and height, big-endian, after the signature and the chunk header. The plot is 720 × 320;
    // axes, title and legend add to it.
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(width).toBeGreaterThan(720);
    expect(width).toBeLessThan(1000);
    expect(height).toBeGreaterThan(320);
    expect(height).toBeLessThan(600);
  });
});
