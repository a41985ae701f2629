import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitForEarlierTiers } from '../../src/escalation/pages.js';
import { type JobContext, type JobKey, jobKey, jobType, schedule } from '../../src/jobs/job.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';

/**
 * A tier waiting for an earlier one, without the lock the earlier one pages under: what it asks the engine
 * for when the earlier tier is still to page, and when it paged between the look and the asking.
 */
const testDb = useTestDatabase();
const clock = new FakeClock();
const step = jobType('test.step', z.object({}));

async function earlierTierPending(): Promise<JobKey> {
  const key = jobKey('group', 1, 'escalation', 0);
  await schedule(testDb().database.db, step, { key, dueAt: clock.now(), payload: {} }, clock.now());
  return key;
}

function recordingContext() {
  const asked: { at: Date; after?: JobKey }[] = [];
  const ctx: Pick<JobContext, 'runAgain'> = {
    runAgain: async (at, options) => {
      asked.push({ at, ...(options?.after ? { after: options.after } : {}) });
    },
  };
  return { ctx, asked };
}

describe('waitForEarlierTiers', () => {
  it('waits for the earlier tier while it is still the one before', async () => {
    const tier1 = await earlierTierPending();
    const { ctx, asked } = recordingContext();
    const waits = await waitForEarlierTiers(testDb().database.db, ctx, [tier1], clock.now(), async () => [
      tier1,
    ]);
    expect(waits).toBe(true);
    expect(asked).toEqual([{ at: clock.now(), after: tier1 }]);
  });

  it('runs again at once when the earlier tier paged between the look and the asking', async () => {
    const tier1 = await earlierTierPending();
    const { ctx, asked } = recordingContext();
    // The record read after asking: no step is before this one any more (tier 1 paged, waking nobody).
    const waits = await waitForEarlierTiers(testDb().database.db, ctx, [tier1], clock.now(), async () => []);
    expect(waits).toBe(true);
    expect(asked).toEqual([{ at: clock.now(), after: tier1 }, { at: clock.now() }]);
  });

  it('does not wait when no earlier tier is pending', async () => {
    const { ctx, asked } = recordingContext();
    const waits = await waitForEarlierTiers(
      testDb().database.db,
      ctx,
      [jobKey('group', 1, 'escalation', 0)],
      clock.now(),
      async () => [],
    );
    expect(waits).toBe(false);
    expect(asked).toEqual([]);
  });
});
