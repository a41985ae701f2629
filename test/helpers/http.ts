import { createHmac } from 'node:crypto';
import { type Bot, startBot } from '../../src/bot.js';
import type { Clock } from '../../src/clock.js';
import { type Config, DEFAULT_INCIDENT_CONFIG, type IncidentConfig } from '../../src/config/index.js';
import type { Database } from '../../src/db/client.js';
import { captureLogger } from './logger.js';
import { TEAM_ID } from './slack-api.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-0000000000-secret-token';

export function sign(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export const ICAL_TOKEN = 'test-ical-token-0123456789';

export function testConfig(incident: Partial<IncidentConfig> = {}): Config {
  return {
    slack: {
      botToken: BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      appToken: undefined,
      apiUrl: 'https://slack.com/api/',
      timeoutMs: 10_000,
    },
    databaseUrl: undefined,
    dataDir: './data-unused',
    port: 0,
    logLevel: 'debug',
    configPath: undefined,
    oncallIcalToken: ICAL_TOKEN,
    metricsToken: undefined,
    incident: { ...DEFAULT_INCIDENT_CONFIG, ...incident },
  };
}

export interface TestBot {
  bot: Bot;
  url: string;
  logLines: string[];
  /** POSTs a signed body to /slack/events. */
  post(
    body: string,
    options?: { timestamp?: number; signature?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  command(text: string, extra?: Record<string, string>): Promise<Response>;
  submitView(view: Record<string, unknown>, user?: string): Promise<Response>;
  /** A block action (button or select) on a message in `channel`. */
  action(
    action: Record<string, unknown> & { action_id: string },
    options?: { user?: string; channel?: string },
  ): Promise<Response>;
  stop(): Promise<void>;
}

export async function startTestBot(options: {
  database: Database;
  clock?: Clock;
  incident?: Partial<IncidentConfig>;
  alertInboxBound?: number;
  /** Without the on-call calendar token (its route is then off). */
  noIcalToken?: boolean;
  /** GET /metrics asks for this bearer token. */
  metricsToken?: string;
}): Promise<TestBot> {
  const { logger, lines } = captureLogger([BOT_TOKEN, SIGNING_SECRET, ICAL_TOKEN]);
  const config = { ...testConfig(options.incident), metricsToken: options.metricsToken };
  const bot = await startBot({
    config: options.noIcalToken ? { ...config, oncallIcalToken: undefined } : config,
    logger,
    clock: options.clock,
    database: options.database,
    processBeforeResponse: true,
    tick: false,
    alertInboxBound: options.alertInboxBound,
  });
  const url = `http://127.0.0.1:${bot.port}/slack/events`;
  const post: TestBot['post'] = (body, opts = {}) => {
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': opts.signature ?? sign(body, timestamp),
        ...opts.headers,
      },
      body,
    });
  };
  return {
    bot,
    url,
    logLines: lines,
    post,
    command(text, extra = {}) {
      return post(
        new URLSearchParams({
          token: 'legacy-token',
          team_id: TEAM_ID,
          team_domain: 'acme',
          channel_id: 'C0GENERAL',
          channel_name: 'general',
          user_id: 'U0REPORTER',
          user_name: 'reporter',
          command: '/incident',
          text,
          api_app_id: 'A0APP0001',
          response_url: 'https://hooks.slack.com/commands/T0TEAM001/1/abc',
          trigger_id: '1234.5678.abcdef',
          ...extra,
        }).toString(),
      );
    },
    submitView(view, user = 'U0REPORTER') {
      const payload = {
        type: 'view_submission',
        team: { id: TEAM_ID, domain: 'acme' },
        user: { id: user, team_id: TEAM_ID, name: 'reporter' },
        api_app_id: 'A0APP0001',
        trigger_id: '1234.5678.submit',
        view: { team_id: TEAM_ID, app_id: 'A0APP0001', ...view },
      };
      return post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    },
    action(action, options = {}) {
      const channel = options.channel ?? 'C0GENERAL';
      const payload = {
        type: 'block_actions',
        team: { id: TEAM_ID, domain: 'acme' },
        user: { id: options.user ?? 'U0REPORTER', team_id: TEAM_ID, name: 'someone' },
        api_app_id: 'A0APP0001',
        trigger_id: '1234.5678.action',
        response_url: 'https://hooks.slack.com/actions/T0TEAM001/1/xyz',
        container: {
          type: 'message',
          message_ts: '1700000000.000001',
          channel_id: channel,
          is_ephemeral: false,
        },
        channel: { id: channel, name: 'incident' },
        message: { ts: '1700000000.000001', type: 'message', text: 'card' },
        actions: [{ block_id: 'b', action_ts: '1700000001.000001', type: 'button', ...action }],
      };
      return post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    },
    stop: () => bot.stop(),
  };
}

/** A declare-modal view as Slack would submit it. */
export function declareView(
  fields: {
    title?: string;
    severity?: string | null;
    summary?: string;
    commander?: string | null;
    private?: boolean;
    test?: boolean;
  },
  viewId = 'V0DECLARE1',
): Record<string, unknown> {
  const options = [
    ...(fields.private ? [{ value: 'private', text: { type: 'plain_text', text: 'Private incident' } }] : []),
    ...(fields.test ? [{ value: 'test', text: { type: 'plain_text', text: 'Test incident' } }] : []),
  ];
  return {
    id: viewId,
    type: 'modal',
    callback_id: 'incident_declare',
    private_metadata: JSON.stringify({ sourceChannelId: 'C0GENERAL' }),
    hash: '1.abc',
    state: {
      values: {
        title: { title_input: { type: 'plain_text_input', value: fields.title ?? null } },
        severity: {
          severity_select: {
            type: 'static_select',
            selected_option:
              fields.severity === null
                ? null
                : { value: fields.severity ?? 'SEV2', text: { type: 'plain_text', text: 'x' } },
          },
        },
        summary: { summary_input: { type: 'plain_text_input', value: fields.summary ?? null } },
        commander: { commander_select: { type: 'users_select', selected_user: fields.commander ?? null } },
        options: { options_checkboxes: { type: 'checkboxes', selected_options: options } },
      },
    },
  };
}
