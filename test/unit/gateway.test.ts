import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/errors.js';
import { classifySlackError, SlackGateway } from '../../src/slack/gateway.js';
import { captureLogger } from '../helpers/logger.js';

const platform = (error: string, extra = {}) => ({
  code: ErrorCode.PlatformError,
  data: { ok: false, error, ...extra },
});

describe('Slack error classification', () => {
  it('retries rate limits at Retry-After', () => {
    const e = classifySlackError('pins.add', { code: ErrorCode.RateLimitedError, retryAfter: 7 });
    expect(e).toBeInstanceOf(RetryableError);
    expect((e as RetryableError).retryAfterMs).toBe(7000);
  });

  it('retries 5xx, network errors and Slack-side failures with backoff', () => {
    for (const err of [
      { code: ErrorCode.HTTPError, statusCode: 503 },
      { code: ErrorCode.RequestError, message: 'ETIMEDOUT' },
      platform('ratelimited'),
      platform('internal_error'),
    ]) {
      const e = classifySlackError('chat.postMessage', err);
      expect(e).toBeInstanceOf(RetryableError);
      expect((e as RetryableError).retryAfterMs).toBeUndefined();
    }
  });

  it('gives up on errors that retrying cannot fix, with the scope Slack asked for', () => {
    const e = classifySlackError(
      'conversations.create',
      platform('missing_scope', { needed: 'groups:write' }),
    );
    expect(e).toBeInstanceOf(PermanentError);
    expect((e as PermanentError).code).toBe('missing_scope');
    expect(e.message).toBe('conversations.create: missing_scope (needs groups:write)');
    expect(classifySlackError('x', platform('restricted_action'))).toBeInstanceOf(PermanentError);
    expect(classifySlackError('x', { code: ErrorCode.HTTPError, statusCode: 404 })).toBeInstanceOf(
      PermanentError,
    );
  });
});

/** A local Slack-shaped server: each call is answered by `reply`; counts the TCP connections opened. */
async function localSlack(reply: (method: string, body: string, res: ServerResponse) => void) {
  const calls: { method: string; body: string; contentType: string | undefined }[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const method = (req.url ?? '').replace('/api/', '');
      calls.push({ method, body, contentType: req.headers['content-type'] });
      reply(method, body, res);
    });
  });
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('the gateway over its own HTTP transport (slackFetch)', () => {
  const gateway = (apiUrl: string, timeoutMs = 10_000) =>
    new SlackGateway({ token: 'xoxb-local-test', apiUrl, logger: captureLogger().logger, timeoutMs });

  it('sends form-encoded calls with the token and reads the answer, over one kept-alive connection', async () => {
    const slack = await localSlack((method, _body, res) =>
      method === 'chat.postMessage'
        ? json(res, 200, { ok: true, channel: 'C1', ts: '1700000000.000100' })
        : json(res, 200, { ok: true }),
    );
    try {
      const g = gateway(slack.apiUrl);
      for (let i = 0; i < 5; i++) {
        const posted = await g.postMessage({ channel: 'C1', text: `hello & <world> ${i}` });
        expect(posted).toEqual({ channel: 'C1', ts: '1700000000.000100' });
      }
      await g.pin('C1', '1700000000.000100');
      expect(slack.calls.map((c) => c.method)).toEqual([...Array(5).fill('chat.postMessage'), 'pins.add']);
      const sent = new URLSearchParams(slack.calls[0]?.body);
      expect(sent.get('text')).toBe('hello & <world> 0');
      expect(sent.get('token')).toBeNull(); // the token travels in the Authorization header only
      expect(slack.calls[0]?.contentType).toBe('application/x-www-form-urlencoded');
      expect(slack.connections()).toBe(1);
    } finally {
      await slack.close();
    }
  });

  it('turns a 429 into a retry at Retry-After, a 503 into a retry and a platform error into its code', async () => {
    const slack = await localSlack((method, _body, res) => {
      if (method === 'pins.add') json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': '12' });
      else if (method === 'conversations.setTopic') json(res, 503, { ok: false });
      else json(res, 200, { ok: false, error: 'channel_not_found' });
    });
    try {
      const g = gateway(slack.apiUrl);
      const limited = await g.pin('C1', '1.2').catch((e: unknown) => e);
      expect(limited).toBeInstanceOf(RetryableError);
      expect((limited as RetryableError).retryAfterMs).toBe(12_000);
      const down = await g.setTopic('C1', 'topic').catch((e: unknown) => e);
      expect(down).toBeInstanceOf(RetryableError);
      expect((down as Error).message).toBe('conversations.setTopic: HTTP 503');
      const refused = await g.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PermanentError);
      expect((refused as PermanentError).code).toBe('channel_not_found');
    } finally {
      await slack.close();
    }
  });

  it('opens a person’s DM channel once and remembers it', async () => {
    const slack = await localSlack((_method, body, res) =>
      json(res, 200, { ok: true, channel: { id: `D${new URLSearchParams(body).get('users')}` } }),
    );
    try {
      const g = gateway(slack.apiUrl);
      expect(await g.openDm('U1')).toBe('DU1');
      expect(await g.openDm('U2')).toBe('DU2');
      expect(await g.openDm('U1')).toBe('DU1');
      expect(slack.calls.map((c) => new URLSearchParams(c.body).get('users'))).toEqual(['U1', 'U2']);
    } finally {
      await slack.close();
    }
  });

  it('gives up on a call Slack does not answer within the timeout, as a retryable failure', async () => {
    const slack = await localSlack(() => {
      // never answers
    });
    try {
      const started = performance.now();
      const err = await gateway(slack.apiUrl, 300)
        .postMessage({ channel: 'C1', text: 'x' })
        .catch((e: unknown) => e);
      const took = performance.now() - started;
      expect(err).toBeInstanceOf(RetryableError);
      expect((err as Error).message).toBe(
        'chat.postMessage: request failed (A request error occurred: no answer within 300 ms)',
      );
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(5000);
    } finally {
      await slack.close();
    }
  });
});
