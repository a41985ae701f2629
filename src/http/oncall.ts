import type { ServerResponse } from 'node:http';
import ical from 'ical-generator';
import { USER_ID } from '../incidents/model.js';
import type { Logger } from '../logger.js';
import type { OncallDeps } from '../oncall/overrides.js';
import { calendarShifts } from '../oncall/queries.js';
import { sameSecret } from './secrets.js';
import type { Route } from './server.js';

/**
 * GET /oncall/<schedule>.ics?token=<secret>[&user=U…]: the next weeks' shifts as an iCalendar feed
 * (ical-generator writes it), so people can subscribe in their calendar app. Only with ONCALL_ICAL_TOKEN
 * set; the token is compared in constant time and never logged. Events name Slack user ids: the bot
 * has no users:read scope to look up names.
 */

export interface OncallRouteDeps {
  /** What reading schedules needs (the database, the clock, the config): handed on, never used here. */
  oncall: OncallDeps;
  token: string;
  logger: Logger;
}

const plain = (res: ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${text}\n`);
};

export function oncallRoutes(deps: OncallRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/oncall/:file',
      async handle(req, res, params) {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const token = url.searchParams.get('token');
        if (!token || !sameSecret(token, deps.token))
          return plain(res, 401, 'unauthorized: wrong or missing token');
        const name = /^(.+)\.ics$/.exec(params.file ?? '')?.[1];
        const schedule = name ? deps.oncall.config.schedules[name] : undefined;
        if (!schedule) return plain(res, 404, 'no such schedule (GET /oncall/<schedule>.ics)');
        const user = url.searchParams.get('user') ?? undefined;
        if (user !== undefined && !USER_ID.test(user))
          return plain(res, 400, 'user: must be a Slack user id such as U0123ABCD');
        const now = deps.oncall.clock.now();
        const shifts = await calendarShifts(deps.oncall.db, schedule, now, user);
        const calendar = ical({
          name: `On call: ${schedule.name}${user ? ` (${user})` : ''}`,
          prodId: { company: 'incident-bot', product: 'oncall', language: 'EN' },
        });
        for (const s of shifts) {
          calendar.createEvent({
            id: `${schedule.name}-${s.userId}-${s.start.getTime()}@incident-bot`,
            start: s.start,
            end: s.end,
            stamp: now,
            summary: user ? `On call: ${schedule.name}` : `On call: ${schedule.name} — ${s.userId}`,
            description: `Slack user ${s.userId} is on call for ${schedule.name} (${schedule.timeZone}).`,
          });
        }
        res.writeHead(200, {
          'content-type': 'text/calendar; charset=utf-8',
          'content-disposition': `inline; filename="${schedule.name}.ics"`,
          'cache-control': 'private, max-age=300',
        });
        res.end(calendar.toString());
        deps.logger.debug({ schedule: schedule.name, shifts: shifts.length }, 'served an on-call calendar');
      },
    },
  ];
}
