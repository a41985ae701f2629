import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { declareView } from './http.js';
import { type SlackApiMock, TEAM_ID } from './slack-api.js';

/** The app token both Socket Mode suites run with. */
export const APP_TOKEN = 'xapp-1-A0APP0001-test';

/**
 * A local stand-in for Slack's Socket Mode endpoint: `slack`'s apps.connections.open hands out its URL; it
 * says hello to the bot, and `send` delivers an envelope and resolves with the bot's acknowledgement.
 */
export async function socketModeSlack(slack: SlackApiMock) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const acks = new Map<string, unknown>();
  let socket: WebSocket | undefined;
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    onConnected = resolve;
  });
  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (msg.envelope_id) acks.set(msg.envelope_id, msg.payload ?? null);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0APP0001' } }));
    onConnected();
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  const port = (wss.address() as AddressInfo).port;
  slack.override('apps.connections.open', () => ({ body: { ok: true, url: `ws://127.0.0.1:${port}/link` } }));

  return {
    /** Resolves once the bot has connected. */
    connected,
    /** Sends an envelope; resolves with the acknowledgement's payload (null without one), within 10 s. */
    send(envelope: { envelope_id: string } & Record<string, unknown>): Promise<unknown> {
      if (!socket) throw new Error('the bot has not connected');
      socket.send(JSON.stringify(envelope));
      const started = Date.now();
      return new Promise((resolve, reject) => {
        const poll = setInterval(() => {
          if (acks.has(envelope.envelope_id)) {
            clearInterval(poll);
            resolve(acks.get(envelope.envelope_id));
          } else if (Date.now() - started > 10_000) {
            clearInterval(poll);
            reject(new Error(`no ack for ${envelope.envelope_id}`));
          }
        }, 10);
      });
    },
    close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}

/** An `/incident <text>` slash command as a Socket Mode envelope. */
export function commandEnvelope(
  envelopeId: string,
  text: string,
  channelId = 'C0GENERAL',
  triggerId = '1.2.3',
) {
  return {
    envelope_id: envelopeId,
    type: 'slash_commands',
    accepts_response_payload: true,
    payload: {
      team_id: TEAM_ID,
      channel_id: channelId,
      user_id: 'U0REPORTER',
      command: '/incident',
      text,
      response_url: 'https://hooks.slack.com/commands/x',
      trigger_id: triggerId,
      api_app_id: 'A0APP0001',
    },
  };
}

/** An interactive payload (a view submission, a button) from U0REPORTER as a Socket Mode envelope. */
export function interactiveEnvelope(envelopeId: string, payload: { type: string } & Record<string, unknown>) {
  return {
    envelope_id: envelopeId,
    type: 'interactive',
    accepts_response_payload: true,
    payload: {
      team: { id: TEAM_ID },
      user: { id: 'U0REPORTER', team_id: TEAM_ID },
      api_app_id: 'A0APP0001',
      ...payload,
    },
  };
}

/** A submission of the declare modal as a Socket Mode envelope. */
export function declarationEnvelope(envelopeId: string, fields: Parameters<typeof declareView>[0]) {
  return interactiveEnvelope(envelopeId, {
    type: 'view_submission',
    view: { team_id: TEAM_ID, ...declareView(fields) },
  });
}
