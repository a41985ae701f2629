import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDuration } from '../../src/duration.js';

describe('durations', () => {
  it.each([
    ['0m', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2h30m', 9_000_000],
    ['3d', 259_200_000],
    ['1d2h3m4s', 93_784_000],
    [' 10m ', 600_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDurationMs(ms))).toBe(ms);
  });

  it.each(['', '5', '5 minutes', 'm', '5min', '30m2h', '1.5h', '-5m', '5m5m', 'soon'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it('writes durations back in their shortest form', () => {
    expect(formatDurationMs(9_000_000)).toBe('2h30m');
    expect(formatDurationMs(0)).toBe('0m');
  });
});
