import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { escape as formEscape } from 'node:querystring';
import type { Logger } from '../logger.js';

/**
 * The Slack Web API client the gateway calls through: each call one POST to `<api url><method>`, its
 * arguments form-encoded (objects and arrays as JSON, as Slack documents and @slack/web-api sends them),
 * the token in the `Authorization` header, over kept-alive node:http connections, with one deadline for
 * the whole exchange.
 *
 * Why not @slack/web-api's WebClient, which Bolt still uses for its own few calls: on every call it queues
 * through p-queue and p-retry, builds a copy of the arguments with tokens redacted and JSON-stringifies it
 * twice for debug lines it then drops, and reads the answer through a fetch Response. Measured under the
 * declare burst (bench, `perf record` on the bot), that was 11% of the main thread's CPU for the six calls
 * a declared incident makes (seven with an announcements channel). The gateway needs none of it: it
 * never retries inside a call (the job engine does, after looking for its own earlier work), never queues
 * (Slack's limits are per method and answered with 429), and logs calls itself.
 *
 * What comes back: the answer's JSON when Slack says `ok: true`; otherwise a SlackCallError saying which
 * kind of failure it was, in Slack's own terms (HTTP 429 with Retry-After, another HTTP status, the
 * platform's `error` code, or no usable answer at all). The gateway maps these to the product's retry
 * vocabulary.
 */

export type SlackFailure =
  /** HTTP 429: Slack's rate limit, with the seconds its Retry-After header asked for. */
  | { kind: 'rate_limited'; retryAfterS: number }
  /** Any other status than 200. */
  | { kind: 'http'; status: number }
  /** `ok: false`: the platform's error code, and the scope it wanted for `missing_scope`. */
  | { kind: 'platform'; error: string; needed?: string }
  /** No answer, a broken connection, the deadline, or an answer that is not Slack's JSON. */
  | { kind: 'request'; reason: string };

export class SlackCallError extends Error {
  constructor(
    readonly method: string,
    readonly failure: SlackFailure,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${describe(failure)}`, options);
    this.name = 'SlackCallError';
  }
}

function describe(failure: SlackFailure): string {
  switch (failure.kind) {
    case 'rate_limited':
      return `rate limited (retry after ${failure.retryAfterS} s)`;
    case 'http':
      return `HTTP ${failure.status}`;
    case 'platform':
      return failure.error;
    case 'request':
      return `request failed (${failure.reason})`;
  }
}

/** Idle connections are closed after this, before Slack's side would. */
const IDLE_SOCKET_MS = 4000;
/** Retry-After when a 429 carries none (Slack always sends one; a proxy might not). */
const DEFAULT_RETRY_AFTER_S = 1;

/** One call's arguments: undefined and null are left out, as Slack's own clients do. */
export type CallArguments = Record<string, unknown>;

/** A call's answer: Slack's JSON, `ok: true`. */
export interface SlackAnswer {
  ok: true;
  response_metadata?: { warnings?: string[]; next_cursor?: string };
  [field: string]: unknown;
}

export class SlackWebApi {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    'https:': new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  private readonly protocol: 'http:' | 'https:';
  /** Where every call goes but the method's name, parsed once (http.request parses a URL string per call). */
  private readonly target: { hostname: string; port: string; basePath: string };
  private readonly authorization: string;

  constructor(
    private readonly options: {
      token: string;
      /** Ends with `/`: `https://slack.com/api/`. */
      apiUrl: string;
      timeoutMs: number;
      logger: Logger;
    },
  ) {
    const url = new URL(options.apiUrl);
    const protocol = url.protocol;
    if (protocol !== 'http:' && protocol !== 'https:')
      throw new Error(`the Slack API URL must be http or https, not ${protocol}`);
    this.protocol = protocol;
    // An IPv6 literal comes back bracketed from URL; http.request wants it bare.
    this.target = {
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port,
      basePath: `${url.pathname}${url.pathname.endsWith('/') ? '' : '/'}`,
    };
    this.authorization = `Bearer ${options.token}`;
  }

  async call<T extends object = SlackAnswer>(method: string, args: CallArguments): Promise<T & SlackAnswer> {
    const answer = await this.post(method, formBody(args));
    if (answer.status === 429) {
      const retryAfter = Number(answer.headers['retry-after']);
      throw new SlackCallError(method, {
        kind: 'rate_limited',
        retryAfterS: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : DEFAULT_RETRY_AFTER_S,
      });
    }
    if (answer.status !== 200) throw new SlackCallError(method, { kind: 'http', status: answer.status });
    let body: { ok?: unknown; error?: unknown; needed?: unknown; response_metadata?: { warnings?: unknown } };
    try {
      body = JSON.parse(answer.body);
    } catch (err) {
      throw new SlackCallError(method, { kind: 'request', reason: 'the answer is not JSON' }, { cause: err });
    }
    if (typeof body !== 'object' || body === null)
      throw new SlackCallError(method, { kind: 'request', reason: 'the answer is not a JSON object' });
    const warnings = body.response_metadata?.warnings;
    if (Array.isArray(warnings) && warnings.length > 0)
      this.options.logger.warn({ method, warnings }, `Slack warned about a ${method} call`);
    if (body.ok !== true) {
      throw new SlackCallError(method, {
        kind: 'platform',
        error: typeof body.error === 'string' ? body.error : 'unknown_error',
        ...(typeof body.needed === 'string' ? { needed: body.needed } : {}),
      });
    }
    return body as T & SlackAnswer;
  }

  /** One POST; resolves with whatever status came back, rejects (as a request failure) without one. */
  private post(
    method: string,
    body: string,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    const { timeoutMs } = this.options;
    // Looked up on the module at call time, so a test's interceptor (nock) that patches it is seen.
    const send = this.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send({
        protocol: this.protocol,
        hostname: this.target.hostname,
        ...(this.target.port ? { port: this.target.port } : {}),
        path: `${this.target.basePath}${method}`,
        method: 'POST',
        agent: this.agents[this.protocol],
        headers: {
          authorization: this.authorization,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      });
      const deadline = setTimeout(
        () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(deadline);
        reject(new SlackCallError(method, { kind: 'request', reason: err.message }, { cause: err }));
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('the connection closed before the whole answer came'));
        });
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.end(body);
    });
  }
}

/**
 * `application/x-www-form-urlencoded`, the way Slack's own clients encode arguments: strings, numbers and
 * booleans as they are, anything else (blocks, metadata, a view) as JSON; undefined and null left out.
 */
export function formBody(args: CallArguments): string {
  let out = '';
  for (const key in args) {
    const value = args[key];
    if (value === undefined || value === null) continue;
    const text =
      typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : JSON.stringify(value);
    out += `${out ? '&' : ''}${formEscape(key)}=${formEscape(text)}`;
  }
  return out;
}
