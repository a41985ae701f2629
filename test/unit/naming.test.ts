import { describe, expect, it } from 'vitest';
import { channelName, MAX_CHANNEL_NAME, slugify } from '../../src/incidents/naming.js';

const VALID = /^[a-z0-9_-]{1,80}$/;

describe('channel naming', () => {
  it('lowercases and joins words with dashes', () => {
    expect(channelName('inc', 12, 'Checkout API: 500s for EU!')).toBe('inc-12-checkout-api-500s-for-eu');
  });

  it('folds accents and letters without decomposition to ASCII', () => {
    expect(slugify('Café Crème brûlée')).toBe('cafe-creme-brulee');
    expect(slugify('Straße Øresund Łódź æther')).toBe('strasse-oresund-lodz-aether');
  });

  it('gives a valid name for a title of only emoji or symbols', () => {
    expect(channelName('inc', 3, '🔥🔥🔥')).toBe('inc-3');
    expect(channelName('inc', 3, '!!! ??? ***')).toBe('inc-3');
    expect(channelName('inc', 3, '数据库宕机')).toBe('inc-3');
  });

  it('keeps a 200-character title within 80 characters, without a trailing dash', () => {
    const name = channelName('incident', 123456, 'database replica lag '.repeat(10));
    expect(name.length).toBeLessThanOrEqual(MAX_CHANNEL_NAME);
    expect(name).toMatch(VALID);
    expect(name.endsWith('-')).toBe(false);
    expect(name.startsWith('incident-123456-database-replica-lag')).toBe(true);
  });

  it('adds a collision suffix and still fits', () => {
    expect(channelName('inc', 1, 'db down', 2)).toBe('inc-1-db-down-2');
    const long = channelName('inc', 99, 'x'.repeat(200), 10);
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long.endsWith('-10')).toBe(true);
    expect(channelName('inc', 1, '🔥', 3)).toBe('inc-1-3');
  });

  it('always produces a valid Slack channel name', () => {
    const titles = [
      '',
      ' ',
      '-',
      '__',
      'a'.repeat(300),
      'Ünïcödé ✓ ☃',
      'tab\tnew\nline',
      'UPPER lower 123',
      '<!channel>',
    ];
    for (const title of titles) {
      for (const attempt of [1, 2, 11]) {
        expect(channelName('inc', 7, title, attempt)).toMatch(VALID);
      }
    }
  });
});
