import { IANAZone } from 'luxon';
import { z } from 'zod';
import { DAY_NAMES, MAX_TURN_MS, MIN_TURN_MS, SCHEDULE_NAME, type Schedule } from '../oncall/model.js';
import { duration, userId } from './atoms.js';

/**
 * The `schedules:` section of the config file: on-call rotations as PagerDuty models them (layers, turns,
 * restrictions), each in its own time zone. Overrides are not config: people set them from Slack.
 */

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/;
const TIME_OF_DAY = /^(\d{2}):(\d{2})$/;

/** "2026-11-02 09:00" as that wall-clock time read as UTC milliseconds; undefined if no such date. */
function parseLocalDateTime(text: string): number | undefined {
  const m = LOCAL_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, min] = m.slice(1).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, min);
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 over into March: a date that does not exist comes back different.
  const exists = y >= 1970 && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && min < 60;
  return exists ? ms : undefined;
}

const timeOfDay = z.string({ error: 'must be a time of day such as "09:00"' }).transform((v, ctx) => {
  const m = TIME_OF_DAY.exec(v);
  const [h, min] = m ? [Number(m[1]), Number(m[2])] : [99, 99];
  if (h > 23 || min > 59) {
    ctx.addIssue({ code: 'custom', message: 'must be a time of day such as "09:00" (00:00 to 23:59)' });
    return z.NEVER;
  }
  return h * 60 + min;
});

const layerSchema = z.strictObject({
  start: z
    .string({ error: 'must be a local date and time such as "2026-11-02 09:00"' })
    .transform((v, ctx) => {
      const ms = parseLocalDateTime(v);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a local date and time such as "2026-11-02 09:00" (1970 or later)',
        });
        return z.NEVER;
      }
      return ms;
    }),
  turn: duration
    .refine((ms) => ms >= MIN_TURN_MS, 'must be at least 1m')
    .refine((ms) => ms <= MAX_TURN_MS, 'must be at most 52w'),
  users: z.array(userId).min(1, 'must name at least one person'),
  only: z
    .strictObject({
      days: z
        .array(z.enum(DAY_NAMES, { error: `must be one of ${DAY_NAMES.join(', ')}` }))
        .min(1, 'must name at least one day')
        .default([...DAY_NAMES]),
      from: timeOfDay,
      to: timeOfDay,
    })
    .refine((o) => o.from !== o.to, {
      path: ['to'],
      message: 'must differ from `from` (a window of no time)',
    })
    .optional(),
});

export const schedulesSchema = z.record(
  z.string().regex(SCHEDULE_NAME, 'must be a name of letters, digits, - or _'),
  z.strictObject({
    time_zone: z
      .string({ error: 'must be an IANA time zone such as Europe/Berlin' })
      .refine(
        (zone) => IANAZone.isValidZone(zone),
        'is not a time zone known to this platform (an IANA name such as Europe/Berlin)',
      ),
    usergroup: z
      .string()
      .regex(/^S[A-Z0-9]{2,}$/, 'must be a user-group ID such as S0123ABCD')
      .optional(),
    layers: z
      .array(layerSchema)
      .min(1, 'must have at least one layer')
      .max(10, 'must have at most 10 layers'),
  }),
);

export type SchedulesInput = z.output<typeof schedulesSchema>;

/** The parsed section as the schedules the code uses; problems name their path. */
export function resolveSchedules(input: SchedulesInput): {
  schedules: Record<string, Schedule>;
  problems: string[];
} {
  const problems: string[] = [];
  const groups = new Map<string, string>();
  const schedules: Record<string, Schedule> = {};
  for (const [name, s] of Object.entries(input)) {
    if (s.usergroup) {
      const other = groups.get(s.usergroup);
      if (other)
        problems.push(
          `schedules.${name}.usergroup: is schedules.${other}.usergroup too (one group can follow one schedule)`,
        );
      groups.set(s.usergroup, name);
    }
    schedules[name] = {
      name,
      timeZone: s.time_zone,
      ...(s.usergroup ? { usergroup: s.usergroup } : {}),
      layers: s.layers.map((l) => ({
        startLocal: l.start,
        turnMs: l.turn,
        users: l.users,
        ...(l.only
          ? {
              only: {
                days: l.only.days.map((d) => DAY_NAMES.indexOf(d) + 1),
                fromMinute: l.only.from,
                toMinute: l.only.to,
              },
            }
          : {}),
      })),
    };
  }
  return { schedules, problems };
}
