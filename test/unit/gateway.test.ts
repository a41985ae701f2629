import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/errors.js';
import { classifySlackError, SlackGateway } from '../../src/slack/gateway.js';
import { SlackCallError } from '../../src/slack/web-api.js';
import { captureLogger } from '../helpers/logger.js';

const platform = (error: string, needed?: string) =>
  new SlackCallError('x', { kind: 'platform', error, ...(needed ? { needed } : {}) });

describe('Slack error classification', () => {
  it('retries rate limits at Retry-After', () => {
    const e = classifySlackError(
      'pins.add',
      new SlackCallError('pins.add', { kind: 'rate_limited', retryAfterS: 7 }),
    );
    expect(e).toBeInstanceOf(RetryableError);
    expect((e as RetryableError).retryAfterMs).toBe(7000);
  });

  it('retries 5xx, network errors and Slack-side failures with backoff', () => {
    for (const err of [
      new SlackCallError('x', { kind: 'http', status: 503 }),
      new SlackCallError('x', { kind: 'request', reason: 'ETIMEDOUT' }),
      platform('ratelimited'),
      platform('internal_error'),
    ]) {
      const e = classifySlackError('chat.postMessage', err);
      expect(e).toBeInstanceOf(RetryableError);
      expect((e as RetryableError).retryAfterMs).toBeUndefined();
    }
  });

  it('gives up on errors that retrying cannot fix, with the scope Slack asked for', () => {
    const e = classifySlackError('conversations.create', platform('missing_scope', 'groups:write'));
    expect(e).toBeInstanceOf(PermanentError);
    expect((e as PermanentError).code).toBe('missing_scope');
    expect(e.message).toBe('conversations.create: missing_scope (needs groups:write)');
    expect(classifySlackError('x', platform('restricted_action'))).toBeInstanceOf(PermanentError);
    expect(classifySlackError('x', new SlackCallError('x', { kind: 'http', status: 404 }))).toBeInstanceOf(
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

describe('the gateway over its own Web API client (slack/web-api.ts)', () => {
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

  it('encodes blocks and metadata as JSON fields of the form, and leaves out what is unset', async () => {
    const slack = await localSlack((_method, _body, res) =>
      json(res, 200, { ok: true, channel: 'C1', ts: '1.2' }),
    );
    try {
      const blocks = [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: '*a* & b' } }];
      await gateway(slack.apiUrl).postMessage({
        channel: 'C1',
        text: 'x',
        blocks,
        marker: { type: 'incident_card', id: 'i-1' },
      });
      const sent = new URLSearchParams(slack.calls[0]?.body);
      expect(JSON.parse(sent.get('blocks') ?? '')).toEqual(blocks);
      expect(JSON.parse(sent.get('metadata') ?? '')).toEqual({
        event_type: 'incident_card',
        event_payload: { id: 'i-1' },
      });
      expect(sent.get('unfurl_links')).toBe('false');
      expect(sent.has('thread_ts')).toBe(false);
    } finally {
      await slack.close();
    }
  });

  it('reads Slack’s needed scope, logs its warnings, and treats an answer that is not JSON as retryable', async () => {
    const slack = await localSlack((method, _body, res) => {
      if (method === 'conversations.create')
        json(res, 200, { ok: false, error: 'missing_scope', needed: 'groups:write', provided: 'chat:write' });
      else if (method === 'pins.add')
        json(res, 200, { ok: true, response_metadata: { warnings: ['superfluous_charset'] } });
      else if (method === 'chat.update') json(res, 429, { ok: false, error: 'ratelimited' });
      else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>gateway</html>');
      }
    });
    try {
      const log = captureLogger();
      const g = new SlackGateway({ token: 'xoxb-local-test', apiUrl: slack.apiUrl, logger: log.logger });
      const scope = await g.createChannel('inc-1', true).catch((e: unknown) => e);
      expect(scope).toBeInstanceOf(PermanentError);
      expect((scope as Error).message).toBe('conversations.create: missing_scope (needs groups:write)');
      await g.pin('C1', '1.2');
      expect(log.lines.some((l) => l.includes('superfluous_charset') && l.includes('pins.add'))).toBe(true);
      // A 429 without Retry-After (a proxy's) still waits a second.
      const limited = await g.updateMessage('C1', '1.2', { text: 'x', blocks: [] }).catch((e: unknown) => e);
      expect((limited as RetryableError).retryAfterMs).toBe(1000);
      const html = await g.setTopic('C1', 't').catch((e: unknown) => e);
      expect(html).toBeInstanceOf(RetryableError);
      expect((html as Error).message).toBe('conversations.setTopic: request failed (the answer is not JSON)');
      expect(log.lines.join('\n')).not.toContain('xoxb-local-test');
    } finally {
      await slack.close();
    }
  });

  it('treats a connection that closes mid-answer as a retryable failure', async () => {
    const slack = await localSlack((_method, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"ok":tr');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    try {
      const err = await gateway(slack.apiUrl)
        .pin('C1', '1.2')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetryableError);
      expect((err as Error).message).toMatch(/^pins\.add: request failed \(/);
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
      expect((err as Error).message).toBe('chat.postMessage: request failed (no answer within 300 ms)');
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(5000);
    } finally {
      await slack.close();
    }
  });
});
