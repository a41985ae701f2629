import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  componentsJson,
  incidentsJson,
  type PageInput,
  statusJson,
  summaryJson,
  unresolvedJson,
} from '../statuspage/page.js';
import { pageInput, type StatusPageDeps } from '../statuspage/queries.js';
import type { Route } from './server.js';
import { historyFeed } from './views/feeds.js';
import { historyPageHtml, incidentPageHtml, notFoundHtml, statusPageHtml } from './views/status.js';

/**
 * The public status page, served by the bot: the pages (/status, an incident's, the history), the Atom
 * and RSS feeds, and the JSON, Atlassian Statuspage-compatible, at the origin's root (widgets and clients
 * replace the path with /api/v2/summary.json). Everything is open to every origin (CORS `*`), cached for
 * 30 s, with an ETag so a poller that has it gets 304.
 */

export interface StatusPageRouteDeps {
  page: StatusPageDeps;
}

/** Sends a representation with CORS for every origin, a 30-second cache, and an ETag (304 when unchanged). */
function send(req: IncomingMessage, res: ServerResponse, text: string, type: string, status = 200) {
  const etag = `"${createHash('sha1').update(text).digest('base64url')}"`;
  const headers = {
    'access-control-allow-origin': '*',
    'cache-control': 'public, max-age=30',
    etag,
    vary: 'accept-encoding',
  };
  if (status === 200 && req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(status, { ...headers, 'content-type': type }).end(text);
}

const sendJson = (req: IncomingMessage, res: ServerResponse, body: unknown) =>
  send(req, res, JSON.stringify(body), 'application/json; charset=utf-8');

export function statusPageRoutes(deps: StatusPageRouteDeps): Route[] {
  const json =
    (build: (input: PageInput) => unknown) => async (req: IncomingMessage, res: ServerResponse) => {
      const input = await pageInput(deps.page, deps.page.clock.now());
      if (!input) return void res.writeHead(404).end();
      sendJson(req, res, build(input));
    };
  const page =
    (
      render: (
        input: PageInput,
        req: IncomingMessage,
        params: Record<string, string>,
      ) => [number, string] | string,
    ) =>
    async (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => {
      const input = await pageInput(deps.page, deps.page.clock.now());
      if (!input) return void res.writeHead(404).end();
      const out = render(input, req, params);
      const [status, html] = typeof out === 'string' ? [200, out] : out;
      send(req, res, html, 'text/html; charset=utf-8', status);
    };
  const feed = (format: 'atom' | 'rss') => async (req: IncomingMessage, res: ServerResponse) => {
    const input = await pageInput(deps.page, deps.page.clock.now());
    if (!input) return void res.writeHead(404).end();
    const f = historyFeed(input);
    if (format === 'atom') send(req, res, f.atom1(), 'application/atom+xml; charset=utf-8');
    else send(req, res, f.rss2(), 'application/rss+xml; charset=utf-8');
  };
  return [
    { method: 'GET', path: '/status', handle: page(statusPageHtml) },
    { method: 'GET', path: '/status/history', handle: page(historyPageHtml) },
    {
      method: 'GET',
      path: '/status/incidents/:id',
      handle: page((input, _req, params) => {
        const found = input.incidents.find((p) => p.incident.id === params.id);
        return found ? incidentPageHtml(input, found) : [404, notFoundHtml(input)];
      }),
    },
    { method: 'GET', path: '/history.atom', handle: feed('atom') },
    { method: 'GET', path: '/history.rss', handle: feed('rss') },
    { method: 'GET', path: '/api/v2/summary.json', handle: json(summaryJson) },
    { method: 'GET', path: '/api/v2/status.json', handle: json(statusJson) },
    { method: 'GET', path: '/api/v2/components.json', handle: json(componentsJson) },
    { method: 'GET', path: '/api/v2/incidents.json', handle: json(incidentsJson) },
    { method: 'GET', path: '/api/v2/incidents/unresolved.json', handle: json(unresolvedJson) },
  ];
}
