import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterEach } from 'vitest';
import { createTestDatabase, hasServer, type TestDatabase } from './db.js';
import { BOT_TOKEN, SIGNING_SECRET } from './http.js';
import { type BotProcess, startBotProcess } from './process.js';
import { SlackApiMock } from './slack-api.js';

/**
 * The built program as a process suite runs it: a Slack API mock on a port, a config file in a temporary
 * directory, one database (a fresh PostgreSQL database with a server, else PGlite in that directory) and
 * `start()` for each replica. Everything is undone after each test, last made first.
 */
export function processHarness(name: string) {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(options: {
    config: string;
    env?: Record<string, string>;
    faults?: Partial<SlackApiMock['faults']>;
  }): Promise<{
    slack: SlackApiMock;
    start: () => BotProcess;
    /** The test database and a connection to it; undefined on PGlite. */
    tdb: TestDatabase | undefined;
    sql: postgres.Sql | undefined;
  }> {
    const slack = new SlackApiMock();
    Object.assign(slack.faults, options.faults ?? {});
    const api = await slack.listen();
    cleanups.push(() => api.close());
    const dir = mkdtempSync(join(tmpdir(), `incident-bot-${name}-`));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const configPath = join(dir, 'incident.config.yml');
    writeFileSync(configPath, options.config);
    let tdb: TestDatabase | undefined;
    let sql: postgres.Sql | undefined;
    if (hasServer) {
      const t = await createTestDatabase();
      cleanups.push(() => t.drop());
      const s = postgres(t.url as string, { max: 1, onnotice: () => {} });
      cleanups.push(() => s.end());
      [tdb, sql] = [t, s];
    }
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: api.apiUrl,
      INCIDENT_CONFIG: configPath,
      LOG_LEVEL: 'info',
      ...options.env,
      ...(tdb?.url ? { DATABASE_URL: tdb.url } : { DATA_DIR: join(dir, 'data') }),
    };
    const start = () => {
      const bot = startBotProcess(env);
      cleanups.push(() => void bot.kill('SIGKILL'));
      return bot;
    };
    return { slack, start, tdb, sql };
  }

  return { setup, cleanups };
}
