import { describe, expect, it } from 'vitest';
import { bucketOf, formatSummary, summarizeProfile } from '../../bench/profile.js';

/** The bench's CPU-profile summary: the figures the performance notes are explained with. */

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

describe('bench CPU profile summary', () => {
  it('buckets frames by package, our code, node internals and V8 pseudo-frames', () => {
    expect(bucketOf(frame('build', 'file:///app/node_modules/drizzle-orm/sql/sql.js'))).toBe('drizzle-orm');
    expect(bucketOf(frame('post', 'file:///app/node_modules/@slack/web-api/dist/x.js'))).toBe(
      '@slack/web-api',
    );
    expect(bucketOf(frame('run', 'file:///app/dist/incidents/setup.js'))).toBe('our code');
    expect(bucketOf(frame('emit', 'node:events'))).toBe('node internals');
    expect(bucketOf(frame('(garbage collector)'))).toBe('(garbage collector)');
    expect(bucketOf(frame('JSON.stringify'))).toBe('native');
  });

  it('sums self time, leaves idle out of busy time and counts native code for its caller', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
        { id: 2, callFrame: frame('toSQL', 'file:///a/node_modules/drizzle-orm/x.js', 9), children: [3] },
        { id: 3, callFrame: frame('stringify') },
        { id: 4, callFrame: frame('(idle)') },
        { id: 5, callFrame: frame('handler', 'file:///a/dist/main.js') },
      ],
      // drizzle 2 ms, its native stringify 3 ms, idle 10 ms, our code 5 ms.
      samples: [2, 3, 4, 5],
      timeDeltas: [2000, 3000, 10000, 5000],
    };
    const s = summarizeProfile(profile);
    expect(s.totalMs).toBe(20);
    expect(s.busyMs).toBe(10);
    expect(s.buckets).toEqual([
      { bucket: 'drizzle-orm', ms: 5, share: 0.5 },
      { bucket: 'our code', ms: 5, share: 0.5 },
    ]);
    expect(s.functions).toEqual([
      { name: 'handler dist/main.js:1', ms: 5 },
      { name: 'stringify [drizzle-orm]', ms: 3 },
      { name: 'toSQL drizzle-orm/x.js:10', ms: 2 },
    ]);
    expect(formatSummary('declare', s, { n: 10, unit: 'incident' })).toContain(
      'busy 10 ms of 20 ms sampled (1.00 ms of CPU per incident)',
    );
  });
});
