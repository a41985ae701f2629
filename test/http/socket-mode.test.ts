import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Bot, startBot } from '../../src/bot.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { BOT_TOKEN, declareView, testConfig } from '../helpers/http.js';
import { captureLogger } from '../helpers/logger.js';
import { SlackApiMock, TEAM_ID } from '../helpers/slack-api.js';

/**
 * Socket Mode end to end: the bot opens a WebSocket to a local stand-in for Slack's Socket Mode endpoint
 * (the URL comes from apps.connections.open on the fake Web API), receives envelopes, and acknowledges
 * them over the socket. No nock here: the fake Web API is a real HTTP server on loopback.
 */

let tdb: TestDatabase;
let bot: Bot;
let wss: WebSocketServer;
let socket: WebSocket;
let api: Awaited<ReturnType<SlackApiMock['listen']>>;
const slack = new SlackApiMock();
const acks = new Map<string, unknown>();

function send(envelope: Record<string, unknown>): Promise<unknown> {
  const id = String(envelope.envelope_id);
  socket.send(JSON.stringify(envelope));
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (acks.has(id)) {
        clearInterval(poll);
        resolve(acks.get(id));
      } else if (Date.now() - started > 10_000) {
        clearInterval(poll);
        reject(new Error(`no ack for ${id}`));
      }
    }, 10);
  });
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const connected = new Promise<void>((resolve) => {
    wss.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (msg.envelope_id) acks.set(msg.envelope_id, msg.payload ?? null);
      });
      ws.send(
        JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0APP0001' } }),
      );
      resolve();
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  const wsPort = (wss.address() as AddressInfo).port;
  slack.override('apps.connections.open', () => ({
    body: { ok: true, url: `ws://127.0.0.1:${wsPort}/link` },
  }));
  api = await slack.listen();
  const config = testConfig({ announcementsChannel: 'C0ANNOUNCE' });
  config.slack = {
    ...config.slack,
    appToken: 'xapp-1-A0APP0001-test',
    signingSecret: undefined,
    apiUrl: api.apiUrl,
  };
  bot = await startBot({
    config,
    logger: captureLogger([BOT_TOKEN]).logger,
    database: tdb.database,
    tick: false,
  });
  await connected;
});

afterAll(async () => {
  await bot?.stop();
  wss?.close();
  await api?.close();
  await tdb?.drop();
});

describe('Socket Mode', () => {
  it('serves /healthz and /readyz', async () => {
    expect((await fetch(`http://127.0.0.1:${bot.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${bot.port}/readyz`)).status).toBe(200);
  });

  it('answers /incident help through the socket', async () => {
    const ack = (await send({
      envelope_id: 'env-help',
      type: 'slash_commands',
      accepts_response_payload: true,
      payload: {
        team_id: TEAM_ID,
        channel_id: 'C0GENERAL',
        user_id: 'U0REPORTER',
        command: '/incident',
        text: 'help',
        response_url: 'https://hooks.slack.com/commands/x',
        trigger_id: '1.2.3',
        api_app_id: 'A0APP0001',
      },
    })) as { response_type: string; text: string; blocks: unknown[] };
    expect(ack.response_type).toBe('ephemeral');
    expect(JSON.stringify(ack.blocks)).toContain('/incident declare [title]');
  });

  it('declares an incident from a view submission and sets it up', async () => {
    await send({
      envelope_id: 'env-declare',
      type: 'interactive',
      accepts_response_payload: true,
      payload: {
        type: 'view_submission',
        team: { id: TEAM_ID },
        user: { id: 'U0REPORTER', team_id: TEAM_ID },
        api_app_id: 'A0APP0001',
        view: { team_id: TEAM_ID, ...declareView({ title: 'Over the socket', severity: 'SEV1' }) },
      },
    });
    await bot.engine.drain();
    expect(slack.callsTo('conversations.create')[0]?.args.name).toBe('inc-1-over-the-socket');
    expect(slack.pins).toHaveLength(1);
    expect(slack.messages.some((m) => m.channel === 'C0ANNOUNCE')).toBe(true);
  });

  it('runs the incident from its channel: commands and card buttons over the socket', async () => {
    const channel = slack.channels[0]?.id as string;
    const ack = (await send({
      envelope_id: 'env-severity',
      type: 'slash_commands',
      accepts_response_payload: true,
      payload: {
        team_id: TEAM_ID,
        channel_id: channel,
        user_id: 'U0REPORTER',
        command: '/incident',
        text: 'severity 2',
        response_url: 'https://hooks.slack.com/commands/x',
        trigger_id: '1.2.4',
        api_app_id: 'A0APP0001',
      },
    })) as { text: string };
    expect(ack.text).toBe('Severity is now SEV2.');
    await bot.engine.drain();
    expect(slack.callsTo('chat.update').length).toBeGreaterThan(0);

    const card = slack.messages.find((m) => m.metadata?.event_type === 'incident_card');
    const incidentId = JSON.stringify(card?.blocks).match(/card_actions:([0-9a-f-]{36})/)?.[1];
    await send({
      envelope_id: 'env-button',
      type: 'interactive',
      accepts_response_payload: true,
      payload: {
        type: 'block_actions',
        team: { id: TEAM_ID },
        user: { id: 'U0REPORTER', team_id: TEAM_ID },
        api_app_id: 'A0APP0001',
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
      },
    });
    await slack.waitFor(
      'views.open',
      (c) => (c.args.view as { callback_id?: string }).callback_id === 'incident_update',
    );
  });
});
