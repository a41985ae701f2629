import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, declareView, SIGNING_SECRET, sign } from '../helpers/http.js';
import { SlackApiMock, TEAM_ID } from '../helpers/slack-api.js';

/**
 * The built program, started as `npm start` starts it (node dist/main.js), with embedded PGlite and a fake
 * Slack Web API on loopback: it becomes ready, serves a signed command, runs the setup job, and stops
 * cleanly on SIGTERM.
 */

const ROOT = join(import.meta.dirname, '../..');

interface Running {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (d: Buffer) => stdout.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (d: Buffer) => stderr.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(() => {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
});

describe('the built program', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'incident-bot-smoke-'));
  const slack = new SlackApiMock();
  let api: Awaited<ReturnType<SlackApiMock['listen']>>;
  afterAll(async () => {
    await api?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts on PGlite, becomes ready, declares an incident, and stops cleanly on SIGTERM', async () => {
    api = await slack.listen();
    const bot = run({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: api.apiUrl,
      DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'debug',
    });
    try {
      const port = await until('the listening line', () => {
        const line = bot.stdout.find((l) => l.includes('listening on port'));
        return line ? Number(/port (\d+)/.exec(line)?.[1]) : undefined;
      });
      const base = `http://127.0.0.1:${port}`;
      await until('readiness', async () =>
        (await fetch(`${base}/readyz`)).status === 200 ? true : undefined,
      );
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      const body = new URLSearchParams({
        payload: JSON.stringify({
          type: 'view_submission',
          team: { id: TEAM_ID },
          user: { id: 'U0REPORTER', team_id: TEAM_ID },
          view: { team_id: TEAM_ID, ...declareView({ title: 'Smoke test', severity: 'SEV3' }) },
        }),
      }).toString();
      const ts = Math.floor(Date.now() / 1000);
      const res = await fetch(`${base}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': sign(body, ts),
        },
        body,
      });
      expect(res.status).toBe(200);
      await slack.waitFor('pins.add');
      expect(slack.callsTo('conversations.create')[0]?.args.name).toBe('inc-1-smoke-test');

      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
      expect(bot.stdout.some((l) => l.includes('"stopped"'))).toBe(true);
      const everything = [...bot.stdout, ...bot.stderr].join('\n');
      expect(everything).not.toContain(BOT_TOKEN);
      expect(everything).not.toContain(SIGNING_SECRET);
    } finally {
      bot.child.kill('SIGKILL');
    }
  });

  it('refuses to start with bad settings: one line per problem, no stack trace', async () => {
    const bot = run({ SLACK_BOT_TOKEN: 'not-a-token', PORT: '99999', DATA_DIR: dataDir });
    expect(await bot.exited).toBe(1);
    expect(bot.stderr).toEqual([
      'config error: SLACK_BOT_TOKEN: must be a bot token starting with xoxb-',
      'config error: PORT: must be between 0 and 65535',
      'config error: SLACK_SIGNING_SECRET: is required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
    ]);
  });

  it('says which setting is wrong when Slack rejects the token', async () => {
    const fake = new SlackApiMock();
    fake.override('auth.test', () => ({ body: { ok: false, error: 'invalid_auth' } }));
    const server = await fake.listen();
    try {
      const bot = run({
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: server.apiUrl,
        DATA_DIR: dataDir,
        PORT: '0',
      });
      expect(await bot.exited).toBe(1);
      const lines = bot.stdout.map((l) => JSON.parse(l) as { level: string; msg: string });
      expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
        'SLACK_BOT_TOKEN: Slack rejected the token (invalid_auth); expected a valid bot token (xoxb-…)',
      ]);
    } finally {
      await server.close();
    }
  });
});
