/**
 * The words of on-call schedules. A leaf: it imports nothing from the project.
 *
 * A schedule is layers of rotations in one time zone; a later layer wins wherever it has someone on
 * call, and an override beats every layer for its time. Handoffs are wall-clock times in the zone.
 */

/** Day names as the config writes them, Monday first (ISO weekday = index + 1). */
export const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type DayName = (typeof DAY_NAMES)[number];

/** A tier target naming a schedule: whoever is on call when the tier fires. */
export const SCHEDULE_TARGET_PREFIX = 'schedule:';
export const SCHEDULE_NAME = /^[A-Za-z0-9_-]{1,40}$/;

/** The shortest and the longest turn a layer may have. */
export const MIN_TURN_MS = 60_000;
export const MAX_TURN_MS = 52 * 7 * 86_400_000;

/** How far ahead `/incident oncall` and the iCal feed look. */
export const NEXT_HANDOFFS_SHOWN = 3;
export const ICAL_WEEKS = 8;

/** The longest override a person can set (a quarter): longer is a change of the rotation, not a swap. */
export const OVERRIDE_MAX_MS = 92 * 24 * 3_600_000;

/**
 * A layer's restriction: the layer has someone on call only inside these daily windows. A window opens on
 * each listed day at `fromMinute` (minutes after local midnight) and closes at `toMinute` the same day,
 * or the next day when `toMinute` is earlier (a night shift).
 */
export interface Restriction {
  /** ISO weekdays, 1 (Monday) to 7 (Sunday). */
  days: number[];
  fromMinute: number;
  toMinute: number;
}

export interface Layer {
  /**
   * When the rotation starts, as a local wall-clock time: the milliseconds of that date and time read as
   * if it were UTC (2026-11-02 09:00 → Date.UTC(2026, 10, 2, 9, 0)). Turns are counted on the wall clock.
   */
  startLocal: number;
  turnMs: number;
  /** In rotation order. */
  users: string[];
  only?: Restriction;
}

export interface Schedule {
  name: string;
  /** An IANA time zone name. */
  timeZone: string;
  /** A Slack user group kept equal to whoever is on call. */
  usergroup?: string;
  /** Later layers win. */
  layers: Layer[];
}

/** Someone else on call for a while; a later override wins where two overlap. */
export interface Override {
  id: number;
  schedule: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  createdAt: Date;
}
