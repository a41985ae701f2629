import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bot, startBot } from '../../src/bot.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { BOT_TOKEN, testConfig } from '../helpers/http.js';
import { captureLogger } from '../helpers/logger.js';
import { SlackApiMock } from '../helpers/slack-api.js';
import {
  APP_TOKEN,
  commandEnvelope,
  declarationEnvelope,
  interactiveEnvelope,
  socketModeSlack,
} from '../helpers/socket-mode.js';

/**
 * Socket Mode end to end: the bot opens a WebSocket to a local stand-in for Slack's Socket Mode endpoint
 * (the URL comes from apps.connections.open on the fake Web API), receives envelopes, and acknowledges
 * them over the socket. No nock here: the fake Web API is a real HTTP server on loopback.
 */

let tdb: TestDatabase;
let bot: Bot;
let socketSlack: Awaited<ReturnType<typeof socketModeSlack>>;
let api: Awaited<ReturnType<SlackApiMock['listen']>>;
const slack = new SlackApiMock();
const send = (envelope: { envelope_id: string } & Record<string, unknown>) => socketSlack.send(envelope);

beforeAll(async () => {
  tdb = await createTestDatabase();
  socketSlack = await socketModeSlack(slack);
  api = await slack.listen();
  const config = testConfig({ announcementsChannel: 'C0ANNOUNCE' });
  config.slack = {
    ...config.slack,
    appToken: APP_TOKEN,
    signingSecret: undefined,
    apiUrl: api.apiUrl,
  };
  bot = await startBot({
    config,
    logger: captureLogger([BOT_TOKEN]).logger,
    database: tdb.database,
    tick: false,
  });
  await socketSlack.connected;
});

afterAll(async () => {
  await bot?.stop();
  await socketSlack?.close();
  await api?.close();
  await tdb?.drop();
});

describe('Socket Mode', () => {
  it('serves /healthz and /readyz', async () => {
    expect((await fetch(`http://127.0.0.1:${bot.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${bot.port}/readyz`)).status).toBe(200);
  });

  it('answers /incident help through the socket', async () => {
    const ack = (await send(commandEnvelope('env-help', 'help'))) as {
      response_type: string;
      text: string;
      blocks: unknown[];
    };
    expect(ack.response_type).toBe('ephemeral');
    expect(JSON.stringify(ack.blocks)).toContain('/incident declare [title]');
  });

  it('declares an incident from a view submission and sets it up', async () => {
    await send(declarationEnvelope('env-declare', { title: 'Over the socket', severity: 'SEV1' }));
    await bot.engine.drain();
    expect(slack.callsTo('conversations.create')[0]?.args.name).toBe('inc-1-over-the-socket');
    expect(slack.pins).toHaveLength(1);
    expect(slack.messages.some((m) => m.channel === 'C0ANNOUNCE')).toBe(true);
  });

  it('runs the incident from its channel: commands and card buttons over the socket', async () => {
    const channel = slack.channels[0]?.id as string;
    const ack = (await send(commandEnvelope('env-severity', 'severity 2', channel, '1.2.4'))) as {
      text: string;
    };
    expect(ack.text).toBe('Severity is now SEV2.');
    await bot.engine.drain();
    expect(slack.callsTo('chat.update').length).toBeGreaterThan(0);

    const card = slack.messages.find((m) => m.metadata?.event_type === 'incident_card');
    const incidentId = JSON.stringify(card?.blocks).match(/card_actions:([0-9a-f-]{36})/)?.[1];
    await send(
      interactiveEnvelope('env-button', {
        type: 'block_actions',
        trigger_id: '1.2.5',
        container: { type: 'message', channel_id: channel, message_ts: card?.ts },
        channel: { id: channel },
        actions: [
          {
            type: 'button',
            action_id: 'card_update',
            block_id: `card_actions:${incidentId}`,
            value: incidentId,
            action_ts: '1',
          },
        ],
      }),
    );
    await slack.waitFor(
      'views.open',
      (c) => (c.args.view as { callback_id?: string }).callback_id === 'incident_update',
    );
  });
});
