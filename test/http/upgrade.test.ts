import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidents } from '../../src/db/schema.js';
import { timers } from '../../src/jobs/table.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { dmChannelOf, isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/**
 * Upgrading from the version before typed jobs: the rows it left queued (posts carrying their rendered
 * message, pages carrying their words) still go out, once, after the new version starts.
 */

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  clock = new FakeClock();
  app = await startTestBot({ database: testDb().database, clock });
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

const db = () => testDb().database.db;

describe('jobs queued by the previous version', () => {
  it('posts a queued message as it was rendered, and delivers a queued page with its invite', async () => {
    await app.submitView(declareView({ title: 'Upgrade' }));
    await app.bot.engine.drain();
    const [incident] = await db().select().from(incidents);
    if (!incident?.channelId) throw new Error('no incident channel');
    const row = (key: string, kind: string, payload: Record<string, unknown>) => ({
      key: `incident:${incident.id}:${key}`,
      kind,
      payload,
      scheduledFor: clock.now(),
      dueAt: clock.now(),
      createdAt: clock.now(),
    });
    const legacyText = '📋 <@U0ANN> added task *1*: check the queue';
    await db()
      .insert(timers)
      .values([
        row('post:task:1:added', 'incident.post', {
          incidentId: incident.id,
          target: 'channel',
          message: {
            text: legacyText,
            blocks: [{ type: 'section', text: { type: 'mrkdwn', text: legacyText } }],
          },
        }),
        row('page:step:0:0:U0LEGACY', 'page.deliver', {
          incidentId: incident.id,
          userId: 'U0LEGACY',
          label: 'tier 1',
          reason: null,
        }),
      ]);
    await app.bot.engine.drain();

    const posted = slack.messages.filter((m) => m.channel === incident.channelId && m.text === legacyText);
    expect(posted).toHaveLength(1);
    const page = slack.messages.filter((m) => m.channel === dmChannelOf('U0LEGACY'));
    expect(page).toHaveLength(1);
    expect(page[0]?.text).toBe(
      `📟 You are paged (tier 1) for incident #1 *Upgrade* (SEV2). Join <#${incident.channelId}>.`,
    );
    expect(JSON.stringify(page[0]?.blocks)).toContain('"action_id":"incident_ack"');
    expect(slack.channels.find((c) => c.id === incident.channelId)?.members.has('U0LEGACY')).toBe(true);
    const jobs = await db().select().from(timers);
    expect(jobs.filter((j) => j.status !== 'done').map((j) => `${j.key} ${j.status} ${j.lastError}`)).toEqual(
      [],
    );
  });
});
