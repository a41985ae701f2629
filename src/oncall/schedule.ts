import { DateTime, IANAZone } from 'luxon';
import type { Layer, Override, Restriction, Schedule } from './model.js';

/**
 * Who is on call, computed: pure functions of a schedule, its overrides and an instant (milliseconds).
 *
 * Turns and restrictions are counted on the schedule's wall clock, never by adding hours to UTC: a
 * layer's k-th handoff is its start plus k turns *as local date and time*, then placed in the zone with
 * Luxon (IANA data from the platform's Intl). So a daily 09:00 handoff stays at 09:00 across a daylight
 * saving change, and the shift across the switch is 23 or 25 hours long. A local time that happens twice
 * (the clock goes back) means the first of the two; one that never happens (the clock jumps forward, or
 * a day is skipped, as Samoa skipped 30 December 2011) means the instant of the jump.
 *
 * Who is on call at t: an override covering t (the latest created wins); else, from the last layer to
 * the first, the first layer whose restriction (if any) contains t: users[turn index mod n]; else nobody.
 * A restriction clips shifts; it does not pause the rotation.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

const zoneOf = (name: string) => IANAZone.create(name);

/** The zone's wall clock at an instant, as that local date and time read as UTC milliseconds. */
export function wallClock(zone: string, t: number): number {
  return t + zoneOf(zone).offset(t) * MINUTE;
}

/** The instant a local date and time (read-as-UTC milliseconds) happens in the zone; see above. */
export function instantOf(zone: string, local: number): number {
  const d = new Date(local);
  const resolved = DateTime.fromObject(
    {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      millisecond: d.getUTCMilliseconds(),
    },
    { zone },
  ).toMillis();
  if (wallClock(zone, resolved) === local) {
    // Luxon takes the later of two; the offset of the day before finds the earlier, if there is one.
    const earlier = local - zoneOf(zone).offset(resolved - DAY) * MINUTE;
    return earlier < resolved && wallClock(zone, earlier) === local ? earlier : resolved;
  }
  // Skipped: Luxon moved it forward by the gap. The jump is between the time read with the new offset
  // (still before it) and Luxon's answer (after it).
  const after = zoneOf(zone).offset(resolved);
  let lo = local - after * MINUTE;
  let hi = resolved;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zoneOf(zone).offset(mid) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** ISO weekday (1 Monday … 7 Sunday) of a local date (read-as-UTC milliseconds). */
const weekdayOf = (local: number) => ((new Date(local).getUTCDay() + 6) % 7) + 1;
const midnightOf = (local: number) => Math.floor(local / DAY) * DAY;

/** A layer's k-th handoff (k = 0 is its start). */
export function handoffAt(zone: string, layer: Layer, k: number): number {
  return instantOf(zone, layer.startLocal + k * layer.turnMs);
}

/** The turn a layer is in at t (its index since the start), or -1 before the start. */
export function turnIndex(zone: string, layer: Layer, t: number): number {
  if (t < handoffAt(zone, layer, 0)) return -1;
  let k = Math.max(0, Math.floor((wallClock(zone, t) - layer.startLocal) / layer.turnMs));
  // The wall clock is not monotonic around a switch: step to the turn that really contains t.
  while (k > 0 && handoffAt(zone, layer, k) > t) k--;
  while (handoffAt(zone, layer, k + 1) <= t) k++;
  return k;
}

/** The restriction's windows opening on the local days around t, as instants [start, end). */
function windowsAround(zone: string, only: Restriction, t: number, daysBefore: number, daysAfter: number) {
  const today = midnightOf(wallClock(zone, t));
  const windows: [number, number][] = [];
  for (let d = -daysBefore; d <= daysAfter; d++) {
    const day = today + d * DAY;
    if (!only.days.includes(weekdayOf(day))) continue;
    const closes = only.toMinute > only.fromMinute ? only.toMinute : only.toMinute + 24 * 60;
    windows.push([instantOf(zone, day + only.fromMinute * MINUTE), instantOf(zone, day + closes * MINUTE)]);
  }
  return windows;
}

function restrictionContains(zone: string, only: Restriction | undefined, t: number): boolean {
  if (!only) return true;
  return windowsAround(zone, only, t, 1, 0).some(([start, end]) => start <= t && t < end);
}

/** Who a layer has on call at t, if anyone. */
export function layerOnCall(zone: string, layer: Layer, t: number): string | undefined {
  if (layer.users.length === 0 || !restrictionContains(zone, layer.only, t)) return undefined;
  const k = turnIndex(zone, layer, t);
  return k < 0 ? undefined : layer.users[k % layer.users.length];
}

export type OnCallSource = { kind: 'override'; override: Override } | { kind: 'layer'; layer: number };

export interface OnCall {
  userId: string;
  source: OnCallSource;
}

/** The override in force at t: of those covering it, the latest created. */
function overrideAt(overrides: Override[], t: number): Override | undefined {
  let found: Override | undefined;
  for (const o of overrides) {
    if (o.startsAt.getTime() <= t && t < o.endsAt.getTime()) {
      const [a, b] = [o.createdAt.getTime(), found?.createdAt.getTime() ?? 0];
      if (!found || a > b || (a === b && o.id > found.id)) found = o;
    }
  }
  return found;
}

/** Who is on call at t, and why; undefined when nobody is. */
export function onCallAt(schedule: Schedule, overrides: Override[], t: number): OnCall | undefined {
  const override = overrideAt(overrides, t);
  if (override) return { userId: override.userId, source: { kind: 'override', override } };
  for (let i = schedule.layers.length - 1; i >= 0; i--) {
    const user = layerOnCall(schedule.timeZone, schedule.layers[i] as Layer, t);
    if (user) return { userId: user, source: { kind: 'layer', layer: i } };
  }
  return undefined;
}

/** A layer's next handoff after turn k to someone else (a rotation like [A, A, B] hands A on once). */
function nextTurnChange(zone: string, layer: Layer, k: number): number | undefined {
  const n = layer.users.length;
  if (k < 0) return handoffAt(zone, layer, 0);
  const who = layer.users[k % n];
  for (let step = 1; step <= n; step++) {
    if (layer.users[(k + step) % n] !== who) return handoffAt(zone, layer, k + step);
  }
  return undefined; // everyone in the rotation is the same person
}

/** The first edge of a restriction's windows after t: the days are walked forward, not all built. */
function nextWindowEdge(zone: string, only: Restriction, t: number): number | undefined {
  const today = midnightOf(wallClock(zone, t));
  const closes = only.toMinute > only.fromMinute ? only.toMinute : only.toMinute + 24 * 60;
  // Windows never overlap (each is under 24 hours and opens at the same time of day), so edges grow
  // with the day they belong to: the first day with an edge after t has the next one.
  for (let d = -1; d <= 8; d++) {
    const day = today + d * DAY;
    if (!only.days.includes(weekdayOf(day))) continue;
    const start = instantOf(zone, day + only.fromMinute * MINUTE);
    if (start > t) return start;
    const end = instantOf(zone, day + closes * MINUTE);
    if (end > t) return end;
  }
  return undefined;
}

/** The first instant after t at which some layer or override could change hands. */
function nextEdge(schedule: Schedule, overrides: Override[], t: number): number {
  const zone = schedule.timeZone;
  let next = Number.POSITIVE_INFINITY;
  const consider = (c: number | undefined) => {
    if (c !== undefined && c > t && c < next) next = c;
  };
  for (const layer of schedule.layers) {
    consider(nextTurnChange(zone, layer, turnIndex(zone, layer, t)));
    if (layer.only) consider(nextWindowEdge(zone, layer.only, t));
  }
  for (const o of overrides) {
    consider(o.startsAt.getTime());
    consider(o.endsAt.getTime());
  }
  return next;
}

/** A stretch of time with one person (or nobody) on call. */
export interface Shift {
  userId: string | undefined;
  source: OnCallSource | undefined;
  start: number;
  /** When the next person takes over; undefined when nothing changes before the horizon. */
  end: number | undefined;
}

/** How many edges a walk may look at: bounds the work for tiny turns over long horizons. */
const MAX_EDGES = 20_000;

/**
 * The instant after t when who is on call changes, before `horizon`; undefined if it does not. A walk
 * that looks at MAX_EDGES edges without a change stops there and answers the last one: a time to look
 * again (a job re-arming on it finds nobody new and re-arms), never a silent "no change".
 */
export function nextHandoff(
  schedule: Schedule,
  overrides: Override[],
  t: number,
  horizon: number,
): number | undefined {
  const who = onCallAt(schedule, overrides, t)?.userId;
  let at = t;
  for (let n = 0; n < MAX_EDGES; n++) {
    at = nextEdge(schedule, overrides, at);
    if (!(at < horizon)) return undefined;
    if (onCallAt(schedule, overrides, at)?.userId !== who) return at;
  }
  return at;
}

/** The shifts from t (the one in progress first) until `horizon`, at most `limit` of them. */
export function shiftsBetween(
  schedule: Schedule,
  overrides: Override[],
  t: number,
  horizon: number,
  limit = Number.POSITIVE_INFINITY,
): Shift[] {
  const shifts: Shift[] = [];
  let at = t;
  while (at < horizon && shifts.length < limit) {
    const now = onCallAt(schedule, overrides, at);
    const end = nextHandoff(schedule, overrides, at, horizon);
    shifts.push({ userId: now?.userId, source: now?.source, start: at, end });
    if (end === undefined) break;
    at = end;
  }
  return shifts;
}
