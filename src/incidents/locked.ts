import { eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config.js';
import type { Db, Tx } from '../db/client.js';
import { type IncidentRow, incidents, type Role } from '../db/schema.js';
import { UserError } from '../errors.js';
import type { SlackMessage } from '../slack/views/incident.js';
import { scheduleTimer, scheduleTimerOnce } from '../timers/engine.js';
import { currentRoles } from './queries.js';

/**
 * The unit of work of every change to a running incident: the incident row locked for the transaction,
 * its current roles, one `now`, and the helpers that schedule the change's side effects as keyed jobs.
 */

export interface RunDeps {
  db: Db;
  clock: Clock;
  config: IncidentConfig;
}

export const REFRESH_KIND = 'incident.refresh';
export const POST_KIND = 'incident.post';
export const INVITE_KIND = 'incident.invite';

/** Where an `incident.post` job posts. `announcement` threads under the incident's announcement. */
export type PostTarget = 'channel' | 'announcement' | 'dm';

export interface PostPayload {
  incidentId: string;
  target: PostTarget;
  userId?: string;
  message: SlackMessage;
  [key: string]: unknown;
}

export type Locked = { tx: Tx; incident: IncidentRow; roles: Partial<Record<Role, string>>; now: Date };

/** Runs `fn` with the incident row locked (FOR UPDATE) for the rest of the transaction. */
export async function withIncident<T>(
  deps: RunDeps,
  incidentId: string,
  fn: (l: Locked) => Promise<T>,
): Promise<T> {
  return deps.db.transaction(async (tx) => {
    const [incident] = await tx.select().from(incidents).where(eq(incidents.id, incidentId)).for('update');
    if (!incident) throw new UserError('not_found', 'That incident no longer exists.');
    const roles = await currentRoles(tx, incidentId);
    return fn({ tx, incident, roles, now: deps.clock.now() });
  });
}

export const actorOf = (deps: RunDeps, l: Locked, userId: string) => ({
  userId,
  roles: l.roles,
  admins: deps.config.admins,
});

export function refreshCard(l: Locked) {
  return scheduleTimer(
    l.tx,
    {
      key: `incident:${l.incident.id}:refresh`,
      kind: REFRESH_KIND,
      dueAt: l.now,
      payload: { incidentId: l.incident.id },
    },
    l.now,
  );
}

/** Schedules one message; `key` makes the job (and so the message) unique: a key already used posts nothing. */
export function post(l: Locked, key: string, target: PostTarget, message: SlackMessage, userId?: string) {
  const payload: PostPayload = { incidentId: l.incident.id, target, message, ...(userId ? { userId } : {}) };
  return scheduleTimerOnce(
    l.tx,
    { key: `incident:${l.incident.id}:post:${key}`, kind: POST_KIND, dueAt: l.now, payload },
    l.now,
  );
}

/** Posts to the channel and, unless the incident is private or a test, to the announcement thread. */
export async function postEverywhere(deps: RunDeps, l: Locked, key: string, message: SlackMessage) {
  await post(l, `${key}:channel`, 'channel', message);
  if (deps.config.announcementsChannel && !l.incident.isPrivate && !l.incident.isTest) {
    await post(l, `${key}:announcement`, 'announcement', message);
  }
}
