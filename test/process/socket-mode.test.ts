import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { processHarness } from '../helpers/harness.js';
import { declareView } from '../helpers/http.js';
import { until } from '../helpers/process.js';
import { TEAM_ID } from '../helpers/slack-api.js';

/**
 * Socket Mode from the built program. The bundle defers loading Bolt's Socket Mode client until a
 * receiver is built (scripts/bundle.mjs), so this is the test that the deferred module still loads and
 * works where `npm start` runs it: the program connects to a local stand-in for Slack's socket, answers
 * a command and declares an incident through it.
 */

const { setup, cleanups } = processHarness('socket-mode');

describe('Socket Mode as a process', () => {
  it('connects, answers /incident help and declares an incident over the socket', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    await new Promise((resolve) => wss.once('listening', resolve));
    const acks = new Map<string, unknown>();
    let socket: WebSocket | undefined;
    wss.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (msg.envelope_id) acks.set(msg.envelope_id, msg.payload ?? null);
      });
      ws.send(
        JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0APP0001' } }),
      );
    });
    const { slack, start } = await setup({
      config: 'announcements_channel: C0ANNOUNCE\n',
      env: { SLACK_APP_TOKEN: 'xapp-1-A0APP0001-test' },
    });
    const wsPort = (wss.address() as AddressInfo).port;
    slack.override('apps.connections.open', () => ({
      body: { ok: true, url: `ws://127.0.0.1:${wsPort}/link` },
    }));

    const bot = start();
    await bot.ready();
    expect(bot.stdout.some((line) => line.includes('Socket Mode'))).toBe(true);
    const connected = await until('the socket connection', () => socket);
    const send = (envelope: { envelope_id: string } & Record<string, unknown>) => {
      connected.send(JSON.stringify(envelope));
      return until(`the ack of ${envelope.envelope_id}`, () => acks.get(envelope.envelope_id), 10_000, 10);
    };

    const help = (await send({
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
    })) as { blocks: unknown[] };
    expect(JSON.stringify(help.blocks)).toContain('/incident declare [title]');

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
    await until('the card pinned', () => (slack.pins.length > 0 ? true : undefined));
    expect(slack.callsTo('conversations.create')[0]?.args.name).toBe('inc-1-over-the-socket');
    expect(bot.stderr.join('\n')).not.toMatch(/error/i);
  });
});
