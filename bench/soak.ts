/**
 * `npm run bench -- --soak 10m`: one bot process under a steady, mixed load for a long while, to find leaks
 * and drift rather than limits. Open-loop at constant rates (a slow answer never slows the load down):
 *
 * - declare: signed view submissions of the declare form (1/s); the oldest incident is resolved with
 *   `/incident resolve …` once more than 40 are open, so the set of open incidents — and the timers they
 *   keep — stays level while the database keeps growing (incidents, timelines, follow-ups, alerts);
 * - command: `/incident …` in rotation (3/s): list, alerts, oncall, help, followups, stats (its MTTR chart is
 *   rendered and uploaded), the declare form, and in an incident's channel note, update, task add, tasks,
 *   timeline, the card, roles, role, ack, followup add — plus the resolves above;
 * - action: block_actions on the buttons and selects the bot itself posted (3/s): the incident cards'
 *   (Post update, Assign roles, Add task, Change severity, Resolve), the reminders' and pages' (Snooze,
 *   Take command, Acknowledge), the alert groups' (Acknowledge, Resolve, Declare, Silence), App Home's
 *   Declare (and timeline paging once a timeline has pages) — round robin over the action_ids seen so far;
 * - alert: Alertmanager notifications of 5 alerts to /alerts/prometheus (2/s) over 10 groups in two
 *   triage channels, mostly repeats, each group resolving and firing again every minute;
 * - home: app_home_opened events (0.5/s), answered with views.publish;
 * - timers: the incidents' own — pages (two tiers 30 s apart), update reminders every 15–30 s, the
 *   missing-commander nudge after 10 s, the deputy's callouts every 15 s — fire throughout.
 *
 * Every 10 s: the process's RSS (/proc/<pid>/status) and GET /metrics (V8 heap used, the job queue, event
 * loop lag). Every request's time to its HTTP answer, reported as p99 per minute.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { alertmanagerNotification } from '../test/helpers/alerts.js';
import { sign } from '../test/helpers/http.js';
import {
  type BotProcess,
  ROOT,
  signedCommand,
  signedDeclaration,
  signedForm,
} from '../test/helpers/process.js';
import { type SlackApiMock, TEAM_ID } from '../test/helpers/slack-api.js';

export type SoakKind = 'declare' | 'command' | 'action' | 'alert' | 'home';
const KINDS: SoakKind[] = ['declare', 'command', 'action', 'alert', 'home'];
/** Requests per second of each kind. */
export const SOAK_RATES: Record<SoakKind, number> = {
  declare: 1,
  command: 3,
  action: 3,
  alert: 2,
  home: 0.5,
};

const WARMUP_MS = 15_000;
const SAMPLE_EVERY_MS = 10_000;
/** After the load: this long quiet, then one more sample (does the queue drain, does memory come back?). */
const IDLE_MS = 10_000;
const MAX_OPEN_INCIDENTS = 40;
/** A kind with this many requests unanswered skips its next ones (counted) instead of piling up. */
const MAX_IN_FLIGHT = 64;
const REQUEST_TIMEOUT_MS = 30_000;
/** signedDeclaration's reporter; the one person acting throughout (an admin, so nothing is refused). */
const USER = 'U0REPORTER';
const ALERTS_KEY = 'soak-alerts-key-0123456789abcdef';
const METRICS_TOKEN = 'soak-metrics-token-0123456789';
const ALERT_CHANNELS = ['C0SOAKALERTA', 'C0SOAKALERTB'];
const ALERT_GROUPS = 10;
const ALERTS_PER_GROUP = 5;
/** A group's alerts flip between firing and resolved every this many of its notifications. */
const FLIP_EVERY = 12;

const CONFIG = `channel_prefix: soak
admins: [${USER}]
escalation_policies:
  soak:
    tiers:
      - {after: 0m, notify: [U0ONCALL1]}
      - {after: 30s, notify: [U0ONCALL2]}
    repeat: 1
severities:
  - {id: SEV1, description: Critical, escalation_policy: soak, update_every: 15s}
  - {id: SEV2, description: Major, escalation_policy: soak, update_every: 20s}
  - {id: SEV3, description: Minor, update_every: 30s}
reminders:
  missing_commander_after: 10s
  deputy_callouts: 15s
alerts:
  channel: ${ALERT_CHANNELS[0]}
  group_by: [alertname]
  integrations:
    - {name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS}
  routes:
    - match: {team: b}
      channel: ${ALERT_CHANNELS[1]}
`;

/** `/incident …` in rotation; `here` ones are sent in an open incident's channel. */
const COMMANDS: { text: (n: number) => string; here?: true }[] = [
  { text: () => 'list' },
  { text: () => 'note Soak note', here: true },
  { text: () => 'alerts' },
  { text: () => 'update Still investigating (soak)', here: true },
  { text: (n) => `declare Soak command ${n}` },
  { text: () => 'task add Check the soak dashboards', here: true },
  { text: () => 'tasks', here: true },
  { text: () => 'oncall' },
  { text: () => 'timeline', here: true },
  { text: () => '', here: true },
  { text: () => 'followups' },
  { text: () => 'roles', here: true },
  { text: () => 'role deputy <@U0DEPUTY1>', here: true },
  { text: () => 'ack', here: true },
  { text: () => 'help' },
  { text: (n) => `followup add Soak follow-up ${n}`, here: true },
  { text: () => 'stats 7d' },
];

/** Controls never clicked: they reopen incidents (the open set would grow) or belong to absent features. */
const SKIPPED_ACTIONS = /^(card_reopen|webhook_|oncall_|postmortem_)/;

export interface SoakMinute {
  minute: number;
  /** Seconds of load in this minute (the last one may be partial). */
  seconds: number;
  requests: number;
  p99_ms: number | null;
  p99_ms_by_kind: Record<SoakKind, number | null>;
  /** The last sample in the minute. */
  rss_mb: number | null;
  heap_mb: number | null;
}

export interface SoakSample {
  t_s: number;
  rss_mb: number;
  heap_mb: number | null;
  /** V8's whole heap as reserved (used plus free pages): with external memory, what RSS owes to JavaScript. */
  heap_total_mb: number | null;
  /** Memory held outside the V8 heap by JavaScript objects (Buffers, ArrayBuffers). */
  external_mb: number | null;
  jobs_due: number | null;
  jobs_oldest_due_lag_s: number | null;
  open_incidents: number | null;
  eventloop_lag_p99_ms: number | null;
  /** p99 of the requests sent since the sample before. */
  p99_ms: number | null;
  /** The load generator's own event-loop delay since the sample before: high, and its timings are suspect. */
  bench_loop_p99_ms: number;
  scrape_ms: number;
}

interface Point {
  start: number | null;
  middle: number | null;
  end: number | null;
  after_idle: number | null;
}

export interface SoakResult {
  database: 'postgres' | 'pglite';
  node: string;
  cpus: number;
  duration_s: number;
  warmup_s: number;
  rates_per_s: Record<SoakKind, number>;
  /** Requests sent after the warm-up, by kind. */
  requests: Record<SoakKind, number>;
  non_2xx: Record<SoakKind, number>;
  /** Not sent because MAX_IN_FLIGHT of the kind were unanswered. */
  skipped: Record<SoakKind, number>;
  p99_ms: Record<SoakKind | 'all', number | null>;
  p50_ms: Record<SoakKind | 'all', number | null>;
  minutes: SoakMinute[];
  samples: SoakSample[];
  /** Every request's time by what it was (the command, the action_id …): count, p50, p99, max. */
  by_what: Record<string, { n: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null }>;
  /** The ten slowest requests. */
  slowest: { t_s: number; kind: SoakKind; what: string; ms: number }[];
  rss_mb: Point;
  heap_mb: Point;
  heap_total_mb: Point;
  external_mb: Point;
  /** Evidence that the requests did something, counted over the whole run (warm-up included). */
  work: {
    incidents_declared: number;
    cards_pinned: number;
    incidents_resolved: number;
    incidents_open_at_end: number;
    responses_via_response_url: number;
    charts_uploaded: number;
    alert_notifications_accepted: number;
    alert_group_messages: number;
    alert_thread_posts: number;
    /** Buttons in the messages the bot posted, by action_id: timers show here (reminders, pages). */
    buttons_posted: Record<string, number>;
    /** Actions clicked, by action_id. */
    actions_clicked: Record<string, number>;
    slack_calls: Record<string, number>;
  };
  errors: {
    count: number;
    /** Failed or non-2xx requests, answers saying "Something went wrong", declarations refused. */
    requests: number;
    bot_error_logs: number;
    bot_warn_logs: number;
    /** The bot's warn and error log lines, grouped by job (or component) and message, ids and numbers left out. */
    bot_logs: Record<string, number>;
    /** Slack API calls not `ok`, by method and outcome (from the bot's own counter). */
    slack_not_ok: Record<string, number>;
    samples: string[];
  };
  verdict: {
    rss_growth_mb: number | null;
    rss_growth_pct: number | null;
    heap_growth_mb: number | null;
    heap_growth_pct: number | null;
    /** The heap's lowest sample in the last fifth of the run against its lowest around the middle (±10%): GC noise mostly out. */
    heap_floor_growth_mb: number | null;
    /** Least-squares slope of the heap over the second half of the run. */
    heap_slope_mb_per_min: number | null;
    p99_first_minute_ms: number | null;
    p99_last_minute_ms: number | null;
    p99_drift_pct: number | null;
    flags: string[];
  };
}

/** `10m`, `90s`, `1m30s`, `2h`, `500ms`; a bare number is seconds. */
export function parseSoakDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t)
    throw new Error(`--soak: "${text}" is not a duration like 10m, 90s or 1m30s`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

/** The soak's duration from `--soak <d>` or `--soak=<d>`, or undefined without the flag. */
export function soakDurationMs(argv: string[]): number | undefined {
  const i = argv.findIndex((a) => a === '--soak' || a.startsWith('--soak='));
  if (i < 0) return undefined;
  const arg = argv[i] as string;
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1];
  if (!value || value.startsWith('--')) throw new Error('--soak needs a duration, such as --soak 10m');
  return parseSoakDuration(value);
}

const pct = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number);
};
const round1 = (x: number) => Math.round(x * 10) / 10;
const byKind = <T>(f: (k: SoakKind) => T) =>
  Object.fromEntries(KINDS.map((k) => [k, f(k)])) as Record<SoakKind, T>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const UUIDS = new RegExp(UUID.source, 'g');
const ANSI_COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return round1(Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024);
}

/** Prometheus text → `name{labels}` → value (first occurrence). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

/** A button or select the bot posted, to be clicked later. */
interface Clickable {
  actionId: string;
  type: 'button' | 'static_select';
  blockId: string;
  value?: string;
  options: string[];
  channel: string;
  ts: string;
  ephemeral: boolean;
  incidentId?: string;
}

interface Incident {
  id: string;
  channel: string;
  resolving: boolean;
}

export async function soak(options: {
  durationMs: number;
  env: Record<string, string>;
  slack: SlackApiMock;
  startBot: (env: Record<string, string>) => BotProcess & { profileDir?: string };
}): Promise<SoakResult> {
  const { durationMs, slack } = options;
  const run = Date.now().toString(36).toUpperCase();
  const errorSamples: string[] = [];
  let requestErrors = 0;
  const fail = (what: string) => {
    requestErrors++;
    if (errorSamples.length < 20) errorSamples.push(what.slice(0, 300));
  };

  // ── What the bot sends back: response_url answers, and file uploads (the MTTR chart's PNG). ──────────
  const pool = new Map<string, Clickable[]>();
  const resolved = new Set<string>();
  const buttonsPosted: Record<string, number> = {};
  const harvest = (
    blocks: unknown,
    where: { channel: string; ts: string; ephemeral: boolean },
    count = false,
  ): string | undefined => {
    let card: string | undefined;
    if (!Array.isArray(blocks)) return undefined;
    for (const b of blocks as {
      type?: string;
      block_id?: string;
      elements?: unknown[];
      accessory?: unknown;
    }[]) {
      if (b.block_id?.startsWith('card_actions:')) card = b.block_id.slice('card_actions:'.length);
      const elements = [
        ...(b.type === 'actions' ? (b.elements ?? []) : []),
        ...(b.accessory ? [b.accessory] : []),
      ];
      for (const e of elements as {
        type?: string;
        action_id?: string;
        value?: string;
        url?: string;
        options?: { value: string }[];
      }[]) {
        if (!e.action_id || e.url || (e.type !== 'button' && e.type !== 'static_select')) continue;
        if (count) buttonsPosted[e.action_id] = (buttonsPosted[e.action_id] ?? 0) + 1;
        if (SKIPPED_ACTIONS.test(e.action_id)) continue;
        const list = pool.get(e.action_id) ?? [];
        list.push({
          actionId: e.action_id,
          type: e.type,
          blockId: b.block_id ?? 'b',
          value: e.value,
          options: (e.options ?? []).map((o) => o.value),
          ...where,
          incidentId: UUID.exec(`${e.value ?? ''} ${b.block_id ?? ''}`)?.[0],
        });
        if (list.length > 30) list.shift();
        pool.set(e.action_id, list);
      }
    }
    return card;
  };

  let responses = 0;
  const uploads = new Map<string, number>();
  const hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '';
      if (path.startsWith('/upload/')) uploads.set(path.slice('/upload/'.length), body.length);
      else if (path.startsWith('/r/')) {
        responses++;
        const [, , source, channel] = path.split('/');
        try {
          const message = JSON.parse(body.toString()) as { text?: string; blocks?: unknown };
          if (/went wrong/.test(message.text ?? '')) fail(`${source}: ${message.text}`);
          harvest(message.blocks, {
            channel: channel ?? 'C0GENERAL',
            ts: '1700000000.000001',
            ephemeral: true,
          });
        } catch {
          fail(`${source}: a response_url body that is not JSON`);
        }
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  const hooksUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;

  // The fake Slack's upload host is this one; App Home is published (the fake does not know views.publish).
  let fileN = 0;
  slack.override('files.getUploadURLExternal', () => {
    const id = `F0SOAK${++fileN}`;
    return { body: { ok: true, upload_url: `${hooksUrl}/upload/${id}`, file_id: id } };
  });
  slack.override('files.completeUploadExternal', (args) => {
    const files = (typeof args.files === 'string' ? JSON.parse(args.files) : args.files) as { id: string }[];
    return files.every((f) => uploads.has(f.id))
      ? { body: { ok: true, files } }
      : { body: { ok: false, error: 'file_not_found' } };
  });
  slack.override('views.publish', () => ({ body: { ok: true, view: { id: 'V0HOME0001' } } }));

  // ── The bot. ─────────────────────────────────────────────────────────────────────────────────────────
  const dir = mkdtempSync(join(tmpdir(), 'incident-bot-soak-'));
  const configPath = join(dir, 'incident.config.yml');
  writeFileSync(configPath, CONFIG);
  const bot = options.startBot({
    ...options.env,
    INCIDENT_CONFIG: configPath,
    ALERTS_KEY_PROMETHEUS: ALERTS_KEY,
    METRICS_TOKEN,
  });
  const callsBefore = slack.calls.length;
  const pinsBefore = slack.pins.length;
  let messageCursor = slack.messages.length;
  let callCursor = slack.calls.length;
  let logCursor = 0;
  let stderrCursor = 0;
  let errorLogs = 0;
  let warnLogs = 0;
  const botLogs: Record<string, number> = {};
  const incidents: Incident[] = [];
  const known = new Set<string>();
  /** New messages and calls of the fake Slack: incident cards, buttons to click later, the bot's logs. */
  const scan = () => {
    const messages = slack.messages;
    while (messageCursor < messages.length) {
      const m = messages[messageCursor++];
      if (!m) continue;
      const card = harvest(m.blocks, { channel: m.channel, ts: m.ts, ephemeral: false }, true);
      if (card && !known.has(card) && /^[CG]/.test(m.channel)) {
        known.add(card);
        incidents.push({ id: card, channel: m.channel, resolving: false });
      }
    }
    while (callCursor < slack.calls.length) {
      const c = slack.calls[callCursor++];
      if (c?.method === 'views.publish')
        harvest((c.args.view as { blocks?: unknown } | undefined)?.blocks, {
          channel: 'D0REPORTER',
          ts: '1700000000.000001',
          ephemeral: false,
        });
    }
    while (logCursor < bot.stdout.length) {
      const line = bot.stdout[logCursor++] ?? '';
      const level = /"level":"(warn|error|fatal)"/.exec(line)?.[1];
      if (!level) continue;
      if (level === 'warn') warnLogs++;
      else errorLogs++;
      // Grouped by what happened, ids left out: `error incident.post: chat.postMessage: not_in_channel`.
      let what = line;
      try {
        const l = JSON.parse(line) as {
          job_kind?: string;
          component?: string;
          msg?: string;
          err?: { message?: string };
        };
        what = `${l.job_kind ?? l.component ?? '-'}: ${l.err?.message ?? l.msg ?? ''}`;
      } catch {}
      const key = `${level} ${what.replace(UUIDS, '<id>').replace(/\d+/g, 'N').slice(0, 200)}`;
      botLogs[key] = (botLogs[key] ?? 0) + 1;
    }
    while (stderrCursor < bot.stderr.length) {
      const line = (bot.stderr[stderrCursor++] ?? '').replace(ANSI_COLOURS, '');
      if (!line.trim()) continue;
      warnLogs++;
      const key = `stderr ${line
        .replace(/^\[[^\]]*\] \[PID: \d+\] /, '')
        .replace(/ at .*$/, '')
        .replace(/\d+/g, 'N')
        .slice(0, 200)}`;
      botLogs[key] = (botLogs[key] ?? 0) + 1;
    }
  };

  const latencies: { kind: SoakKind; at: number; ms: number; detail: string }[] = [];
  const counts = { requests: byKind(() => 0), non2xx: byKind(() => 0), skipped: byKind(() => 0) };
  const inFlight = byKind(() => 0);
  const clicked: Record<string, number> = {};
  let declared = 0;
  let resolvedCount = 0;
  let alertsAccepted = 0;
  let measuring = false;
  let t0 = 0;

  try {
    await bot.ready(60_000);
    const base = await bot.base();
    const pid = bot.child.pid as number;
    const exitedEarly = bot.exited.then((code) => {
      throw new Error(`the bot exited (code ${code}) during the soak`);
    });
    exitedEarly.catch(() => {});

    const post = async (
      kind: SoakKind,
      url: string,
      init: { body: string; headers: Record<string, string> },
      check: (status: number, text: string) => string | undefined,
      detail: string = kind,
    ) => {
      inFlight[kind]++;
      const started = performance.now();
      const counted = measuring;
      try {
        const res = await fetch(url, {
          method: 'POST',
          ...init,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await res.text();
        const ms = performance.now() - started;
        if (counted) {
          latencies.push({ kind, at: started - t0, ms, detail });
          counts.requests[kind]++;
          if (res.status < 200 || res.status > 299) counts.non2xx[kind]++;
        }
        const problem = check(res.status, text);
        if (problem) fail(`${detail}: ${problem}`);
      } catch (err) {
        if (counted) {
          counts.requests[kind]++;
          counts.non2xx[kind]++;
        }
        fail(`${detail}: ${(err as Error).message}`);
      } finally {
        inFlight[kind]--;
      }
    };
    const slackEvents = `${base}/slack/events`;
    const expect200 = (status: number, text: string) =>
      status !== 200 ? `HTTP ${status}` : /went wrong/.test(text) ? text.slice(0, 200) : undefined;
    const open = () => incidents.filter((i) => !i.resolving);
    const someOpen = () => {
      const list = open();
      return list[Math.floor(Math.random() * list.length)];
    };

    const senders: Record<SoakKind, (n: number) => Promise<void>> = {
      declare: (n) =>
        post(
          'declare',
          slackEvents,
          signedDeclaration(`V0SOAK${run}${n}`, {
            title: `Soak ${n}`,
            severity: ['SEV1', 'SEV2', 'SEV3'][n % 3] as string,
            summary: 'Declared by the soak.',
            commander: null,
            private: n % 10 === 3,
          }),
          (status, text) => {
            if (status !== 200) return `HTTP ${status}`;
            if (text.includes('response_action')) return `refused: ${text.slice(0, 200)}`;
            declared++;
            return undefined;
          },
        ),

      command: (n) => {
        // Keep the open incidents level: resolve the oldest first.
        const live = open();
        if (live.length > MAX_OPEN_INCIDENTS) {
          const oldest = live[0] as Incident;
          oldest.resolving = true;
          resolved.add(oldest.id);
          return post(
            'command',
            slackEvents,
            signedCommand('resolve Soak over', {
              user_id: USER,
              channel_id: oldest.channel,
              trigger_id: `8.${n}.soak`,
              response_url: `${hooksUrl}/r/resolve/${oldest.channel}`,
            }),
            (status, text) => {
              if (status !== 200) return `HTTP ${status}`;
              if (!text.includes('Resolved.')) return `resolve: ${text.slice(0, 200)}`;
              resolvedCount++;
              return undefined;
            },
            '/incident resolve',
          );
        }
        const pick = COMMANDS[n % COMMANDS.length] as (typeof COMMANDS)[number];
        const here = pick.here ? someOpen() : undefined;
        const text = pick.here && !here ? 'list' : pick.text(n);
        const channel = here?.channel ?? 'C0GENERAL';
        return post(
          'command',
          slackEvents,
          signedCommand(text, {
            user_id: USER,
            channel_id: channel,
            trigger_id: `8.${n}.soak`,
            response_url: `${hooksUrl}/r/${text.split(' ')[0] || 'card'}/${channel}`,
          }),
          (status, body) => {
            const problem = expect200(status, body);
            if (!problem && body.startsWith('{')) {
              const answer = JSON.parse(body) as { blocks?: unknown };
              harvest(answer.blocks, { channel, ts: '1700000000.000001', ephemeral: true });
            }
            return problem;
          },
          `/incident ${text.replace(/\d+/g, 'N')}`.trim(),
        );
      },

      action: (n) => {
        scan();
        for (const [id, list] of pool) {
          pool.set(
            id,
            list.filter((c) => !c.incidentId || !resolved.has(c.incidentId)),
          );
        }
        const ids = [...pool.keys()].filter((id) => (pool.get(id)?.length ?? 0) > 0).sort();
        const id = ids[n % Math.max(1, ids.length)];
        const list = id ? pool.get(id) : undefined;
        const c = list?.[Math.floor(Math.random() * list.length)];
        if (!c) return Promise.resolve();
        clicked[c.actionId] = (clicked[c.actionId] ?? 0) + 1;
        const chosen = c.options[Math.floor(Math.random() * c.options.length)] ?? '';
        const action =
          c.type === 'static_select'
            ? {
                type: 'static_select',
                action_id: c.actionId,
                block_id: c.blockId,
                selected_option: { value: chosen, text: { type: 'plain_text', text: chosen } },
                action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
              }
            : {
                type: 'button',
                action_id: c.actionId,
                block_id: c.blockId,
                value: c.value,
                action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
              };
        const payload = {
          type: 'block_actions',
          team: { id: TEAM_ID, domain: 'acme' },
          user: { id: USER, team_id: TEAM_ID, name: 'reporter' },
          api_app_id: 'A0APP0001',
          trigger_id: `7.${n}.soak`,
          response_url: `${hooksUrl}/r/${c.actionId}/${c.channel}`,
          container: {
            type: 'message',
            message_ts: c.ts,
            channel_id: c.channel,
            is_ephemeral: c.ephemeral,
          },
          channel: { id: c.channel, name: 'soak' },
          message: { ts: c.ts, type: 'message', text: 'soak' },
          actions: [action],
        };
        return post(
          'action',
          slackEvents,
          signedForm(new URLSearchParams({ payload: JSON.stringify(payload) }).toString()),
          expect200,
          c.actionId,
        );
      },

      alert: (n) => {
        const group = n % ALERT_GROUPS;
        const turn = Math.floor(n / ALERT_GROUPS);
        const firing = Math.floor(turn / FLIP_EVERY) % 2 === 0;
        const since = new Date(Date.now() - (turn % FLIP_EVERY) * 5000).toISOString();
        const body = alertmanagerNotification(
          Array.from({ length: ALERTS_PER_GROUP }, (_, a) => ({
            alertname: `SoakAlert${group}`,
            instance: `soak-${group}-${a}`,
            status: firing ? ('firing' as const) : ('resolved' as const),
            labels: { team: group % 2 === 0 ? 'a' : 'b' },
          })),
          since,
        );
        return post(
          'alert',
          `${base}/alerts/prometheus`,
          { body, headers: { authorization: `Bearer ${ALERTS_KEY}`, 'content-type': 'application/json' } },
          (status) => {
            if (status !== 202) return `HTTP ${status}`;
            alertsAccepted++;
            return undefined;
          },
          firing ? 'alert firing' : 'alert resolved',
        );
      },

      home: (n) => {
        const ts = Math.floor(Date.now() / 1000);
        const body = JSON.stringify({
          token: 'legacy',
          team_id: TEAM_ID,
          api_app_id: 'A0APP0001',
          type: 'event_callback',
          event_id: `Ev${run}${n}`,
          event_time: ts,
          event: {
            type: 'app_home_opened',
            user: USER,
            channel: 'D0REPORTER',
            tab: 'home',
            event_ts: `${ts}.000100`,
          },
        });
        return post(
          'home',
          slackEvents,
          {
            body,
            headers: {
              'content-type': 'application/json',
              'x-slack-request-timestamp': String(ts),
              'x-slack-signature': sign(body, ts),
            },
          },
          expect200,
          'app_home_opened',
        );
      },
    };

    // ── The load: each kind at its rate, open-loop, from now until the end. ─────────────────────────
    const loadStart = performance.now();
    const sent = byKind(() => 0);
    const pending = new Set<Promise<void>>();
    const ticker = setInterval(() => {
      const elapsed = performance.now() - loadStart;
      for (const kind of KINDS) {
        const due = Math.floor((elapsed * SOAK_RATES[kind]) / 1000);
        while (sent[kind] < due) {
          const n = sent[kind]++;
          if (inFlight[kind] >= MAX_IN_FLIGHT) {
            if (measuring) counts.skipped[kind]++;
            continue;
          }
          const p = senders[kind](n);
          pending.add(p);
          void p.finally(() => pending.delete(p));
        }
      }
    }, 20);
    const scanner = setInterval(scan, 500);

    const samples: SoakSample[] = [];
    const benchLoop = monitorEventLoopDelay({ resolution: 10 });
    benchLoop.enable();
    const sample = async (): Promise<SoakSample> => {
      const benchLoopP99 = round1(benchLoop.percentile(99) / 1e6);
      benchLoop.reset();
      const started = performance.now();
      let metrics = new Map<string, number>();
      try {
        const res = await fetch(`${base}/metrics`, {
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await res.text();
        if (res.status === 200) metrics = parseMetrics(text);
        else fail(`GET /metrics: HTTP ${res.status}`);
      } catch (err) {
        fail(`GET /metrics: ${(err as Error).message}`);
      }
      const m = (name: string) => metrics.get(`incident_bot_${name}`);
      const openIncidents = [...metrics].filter(([k]) => k.startsWith('incident_bot_open_incidents{'));
      const heap = m('nodejs_heap_size_used_bytes');
      const mb = (bytes: number | undefined) => (bytes === undefined ? null : round1(bytes / 1024 / 1024));
      const lag = m('nodejs_eventloop_lag_p99_seconds');
      return {
        t_s: Math.round((performance.now() - t0) / 1000),
        rss_mb: rssMb(pid),
        heap_mb: mb(heap),
        heap_total_mb: mb(m('nodejs_heap_size_total_bytes')),
        external_mb: mb(m('nodejs_external_memory_bytes')),
        jobs_due: m('jobs_due') ?? null,
        jobs_oldest_due_lag_s: m('jobs_oldest_due_lag_seconds') ?? null,
        open_incidents: metrics.size ? openIncidents.reduce((s, [, v]) => s + v, 0) : null,
        eventloop_lag_p99_ms: lag === undefined ? null : round1(lag * 1000),
        p99_ms: null,
        bench_loop_p99_ms: benchLoopP99,
        scrape_ms: Math.round(performance.now() - started),
      };
    };

    let idle: SoakSample | undefined;
    let slackNotOk: Record<string, number> = {};
    try {
      await Promise.race([sleep(WARMUP_MS), exitedEarly]);
      measuring = true;
      t0 = performance.now();
      samples.push(await sample());
      for (let k = 1; k * SAMPLE_EVERY_MS <= durationMs; k++) {
        await Promise.race([sleep(t0 + k * SAMPLE_EVERY_MS - performance.now()), exitedEarly]);
        samples.push(await sample());
      }
      await Promise.race([sleep(t0 + durationMs - performance.now()), exitedEarly]);
      clearInterval(ticker);
      measuring = false;
      if ((samples.at(-1)?.t_s ?? 0) < Math.round(durationMs / 1000)) samples.push(await sample());
      // Requests still unanswered count too: their time runs to the answer.
      await Promise.race([Promise.allSettled([...pending]), exitedEarly]);
      await Promise.race([sleep(IDLE_MS), exitedEarly]);
      scan();
      idle = await sample();
      const text = await (
        await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
      ).text();
      for (const [k, v] of parseMetrics(text)) {
        const call = /^incident_bot_slack_api_calls_total\{method="([^"]*)",outcome="([^"]*)"\}$/.exec(k);
        if (call && call[2] !== 'ok' && v > 0) slackNotOk[`${call[1]} ${call[2]}`] = v;
      }
    } finally {
      clearInterval(ticker);
      clearInterval(scanner);
      benchLoop.disable();
    }
    samples.forEach((x, i) => {
      const from = i === 0 ? Number.NEGATIVE_INFINITY : (samples[i - 1] as SoakSample).t_s * 1000;
      x.p99_ms =
        i === 0
          ? null
          : pct(
              latencies.filter((l) => l.at > from && l.at <= x.t_s * 1000).map((l) => l.ms),
              99,
            );
    });
    slackNotOk = Object.fromEntries(Object.entries(slackNotOk).sort());

    // ── The figures. ─────────────────────────────────────────────────────────────────────────────────
    const minuteCount = Math.ceil(durationMs / 60_000);
    const minutes: SoakMinute[] = Array.from({ length: minuteCount }, (_, minute) => {
      const inMinute = latencies.filter((l) => Math.floor(l.at / 60_000) === minute);
      const last = samples.filter((s) => s.t_s > minute * 60 && s.t_s <= (minute + 1) * 60).at(-1);
      return {
        minute: minute + 1,
        seconds: Math.round(Math.min(60_000, durationMs - minute * 60_000) / 1000),
        requests: inMinute.length,
        p99_ms: pct(
          inMinute.map((l) => l.ms),
          99,
        ),
        p99_ms_by_kind: byKind((k) =>
          pct(
            inMinute.filter((l) => l.kind === k).map((l) => l.ms),
            99,
          ),
        ),
        rss_mb: last?.rss_mb ?? null,
        heap_mb: last?.heap_mb ?? null,
      };
    });
    const at = (t: number) =>
      samples.reduce<SoakSample | undefined>(
        (best, s) => (!best || Math.abs(s.t_s - t) < Math.abs(best.t_s - t) ? s : best),
        undefined,
      );
    const [first, middle, end] = [at(0), at(durationMs / 2000), samples.at(-1)];
    const point = (f: (s: SoakSample) => number | null): Point => ({
      start: first ? f(first) : null,
      middle: middle ? f(middle) : null,
      end: end ? f(end) : null,
      after_idle: idle ? f(idle) : null,
    });
    const rss = point((s) => s.rss_mb);
    const heap = point((s) => s.heap_mb);
    const growth = (p: Point) =>
      p.middle !== null && p.end !== null
        ? { mb: round1(p.end - p.middle), pct: round1(((p.end - p.middle) / p.middle) * 100) }
        : { mb: null, pct: null };
    const second = samples.filter((s) => s.t_s >= durationMs / 2000 && s.heap_mb !== null);
    const slope = (() => {
      if (second.length < 3) return null;
      const xs = second.map((s) => s.t_s / 60);
      const ys = second.map((s) => s.heap_mb as number);
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      const num = xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] as number) - my), 0);
      const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
      return den ? round1(num / den) : null;
    })();
    const full = minutes.filter((m) => m.seconds >= 30);
    const p99First = full[0]?.p99_ms ?? null;
    const p99Last = full.at(-1)?.p99_ms ?? null;
    const rssGrowth = growth(rss);
    const heapGrowth = growth(heap);
    const floor = (from: number, to: number) => {
      const hs = samples
        .filter((x) => x.t_s >= (from * durationMs) / 1000 && x.t_s <= (to * durationMs) / 1000)
        .map((x) => x.heap_mb)
        .filter((h): h is number => h !== null);
      return hs.length ? Math.min(...hs) : null;
    };
    const [floorMiddle, floorEnd] = [floor(0.4, 0.6), floor(0.8, 1)];
    const heapFloorGrowth = floorMiddle !== null && floorEnd !== null ? round1(floorEnd - floorMiddle) : null;
    const drift =
      p99First !== null && p99Last !== null && p99First > 0
        ? round1(((p99Last - p99First) / p99First) * 100)
        : null;
    const flags: string[] = [];
    if (full.length < 2) flags.push('one minute only: no drift to measure (run --soak 10m)');
    if (
      heapFloorGrowth !== null &&
      floorMiddle !== null &&
      heapFloorGrowth > 5 &&
      heapFloorGrowth > floorMiddle / 10
    )
      flags.push(`the heap's floor grew ${heapFloorGrowth} MB from the middle to the end`);
    if (rssGrowth.mb !== null && rssGrowth.pct !== null && rssGrowth.mb > 20 && rssGrowth.pct > 10)
      flags.push(`RSS grew ${rssGrowth.mb} MB (${rssGrowth.pct}%) from the middle to the end`);
    if (drift !== null && p99First !== null && p99Last !== null && drift > 50 && p99Last - p99First > 20)
      flags.push(`p99 drifted from ${p99First} to ${p99Last} ms`);
    if ((end?.jobs_due ?? 0) > 100)
      flags.push(`${end?.jobs_due} jobs due and untaken at the end: the queue lags`);
    const nonOk = KINDS.reduce((s, k) => s + counts.non2xx[k], 0);
    if (nonOk > 0) flags.push(`${nonOk} requests failed or answered non-2xx`);
    const skipped = KINDS.reduce((s, k) => s + counts.skipped[k], 0);
    if (skipped > 0)
      flags.push(`${skipped} requests skipped: ${MAX_IN_FLIGHT} of their kind were unanswered`);

    const slackCalls: Record<string, number> = {};
    for (const c of slack.calls.slice(callsBefore)) slackCalls[c.method] = (slackCalls[c.method] ?? 0) + 1;
    const alertMessages = slack.messages.filter((m) => ALERT_CHANNELS.includes(m.channel));
    const all = latencies.map((l) => l.ms);
    const sorted = <T>(r: Record<string, T>) =>
      Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
    return {
      database: options.env.DATABASE_URL ? 'postgres' : 'pglite',
      node: process.version,
      cpus: cpus().length,
      duration_s: Math.round(durationMs / 1000),
      warmup_s: WARMUP_MS / 1000,
      rates_per_s: { ...SOAK_RATES },
      requests: counts.requests,
      non_2xx: counts.non2xx,
      skipped: counts.skipped,
      p99_ms: {
        all: pct(all, 99),
        ...byKind((k) =>
          pct(
            latencies.filter((l) => l.kind === k).map((l) => l.ms),
            99,
          ),
        ),
      },
      p50_ms: {
        all: pct(all, 50),
        ...byKind((k) =>
          pct(
            latencies.filter((l) => l.kind === k).map((l) => l.ms),
            50,
          ),
        ),
      },
      minutes,
      samples,
      by_what: sorted(
        Object.fromEntries(
          [...new Set(latencies.map((l) => l.detail))].map((what) => {
            const ms = latencies.filter((l) => l.detail === what).map((l) => l.ms);
            return [what, { n: ms.length, p50_ms: pct(ms, 50), p99_ms: pct(ms, 99), max_ms: pct(ms, 100) }];
          }),
        ),
      ),
      slowest: [...latencies]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 10)
        .map((l) => ({ t_s: round1(l.at / 1000), kind: l.kind, what: l.detail, ms: Math.round(l.ms) })),
      rss_mb: rss,
      heap_mb: heap,
      heap_total_mb: point((x) => x.heap_total_mb),
      external_mb: point((x) => x.external_mb),
      work: {
        incidents_declared: declared,
        cards_pinned: slack.pins.length - pinsBefore,
        incidents_resolved: resolvedCount,
        incidents_open_at_end: incidents.length - resolvedCount,
        responses_via_response_url: responses,
        charts_uploaded: [...uploads.values()].filter((n) => n > 0).length,
        alert_notifications_accepted: alertsAccepted,
        alert_group_messages: alertMessages.filter((m) => !m.thread_ts).length,
        alert_thread_posts: alertMessages.filter((m) => m.thread_ts).length,
        buttons_posted: sorted(buttonsPosted),
        actions_clicked: sorted(clicked),
        slack_calls: sorted(slackCalls),
      },
      errors: {
        count: requestErrors + errorLogs,
        requests: requestErrors,
        bot_error_logs: errorLogs,
        bot_warn_logs: warnLogs,
        bot_logs: sorted(botLogs),
        slack_not_ok: slackNotOk,
        samples: errorSamples,
      },
      verdict: {
        rss_growth_mb: rssGrowth.mb,
        rss_growth_pct: rssGrowth.pct,
        heap_growth_mb: heapGrowth.mb,
        heap_growth_pct: heapGrowth.pct,
        heap_floor_growth_mb: heapFloorGrowth,
        heap_slope_mb_per_min: slope,
        p99_first_minute_ms: p99First,
        p99_last_minute_ms: p99Last,
        p99_drift_pct: drift,
        flags,
      },
    };
  } finally {
    await bot.kill('SIGTERM');
    await new Promise<void>((r) => {
      hooks.closeAllConnections();
      hooks.close(() => r());
    });
    rmSync(dir, { recursive: true, force: true });
    for (const line of bot.stderr.slice(-20)) if (line.trim()) console.error(`bot stderr: ${line}`);
  }
}

/** The result as bench/soak.json holds it: JSON as the project's formatter (Biome) writes it. */
export function soakJson(result: SoakResult): string {
  const json = `${JSON.stringify(result, null, 2)}\n`;
  try {
    return execFileSync(
      join(ROOT, 'node_modules/.bin/biome'),
      ['format', '--stdin-file-path=bench/soak.json'],
      {
        cwd: ROOT,
        input: json,
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    );
  } catch {
    return json;
  }
}

/** The soak as a readable report. */
export function formatSoak(r: SoakResult): string {
  const v = (x: number | null) => (x === null ? '—' : String(x));
  const lines: string[] = [];
  lines.push(
    `\nsoak — ${r.database}, node ${r.node}, ${r.cpus} cores, ${r.duration_s} s after a ${r.warmup_s} s warm-up\n`,
  );
  lines.push(
    `load per second: ${KINDS.map((k) => `${k} ${r.rates_per_s[k]}`).join(', ')}; sent: ${KINDS.map((k) => `${k} ${r.requests[k]}`).join(', ')}`,
  );
  lines.push('');
  lines.push(
    `| minute | requests | p99 all | ${KINDS.map((k) => `p99 ${k}`).join(' | ')} | RSS MB | heap MB |`,
  );
  lines.push(`| --- | --- | --- | ${KINDS.map(() => '---').join(' | ')} | --- | --- |`);
  for (const m of r.minutes) {
    lines.push(
      `| ${m.minute}${m.seconds < 60 ? ` (${m.seconds} s)` : ''} | ${m.requests} | ${v(m.p99_ms)} | ${KINDS.map((k) => v(m.p99_ms_by_kind[k])).join(' | ')} | ${v(m.rss_mb)} | ${v(m.heap_mb)} |`,
    );
  }
  lines.push(
    `| all | ${KINDS.reduce((s, k) => s + r.requests[k], 0)} | ${v(r.p99_ms.all)} | ${KINDS.map((k) => v(r.p99_ms[k])).join(' | ')} | | |`,
  );
  lines.push('');
  lines.push('| | start | middle | end | after 10 s idle |');
  lines.push('| --- | --- | --- | --- | --- |');
  for (const [name, p] of [
    ['RSS MB', r.rss_mb],
    ['heap MB (used)', r.heap_mb],
    ['heap MB (reserved)', r.heap_total_mb],
    ['external MB', r.external_mb],
  ] as const)
    lines.push(`| ${name} | ${v(p.start)} | ${v(p.middle)} | ${v(p.end)} | ${v(p.after_idle)} |`);
  lines.push('');
  const s = r.samples;
  lines.push(
    `samples (t s: RSS/heap MB, jobs due, p99 ms of the requests since, bot / bench event-loop p99 ms): ${s.map((x) => `${x.t_s}: ${x.rss_mb}/${v(x.heap_mb)}, ${v(x.jobs_due)}, ${v(x.p99_ms)}, ${v(x.eventloop_lag_p99_ms)}/${x.bench_loop_p99_ms}`).join('; ')}`,
  );
  const worst = Object.entries(r.by_what)
    .sort(([, a], [, b]) => (b.p99_ms ?? 0) - (a.p99_ms ?? 0))
    .slice(0, 8);
  lines.push(
    `highest p99 by request (n, p50/p99 ms): ${worst.map(([w, x]) => `${w} (${x.n}, ${v(x.p50_ms)}/${v(x.p99_ms)})`).join('; ')}`,
  );
  lines.push(`slowest: ${r.slowest.map((x) => `${x.ms} ms ${x.what} at ${x.t_s} s`).join('; ')}`);
  const w = r.work;
  lines.push(
    `work: ${w.incidents_declared} declared, ${w.cards_pinned} cards pinned, ${w.incidents_resolved} resolved, ${w.responses_via_response_url} response_url answers, ${w.charts_uploaded} charts uploaded, ${w.alert_notifications_accepted} alert notifications accepted (${w.alert_group_messages} group messages, ${w.alert_thread_posts} thread posts)`,
  );
  lines.push(
    `buttons the bot posted: ${Object.entries(w.buttons_posted)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  lines.push(
    `actions clicked: ${Object.entries(w.actions_clicked)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  lines.push(
    `errors: ${r.errors.count} (requests ${r.errors.requests}, bot error logs ${r.errors.bot_error_logs}; warn logs ${r.errors.bot_warn_logs}); non-2xx ${KINDS.map((k) => `${k} ${r.non_2xx[k]}`).join(', ')}; Slack not ok: ${
      Object.entries(r.errors.slack_not_ok)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }`,
  );
  for (const [what, n] of Object.entries(r.errors.bot_logs)) lines.push(`  ${n} × ${what}`);
  for (const e of r.errors.samples.slice(0, 5)) lines.push(`  ${e}`);
  const d = r.verdict;
  lines.push(
    `\nverdict: RSS ${v(d.rss_growth_mb)} MB (${v(d.rss_growth_pct)}%), heap ${v(d.heap_growth_mb)} MB (${v(d.heap_growth_pct)}%; its floor ${v(d.heap_floor_growth_mb)} MB) from the middle to the end; heap slope over the second half ${v(d.heap_slope_mb_per_min)} MB/min; p99 ${v(d.p99_first_minute_ms)} → ${v(d.p99_last_minute_ms)} ms (${v(d.p99_drift_pct)}%) first to last minute`,
  );
  lines.push(
    d.flags.length ? d.flags.map((f) => `  ⚠ ${f}`).join('\n') : '  steady: no growth or drift flagged',
  );
  return lines.join('\n');
}
