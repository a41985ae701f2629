import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { declareView, sign } from './http.js';
import { TEAM_ID } from './slack-api.js';

/** The built program (dist/main.js, as `npm start` runs it) as a child process, for process-level suites. */

export const ROOT = join(import.meta.dirname, '../..');

export interface BotProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  /** Resolves with the HTTP port once the process logs that it listens. */
  port(): Promise<number>;
  base(): Promise<string>;
  /** Waits until /readyz answers 200. */
  ready(ms?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
  every = 100,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** `npm start`'s command line without `node`: the same flags (heap limit) as production, then dist/main.js. */
const START_ARGS: string[] = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(' ')
  .slice(1);

/** `nodeArgs` go before `npm start`'s own flags (the bench adds the profiler); so does $BOT_NODE_ARGS. */
export function startBotProcess(env: Record<string, string>, nodeArgs: string[] = []): BotProcess {
  const child = spawn(
    process.execPath,
    [...(process.env.BOT_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...nodeArgs, ...START_ARGS],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (d: Buffer) => stdout.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (d: Buffer) => stderr.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = () =>
    until('the listening line', () => {
      const line = stdout.find((l) => l.includes('listening on port'));
      return line ? Number(/port (\d+)/.exec(line)?.[1]) : undefined;
    });
  const base = async () => `http://127.0.0.1:${await port()}`;
  return {
    child,
    stdout,
    stderr,
    exited,
    port,
    base,
    async ready(ms = 30_000) {
      const url = `${await base()}/readyz`;
      await until('readiness', async () => ((await fetch(url)).status === 200 ? true : undefined), ms);
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A form body signed now, with the headers Slack sends. */
export function signedForm(body: string): { body: string; headers: Record<string, string> } {
  const ts = Math.floor(Date.now() / 1000);
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': sign(body, ts),
    },
  };
}

/** A signed view submission of the declare modal, as Slack would POST it. */
export function signedDeclaration(viewId: string, fields: Parameters<typeof declareView>[0]) {
  return signedForm(
    new URLSearchParams({
      payload: JSON.stringify({
        type: 'view_submission',
        team: { id: TEAM_ID },
        user: { id: 'U0REPORTER', team_id: TEAM_ID },
        view: { team_id: TEAM_ID, ...declareView(fields, viewId) },
      }),
    }).toString(),
  );
}

/** A signed `/incident <text>` slash command. */
export function signedCommand(text: string, extra: Record<string, string> = {}) {
  return signedForm(
    new URLSearchParams({
      team_id: TEAM_ID,
      channel_id: 'C0GENERAL',
      user_id: 'U0REPORTER',
      command: '/incident',
      text,
      response_url: 'https://hooks.slack.com/commands/T/1/x',
      trigger_id: '1.2.3',
      ...extra,
    }).toString(),
  );
}

/** Runs `tasks` with at most `concurrency` at once. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}
