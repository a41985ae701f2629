import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { bearer, sameSecret } from './secrets.js';
import type { Route } from './server.js';

/**
 * GET /metrics in Prometheus' text format. With METRICS_TOKEN set, only with `Authorization: Bearer
 * <token>` (compared in constant time); without it, open — put it behind your network's edge.
 */
export function metricsRoutes(deps: {
  metrics: Metrics;
  token: string | undefined;
  logger: Logger;
}): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      async handle(req, res) {
        if (deps.token) {
          const given = bearer(req);
          if (!given || !sameSecret(given, deps.token)) {
            res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
            res.end('unauthorized: Authorization: Bearer <METRICS_TOKEN>\n');
            return;
          }
        }
        try {
          const text = await deps.metrics.text();
          res.writeHead(200, { 'content-type': deps.metrics.contentType, 'cache-control': 'no-store' });
          res.end(text);
        } catch (err) {
          deps.logger.warn({ err }, 'metrics could not be read (the database?)');
          res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5' });
          res.end('metrics unavailable: the database did not answer\n');
        }
      },
    },
  ];
}
