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

/**
 * The status page's JSON, Atlassian Statuspage-compatible, at the origin's root (widgets and clients
 * replace the path with /api/v2/summary.json): open to every origin (CORS `*`), cached for 30 s, with an
 * ETag so a poller that has it gets 304.
 */

export interface StatusPageRouteDeps {
  page: StatusPageDeps;
}

function sendJson(req: IncomingMessage, res: ServerResponse, body: unknown) {
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha1').update(text).digest('base64url')}"`;
  const headers = {
    'access-control-allow-origin': '*',
    'cache-control': 'public, max-age=30',
    etag,
    vary: 'accept-encoding',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end(text);
}

export function statusPageRoutes(deps: StatusPageRouteDeps): Route[] {
  const json =
    (build: (input: PageInput) => unknown) => async (req: IncomingMessage, res: ServerResponse) => {
      const input = await pageInput(deps.page, deps.page.clock.now());
      if (!input) return void res.writeHead(404).end();
      sendJson(req, res, build(input));
    };
  return [
    { method: 'GET', path: '/api/v2/summary.json', handle: json(summaryJson) },
    { method: 'GET', path: '/api/v2/status.json', handle: json(statusJson) },
    { method: 'GET', path: '/api/v2/components.json', handle: json(componentsJson) },
    { method: 'GET', path: '/api/v2/incidents.json', handle: json(incidentsJson) },
    { method: 'GET', path: '/api/v2/incidents/unresolved.json', handle: json(unresolvedJson) },
  ];
}
