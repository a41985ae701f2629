import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, declareView, SIGNING_SECRET, sign } from '../helpers/http.js';
import { pool, startBotProcess } from '../helpers/process.js';
import { SlackApiMock, TEAM_ID } from '../helpers/slack-api.js';
import { mrkdwnTexts } from '../helpers/slack-limits.js';

/**
 * 2,000 generated hostile requests against the real program: forged and replayed signatures, broken
 * payloads, unknown ids, huge and strange text, mention and link injection, a 10 MB body. The program
 * must not crash or answer 5xx, must refuse what is unsigned before parsing it, must answer what is
 * signed but wrong in words, and must let nothing a user typed reach Slack unescaped.
 */

type Kind =
  | 'bad_signature'
  | 'no_signature'
  | 'stale'
  | 'future'
  | 'broken_json'
  | 'wrong_shape'
  | 'unknown_id'
  | 'hostile_command'
  | 'hostile_view'
  | 'huge_body';

interface Req {
  kind: Kind;
  body: string | Buffer;
  timestamp?: number;
  signature?: string | null;
}

function random(seed: number) {
  let a = seed;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

const HOSTILE_TEXT = [
  '<!channel> wake up',
  '<!here> <!everyone>',
  '<https://evil.example/login|Reset your password>',
  '<@U0VICTIM> you are fired',
  'nul\u0000byte\u0000title',
  '\u202Egnitirw tfel-ot-thgir',
  'z\u0301\u0302\u0303\u0304\u0305alg\u0306\u0307\u0308o',
  '🔥'.repeat(80),
  'x'.repeat(3500),
  '&lt;!channel&gt; pre-escaped',
  '*bold* _it_ ~strike~ `code` ```block```',
];

function generate(): Req[] {
  const rnd = random(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  const now = Math.floor(Date.now() / 1000);
  const command = (text: string, extra: Record<string, string> = {}) =>
    new URLSearchParams({
      team_id: TEAM_ID,
      channel_id: 'C0GENERAL',
      user_id: 'U0HOSTILE',
      command: '/incident',
      text,
      response_url: 'https://hooks.slack.com/commands/T/1/x',
      trigger_id: '1.2.3',
      ...extra,
    }).toString();
  const payload = (p: unknown) =>
    new URLSearchParams({ payload: typeof p === 'string' ? p : JSON.stringify(p) }).toString();
  const out: Req[] = [];
  const kinds: [Kind, number][] = [
    ['bad_signature', 250],
    ['no_signature', 150],
    ['stale', 150],
    ['future', 100],
    ['broken_json', 200],
    ['wrong_shape', 250],
    ['unknown_id', 200],
    ['hostile_command', 350],
    ['hostile_view', 347],
    ['huge_body', 3],
  ];
  for (const [kind, count] of kinds) {
    for (let i = 0; i < count; i++) {
      switch (kind) {
        case 'bad_signature':
          out.push({
            kind,
            body: command(pick(HOSTILE_TEXT)),
            signature: `v0=${Math.floor(rnd() * 1e16)
              .toString(16)
              .padStart(64, 'a')}`,
          });
          break;
        case 'no_signature':
          out.push({ kind, body: command('help'), signature: null });
          break;
        case 'stale':
          out.push({ kind, body: command('help'), timestamp: now - 6 * 60 - Math.floor(rnd() * 86_400) });
          break;
        case 'future':
          out.push({ kind, body: command('help'), timestamp: now + 6 * 60 + Math.floor(rnd() * 86_400) });
          break;
        case 'broken_json': {
          const good = JSON.stringify({ type: 'view_submission', view: declareView({ title: 'x' }) });
          out.push({
            kind,
            body: payload(
              pick([
                good.slice(0, Math.floor(rnd() * good.length)),
                '{',
                'null',
                '[]',
                '"str"',
                '{"type":',
                'undefined',
              ]),
            ),
          });
          break;
        }
        case 'wrong_shape':
          out.push({
            kind,
            body: pick([
              payload({ type: 'view_submission' }),
              payload({
                type: 'view_submission',
                view: { callback_id: 'incident_declare', state: 'nope' },
                user: { id: 'U0X' },
              }),
              payload({
                type: 'view_submission',
                team: 5,
                user: null,
                view: { callback_id: 'incident_declare', id: 7, state: { values: [] } },
              }),
              payload({
                type: 'view_submission',
                user: { id: 'U0X' },
                view: { ...declareView({ title: 'ok' }), private_metadata: '{"incidentId": 5' },
              }),
              payload({
                type: 'view_submission',
                user: { id: 'U0X' },
                view: {
                  ...declareView({ title: 'ok' }),
                  callback_id: 'incident_update',
                  private_metadata: '{}',
                },
              }),
              payload({ type: 'block_actions', user: { id: 'U0X' }, actions: 'all of them' }),
              payload({
                type: 'block_actions',
                user: { id: 'U0X' },
                actions: [{ action_id: 'card_update', value: { nested: true } }],
              }),
              payload({
                type: 'block_actions',
                user: { id: 'U0X' },
                actions: [
                  {
                    action_id: 'card_severity',
                    block_id: 'card_actions:not-a-uuid',
                    selected_option: { value: 'SEV1' },
                  },
                ],
                response_url: 'https://hooks.slack.com/actions/x',
              }),
              command(''),
              new URLSearchParams({ command: '/incident' }).toString(),
              'just=some&random=fields',
              '',
            ]),
          });
          break;
        case 'unknown_id':
          out.push({
            kind,
            body: pick([
              payload({
                type: 'view_submission',
                user: { id: 'U0X' },
                view: { id: 'V1', callback_id: `legacy_${i}`, state: { values: {} } },
              }),
              payload({
                type: 'block_actions',
                user: { id: 'U0X' },
                actions: [{ action_id: `old_button_${i}`, value: 'x' }],
                response_url: 'https://hooks.slack.com/actions/x',
              }),
              payload({ type: 'shortcut', callback_id: `sc_${i}`, user: { id: 'U0X' }, trigger_id: '1' }),
              command('help', { command: '/weather' }),
            ]),
          });
          break;
        case 'hostile_command':
          out.push({
            kind,
            body: command(
              pick([
                `declare ${pick(HOSTILE_TEXT)}`,
                `note ${pick(HOSTILE_TEXT)}`,
                `page ${pick(HOSTILE_TEXT)}`,
                `role commander ${pick(HOSTILE_TEXT)}`,
                `severity ${pick(HOSTILE_TEXT)}`,
                `task add ${pick(HOSTILE_TEXT)} in 99999m`,
                pick(HOSTILE_TEXT),
                'list',
              ]),
            ),
          });
          break;
        case 'hostile_view':
          out.push({
            kind,
            body: payload({
              type: 'view_submission',
              team: { id: TEAM_ID },
              user: { id: 'U0HOSTILE', team_id: TEAM_ID },
              view: {
                team_id: TEAM_ID,
                ...declareView(
                  {
                    title: pick(HOSTILE_TEXT),
                    summary: pick(HOSTILE_TEXT),
                    severity: pick(['SEV1', 'SEV9', '<!channel>']),
                  },
                  `V0HOSTILE${i}`,
                ),
              },
            }),
          });
          break;
        case 'huge_body':
          out.push({ kind, body: Buffer.alloc(10 * 1024 * 1024, 'a') });
          break;
      }
    }
  }
  return out;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

const MRKDWN_INJECTION = /<!channel>|<!here>|<!everyone>|<https:\/\/evil|<@U0VICTIM>/;

describe('hostile input suite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'incident-bot-hostile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('2,000 hostile requests: no crash, no 5xx, 401 before parsing, 413 for huge bodies, words for the rest, nothing unescaped reaches Slack', async () => {
    const slack = new SlackApiMock();
    const api = await slack.listen();
    const bot = startBotProcess({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: api.apiUrl,
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'debug',
    });
    try {
      await bot.ready();
      const base = await bot.base();
      const pid = bot.child.pid as number;
      const rssBefore = rssMb(pid);
      let rssPeak = rssBefore;
      const requests = generate();
      expect(requests).toHaveLength(2000);
      const results = await pool(requests.length, 20, async (i) => {
        const r = requests[i] as Req;
        const ts = r.timestamp ?? Math.floor(Date.now() / 1000);
        const headers: Record<string, string> = {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(ts),
        };
        if (r.signature !== null)
          headers['x-slack-signature'] =
            r.signature ?? sign(typeof r.body === 'string' ? r.body : r.body.toString('utf8'), ts);
        const started = performance.now();
        const res = await fetch(`${base}/slack/events`, { method: 'POST', headers, body: r.body }).catch(
          (e: Error) => ({ status: 0, text: async () => e.message }),
        );
        const text = await res.text();
        if (i % 100 === 0) rssPeak = Math.max(rssPeak, rssMb(pid));
        return { kind: r.kind, status: res.status, text, ms: performance.now() - started };
      });
      const byKind = new Map<Kind, Map<number, number>>();
      for (const r of results) {
        const m = byKind.get(r.kind) ?? new Map<number, number>();
        m.set(r.status, (m.get(r.status) ?? 0) + 1);
        byKind.set(r.kind, m);
      }
      console.log(
        `[measure] hostile: ${[...byKind].map(([k, m]) => `${k} ${[...m].map(([s, n]) => `${n}×${s}`).join('/')}`).join('; ')}`,
      );
      const statuses = (kind: Kind) => [...(byKind.get(kind) ?? new Map()).keys()];
      expect(results.filter((r) => r.status >= 500 || r.status === 0)).toEqual([]);
      for (const kind of ['bad_signature', 'no_signature', 'stale', 'future'] as const)
        expect(statuses(kind)).toEqual([401]);
      expect(statuses('huge_body')).toEqual([413]);
      expect(statuses('broken_json').every((s) => s === 400 || s === 200)).toBe(true);
      // Signed requests the bot cannot use are answered at once, in words: never Slack's 3-second timeout.
      for (const kind of ['wrong_shape', 'unknown_id', 'hostile_command', 'hostile_view'] as const) {
        const slow = results.filter((r) => r.kind === kind && r.ms > 2900);
        expect(slow, `${kind} answered before Slack’s 3-second limit`).toEqual([]);
        expect(statuses(kind).every((s) => s === 200 || s === 400)).toBe(true);
      }
      const unknownAnswers = results.filter((r) => r.kind === 'unknown_id' && r.status === 200 && r.text);
      expect(
        unknownAnswers.every((r) => /older version of the bot|only answers `\/incident`/.test(r.text)),
      ).toBe(true);

      // Let the declarations that were valid finish their setup, then read everything the bot sent Slack.
      await new Promise((r) => setTimeout(r, 5000));
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const posted = slack.calls.flatMap((c) => [
        String(c.args.text ?? ''),
        String(c.args.topic ?? ''),
        ...mrkdwnTexts(c.args.blocks),
      ]);
      expect(slack.callsTo('chat.postMessage').length).toBeGreaterThan(0);
      expect(posted.filter((t) => MRKDWN_INJECTION.test(t))).toEqual([]);
      for (const r of results.filter((x) => x.kind === 'hostile_command' && x.status === 200 && x.text)) {
        expect(r.text).not.toMatch(MRKDWN_INJECTION);
      }
      const rssAfter = rssMb(pid);
      console.log(
        `[measure] hostile: RSS before ${rssBefore.toFixed(0)} MB, peak ${rssPeak.toFixed(0)} MB, after ${rssAfter.toFixed(0)} MB`,
      );
      expect(rssPeak - rssBefore).toBeLessThan(150);
      const logs = [...bot.stdout, ...bot.stderr].join('\n');
      expect(logs).not.toContain(BOT_TOKEN);
      expect(logs).not.toContain(SIGNING_SECRET);
    } finally {
      if (bot.child.exitCode !== null)
        console.log(
          `bot exited ${bot.child.exitCode}:\n${bot.stderr.join('\n').slice(0, 3000)}\n${bot.stdout.slice(-5).join('\n').slice(0, 3000)}`,
        );
      await bot.kill('SIGKILL');
      await api.close();
    }
  });
});
