import { describe, expect, it } from 'vitest';
import { nextReminderAt } from '../../src/incidents/followups.js';

/** When a follow-up's owner hears of it: 09:00 in the business time zone, never by adding hours to UTC. */

const ZONE = 'Europe/Berlin';
const open = (dueOn: string) => ({ status: 'open' as const, dueOn, ownerId: 'U0BOB' });
const next = (dueOn: string, now: string, soonTold = false) =>
  nextReminderAt(open(dueOn), new Date(now), ZONE, soonTold)?.toISOString();

describe('follow-up reminders', () => {
  it('two days before the due date at 09:00, then each overdue morning', () => {
    expect(next('2026-12-10', '2026-12-01T09:00:00Z')).toBe('2026-12-08T08:00:00.000Z');
    expect(next('2026-12-10', '2026-12-08T08:00:00Z', true)).toBe('2026-12-11T08:00:00.000Z');
    expect(next('2026-12-10', '2026-12-12T09:00:00Z')).toBe('2026-12-13T08:00:00.000Z');
    expect(next('2026-12-10', '2026-12-12T07:00:00Z')).toBe('2026-12-12T08:00:00.000Z');
  });

  it('one added inside the window hears at the next 09:00 still before the due date is over', () => {
    expect(next('2026-12-03', '2026-12-02T09:00:00Z')).toBe('2026-12-03T08:00:00.000Z');
    expect(next('2026-12-03', '2026-12-02T06:00:00Z')).toBe('2026-12-02T08:00:00.000Z');
    // Added on the due date after 09:00: the first overdue morning.
    expect(next('2026-12-03', '2026-12-03T12:00:00Z')).toBe('2026-12-04T08:00:00.000Z');
  });

  it('keeps 09:00 local across a clock change', () => {
    // Berlin goes to summer time on 28 March 2027: 09:00 CEST is 07:00 UTC.
    expect(next('2027-03-30', '2027-03-20T09:00:00Z')).toBe('2027-03-28T07:00:00.000Z');
  });

  it('never for one done, dropped, undated or without an owner', () => {
    const now = new Date('2026-12-01T09:00:00Z');
    expect(nextReminderAt({ ...open('2026-12-10'), status: 'done' }, now, ZONE)).toBeUndefined();
    expect(nextReminderAt({ ...open('2026-12-10'), dueOn: null }, now, ZONE)).toBeUndefined();
    expect(nextReminderAt({ ...open('2026-12-10'), ownerId: null }, now, ZONE)).toBeUndefined();
  });
});
