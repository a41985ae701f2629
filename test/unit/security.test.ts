import { verifySlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

describe('request signing', () => {
  it('verifies the signing example from SLACK.md', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const request = {
      signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
      body,
      headers: {
        'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
        'x-slack-request-timestamp': 1531420618,
      },
      nowMilliseconds: 1531420618 * 1000,
    };
    expect(() => verifySlackRequest(request)).not.toThrow();
    expect(() => verifySlackRequest({ ...request, body: `${body}x` })).toThrow();
    expect(() => verifySlackRequest({ ...request, nowMilliseconds: (1531420618 + 6 * 60) * 1000 })).toThrow();
  });
});

describe('log redaction', () => {
  it('never writes tokens or the signing secret', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      secrets: ['my-signing-secret-123'],
      sink: (l) => lines.push(l),
    });
    logger.info('token xoxb-1234-5678-abcdef and xapp-1-A1-xyz');
    logger.warn('header\nxoxb-2345-6789-bcdefa\tand\txapp-2-B2-abc');
    logger.error(new Error('failed with secret my-signing-secret-123'));
    logger.child({ component: 'web-api' }).debug({ headers: { authorization: 'Bearer xoxb-999-888-zzz' } });
    const out = lines.join('\n');
    expect(out).not.toMatch(/xoxb-|xapp-|my-signing-secret-123/);
    const [tokens, escaped, error, headers] = lines.map((l) => JSON.parse(l));
    expect(tokens.msg).toBe('token [redacted] and [redacted]');
    // After a newline or a tab, which JSON writes as \n and \t, a token is still a token.
    expect(escaped.msg).toBe('header\n[redacted]\tand\t[redacted]');
    // The error stays structured (pino's err serializer); the secret is gone from its message and its stack.
    expect(error.err.type).toBe('Error');
    expect(error.err.message).toBe('failed with secret [redacted]');
    expect(error.err.stack).toMatch(/^Error: failed with secret \[redacted\]\n/);
    expect(headers).toMatchObject({ component: 'web-api', headers: { authorization: '[redacted]' } });
  });

  it('respects the level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', sink: (l) => lines.push(l) });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['loud']);
  });
});
