import { ErrorCode } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/errors.js';
import { classifySlackError } from '../../src/slack/gateway.js';

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
