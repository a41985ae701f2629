import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { IncidentConfig } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { ICAL_WEEKS, NEXT_HANDOFFS_SHOWN, type Override, type Schedule } from './model.js';
import { type OnCall, onCallAt, type Shift, shiftsBetween } from './schedule.js';
import { oncallOverrides } from './tables.js';

/** Reading on-call: who is on call, the shifts ahead, the overrides (others read on-call through these). */

const DAY = 86_400_000;
/** How far `until` looks: a schedule that never changes hands says "until further notice". */
const HORIZON_MS = 400 * DAY;

export type OverrideRow = typeof oncallOverrides.$inferSelect;

const toOverride = (r: OverrideRow): Override => ({
  id: r.id,
  schedule: r.schedule,
  userId: r.userId,
  startsAt: r.startsAt,
  endsAt: r.endsAt,
  createdBy: r.createdBy,
  createdAt: r.createdAt,
});

/** Overrides of one schedule (all, when none is named) not yet over at `now` and not removed. */
export async function overridesFrom(db: Db | Tx, now: Date, schedule?: string): Promise<OverrideRow[]> {
  return db
    .select()
    .from(oncallOverrides)
    .where(
      and(
        isNull(oncallOverrides.removedAt),
        gt(oncallOverrides.endsAt, now),
        schedule === undefined ? undefined : eq(oncallOverrides.schedule, schedule),
      ),
    )
    .orderBy(asc(oncallOverrides.startsAt), asc(oncallOverrides.id));
}

export async function findOverride(db: Db | Tx, id: number): Promise<OverrideRow | undefined> {
  const [row] = await db.select().from(oncallOverrides).where(eq(oncallOverrides.id, id));
  return row;
}

/**
 * Serialises what reads a schedule's overrides and then plans its handoff (the handoff job, setting and
 * removing an override): without it, a handoff job that read the overrides just before a new one
 * committed would re-arm itself for the old next handoff over the new override's re-plan.
 */
export async function lockSchedule(tx: Tx, name: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`oncall:${name}`}))`);
}

/** A schedule with the overrides that matter from `now` on. */
export async function scheduleState(
  db: Db | Tx,
  schedule: Schedule,
  now: Date,
): Promise<{ schedule: Schedule; overrides: Override[] }> {
  return { schedule, overrides: (await overridesFrom(db, now, schedule.name)).map(toOverride) };
}

/** Who is on call for the schedule now, if anyone (a tier's `schedule:<name>` resolves through this). */
export async function whoIsOnCall(
  db: Db | Tx,
  config: IncidentConfig,
  name: string,
  now: Date,
): Promise<OnCall | undefined> {
  const schedule = Object.hasOwn(config.schedules, name) ? config.schedules[name] : undefined;
  if (!schedule) return undefined;
  const state = await scheduleState(db, schedule, now);
  return onCallAt(schedule, state.overrides, now.getTime());
}

export interface OnCallSummary {
  schedule: Schedule;
  /** Now: who (if anyone), why, and until when (undefined: no change within a year). */
  current: Shift;
  /** The next handoffs, who takes over at each. */
  next: Shift[];
}

/** `/incident oncall`: for each schedule (or the one named), who is on call now and the next handoffs. */
export async function onCallSummaries(
  db: Db,
  config: IncidentConfig,
  now: Date,
  only?: string,
): Promise<OnCallSummary[]> {
  const schedules = Object.values(config.schedules).filter((s) => only === undefined || s.name === only);
  const t = now.getTime();
  return Promise.all(
    schedules.map(async (schedule) => {
      const { overrides } = await scheduleState(db, schedule, now);
      const shifts = shiftsBetween(schedule, overrides, t, t + HORIZON_MS, NEXT_HANDOFFS_SHOWN + 1);
      const [current, ...next] = shifts as [Shift, ...Shift[]];
      return { schedule, current, next };
    }),
  );
}

/** How many shifts one calendar feed holds at most (1-minute turns would make tens of thousands). */
export const CALENDAR_SHIFTS_MAX = 2000;

/**
 * The shifts of the next weeks, for the iCal feed (one person's, with `userId`). The shift in progress
 * keeps its real start, so its calendar entry keeps its id from fetch to fetch: it is looked for a week
 * back, then further (5 weeks, 400 days) while it began before the look did.
 */
export async function calendarShifts(
  db: Db,
  schedule: Schedule,
  now: Date,
  userId?: string,
): Promise<{ userId: string; start: Date; end: Date }[]> {
  const t = now.getTime();
  const horizon = t + ICAL_WEEKS * 7 * DAY;
  const { overrides } = await scheduleState(db, schedule, now);
  const shifts = shiftsBetween(schedule, overrides, t, horizon, CALENDAR_SHIFTS_MAX);
  const current = shifts[0];
  for (const back of [7, 35, 400]) {
    if (!current) break;
    const from = t - back * DAY;
    const earlier = (await overridesFrom(db, new Date(from), schedule.name)).map(toOverride);
    const behind = shiftsBetween(schedule, earlier, from, t + 1, CALENDAR_SHIFTS_MAX).at(-1);
    // A walk that ran out of shifts before reaching now cannot say; one that began inside it, look further.
    if (!behind || (behind.end !== undefined && behind.end <= t)) break;
    if (behind.start > from) {
      current.start = behind.start;
      break;
    }
  }
  return shifts.flatMap((s) =>
    s.userId !== undefined && (userId === undefined || s.userId === userId)
      ? [{ userId: s.userId, start: new Date(s.start), end: new Date(s.end ?? horizon) }]
      : [],
  );
}
