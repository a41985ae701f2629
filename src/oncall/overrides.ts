import { eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { formatDurationMs } from '../duration.js';
import { UserError } from '../errors.js';
import { schedule as scheduleJob, scheduleOnce } from '../jobs/job.js';
import { escapeMrkdwn, truncate } from '../text.js';
import { handoffJob, oncallKeys, overrideDmJob } from './jobs.js';
import { OVERRIDE_MAX_MS, type Schedule } from './model.js';
import { lockSchedule, type OverrideRow, scheduleState } from './queries.js';
import { nextHandoff, onCallAt, shiftsBetween } from './schedule.js';
import { oncallOverrides } from './tables.js';

/**
 * Overrides: someone else on call for a while (a swap, a sick day). Anyone may set or remove one — teams
 * trade shifts among themselves — and each is announced to the person it puts on call and the person it
 * relieves, and kept (removal included) as the record. Setting or removing one re-plans the schedule's
 * handoff job, which tells whoever is on call when the change takes effect.
 */

export interface OncallDeps {
  db: Db;
  clock: Clock;
  config: IncidentConfig;
}

const DAY = 86_400_000;
/** The most shifts looked at to find whom an override relieves (1-minute turns over weeks). */
const MAX_RELIEVED = 500;

export function scheduleNamed(config: IncidentConfig, name: string): Schedule {
  const schedule = Object.hasOwn(config.schedules, name) ? config.schedules[name] : undefined;
  if (schedule) return schedule;
  const names = Object.keys(config.schedules);
  throw new UserError(
    'unknown_schedule',
    names.length === 0
      ? 'No on-call schedules are configured (`schedules:` in the config file).'
      : `There is no schedule called \`${escapeMrkdwn(truncate(name, 40))}\`. Schedules: ${names.map((n) => `\`${n}\``).join(', ')}.`,
  );
}

/** The schedule's handoff job, due now: it works out the next change of hands with the overrides as they are. */
const replanHandoffs = (tx: Tx, name: string, now: Date) =>
  scheduleJob(
    tx,
    handoffJob,
    { key: oncallKeys.handoff(name), dueAt: now, payload: { schedule: name } },
    now,
  );

/** DMs about an override: to the person it puts on call and to each person it relieves, once each. */
async function announce(
  tx: Tx,
  override: OverrideRow,
  change: 'set' | 'removed',
  to: { onCall: boolean; relieved: boolean },
  now: Date,
) {
  const relieved = to.relieved ? override.relievedUserIds.filter((u) => u !== override.userId) : [];
  const dms = [
    ...(to.onCall ? [{ audience: 'on_call' as const, userId: override.userId }] : []),
    ...relieved.map((userId) => ({ audience: 'relieved' as const, userId })),
  ];
  for (const dm of dms) {
    await scheduleOnce(
      tx,
      overrideDmJob,
      {
        key: oncallKeys.overrideDm(override.id, change, dm.userId),
        dueAt: now,
        payload: { overrideId: override.id, change, ...dm },
      },
      now,
    );
  }
}

export interface OverrideInput {
  schedule: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  actorId: string;
}

/** Puts someone on call for a schedule from `startsAt` (now, if earlier) to `endsAt`. */
export async function addOverride(deps: OncallDeps, input: OverrideInput): Promise<OverrideRow> {
  const schedule = scheduleNamed(deps.config, input.schedule);
  const now = deps.clock.now();
  const startsAt = new Date(Math.max(input.startsAt.getTime(), now.getTime()));
  if (input.endsAt <= now)
    throw new UserError('override_over', 'The override must end in the future.', 'end');
  if (input.endsAt <= startsAt)
    throw new UserError('override_order', 'The override must end after it starts.', 'end');
  if (input.endsAt.getTime() - startsAt.getTime() > OVERRIDE_MAX_MS)
    throw new UserError(
      'override_long',
      `An override lasts at most ${formatDurationMs(OVERRIDE_MAX_MS)}; for longer, change the rotation in the config file.`,
      'end',
    );
  if (startsAt.getTime() - now.getTime() > 365 * DAY)
    throw new UserError('override_far', 'An override starts within a year.', 'start');
  return deps.db.transaction(async (tx) => {
    await lockSchedule(tx, schedule.name);
    const { overrides } = await scheduleState(tx, schedule, now);
    // Whom it relieves: everyone with a shift inside it, as things stand.
    const relieved = [
      ...new Set(
        shiftsBetween(schedule, overrides, startsAt.getTime(), input.endsAt.getTime(), MAX_RELIEVED).flatMap(
          (s) => (s.userId && s.userId !== input.userId ? [s.userId] : []),
        ),
      ),
    ];
    const [row] = await tx
      .insert(oncallOverrides)
      .values({
        schedule: schedule.name,
        userId: input.userId,
        startsAt,
        endsAt: input.endsAt,
        createdBy: input.actorId,
        createdAt: now,
        relievedUserIds: relieved,
      })
      .returning();
    if (!row) throw new Error('the override was not stored');
    // Starting now, the handoff tells the person coming on call (with what is open); later, a DM now.
    await announce(tx, row, 'set', { onCall: startsAt > now, relieved: true }, now);
    await replanHandoffs(tx, schedule.name, now);
    return row;
  });
}

/** "Take the rest of this shift": the person asking is on call from now until the next change of hands. */
export async function takeRestOfShift(
  deps: OncallDeps,
  input: { schedule: string; actorId: string },
): Promise<OverrideRow> {
  const schedule = scheduleNamed(deps.config, input.schedule);
  const now = deps.clock.now();
  const { overrides } = await scheduleState(deps.db, schedule, now);
  if (onCallAt(schedule, overrides, now.getTime())?.userId === input.actorId)
    throw new UserError('already_on_call', `You are on call for ${schedule.name} already.`);
  const end = nextHandoff(schedule, overrides, now.getTime(), now.getTime() + OVERRIDE_MAX_MS);
  if (end === undefined)
    throw new UserError(
      'endless_shift',
      'This shift does not end within the longest override: set one with an end (`/incident oncall override`).',
    );
  return addOverride(deps, { ...input, userId: input.actorId, startsAt: now, endsAt: new Date(end) });
}

/** Removes an override (kept, marked removed, for the record). */
export async function removeOverride(
  deps: OncallDeps,
  input: { overrideId: number; actorId: string },
): Promise<OverrideRow> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(oncallOverrides)
      .where(eq(oncallOverrides.id, input.overrideId))
      .for('update');
    if (!row || row.removedAt) throw new UserError('not_found', 'That override was removed already.');
    if (row.endsAt <= now) throw new UserError('override_over', 'That override is over already.');
    await lockSchedule(tx, row.schedule);
    const [removed] = await tx
      .update(oncallOverrides)
      .set({ removedAt: now, removedBy: input.actorId })
      .where(eq(oncallOverrides.id, row.id))
      .returning();
    // Removed while in force: whoever takes over hears it from the handoff, so only a coming one is told here.
    await announce(tx, row, 'removed', { onCall: true, relieved: row.startsAt > now }, now);
    if (Object.hasOwn(deps.config.schedules, row.schedule)) await replanHandoffs(tx, row.schedule, now);
    return removed ?? row;
  });
}
