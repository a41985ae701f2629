import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type postgres from 'postgres';
import { describe, expect } from 'vitest';
import { alertmanagerNotification } from '../helpers/alerts.js';
import { itWithServer } from '../helpers/db.js';
import { processHarness } from '../helpers/harness.js';
import { pool, until } from '../helpers/process.js';

/**
 * Webhooks from the built program: kill -9 while deliveries are in flight, restart, and every event
 * committed before the kill still reaches the receiver — at least once, with the same webhook-id when
 * it is sent again.
 */

const KEY = 'process-webhooks-key-0123456789abcdef';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const { setup, cleanups } = processHarness('webhooks');

describe('webhooks as a process', () => {
  itWithServer(
    'kill -9 mid-delivery: after the restart every group opened before the kill is delivered, ids kept',
    async () => {
      // A slow receiver that, before the kill, answers only the first few deliveries and holds the rest
      // unanswered: however fast the bot sends, deliveries are in flight when the process dies.
      const received: { id: string; group: number }[] = [];
      let holding = true;
      /** Every request, answered or not: a delivery sent again must carry the id it had. */
      const arrivals: { id: string; group: number }[] = [];
      const held: ServerResponse[] = [];
      const receiver: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            data: { alert_group: { id: number } };
          };
          const delivery = { id: String(req.headers['webhook-id']), group: body.data.alert_group.id };
          arrivals.push(delivery);
          if (holding && arrivals.length > 8) {
            held.push(res);
            return;
          }
          setTimeout(() => {
            received.push(delivery);
            res.writeHead(200).end();
          }, 150);
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
      const port = (receiver.address() as AddressInfo).port;

      const { start, sql } = await setup({
        config: `alerts:
  channel: C0ALERTS
  group_by: [alertname]
  integrations:
    - {name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS}
webhooks:
  - {url: "http://127.0.0.1:${port}/hook", secret_env: WH_SECRET, allow_private: true, events: [alert_group.opened]}
`,
        env: { ALERTS_KEY_PROMETHEUS: KEY, WH_SECRET: SECRET },
      });
      const db = sql as postgres.Sql;

      const first = start();
      await first.ready();
      const base = await first.base();
      await pool(60, 4, async (n) => {
        const res = await fetch(`${base}/alerts/prometheus`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: alertmanagerNotification([{ alertname: `W${n}`, instance: 'a' }]),
        });
        await res.text();
        expect(res.status).toBe(202);
      });
      await until(
        'some deliveries done and more in flight',
        () => (received.length >= 5 && held.length > 0 ? true : undefined),
        60_000,
      );
      await first.kill('SIGKILL');
      const before = received.length;
      const inFlight = held.length;
      // What was in flight died with the process; from now on every delivery is answered.
      holding = false;
      for (const res of held.splice(0)) res.destroy();

      const second = start();
      await second.ready();
      // Claims of the killed process run out after their 30-second lease; then everything goes out.
      const groups = async () => (await db`select id from alert_groups`).map((r) => Number(r.id));
      await until(
        'every group opened is delivered, and every delivery settled',
        async () => {
          const all = await groups();
          const got = new Set(received.map((r) => r.group));
          const [open] =
            await db`select count(*)::int as n from webhook_deliveries where status <> 'delivered'`;
          return all.length === 60 && all.every((g) => got.has(g)) && open?.n === 0 ? true : undefined;
        },
        120_000,
        200,
      );
      expect(before).toBeLessThan(60);
      // Each group's webhook has one id, however often it was sent.
      const idsByGroup = new Map<number, Set<string>>();
      for (const r of arrivals) idsByGroup.set(r.group, (idsByGroup.get(r.group) ?? new Set()).add(r.id));
      expect([...idsByGroup.values()].every((ids) => ids.size === 1)).toBe(true);
      const [deliveries] = await db`select count(*)::int as n from webhook_deliveries`;
      expect(deliveries?.n).toBe(60);
      console.log(
        `[measure] webhooks crash: ${before} of 60 answered before kill -9, ${inFlight} left in flight; ${arrivals.length} requests in all, one id per group`,
      );
    },
    240_000,
  );
});
