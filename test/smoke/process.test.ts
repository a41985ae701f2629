import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, SIGNING_SECRET } from '../helpers/http.js';
import { ROOT, signedDeclaration, startBotProcess } from '../helpers/process.js';
import { SlackApiMock } from '../helpers/slack-api.js';

/**
 * The built program, started as `npm start` starts it (node dist/main.js), with embedded PGlite and a fake
 * Slack Web API on loopback: it becomes ready, serves a signed command, runs the setup job, and stops
 * cleanly on SIGTERM.
 */

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
    const bot = startBotProcess({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: api.apiUrl,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'debug',
    });
    try {
      await bot.ready();
      const base = await bot.base();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const declaration = signedDeclaration('V0SMOKE001', { title: 'Smoke test', severity: 'SEV3' });
      const res = await fetch(`${base}/slack/events`, { method: 'POST', ...declaration });
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
    const bot = startBotProcess({ SLACK_BOT_TOKEN: 'not-a-token', PORT: '99999', DATA_DIR: dataDir });
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
      const bot = startBotProcess({
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

  it('is bundled without the modules Bolt requires and the bot never calls, and with zod in English only', () => {
    // esbuild heads each bundled module with a comment naming its file (scripts/bundle.mjs).
    const bundled = new Set(
      [...readFileSync(join(ROOT, 'dist/main.js'), 'utf8').matchAll(/^\/\/ (node_modules\/\S+)$/gm)].map(
        (m) => m[1] as string,
      ),
    );
    const from = (prefix: string) => [...bundled].filter((file) => file.startsWith(prefix));
    // Loaded from node_modules on first use, which on HTTP never comes.
    for (const deferred of ['iconv-lite', '@slack/oauth', '@slack/socket-mode', 'express', 'jsonwebtoken'])
      expect(from(`node_modules/${deferred}/`)).toEqual([]);
    expect(from('node_modules/zod/v4/locales/')).toEqual(['node_modules/zod/v4/locales/en.js']);
    // What runs is there: Bolt, zod's schemas, postgres.js.
    expect(from('node_modules/@slack/bolt/').length).toBeGreaterThan(0);
    expect(from('node_modules/zod/v4/classic/').length).toBeGreaterThan(0);
    expect(from('node_modules/postgres/').length).toBeGreaterThan(0);
  });

  it('refuses to start on PostgreSQL, in one line, when postgres.js lacks its patch (an install that skipped patch-package)', () => {
    // The built program beside a node_modules that is the project's, except for an unpatched postgres.js.
    const copy = mkdtempSync(join(tmpdir(), 'incident-bot-unpatched-'));
    try {
      cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
      mkdirSync(join(copy, 'node_modules'));
      for (const name of readdirSync(join(ROOT, 'node_modules'))) {
        if (name !== 'postgres')
          symlinkSync(join(ROOT, 'node_modules', name), join(copy, 'node_modules', name));
      }
      cpSync(join(ROOT, 'node_modules/postgres'), join(copy, 'node_modules/postgres'), { recursive: true });
      const file = join(copy, 'node_modules/postgres/src/connection.js');
      const patched = readFileSync(file, 'utf8');
      const unpatched = patched.replace(/ {4}if \(!socket\) \{ \/\/ incident-bot:[\s\S]*?\n {4}\}\n/, '');
      expect(unpatched).not.toBe(patched);
      writeFileSync(file, unpatched);

      const run = spawnSync(process.execPath, ['dist/main.js'], {
        cwd: copy,
        env: {
          PATH: process.env.PATH ?? '',
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          // Checked before any connection is made: nothing listens there.
          DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
          PORT: '0',
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n')).toEqual([
        `startup error: postgres.js is not patched (${file} lacks the fix for porsager/postgres#1208); run \`npx patch-package\` in the install folder (npm ci applies it unless scripts are off)`,
      ]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
