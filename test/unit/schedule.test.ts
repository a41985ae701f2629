import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { Layer, Override, Schedule } from '../../src/oncall/model.js';
import { instantOf, nextHandoff, onCallAt, shiftsBetween } from '../../src/oncall/schedule.js';

/** Fixed instants, written as local times of a zone, and handoffs read back the same way. */
const at = (zone: string, local: string) => DateTime.fromISO(local, { zone }).toMillis();
const local = (zone: string, t: number | undefined) =>
  t === undefined ? undefined : DateTime.fromMillis(t, { zone }).toISO({ suppressMilliseconds: true });
const startLocal = (text: string) => DateTime.fromISO(text, { zone: 'utc' }).toMillis();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const layer = (start: string, turnMs: number, users: string[], only?: Layer['only']): Layer => ({
  startLocal: startLocal(start),
  turnMs,
  users,
  ...(only ? { only } : {}),
});
const schedule = (timeZone: string, layers: Layer[]): Schedule => ({ name: 'primary', timeZone, layers });
const who = (s: Schedule, t: number, overrides: Override[] = []) => onCallAt(s, overrides, t)?.userId;
const override = (id: number, userId: string, from: number, to: number, createdAt = id): Override => ({
  id,
  schedule: 'primary',
  userId,
  startsAt: new Date(from),
  endsAt: new Date(to),
  createdBy: 'U0ADMIN',
  createdAt: new Date(createdAt),
});
/** Consecutive handoffs from t (local ISO times) and the shift lengths between them, in hours. */
const handoffs = (s: Schedule, fromLocal: string, n: number) => {
  const out: string[] = [];
  let t = at(s.timeZone, fromLocal);
  for (let i = 0; i < n; i++) {
    const next = nextHandoff(s, [], t, t + 60 * DAY);
    if (next === undefined) break;
    out.push(local(s.timeZone, next) as string);
    t = next;
  }
  return out;
};
const hoursBetween = (zone: string, a: string, b: string) => (at(zone, b) - at(zone, a)) / HOUR;

describe('who is on call', () => {
  const weekly = layer('2026-11-02T09:00', 7 * DAY, ['U0AAA', 'U0BBB', 'U0CCC']);
  const daytime = layer('2026-11-02T09:00', DAY, ['U0DDD', 'U0EEE'], {
    days: [1, 2, 3, 4, 5],
    fromMinute: 9 * 60,
    toMinute: 18 * 60,
  });
  const berlin = schedule('Europe/Berlin', [weekly, daytime]);
  const b = (text: string) => at('Europe/Berlin', text);

  it('counts turns from the start, and has nobody before it', () => {
    const s = schedule('Europe/Berlin', [weekly]);
    expect(who(s, b('2026-11-02T08:59'))).toBeUndefined();
    expect(who(s, b('2026-11-02T09:00'))).toBe('U0AAA');
    expect(who(s, b('2026-11-09T08:59'))).toBe('U0AAA');
    expect(who(s, b('2026-11-09T09:00'))).toBe('U0BBB');
    expect(who(s, b('2026-11-16T09:00'))).toBe('U0CCC');
    // users[floor((t − start) / turn) mod n]: the fourth week is the first person's again.
    expect(who(s, b('2026-11-23T09:00'))).toBe('U0AAA');
  });

  it('a later layer wins where it has someone; elsewhere the earlier layer shows through', () => {
    expect(onCallAt(berlin, [], b('2026-11-03T10:00'))).toEqual({
      userId: 'U0EEE',
      source: { kind: 'layer', layer: 1 },
    });
    expect(who(berlin, b('2026-11-03T18:00'))).toBe('U0AAA');
    expect(who(berlin, b('2026-11-03T08:59'))).toBe('U0AAA');
    // Saturday: the restriction has no window, the weekly layer is on.
    expect(who(berlin, b('2026-11-07T12:00'))).toBe('U0AAA');
  });

  it('a restriction clips shifts and does not pause the rotation', () => {
    // Friday U0DDD (turn 4), Saturday and Sunday are turns 5 and 6 though nobody is on, Monday turn 7.
    expect(who(berlin, b('2026-11-06T12:00'))).toBe('U0DDD');
    expect(who(berlin, b('2026-11-09T12:00'))).toBe('U0EEE');
  });

  it('a restriction across midnight opens on its day and closes the next morning', () => {
    const nights = schedule('Europe/Berlin', [
      layer('2026-11-02T00:00', 7 * DAY, ['U0NIGHT'], { days: [5], fromMinute: 22 * 60, toMinute: 6 * 60 }),
    ]);
    expect(who(nights, b('2026-11-06T21:59'))).toBeUndefined(); // Friday evening
    expect(who(nights, b('2026-11-06T22:00'))).toBe('U0NIGHT');
    expect(who(nights, b('2026-11-07T05:59'))).toBe('U0NIGHT'); // Saturday morning
    expect(who(nights, b('2026-11-07T06:00'))).toBeUndefined();
    expect(who(nights, b('2026-11-07T23:00'))).toBeUndefined(); // Saturday night: not a listed day
    expect(who(nights, b('2026-11-05T23:00'))).toBeUndefined(); // Thursday night
    expect(handoffs(nights, '2026-11-06T12:00', 2)).toEqual([
      '2026-11-06T22:00:00+01:00',
      '2026-11-07T06:00:00+01:00',
    ]);
  });

  it('an override beats every layer for its time; of two overlapping, the later one set wins', () => {
    const overrides = [
      override(1, 'U0OVER1', b('2026-11-03T08:00'), b('2026-11-03T20:00')),
      override(2, 'U0OVER2', b('2026-11-03T12:00'), b('2026-11-03T13:00')),
    ];
    expect(who(berlin, b('2026-11-03T07:59'), overrides)).toBe('U0AAA');
    expect(who(berlin, b('2026-11-03T10:00'), overrides)).toBe('U0OVER1');
    expect(who(berlin, b('2026-11-03T12:30'), overrides)).toBe('U0OVER2');
    expect(who(berlin, b('2026-11-03T13:00'), overrides)).toBe('U0OVER1');
    expect(who(berlin, b('2026-11-03T20:00'), overrides)).toBe('U0AAA');
    // An override before the rotation starts fills a gap too.
    const early = [override(3, 'U0EARLY', b('2026-11-01T00:00'), b('2026-11-02T12:00'))];
    expect(who(schedule('Europe/Berlin', [weekly]), b('2026-11-01T10:00'), early)).toBe('U0EARLY');
  });

  it('gaps: nobody on call where no layer and no override covers the time', () => {
    const office = schedule('Europe/Berlin', [daytime]);
    expect(who(office, b('2026-11-03T20:00'))).toBeUndefined();
    const shifts = shiftsBetween(office, [], b('2026-11-03T17:00'), b('2026-11-04T12:00'));
    expect(shifts.map((s) => [s.userId, local('Europe/Berlin', s.start)])).toEqual([
      ['U0EEE', '2026-11-03T17:00:00+01:00'],
      [undefined, '2026-11-03T18:00:00+01:00'],
      ['U0DDD', '2026-11-04T09:00:00+01:00'],
    ]);
  });

  it('merges handoffs to the same person: a change of layer is not a change of who', () => {
    const same = schedule('Europe/Berlin', [
      layer('2026-11-02T09:00', DAY, ['U0AAA']),
      layer('2026-11-02T09:00', DAY, ['U0AAA'], { days: [1], fromMinute: 9 * 60, toMinute: 18 * 60 }),
    ]);
    expect(nextHandoff(same, [], b('2026-11-02T10:00'), b('2026-12-02T10:00'))).toBeUndefined();
  });
});

describe('daylight saving and skipped days', () => {
  it('Europe/London: a daily 09:00 handoff stays at 09:00; the shift across the switch is 23 or 25 hours', () => {
    const s = schedule('Europe/London', [layer('2027-03-22T09:00', DAY, ['U0AAA', 'U0BBB'])]);
    expect(handoffs(s, '2027-03-27T10:00', 2)).toEqual([
      '2027-03-28T09:00:00+01:00',
      '2027-03-29T09:00:00+01:00',
    ]);
    expect(hoursBetween('Europe/London', '2027-03-27T09:00', '2027-03-28T09:00')).toBe(23);
    expect(handoffs(s, '2027-10-30T10:00', 1)).toEqual(['2027-10-31T09:00:00+00:00']);
    expect(hoursBetween('Europe/London', '2027-10-30T09:00', '2027-10-31T09:00')).toBe(25);
    expect(who(s, at('Europe/London', '2027-03-28T08:30'))).toBe(
      who(s, at('Europe/London', '2027-03-27T12:00')),
    );
  });

  it('America/New_York: a 12-hour turn hands over at 09:00 and 21:00 local on both sides of the switch', () => {
    const s = schedule('America/New_York', [layer('2027-03-13T09:00', 12 * HOUR, ['U0AAA', 'U0BBB'])]);
    expect(handoffs(s, '2027-03-13T10:00', 3)).toEqual([
      '2027-03-13T21:00:00-05:00',
      '2027-03-14T09:00:00-04:00',
      '2027-03-14T21:00:00-04:00',
    ]);
    expect(hoursBetween('America/New_York', '2027-03-13T21:00', '2027-03-14T09:00')).toBe(11);
  });

  it('America/New_York: a time the clock goes back over means its first occurrence', () => {
    // 90-minute turns from midnight: 01:30 happens twice on 7 Nov 2027 (EDT, then EST).
    const s = schedule('America/New_York', [layer('2027-11-07T00:00', 90 * 60_000, ['U0AAA', 'U0BBB'])]);
    const first = at('America/New_York', '2027-11-07T00:00');
    const h1 = nextHandoff(s, [], first, first + DAY) as number;
    const h2 = nextHandoff(s, [], h1, first + DAY) as number;
    expect(new Date(h1).toISOString()).toBe('2027-11-07T05:30:00.000Z'); // 01:30 EDT
    expect(new Date(h2).toISOString()).toBe('2027-11-07T08:00:00.000Z'); // 03:00 EST: 2.5 hours later
  });

  it('Australia/Lord_Howe: 30-minute switches make 24.5- and 23.5-hour daily shifts', () => {
    const zone = 'Australia/Lord_Howe';
    const s = schedule(zone, [layer('2027-03-29T09:00', DAY, ['U0AAA', 'U0BBB'])]);
    expect(handoffs(s, '2027-04-03T10:00', 1)).toEqual(['2027-04-04T09:00:00+10:30']);
    expect(hoursBetween(zone, '2027-04-03T09:00', '2027-04-04T09:00')).toBe(24.5);
    expect(handoffs(s, '2027-10-02T10:00', 1)).toEqual(['2027-10-03T09:00:00+11:00']);
    expect(hoursBetween(zone, '2027-10-02T09:00', '2027-10-03T09:00')).toBe(23.5);
    // 02:15 on 3 October 2027 never happens there (02:00 → 02:30): a handoff then is the jump itself.
    expect(new Date(instantOf(zone, startLocal('2027-10-03T02:15'))).toISOString()).toBe(
      '2027-10-02T15:30:00.000Z',
    );
  });

  it('Pacific/Apia: on the skipped 30 December 2011 the rotation still moves one person on', () => {
    const zone = 'Pacific/Apia';
    const s = schedule(zone, [layer('2011-12-26T09:00', DAY, ['U0AAA', 'U0BBB', 'U0CCC'])]);
    expect(who(s, at(zone, '2011-12-29T12:00'))).toBe('U0AAA'); // turn 3
    // The 09:00 handoff of the day that never was happens when the clock jumps, at midnight into the 31st.
    expect(handoffs(s, '2011-12-29T12:00', 2)).toEqual([
      '2011-12-31T00:00:00+14:00',
      '2011-12-31T09:00:00+14:00',
    ]);
    expect(who(s, at(zone, '2011-12-31T08:00'))).toBe('U0BBB'); // turn 4, nine hours long
    expect(who(s, at(zone, '2011-12-31T10:00'))).toBe('U0CCC');
  });

  it('a restriction on a switch day: its window is as long as the wall clock says', () => {
    const zone = 'Europe/London';
    const s = schedule(zone, [
      layer('2027-03-01T00:00', 7 * DAY, ['U0AAA'], { days: [7], fromMinute: 30, toMinute: 150 }),
    ]);
    // 00:30 to 02:30 on Sunday 28 March 2027, when 01:00–02:00 does not exist: one hour on call.
    const [shift] = shiftsBetween(s, [], at(zone, '2027-03-28T00:30'), at(zone, '2027-03-28T12:00'));
    expect(shift?.userId).toBe('U0AAA');
    expect(((shift?.end as number) - (shift?.start as number)) / HOUR).toBe(1);
  });
});
