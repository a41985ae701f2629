/**
 * `npm run bench`: the real program as a separate process (HTTP mode) against the fake Slack Web API
 * answering every call after 20 ms: every scenario on PostgreSQL when DATABASE_URL is set (a scratch database
 * is created and dropped), then on embedded PGlite. Prints one table, a column per database, and writes
 * bench/results.json (PostgreSQL's figures at the top level, PGlite's under `pglite`). Not a test.
 * `-- --soak 10m` runs the soak instead (bench/soak.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import postgres from 'postgres';
import { alertmanagerNotification } from '../test/helpers/alerts.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../test/helpers/http.js';
import {
  type BotProcess,
  pool,
  ROOT,
  signedCommand,
  signedDeclaration,
  startBotProcess,
  until,
} from '../test/helpers/process.js';
import { SlackApiMock } from '../test/helpers/slack-api.js';
import { formatSummary, summarizeDir } from './profile.js';
import { formatSoak, soak, soakDurationMs, soakJson } from './soak.js';

const LATENCY_MS = 20;
/** `npm run bench -- --only=timers` runs one scenario (ack, declare, timers or alerts); results.json is left alone. */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const SCENARIOS = ['ack', 'declare', 'timers', 'alerts'] as const;
if (only !== undefined && !(SCENARIOS as readonly string[]).includes(only))
  throw new Error(`--only=${only}: the scenarios are ${SCENARIOS.join(', ')}`);
const want = (scenario: (typeof SCENARIOS)[number]) => !only || only === scenario;
/** `npm run bench -- --db=pglite` runs on one database (results.json is then left alone). */
const onlyDb = process.argv.find((a) => a.startsWith('--db='))?.slice('--db='.length);
if (onlyDb !== undefined && onlyDb !== 'postgres' && onlyDb !== 'pglite')
  throw new Error(`--db=${onlyDb}: the databases are postgres and pglite`);
/**
 * `npm run bench -- --profile` runs the bot (and bare Bolt) under `node --cpu-prof` and prints where their
 * CPU time went, per scenario. Profiling slows everything down, so results.json is left alone.
 */
const profiling = process.argv.includes('--profile');
const profiles: string[] = [];
function profileArgs(): { dir?: string; args: string[] } {
  if (!profiling) return { args: [] };
  const dir = mkdtempSync(join(tmpdir(), 'incident-bot-profile-'));
  return { dir, args: ['--cpu-prof', `--cpu-prof-dir=${dir}`] };
}
function reportProfile(name: string, dir: string | undefined, perUnit: { n: number; unit: string }) {
  const summary = dir ? summarizeDir(dir) : undefined;
  if (summary) profiles.push(formatSummary(name, summary, perUnit));
}
/** Starts the bot under the profiler when asked; the profile is written when it exits. */
function startBot(env: Record<string, string>) {
  const { dir, args } = profileArgs();
  return Object.assign(startBotProcess(env, args), { profileDir: dir });
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN);
};
/** A process's CPU time so far (user + system) in ms, from /proc (clock ticks of 10 ms). */
const cpuMsOf = (stat: string) => {
  const fields = stat.split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const cpuMs = (pid: number) => cpuMsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
/**
 * PostgreSQL's CPU time so far: every server process on the machine (backends and background workers),
 * from /proc. The bench's own database is the only busy one while it runs. Null when no PostgreSQL runs
 * on this machine (DATABASE_URL names another host): its CPU cannot be read from here.
 */
const postgresCpuMs = (): number | null => {
  let ms: number | null = null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.includes(' (postgres) ')) ms = (ms ?? 0) + cpuMsOf(stat);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ms;
};
/** This process's CPU time so far (user + system) in ms: the load generator and the fake Slack. */
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
/**
 * The bench process's own garbage collection. Its pauses land in the latencies it measures: the fake
 * Slack answers late and the load generator stamps late while it collects. Each latency phase therefore
 * starts quiet (`quietBench`), and the longest pause of the bench's own during a phase is reported beside
 * its figure. `npm run bench` runs with --expose-gc for this.
 */
const benchGc = (() => {
  const pauses: { at: number; ms: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push({ at: entry.startTime, ms: entry.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect)
    console.warn(
      'bench: run with node --expose-gc (npm run bench does): without it the bench cannot collect its own heap before a latency phase, and its pauses land in the figures',
    );
  return {
    /** Collects the bench's heap now, before a phase whose latencies count. */
    collect: () => collect?.(),
    /** The longest pause of the bench's own garbage collector from `from` on (performance.now()), in ms. */
    longestSince(from: number): number {
      for (const entry of observer.takeRecords()) pauses.push({ at: entry.startTime, ms: entry.duration });
      return +Math.max(0, ...pauses.filter((p) => p.at >= from).map((p) => p.ms)).toFixed(1);
    },
  };
})();
/**
 * Before a phase whose latencies count: the fake Slack forgets the calls it recorded so far (each phase
 * reads only its own), and the bench collects its heap, so that no collection of the phases before falls
 * inside this one. Measured on PostgreSQL, the bench's longest pause during the 50 one at a time went from
 * 11–15 ms to none, and during the burst from 53–65 to 21–38 ms; what remains is the phase's own (at
 * concurrency 50 the requests in flight outlive two scavenges and are promoted). Returns when the phase
 * starts, for `benchGc.longestSince`.
 */
function quietBench(slack: SlackApiMock): number {
  slack.calls.splice(0);
  benchGc.collect();
  return performance.now();
}
const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
};

async function scratch(options: { pglite?: boolean } = {}): Promise<{
  env: Record<string, string>;
  sql?: postgres.Sql;
  drop: () => Promise<void>;
}> {
  const url = process.env.DATABASE_URL;
  if (!url || options.pglite) {
    const dir = mkdtempSync(join(tmpdir(), 'incident-bot-bench-'));
    return { env: { DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const sql = postgres(u.toString(), { max: 2, onnotice: () => {} });
  return {
    env: { DATABASE_URL: u.toString() },
    sql,
    drop: async () => {
      await sql.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** Sends `n` signed `/incident declare …` commands at `concurrency`; adds each time to HTTP 200 to `into`. */
async function ackRound(base: string, n: number, into: number[], concurrency = 50): Promise<number> {
  const started = performance.now();
  await pool(n, concurrency, async (i) => {
    const c = signedCommand(`declare Bench title ${i}`, { user_id: 'U0BENCH01', trigger_id: `1.2.${i}` });
    const t0 = performance.now();
    const res = await fetch(`${base}/slack/events`, { method: 'POST', ...c });
    await res.text();
    if (res.status !== 200) throw new Error(`ack: HTTP ${res.status}`);
    into.push(performance.now() - t0);
  });
  return performance.now() - started;
}

/**
 * 3,000 commands to each of the bot and bare Bolt, in three alternating rounds of 1,000, so that whatever
 * else the machine does during the run (a checkpoint, another process) falls on both alike.
 */
async function ackScenario(ours: string, bare: string, slack: SlackApiMock) {
  const latencies = { ours: [] as number[], bare: [] as number[] };
  const ms = { ours: 0, bare: 0 };
  const paused = { ours: 0, bare: 0 };
  const round = async (side: 'ours' | 'bare', base: string) => {
    const from = quietBench(slack);
    ms[side] += await ackRound(base, 1000, latencies[side]);
    paused[side] = Math.max(paused[side], benchGc.longestSince(from));
  };
  await ackRound(bare, 300, []); // warm-up
  await ackRound(ours, 300, []);
  for (let i = 0; i < 3; i++) {
    await round('bare', bare);
    await round('ours', ours);
  }
  const figures = (side: 'ours' | 'bare') => ({
    p50: pct(latencies[side], 50),
    p95: pct(latencies[side], 95),
    p99: pct(latencies[side], 99),
    rps: Math.round((3000 * 1000) / ms[side]),
  });
  return { ours: figures('ours'), bare: figures('bare'), paused };
}

/** `n` declarations at `concurrency`: time from submit to the card pinned, as the fake Slack saw it. */
async function declareScenario(
  base: string,
  slack: SlackApiMock,
  tag: string,
  n: number,
  concurrency: number,
) {
  const pinnedBefore = slack.pins.length;
  const submitted = new Map<string, number>();
  const started = performance.now();
  await pool(n, concurrency, async (i) => {
    const d = signedDeclaration(`V0${tag}${i}`, { title: `Bench ${tag} ${i}`, severity: 'SEV2' });
    submitted.set(`bench-${tag}-${i}`, performance.now());
    const res = await fetch(`${base}/slack/events`, { method: 'POST', ...d });
    await res.text();
    if (res.status !== 200) throw new Error(`declare: HTTP ${res.status}`);
  });
  const ackedAfter = performance.now() - started;
  await until(
    `${n} cards pinned`,
    () => (slack.pins.length >= pinnedBefore + n ? true : undefined),
    300_000,
    20,
  );
  const pinnedAt = new Map(slack.callsTo('pins.add').map((c) => [String(c.args.channel), c.at]));
  const latencies: number[] = [];
  let last = 0;
  const slugOf = new RegExp(`bench-${tag}-\\d+$`);
  for (const ch of slack.channels) {
    const slug = slugOf.exec(ch.name)?.[0];
    const at = pinnedAt.get(ch.id);
    const t0 = slug ? submitted.get(slug) : undefined;
    if (at !== undefined && t0 !== undefined) {
      latencies.push(at - t0);
      last = Math.max(last, at);
    }
  }
  return {
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    perSecond: Math.round((latencies.length * 1000) / (last - started)),
    // How fast declarations were accepted (HTTP 200): when that outpaces perSecond, cards queue.
    ackedPerSecond: Math.round((n * 1000) / ackedAfter),
  };
}

const ALERTS_KEY = 'bench-alerts-key-0123456789abcdef';
const STORM_NOTIFICATIONS = 400;
const ALERTS_PER_NOTIFICATION = 50;
const STORM_GROUPS = 20;
const SOLO_GROUPS = 40;

/**
 * The alert hub: Alertmanager-shaped notifications of 50 alerts at concurrency 8 (20,000 alerts in 20
 * groups) — how fast they are accepted (committed, then answered 202), how fast the workers apply them
 * (PostgreSQL only: PGlite lives inside the bot), and when every group's message shows its full count
 * (Slack takes one new message a second, so 20 groups need 20 s at least); then, with the channel quiet,
 * 40 new groups one at a time, 1.1 s apart: from sending the first alert to its group's message in Slack.
 */
async function alertsScenario(
  env: Record<string, string>,
  slack: SlackApiMock,
  run: string,
  sql: postgres.Sql | undefined,
) {
  const dir = mkdtempSync(join(tmpdir(), 'incident-bot-bench-alerts-'));
  const config = join(dir, 'incident.config.yml');
  writeFileSync(
    config,
    `alerts:
  channel: C0BENCHALERTS
  group_by: [alertname]
  integrations:
    - {name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS}
`,
  );
  const bot = startBot({ ...env, INCIDENT_CONFIG: config, ALERTS_KEY_PROMETHEUS: ALERTS_KEY });
  try {
    await bot.ready();
    const url = `${await bot.base()}/alerts/prometheus`;
    const send = async (body: string) => {
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${ALERTS_KEY}`, 'content-type': 'application/json' },
        body,
      });
      await res.text();
      if (res.status !== 202) throw new Error(`alerts: HTTP ${res.status}`);
      return { t0, ms: performance.now() - t0 };
    };
    const notification = (n: number, tag: string) =>
      alertmanagerNotification(
        Array.from({ length: ALERTS_PER_NOTIFICATION }, (_, a) => ({
          alertname: `${tag}${n % STORM_GROUPS}`,
          instance: `${tag}-${n}-${a}`,
        })),
      );
    // Warm-up: 40 notifications in groups of their own, then quiet until they are applied.
    const [warm, storm, solo] = ['Warm', 'Storm', 'Solo'].map((w) => `${run}${w}`) as [
      string,
      string,
      string,
    ];
    await pool(40, 8, (n) => send(notification(n, warm)));
    const firing = (prefix: string) =>
      slack.messages
        .filter((m) => m.channel === 'C0BENCHALERTS' && !m.thread_ts && m.text.includes(`] ${prefix}`))
        .reduce((sum, m) => sum + Number(/^\[FIRING:(\d+)\]/.exec(m.text)?.[1] ?? 0), 0);
    await until('warm-up applied', () => (firing(warm) >= 2000 ? true : undefined), 120_000, 50);

    const answers: number[] = [];
    const started = performance.now();
    await pool(STORM_NOTIFICATIONS, 8, async (n) => {
      answers.push((await send(notification(n, storm))).ms);
    });
    const acceptedMs = performance.now() - started;
    const total = STORM_NOTIFICATIONS * ALERTS_PER_NOTIFICATION;
    // Applied: every notification's alerts grouped and counted in PostgreSQL (PGlite is inside the bot).
    const applied = sql
      ? await until(
          'the storm applied',
          async () => {
            const [r] =
              await sql`select count(*)::int as n from timers where kind = 'alerts.ingest' and status = 'pending'`;
            return r?.n === 0 ? performance.now() - started : undefined;
          },
          300_000,
          50,
        )
      : undefined;
    // Settled: every group's message shows its full count — paced by Slack's one new message a second.
    await until('the storm told', () => (firing(storm) >= total ? true : undefined), 300_000, 50);
    const settledMs = performance.now() - started;
    // Edits trail by up to 5 s, and thread posts queue one a second: let the channel go quiet (3 s
    // without a call to Slack) before measuring what one new group takes outside a storm.
    await until(
      'the channel to go quiet',
      () => (performance.now() - (slack.calls.at(-1)?.at ?? 0) > 3000 ? true : undefined),
      180_000,
      100,
    );

    const firstMessage: number[] = [];
    for (let k = 0; k < SOLO_GROUPS; k++) {
      const name = `${solo}${k}`;
      const { t0 } = await send(alertmanagerNotification([{ alertname: name, instance: 'solo' }]));
      const posted = await until(
        `${name} posted`,
        () =>
          slack.calls.find(
            (c) =>
              c.method === 'chat.postMessage' &&
              c.args.channel === 'C0BENCHALERTS' &&
              String(c.args.text).endsWith(`] ${name}`),
          ),
        30_000,
        5,
      );
      firstMessage.push(posted.at - t0);
      await new Promise((r) => setTimeout(r, Math.max(0, 1100 - (performance.now() - t0))));
    }
    return {
      accepted_per_s: Math.round((total * 1000) / acceptedMs),
      answer_p50_ms: pct(answers, 50),
      answer_p99_ms: pct(answers, 99),
      applied_per_s: applied ? Math.round((total * 1000) / applied) : null,
      storm_told_s: +(settledMs / 1000).toFixed(1),
      first_message_p50_ms: pct(firstMessage, 50),
      first_message_p99_ms: pct(firstMessage, 99),
      group_messages: slack.messages.filter(
        (m) => m.channel === 'C0BENCHALERTS' && !m.thread_ts && m.text.includes(`] ${storm}`),
      ).length,
    };
  } finally {
    await bot.kill('SIGTERM');
    reportProfile('alerts, the bot', bot.profileDir, {
      n: (STORM_NOTIFICATIONS + 40) * ALERTS_PER_NOTIFICATION + SOLO_GROUPS,
      unit: 'alert',
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

function startBare(apiUrl: string): BotProcess & { stop: () => Promise<void>; profileDir?: string } {
  const { dir, args } = profileArgs();
  const child = spawn(process.execPath, [...args, 'bench/bare-bolt.mjs'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: apiUrl,
      PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stdout: string[] = [];
  child.stdout?.on('data', (d: Buffer) => stdout.push(...d.toString().split('\n')));
  const port = () => until('bare bolt', () => Number(/port (\d+)/.exec(stdout.join('\n'))?.[1]) || undefined);
  return {
    child,
    stdout,
    stderr: [],
    exited: new Promise((r) => child.on('exit', r)),
    port,
    base: async () => `http://127.0.0.1:${await port()}`,
    ready: async () => void (await port()),
    kill: async () => {
      child.kill('SIGKILL');
      return null;
    },
    profileDir: dir,
    // SIGTERM lets a profiled process write its profile on the way out.
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    },
  };
}

/** One scenario's figures, under the keys results.json keeps. */
type Figures = Record<string, number | null>;
interface Run {
  ack?: Figures;
  declare?: Figures;
  memory?: Figures;
  alerts?: Figures;
  /** Per replica count (`replicas1`, `replicas3`), or a note where the database has no replicas. */
  timers?: Record<string, Figures> | { note: string };
}

/** Every scenario on one database, with its own fake Slack and scratch database. */
async function scenarios(database: 'postgres' | 'pglite'): Promise<Run> {
  const slack = new SlackApiMock();
  slack.faults.latencyMs = LATENCY_MS;
  const api = await slack.listen();
  const db = await scratch({ pglite: database === 'pglite' });
  const env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: api.apiUrl,
    // info: the process helpers learn the port from the "listening on port" line.
    LOG_LEVEL: 'info',
    ...db.env,
  };
  const results: Run = {};
  const tag = (name: string) => `${name} (${database})`;
  try {
    // A first start creates the database (PGlite's initdb) and migrates it: a one-time cost of a new
    // installation, kept out of the scenarios and of their memory figures.
    const first = startBotProcess(env);
    await first.ready();
    await first.kill('SIGTERM');

    // 1. ack: ours and bare Bolt, in the same run.
    if (want('ack')) {
      const bare = startBare(api.apiUrl);
      const bot = startBot(env);
      await Promise.all([bare.ready(), bot.ready()]);
      const { ours, bare: floor, paused } = await ackScenario(await bot.base(), await bare.base(), slack);
      await Promise.all([bare.stop(), bot.kill('SIGTERM')]);
      reportProfile(tag('ack, bare Bolt'), bare.profileDir, { n: 3300, unit: 'request' });
      reportProfile(tag('ack, the bot'), bot.profileDir, { n: 3300, unit: 'request' });
      results.ack = {
        ...ours,
        p99_ms: ours.p99,
        bare_p50_ms: floor.p50,
        bare_p99_ms: floor.p99,
        bare_rps: floor.rps,
        ratio: +(ours.p99 / floor.p99).toFixed(2),
        // The bench process's longest garbage-collection pause while it measured each side.
        bench_gc_max_ms: paused.ours,
        bare_bench_gc_max_ms: paused.bare,
      };
    }

    // 2. declare: view submission → card pinned (seen at the fake Slack); memory sampled meanwhile.
    if (want('declare')) {
      const bot = startBot(env);
      await bot.ready();
      const base = await bot.base();
      await declareScenario(base, slack, 'warm', 20, 5); // JIT warm-up, not measured
      const pid = bot.child.pid as number;
      let peak = rssMb(pid);
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMb(pid));
      }, 100);
      const burstFrom = quietBench(slack);
      // Where the burst's CPU goes: the burst runs the two cores full, so each process's share per incident
      // says what the rate is made of.
      const before = {
        bot: cpuMs(pid),
        bench: ownCpuMs(),
        postgres: db.sql ? postgresCpuMs() : null,
        at: performance.now(),
      };
      const loaded = await declareScenario(base, slack, 'decl', 500, 20);
      const burstPause = benchGc.longestSince(burstFrom);
      const spent = {
        bot: cpuMs(pid) - before.bot,
        bench: ownCpuMs() - before.bench,
        postgres: before.postgres === null ? null : (postgresCpuMs() ?? before.postgres) - before.postgres,
        wall: performance.now() - before.at,
      };
      clearInterval(sampler);
      // The same path without a queue in front of it: one declaration at a time.
      const aloneFrom = quietBench(slack);
      const alone = await declareScenario(base, slack, 'solo', 50, 1);
      const alonePause = benchGc.longestSince(aloneFrom);
      const floor = 3 * LATENCY_MS; // conversations.create → chat.postMessage → pins.add
      results.declare = {
        p50_ms: loaded.p50,
        p99_ms: loaded.p99,
        incidents_per_s: loaded.perSecond,
        acked_per_s: loaded.ackedPerSecond,
        floor_ms: floor,
        ratio: +(loaded.p99 / floor).toFixed(2),
        one_at_a_time_p50_ms: alone.p50,
        one_at_a_time_p99_ms: alone.p99,
        one_at_a_time_ratio: +(alone.p99 / floor).toFixed(2),
        // The bench process's longest garbage-collection pause during the burst and during the 50.
        burst_bench_gc_max_ms: burstPause,
        one_at_a_time_bench_gc_max_ms: alonePause,
        // CPU per incident during the burst (user + system, ms): the bot, this process (load generator and
        // fake Slack), PostgreSQL's processes (none with PGlite, which is inside the bot); and how busy
        // the machine's cores were meanwhile, all processes together.
        burst_cpu_ms_per_incident_bot: +(spent.bot / 500).toFixed(2),
        burst_cpu_ms_per_incident_bench: +(spent.bench / 500).toFixed(2),
        burst_cpu_ms_per_incident_postgres:
          spent.postgres === null ? null : +(spent.postgres / 500).toFixed(2),
        // This machine's cores: a PostgreSQL on another host is not counted.
        burst_cores_busy: +(
          (spent.bot + spent.bench + (spent.postgres ?? 0)) /
          spent.wall /
          cpus().length
        ).toFixed(2),
      };
      await new Promise((r) => setTimeout(r, 5000));
      results.memory = { peak_rss_mb: Math.round(peak), idle_rss_mb: Math.round(rssMb(pid)) };
      await bot.kill('SIGTERM');
      reportProfile(tag('declare, the bot'), bot.profileDir, { n: 570, unit: 'incident' });
    }

    // 3. alerts: accepted per second and answer times under load; first alert → group message when quiet.
    if (want('alerts')) results.alerts = await alertsScenario(env, slack, 'A', db.sql);

    // 4. timers: 100,000 pending future timers plus 10,000 due now, fired by 1 and then 3 replicas
    // started after they fell due (start-up included in the lag); then, with those replicas running,
    // another 10,000 falling due at once two seconds after they are written (the `running_` figures).
    if (want('timers') && db.sql) {
      const sql = db.sql;
      const timers: Record<string, Figures> = {};
      const fired = async (prefix: string) => {
        await until(
          `all ${prefix} timers fired`,
          async () => {
            const [r] =
              await sql`select count(*)::int as n from timers where key like ${`${prefix}:%`} and status = 'done'`;
            return r?.n === 10000 ? true : undefined;
          },
          300_000,
          200,
        );
        const [stats] = await sql`select count(*) filter (where attempts > 1)::int as duplicates,
          percentile_cont(0.99) within group (order by extract(epoch from finished_at - scheduled_for) * 1000) as lag_p99,
          extract(epoch from max(finished_at) - min(finished_at)) as firing_seconds,
          extract(epoch from min(finished_at)) * 1000 as first_fire_ms
          from timers where key like ${`${prefix}:%`}`;
        return {
          firstFireAt: Number(stats?.first_fire_ms),
          // From the first fire to the last: process start-up is not firing.
          fires_per_s: Math.round(10000 / Number(stats?.firing_seconds)),
          duplicates: Number(stats?.duplicates),
          lag_p99_ms: Math.round(Number(stats?.lag_p99)),
        };
      };
      for (const replicas of [1, 3]) {
        await sql`truncate timers`;
        await sql`insert into timers (key, kind, payload, scheduled_for, due_at, created_at)
          select 'future:' || g, 'incident.refresh', '{}'::jsonb, now() + interval '1 day', now() + interval '1 day', now() from generate_series(1, 100000) g`;
        await sql`insert into timers (key, kind, payload, scheduled_for, due_at, created_at)
          select 'due:' || g, 'incident.refresh', jsonb_build_object('incidentId', gen_random_uuid()), now(), now(), now() from generate_series(1, 10000) g`;
        const t0 = Date.now();
        const bots = Array.from({ length: replicas }, () => startBot(env));
        const { firstFireAt, ...cold } = await fired('due');
        const seconds = (Date.now() - t0) / 1000;
        await Promise.all(bots.map((b) => b.ready()));
        const cpuBefore = bots.map((b) => cpuMs(b.child.pid as number));
        const postgresBefore = postgresCpuMs();
        await sql`insert into timers (key, kind, payload, scheduled_for, due_at, created_at)
          select 'hot:' || g, 'incident.refresh', jsonb_build_object('incidentId', gen_random_uuid()), now() + interval '2 seconds', now() + interval '2 seconds', now() from generate_series(1, 10000) g`;
        const { firstFireAt: _, ...running } = await fired('hot');
        const cpu = bots.reduce((sum, b, i) => sum + cpuMs(b.child.pid as number) - (cpuBefore[i] ?? 0), 0);
        const postgresCpu =
          postgresBefore === null ? null : (postgresCpuMs() ?? postgresBefore) - postgresBefore;
        for (const b of bots) await b.kill('SIGTERM');
        for (const [i, b] of bots.entries()) {
          reportProfile(tag(`timers, replica ${i + 1} of ${replicas}`), b.profileDir, {
            n: 20000 / replicas,
            unit: 'fire',
          });
        }
        timers[`replicas${replicas}`] = {
          fired: 10000,
          seconds_including_startup: +seconds.toFixed(1),
          // From starting the processes to the first timer fired: what the started-after lag includes.
          first_fire_after_start_ms: Math.round(firstFireAt - t0),
          ...cold,
          running_fires_per_s: running.fires_per_s,
          running_duplicates: running.duplicates,
          running_lag_p99_ms: running.lag_p99_ms,
          // The replicas' own CPU (user + system, from /proc) while the running 10,000 fired.
          running_cpu_ms_per_fire: +(cpu / 10000).toFixed(3),
          // PostgreSQL's CPU meanwhile (its processes, from /proc): claims, reads and completions.
          running_postgres_cpu_ms_per_fire: postgresCpu === null ? null : +(postgresCpu / 10000).toFixed(3),
        };
      }
      results.timers = timers;
    } else if (want('timers')) {
      results.timers = {
        note: 'PGlite runs in one process, so there are no replicas: see `npm run bench:timers` for the single-process figures',
      };
    }
  } finally {
    await api.close();
    await db.drop();
  }
  return results;
}

/** JSON in and out of a Slack-message-sized object 20,000 times, best of three, in ms: one core's speed. */
const SPEED_LOOP = `
const message = { channel: 'C0BENCH01', text: 'x'.repeat(200), blocks: Array.from({ length: 20 }, (_, i) => ({
  type: 'section', text: { type: 'mrkdwn', text: '*Line ' + i + '* for <@U0BENCH01> in <#C0BENCH01>' } })) };
const run = () => {
  const started = performance.now();
  let blocks = 0;
  for (let i = 0; i < 20000; i++) blocks += JSON.parse(JSON.stringify(message)).blocks.length;
  if (blocks !== 400000) throw new Error('the loop lost blocks');
  return performance.now() - started;
};
console.log(Math.round(Math.min(run(), run(), run())));
`;

/**
 * How fast the machine is (measured before and after the scenarios): the same JavaScript work on each core
 * in turn (pinned with `taskset`; unpinned when there is none) and, with PostgreSQL, how many `select 1`
 * round trips one connection makes in a second. Neither is a target. The throughput figures move with the
 * machine, and these say which machine a run had: on 2026-11-30 the two cores of the same machine ran the
 * loop in 255–286 and 394–469 ms, the slow one changing sides between runs.
 */
async function machineSpeed(url: string | undefined) {
  const loop = [process.execPath, '-e', SPEED_LOOP];
  const runLoop = (core?: number) =>
    Number(
      core === undefined
        ? execFileSync(process.execPath, loop.slice(1), { encoding: 'utf8' })
        : execFileSync('taskset', ['-c', String(core), ...loop], { encoding: 'utf8' }),
    );
  let jsMsPerCore: number[];
  try {
    jsMsPerCore = cpus().map((_, core) => runLoop(core));
  } catch {
    // No taskset here: one run, on whichever core it lands.
    jsMsPerCore = [runLoop()];
  }
  let roundTrips: number | null = null;
  if (url) {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`select 1`;
    const started = performance.now();
    let n = 0;
    while (performance.now() - started < 1000) {
      await sql`select 1`;
      n++;
    }
    roundTrips = Math.round((n * 1000) / (performance.now() - started));
    await sql.end();
  }
  return { js_ms_per_core: jsMsPerCore, postgres_round_trips_per_s: roundTrips };
}

async function main() {
  // `npm run build`, as `npm start` runs it: compiled, then bundled into dist/main.js. (Until 2026-11-30
  // this ran tsc alone, so the runs after the bundle came measured the unbundled program.)
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  // `npm run bench -- --soak 10m`: only the soak (bench/soak.ts), written to bench/soak.json.
  const soakMs = soakDurationMs(process.argv);
  if (soakMs !== undefined) {
    const slack = new SlackApiMock();
    slack.faults.latencyMs = LATENCY_MS;
    const api = await slack.listen();
    const db = await scratch();
    try {
      const env = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, LOG_LEVEL: 'info' };
      const result = await soak({
        durationMs: soakMs,
        slack,
        startBot,
        env: { ...env, SLACK_API_URL: api.apiUrl, ...db.env },
      });
      console.log(formatSoak(result));
      writeFileSync(join(ROOT, 'bench/soak.json'), soakJson(result));
    } finally {
      await api.close();
      await db.drop();
    }
    return;
  }
  // PostgreSQL (when DATABASE_URL is set) and then embedded PGlite, each with its own fake Slack: every
  // figure on both databases, PostgreSQL's at the top level of results.json and PGlite's under `pglite`.
  const databases = (process.env.DATABASE_URL ? ['postgres', 'pglite'] : ['pglite']).filter(
    (d) => !onlyDb || d === onlyDb,
  ) as ('postgres' | 'pglite')[];
  if (databases.length === 0) throw new Error(`--db=${onlyDb}: PostgreSQL needs DATABASE_URL`);
  const measureMachine = () =>
    machineSpeed(databases.includes('postgres') ? process.env.DATABASE_URL : undefined);
  // Before and after the scenarios: the host can change under a run that takes minutes.
  const machineAtStart = await measureMachine();
  const runs: Partial<Record<'postgres' | 'pglite', Run>> = {};
  for (const database of databases) runs[database] = await scenarios(database);
  const machine = { start: machineAtStart, end: await measureMachine() };
  const primary = runs[databases[0] as 'postgres' | 'pglite'];
  const results: Record<string, unknown> = {
    database: databases[0],
    node: process.version,
    cpus: cpus().length,
    slack_latency_ms: LATENCY_MS,
    machine,
    ...primary,
    ...(runs.pglite && databases[0] !== 'pglite' ? { pglite: runs.pglite } : {}),
  };
  if (!only && !onlyDb && !profiling)
    writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\nbench — ${databases.join(' and ')}, node ${process.version}, ${cpus().length} cores, fake Slack answering after ${LATENCY_MS} ms\n`,
  );
  for (const [when, speed] of Object.entries(machine)) {
    const roundTrips = speed.postgres_round_trips_per_s;
    console.log(
      `machine at the ${when}: ${speed.js_ms_per_core.join(' / ')} ms for the JavaScript loop on each core (lower is faster)${roundTrips === null ? '' : `, ${roundTrips} PostgreSQL round trips/s on one connection`}`,
    );
  }
  console.log('');
  console.log(`| scenario | figure | ${databases.join(' | ')} |`);
  console.log(`| --- | --- |${databases.map(() => ' --- |').join('')}`);
  const row = (scenario: string, figure: string, cell: (r: Run) => string | undefined) => {
    const cells = databases.map((d) => cell(runs[d] ?? {}));
    if (cells.some((c) => c !== undefined))
      console.log(`| ${scenario} | ${figure} | ${cells.map((c) => c ?? '—').join(' | ')} |`);
  };
  row('ack (3,000 /incident at 50)', 'p50 / p95 / p99; bare Bolt p99; ratio', ({ ack: a }) =>
    a ? `${a.p50} / ${a.p95} / ${a.p99} ms; ${a.bare_p99_ms} ms; ${a.ratio}` : undefined,
  );
  row('ack', 'requests/s (bare Bolt)', ({ ack: a }) => (a ? `${a.rps} (${a.bare_rps})` : undefined));
  row('ack', "the bench's longest GC pause: the bot's rounds / bare Bolt's", ({ ack: a }) =>
    a ? `${a.bench_gc_max_ms} / ${a.bare_bench_gc_max_ms} ms` : undefined,
  );
  row('declare (500 at 20)', 'submit → card pinned p50 / p99', ({ declare: d }) =>
    d ? `${d.p50_ms} / ${d.p99_ms} ms` : undefined,
  );
  row('declare', 'incidents/s (acknowledged/s)', ({ declare: d }) =>
    d ? `${d.incidents_per_s} (${d.acked_per_s})` : undefined,
  );
  row('declare', 'CPU per incident: bot / bench / PostgreSQL; cores busy', ({ declare: d }) =>
    d?.burst_cores_busy != null
      ? `${d.burst_cpu_ms_per_incident_bot} / ${d.burst_cpu_ms_per_incident_bench} / ${d.burst_cpu_ms_per_incident_postgres ?? '—'} ms; ${Math.round(d.burst_cores_busy * 100)}%`
      : undefined,
  );
  row('declare (50 one at a time)', 'submit → card pinned p50 / p99; p99 / floor', ({ declare: d }) =>
    d
      ? `${d.one_at_a_time_p50_ms} / ${d.one_at_a_time_p99_ms} ms; ${d.one_at_a_time_ratio} × ${d.floor_ms} ms`
      : undefined,
  );
  row('declare', "the bench's longest GC pause: burst / one at a time", ({ declare: d }) =>
    d ? `${d.burst_bench_gc_max_ms} / ${d.one_at_a_time_bench_gc_max_ms} ms` : undefined,
  );
  row('memory', 'peak RSS during declare / idle', ({ memory: m }) =>
    m ? `${m.peak_rss_mb} / ${m.idle_rss_mb} MB` : undefined,
  );
  for (const r of ['replicas1', 'replicas3']) {
    const of = (timers: Run['timers']) => (timers && !('note' in timers) ? timers[r] : undefined);
    row(`timers (${r}, started after)`, 'fires/s, duplicates, lag p99', ({ timers }) => {
      const t = of(timers);
      return t
        ? `${t.fires_per_s}/s, ${t.duplicates}, ${t.lag_p99_ms} ms (first fire ${t.first_fire_after_start_ms} ms after start)`
        : undefined;
    });
    row(
      `timers (${r}, running)`,
      'fires/s, duplicates, lag p99; CPU per fire: bots / PostgreSQL',
      ({ timers }) => {
        const t = of(timers);
        return t
          ? `${t.running_fires_per_s}/s, ${t.running_duplicates}, ${t.running_lag_p99_ms} ms; ${t.running_cpu_ms_per_fire} / ${t.running_postgres_cpu_ms_per_fire ?? '—'} ms`
          : undefined;
      },
    );
  }
  row('alerts (400 × 50 at 8)', 'accepted/s; answer p50 / p99', ({ alerts: x }) =>
    x ? `${x.accepted_per_s}/s; ${x.answer_p50_ms} / ${x.answer_p99_ms} ms` : undefined,
  );
  row('alerts', 'applied/s; all 20 group messages up to date after', ({ alerts: x }) =>
    x ? `${x.applied_per_s ?? '—'}/s; ${x.storm_told_s} s (${x.group_messages} messages)` : undefined,
  );
  row('alerts (40 new groups, quiet)', 'first alert → message p50 / p99', ({ alerts: x }) =>
    x ? `${x.first_message_p50_ms} / ${x.first_message_p99_ms} ms` : undefined,
  );
  if (profiles.length > 0)
    console.log(`\nCPU profiles (main thread; start-up included)\n\n${profiles.join('\n\n')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
