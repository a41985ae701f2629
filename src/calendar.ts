import { DateTime } from 'luxon';

/**
 * Calendar arithmetic in a time zone, with Luxon (never by adding hours to UTC): business days for
 * postmortem due dates, local dates for follow-ups. Business days are Monday to Friday; holidays are not
 * known.
 */

/** `at` plus `days` business days in `zone`, at the same local time; a weekend start counts from Monday. */
export function addBusinessDays(at: Date, days: number, zone: string): Date {
  let t = DateTime.fromJSDate(at, { zone });
  let left = days;
  while (left > 0) {
    t = t.plus({ days: 1 });
    if (t.weekday <= 5) left--;
  }
  return t.toJSDate();
}

/** The local date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toISODate() as string;
}

/** The instant a local date's given time of day happens in a zone. */
export function atLocalTime(date: string, hour: number, zone: string): Date {
  return DateTime.fromISO(date, { zone }).set({ hour, minute: 0, second: 0, millisecond: 0 }).toJSDate();
}

/** A local date plus whole days (calendar days, in the date's own terms). */
export function plusDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'utc' }).plus({ days }).toISODate() as string;
}
