import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';

/**
 * The bot's one HTTP server. Transports register routes on it: Slack's receiver (POST /slack/events, in
 * HTTP mode), the health routes, and the routes of the capabilities to come (alerts, status page,
 * metrics). Anything else is 404, a known path with another method 405.
 */

export type Method = 'GET' | 'POST' | 'HEAD';

export interface Route {
  method: Method;
  path: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

export interface HttpServer {
  /** The port actually listened on (useful with PORT=0). */
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: {
  port: number;
  routes: Route[];
  logger: Logger;
}): Promise<HttpServer> {
  const byPath = new Map<string, Map<string, Route>>();
  for (const route of options.routes) {
    const methods = byPath.get(route.path) ?? new Map<string, Route>();
    if (methods.has(route.method)) throw new Error(`two routes for ${route.method} ${route.path}`);
    methods.set(route.method, route);
    byPath.set(route.path, methods);
  }
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const methods = byPath.get(path);
    const route = methods?.get(req.method ?? '') ?? (req.method === 'HEAD' ? methods?.get('GET') : undefined);
    if (!route) {
      res.writeHead(methods ? 405 : 404, methods ? { allow: [...methods.keys()].join(', ') } : {});
      res.end();
      return;
    }
    Promise.resolve()
      .then(() => route.handle(req, res))
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
