import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { Route } from './server.js';

export interface HealthChecks {
  /** Throws while the database is unreachable or not migrated. */
  ready(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: object) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/** GET /healthz (the process is up) and GET /readyz (the database answers and is migrated). */
export function healthRoutes(health: HealthChecks, logger: Logger): Route[] {
  return [
    { method: 'GET', path: '/healthz', handle: (_req, res) => json(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      async handle(_req, res) {
        try {
          await health.ready();
          json(res, 200, { status: 'ready' });
        } catch (err) {
          logger.warn(`not ready: ${err instanceof Error ? err.message : String(err)}`);
          json(res, 503, { status: 'unavailable', reason: 'database unreachable or not migrated' });
        }
      },
    },
  ];
}
