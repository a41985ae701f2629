import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { alertmanagerNotification, type TestAlert } from '../helpers/alerts.js';
import { itWithServer } from '../helpers/db.js';
import { processHarness } from '../helpers/harness.js';
import { type BotProcess, pool, until } from '../helpers/process.js';
import { dmChannelOf, type SlackApiMock, type SlackCall } from '../helpers/slack-api.js';

/**
 * The alert hub as the built program: alerts answered 2xx survive kill -9; two replicas behind one
 * database make one message per group and page each person once per tier; and a storm of 10,000 alerts
 * in 20 groups stays within Slack's budget (one new message a second per channel, one edit per message
 * every 5 s).
 */

const KEY = 'process-alerts-key-0123456789abcdef';
const CHANNEL = 'C0ALERTS';
const harness = processHarness('alerts');
const setup = (config: string) =>
  harness.setup({ config, faults: { latencyMs: 20 }, env: { ALERTS_KEY_PROMETHEUS: KEY } });

const hub = (extra = '') => `alerts:
  channel: ${CHANNEL}
  group_by: [alertname]
  integrations:
    - {name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS}
${extra}`;

/** POSTs a notification; true when it was answered 202 (committed). */
async function send(bot: BotProcess, body: string): Promise<boolean> {
  try {
    const res = await fetch(`${await bot.base()}/alerts/prometheus`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body,
    });
    await res.text();
    return res.status === 202;
  } catch {
    // The process died mid-request: not acknowledged.
    return false;
  }
}

/** Notification `n` of a stream: `size` new alerts of group `G<n mod groups>`. */
const batch = (n: number, size: number, groups: number): TestAlert[] =>
  Array.from({ length: size }, (_, a) => ({ alertname: `G${n % groups}`, instance: `n${n}-a${a}` }));

const groupMessages = (slack: SlackApiMock) =>
  slack.messages.filter((m) => m.channel === CHANNEL && m.metadata?.event_type === 'alert_group');
const firingShown = (slack: SlackApiMock) =>
  slack.messages
    .filter((m) => m.channel === CHANNEL && !m.thread_ts)
    .reduce((sum, m) => sum + Number(/^\[FIRING:(\d+)\]/.exec(m.text)?.[1] ?? 0), 0);

/** The smallest gap between consecutive calls, per key. */
function smallestGaps(calls: SlackCall[], keyOf: (c: SlackCall) => string): number[] {
  const last = new Map<string, number>();
  const gaps: number[] = [];
  for (const c of calls) {
    const key = keyOf(c);
    const before = last.get(key);
    if (before !== undefined) gaps.push(c.at - before);
    last.set(key, c.at);
  }
  return gaps;
}

describe('the alert hub as a process', () => {
  itWithServer(
    'kill -9 in the middle of a stream of webhooks: every alert answered 2xx is there after restart, counted once',
    async () => {
      const { slack, start, sql } = await setup(hub());
      const db = sql as postgres.Sql;
      const first = start();
      await first.ready();
      const acknowledged = new Set<number>();
      let killed = false;
      const stream = pool(600, 8, async (n) => {
        if (await send(first, alertmanagerNotification(batch(n, 20, 20)))) acknowledged.add(n);
      });
      await until('150 notifications acknowledged', () => (acknowledged.size >= 150 ? true : undefined));
      await first.kill('SIGKILL');
      killed = true;
      await stream;
      expect(killed).toBe(true);
      expect(acknowledged.size).toBeGreaterThanOrEqual(150);
      expect(acknowledged.size).toBeLessThan(600);

      const second = start();
      await second.ready();
      // The killed process's claims run out after their 30-second lease; then everything is applied.
      await until(
        'every stored notification applied',
        async () => {
          const [r] =
            await db`select count(*)::int as n from timers where kind = 'alerts.ingest' and status <> 'done'`;
          return r?.n === 0 ? true : undefined;
        },
        120_000,
        500,
      );
      const keys = [...acknowledged].flatMap((n) =>
        (
          JSON.parse(alertmanagerNotification(batch(n, 20, 20))) as { alerts: { fingerprint: string }[] }
        ).alerts.map((a) => a.fingerprint),
      );
      const present = await db<{ dedup_key: string; occurrences: number }[]>`
        select dedup_key, occurrences from alerts where dedup_key = any(${keys})`;
      expect(present).toHaveLength(keys.length);
      // A notification applied by the killed process and again after restart still counts once.
      expect(present.every((a) => a.occurrences === 1)).toBe(true);
      const counts =
        await db`select g.alert_count, (select count(*)::int from alerts a where a.group_id = g.id) as n
        from alert_groups g`;
      expect(counts.every((c) => c.alert_count === c.n)).toBe(true);
      // One message per group, however often the sender was interrupted.
      await until('20 group messages', () => (groupMessages(slack).length >= 20 ? true : undefined), 60_000);
      await new Promise((r) => setTimeout(r, 2000));
      const perGroup = new Map<string, number>();
      for (const m of groupMessages(slack)) {
        const id = String(m.metadata?.event_payload.id);
        perGroup.set(id, (perGroup.get(id) ?? 0) + 1);
      }
      expect(perGroup.size).toBe(20);
      expect([...perGroup.values()].every((n) => n === 1)).toBe(true);
      console.log(
        `[measure] alerts crash: ${acknowledged.size} of 600 notifications acknowledged before kill -9; ${present.length} alerts of them present after restart, each counted once`,
      );
    },
  );

  itWithServer(
    'two replicas behind one database, each notification sent to both (Alertmanager in HA): one message per group, one page per person per tier',
    async () => {
      const { slack, start, sql } = await setup(
        hub(`  routes:
    - match: {severity: critical}
      escalation_policy: oncall
escalation_policies:
  oncall:
    tiers:
      - {after: 0m, notify: [U0PAGER01]}
      - {after: 3s, notify: [U0PAGER02]}
`),
      );
      const db = sql as postgres.Sql;
      const a = start();
      const b = start();
      await Promise.all([a.ready(), b.ready()]);
      const notifications = Array.from({ length: 60 }, (_, n) => alertmanagerNotification(batch(n, 25, 20)));
      const answers = await pool(60, 6, async (n) => {
        const body = notifications[n] as string;
        return (await Promise.all([send(a, body), send(b, body)])).every(Boolean);
      });
      expect(answers.every(Boolean)).toBe(true);

      await until('every notification applied', async () => {
        const [r] =
          await db`select count(*)::int as n from timers where kind = 'alerts.ingest' and status <> 'done'`;
        return r?.n === 0 ? true : undefined;
      });
      const pagesTo = (user: string) =>
        slack.messages.filter(
          (m) => m.channel === dmChannelOf(user) && m.metadata?.event_type === 'alert_page',
        );
      // On a loaded machine both tiers of a group can fall due before either step runs; they then page in
      // order, tier 1 first (two CI runs once lost tier 1 of a group this way: tier 2 paged first and
      // tier 1's step took its turn as passed).
      await until(
        'both tiers paged for every group',
        () => (pagesTo('U0PAGER01').length >= 20 && pagesTo('U0PAGER02').length >= 20 ? true : undefined),
        60_000,
      );
      await until('20 group messages', () => (groupMessages(slack).length >= 20 ? true : undefined), 60_000);
      await new Promise((r) => setTimeout(r, 4000)); // anything sent twice would show up now
      expect(groupMessages(slack)).toHaveLength(20);
      const groupsPaged = (user: string) => pagesTo(user).map((m) => m.text);
      for (const user of ['U0PAGER01', 'U0PAGER02']) {
        expect(pagesTo(user)).toHaveLength(20);
        expect(new Set(groupsPaged(user)).size).toBe(20);
      }
      // Each alert arrived twice (once per replica) and counts once.
      const [alerts] = await db`select count(*)::int as n, max(occurrences)::int as most from alerts`;
      expect(alerts).toEqual({ n: 60 * 25, most: 1 });
    },
  );

  it('a storm of 10,000 alerts in 20 groups: 20 messages, one new message a second, one edit per message every 5 s', async () => {
    const { slack, start } = await setup(hub());
    const bot = start();
    await bot.ready();
    // 200 notifications of 50 alerts over about 30 s: messages are posted while alerts keep coming, so
    // they are edited and their threads told, all at Slack's pace.
    const started = Date.now();
    const answers = await pool(200, 8, async (n) => {
      await new Promise((r) => setTimeout(r, Math.max(0, started + n * 150 - Date.now())));
      return send(bot, alertmanagerNotification(batch(n, 50, 20)));
    });
    expect(answers.every(Boolean)).toBe(true);
    const sentIn = Date.now() - started;
    await until('every alert shown', () => (firingShown(slack) >= 10_000 ? true : undefined), 120_000, 200);
    await new Promise((r) => setTimeout(r, 6000)); // thread posts and last edits
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL);
    const edits = slack.calls.filter((c) => c.method === 'chat.update' && c.args.channel === CHANNEL);
    expect(groupMessages(slack)).toHaveLength(20);
    // Enough of both for the pace to be tested: the messages were edited, and their threads told.
    expect(edits.length).toBeGreaterThanOrEqual(20);
    expect(posts.length).toBeGreaterThan(20);
    const postGaps = smallestGaps(posts, () => CHANNEL);
    const editGaps = smallestGaps(edits, (c) => String(c.args.ts));
    // Slack's one message a second per channel, and at most one edit per message every 5 s (as they arrived
    // at the fake Slack: a few milliseconds of network jitter allowed).
    expect(Math.min(...postGaps)).toBeGreaterThanOrEqual(950);
    expect(Math.min(...editGaps)).toBeGreaterThanOrEqual(4900);
    console.log(
      `[measure] alerts storm: 10,000 alerts sent in ${(sentIn / 1000).toFixed(1)} s; ${posts.length} posts (20 group messages, ${posts.length - 20} thread posts), ${edits.length} edits; shortest gaps ${Math.round(Math.min(...postGaps))} ms between posts, ${Math.round(Math.min(...editGaps))} ms between edits of one message`,
    );
  });
});
