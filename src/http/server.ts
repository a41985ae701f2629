import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/**
 * The bot's one HTTP server. Transports register routes on it: Slack's receiver (POST /slack/events, in
 * HTTP mode), the health routes, and the routes of the capabilities to come (alerts, status page,
 * metrics). Anything else is 404, a known path with another method 405.
 */

export type Method = 'GET' | 'POST' | 'HEAD';

export interface Route {
  method: Method;
  /** An exact path, or one with `:name` segments that match any one segment (`/alerts/:integration`). */
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, params: Record<string, string>): void | Promise<void>;
}

export interface HttpServer {
  /** The port actually listened on (useful with PORT=0). */
  port: number;
  close(): Promise<void>;
}

/** Matches a path against a route's pattern; the `:name` segments' values, or undefined. */
function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [n, segment] of want.entries()) {
    const value = got[n] as string;
    if (segment.startsWith(':')) {
      if (!value) return undefined;
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (segment !== value) return undefined;
  }
  return params;
}

export async function startHttpServer(options: {
  port: number;
  routes: Route[];
  logger: Logger;
  /** Observes each request's duration by route pattern, method and status. */
  metrics?: Metrics;
}): Promise<HttpServer> {
  const byPath = new Map<string, Map<string, Route>>();
  for (const route of options.routes) {
    const methods = byPath.get(route.path) ?? new Map<string, Route>();
    if (methods.has(route.method)) throw new Error(`two routes for ${route.method} ${route.path}`);
    methods.set(route.method, route);
    byPath.set(route.path, methods);
  }
  const find = (path: string) => {
    const exact = byPath.get(path);
    if (exact) return { methods: exact, params: {} };
    for (const [pattern, methods] of byPath) {
      const params = pattern.includes(':') ? matchPath(pattern, path) : undefined;
      if (params) return { methods, params };
    }
    return undefined;
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const found = find(path);
    const methods = found?.methods;
    const route = methods?.get(req.method ?? '') ?? (req.method === 'HEAD' ? methods?.get('GET') : undefined);
    const started = performance.now();
    res.on('finish', () =>
      options.metrics?.httpDuration.observe(
        // The pattern, not the path: keys in URLs stay out of the labels, and so do unknown paths.
        { route: route?.path ?? 'unmatched', method: req.method ?? '', status: String(res.statusCode) },
        (performance.now() - started) / 1000,
      ),
    );
    if (!route || !found) {
      res.writeHead(methods ? 405 : 404, methods ? { allow: [...methods.keys()].join(', ') } : {});
      res.end();
      return;
    }
    Promise.resolve()
      .then(() => route.handle(req, res, found.params))
      .catch((err: unknown) => {
        options.logger.error({ err, path }, 'request handler failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // In-flight requests finish; idle keep-alive connections are closed rather than waited for.
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
