import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { timelineEvents } from '../../src/db/schema.js';
import { declareIncident } from '../../src/incidents/declare.js';
import { changeSeverity, reopenIncident, resolveIncident } from '../../src/incidents/lifecycle.js';
import { addNote } from '../../src/incidents/notes.js';
import { assignRole } from '../../src/incidents/roles.js';
import { addTask, assignTask, completeTask } from '../../src/incidents/tasks.js';
import { postStatusUpdate } from '../../src/incidents/updates.js';
import { timers } from '../../src/jobs/table.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { incidentDeps } from '../helpers/deps.js';

const testDb = useTestDatabase();
const clock = new FakeClock();

describe('the timeline', () => {
  it('holds one event for each state change made through the services, in order, with who and when', async () => {
    const deps = incidentDeps(testDb().database.db, clock);
    const { incidentId } = await declareIncident(deps, {
      teamId: 'T1',
      reporterId: 'U0REP',
      declareKey: 'v1',
      sourceChannelId: undefined,
      title: 'Timeline',
      severity: 'SEV3',
      summary: '',
      commanderId: 'U0CMD',
      isPrivate: false,
      isTest: false,
    });
    const base = { incidentId, actorId: 'U0CMD' };
    const steps: [string, () => Promise<unknown>][] = [
      ['role_assigned', () => assignRole(deps, { ...base, role: 'deputy', userId: 'U0DEP' })],
      ['severity_changed', () => changeSeverity(deps, { ...base, severity: 'sev1' })],
      ['status_update', () => postStatusUpdate(deps, { ...base, message: 'looking' })],
      [
        'status_changed+status_update',
        () => postStatusUpdate(deps, { ...base, message: 'found it', status: 'identified' }),
      ],
      ['task_added', () => addTask(deps, { ...base, text: 'roll back', minutes: 10 })],
      ['task_assigned', () => assignTask(deps, { ...base, number: 1, assigneeId: 'U0BOB' })],
      ['task_completed', () => completeTask(deps, { ...base, number: 1 })],
      ['note', () => addNote(deps, { ...base, text: 'all good' })],
      ['resolved', () => resolveIncident(deps, { ...base, summary: 'rolled back' })],
      ['reopened', () => reopenIncident(deps, { ...base, actorId: 'U0DEP' })],
    ];
    const expected = ['declared', 'role_assigned'];
    for (const [kinds, run] of steps) {
      clock.advance(60_000);
      await run();
      expected.push(...kinds.split('+'));
    }
    const events = await testDb()
      .database.db.select()
      .from(timelineEvents)
      .where(eq(timelineEvents.incidentId, incidentId))
      .orderBy(asc(timelineEvents.id));
    expect(events.map((e) => e.kind)).toEqual(expected);
    expect(events.every((e) => e.actorId)).toBe(true);
    const times = events.map((e) => e.occurredAt.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(events.find((e) => e.kind === 'resolved')?.data).toMatchObject({
      from: 'identified',
      to: 'resolved',
      summary: 'rolled back',
    });

    // A refused change writes nothing.
    const before = events.length;
    await expect(changeSeverity(deps, { ...base, actorId: 'U0NOBODY', severity: 'SEV2' })).rejects.toThrow(
      /Only the commander/,
    );
    const after = await testDb()
      .database.db.select()
      .from(timelineEvents)
      .where(eq(timelineEvents.incidentId, incidentId));
    expect(after).toHaveLength(before);

    // Every change left one card refresh planned, not one per change.
    const refresh = await testDb()
      .database.db.select()
      .from(timers)
      .where(eq(timers.kind, 'incident.refresh'));
    expect(refresh).toHaveLength(1);
  });
});
