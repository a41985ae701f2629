import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { atLocalTime, localDate, plusDays } from '../calendar.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { type FollowupRow, followups, incidents } from '../db/schema.js';
import { UserError } from '../errors.js';
import { cancelJob, handle, type JobBinding, jobKey, jobType, schedule, scheduleOnce } from '../jobs/job.js';
import { recordEvent } from '../timeline/timeline.js';
import type { IncidentChat } from './chat.js';
import { MESSAGE_MARKER, postedBefore } from './chat.js';
import { FOLLOWUP_TEXT_MAX } from './model.js';
import { post, refreshCard } from './notify.js';
import { findIncident } from './queries.js';
import { cleanText } from './rules.js';
import { type IncidentDeps, type Locked, updateIncident, withIncident } from './unit-of-work.js';

/**
 * Follow-ups (action items): the work that makes the next incident shorter. Numbered per incident, with
 * an owner and a due date (a local date in `business_time_zone`); they outlive the incident, and the
 * postmortem's Action items table and the incident card show them. Owners are reminded by DM two days
 * before the due date and on every day it is overdue, at 09:00 local time: one durable job per
 * follow-up walks that plan, and each DM is keyed by its day, so nobody hears twice in a day.
 */

/** When reminders go out, in business_time_zone. */
const REMIND_HOUR = 9;
const DUE_SOON_DAYS = 2;

export const followupRemindJob = jobType('followup.remind', z.object({ followupId: z.number().int() }));
export const followupDmJob = jobType(
  'followup.dm',
  z.object({ followupId: z.number().int(), day: z.iso.date(), overdue: z.boolean() }),
);

export const followupKeys = {
  remind: (id: number) => jobKey('followup', id, 'remind'),
  dm: (id: number, day: string) => jobKey('followup', id, 'dm', day),
};

export interface FollowupInput {
  incidentId: string;
  actorId: string;
  text: string;
  ownerId?: string;
  /** YYYY-MM-DD, a date in business_time_zone. */
  dueOn?: string;
  sourceUrl?: string;
}

/**
 * The next time the reminder job should look at a follow-up, or undefined when it never needs to: the
 * first 09:00 from the due-soon day on (for one added later than that, the next 09:00 still before the due
 * date is over), then every 09:00 once it is overdue. `soonTold`: the due-soon DM went out already.
 */
export function nextReminderAt(
  f: Pick<FollowupRow, 'status' | 'dueOn' | 'ownerId'>,
  now: Date,
  zone: string,
  soonTold = false,
) {
  if (f.status !== 'open' || !f.dueOn || !f.ownerId) return undefined;
  const today = localDate(now, zone);
  // The first 09:00 still ahead: today's, or tomorrow's.
  const next = now < atLocalTime(today, REMIND_HOUR, zone) ? today : plusDays(today, 1);
  const soon = plusDays(f.dueOn, -DUE_SOON_DAYS);
  const firstOverdue = plusDays(f.dueOn, 1);
  let day: string;
  if (next < soon) day = soon;
  else if (next <= f.dueOn && !soonTold) day = next;
  else day = [next, firstOverdue].sort()[1] as string; // ISO dates: the later one
  return atLocalTime(day, REMIND_HOUR, zone);
}

async function planReminder(tx: Tx, config: IncidentConfig, f: FollowupRow, now: Date, soonTold = false) {
  const at = nextReminderAt(f, now, config.businessTimeZone, soonTold);
  if (!at) return cancelJob(tx, followupKeys.remind(f.id), now);
  await schedule(
    tx,
    followupRemindJob,
    { key: followupKeys.remind(f.id), dueAt: at, payload: { followupId: f.id } },
    now,
  );
}

/** A due date as people write it: `YYYY-MM-DD` that exists, not in the past. */
export function checkDueDate(dueOn: string, now: Date, zone: string): string {
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(dueOn) ? new Date(`${dueOn}T00:00:00Z`) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== dueOn)
    throw new UserError('bad_due', `\`${dueOn.slice(0, 20)}\` is not a date like 2026-12-04.`);
  if (dueOn < localDate(now, zone)) throw new UserError('past_due', 'The due date is in the past.');
  return dueOn;
}

export async function addFollowup(deps: IncidentDeps, input: FollowupInput): Promise<FollowupRow> {
  const text = cleanText(input.text, 'follow-up', FOLLOWUP_TEXT_MAX);
  return withIncident(deps, input.incidentId, async (l) => {
    const dueOn = input.dueOn ? checkDueDate(input.dueOn, l.now, deps.config.businessTimeZone) : null;
    const number = l.incident.lastFollowupNumber + 1;
    await updateIncident(l, { lastFollowupNumber: number });
    const [row] = await l.tx
      .insert(followups)
      .values({
        incidentId: l.incident.id,
        number,
        text,
        ownerId: input.ownerId ?? null,
        dueOn,
        sourceUrl: input.sourceUrl ?? null,
        createdBy: input.actorId,
        createdAt: l.now,
      })
      .returning();
    if (!row) throw new Error('follow-up insert returned nothing');
    await planReminder(l.tx, deps.config, row, l.now);
    const event = await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'followup_added',
      actorId: input.actorId,
      at: l.now,
      data: { number, text, ownerId: row.ownerId, dueOn },
    });
    await post(l, `followup:${row.id}:added`, 'channel', event);
    await refreshCard(l);
    return row;
  });
}

async function openFollowup(l: Locked, number: number): Promise<FollowupRow> {
  const [row] = await l.tx
    .select()
    .from(followups)
    .where(and(eq(followups.incidentId, l.incident.id), eq(followups.number, number)));
  if (!row)
    throw new UserError(
      'no_followup',
      `There is no follow-up ${number}. See them with \`/incident followups\`.`,
    );
  if (row.status !== 'open') throw new UserError('closed', `Follow-up ${number} is ${row.status} already.`);
  return row;
}

async function closeFollowup(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; number: number },
  outcome: { status: 'done' } | { status: 'dropped'; reason: string },
): Promise<FollowupRow> {
  return withIncident(deps, input.incidentId, async (l) => {
    const row = await openFollowup(l, input.number);
    const [closed] = await l.tx
      .update(followups)
      .set({
        status: outcome.status,
        dropReason: outcome.status === 'dropped' ? outcome.reason : null,
        closedBy: input.actorId,
        closedAt: l.now,
      })
      .where(eq(followups.id, row.id))
      .returning();
    await cancelJob(l.tx, followupKeys.remind(row.id), l.now);
    const event = await recordEvent(
      l.tx,
      outcome.status === 'done'
        ? {
            incidentId: l.incident.id,
            kind: 'followup_done',
            actorId: input.actorId,
            at: l.now,
            data: { number: row.number },
          }
        : {
            incidentId: l.incident.id,
            kind: 'followup_dropped',
            actorId: input.actorId,
            at: l.now,
            data: { number: row.number, reason: outcome.reason },
          },
    );
    await post(l, `followup:${row.id}:${outcome.status}`, 'channel', event);
    await refreshCard(l);
    return closed ?? row;
  });
}

export const completeFollowup = (
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; number: number },
) => closeFollowup(deps, input, { status: 'done' });

/** Not doing it, and why (the reason is kept: the postmortem's Action items say it). */
export function dropFollowup(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; number: number; reason: string },
) {
  const reason = cleanText(input.reason, 'reason', FOLLOWUP_TEXT_MAX);
  return closeFollowup(deps, input, { status: 'dropped', reason });
}

/** An incident's follow-ups, in number order. */
export function followupsOf(db: Db | Tx, incidentId: string): Promise<FollowupRow[]> {
  return db
    .select()
    .from(followups)
    .where(eq(followups.incidentId, incidentId))
    .orderBy(asc(followups.number));
}

/** How many of an incident's follow-ups are open, and how many of those are overdue on `today`. */
export async function followupCounts(
  db: Db | Tx,
  incidentId: string,
  today: string,
): Promise<{ open: number; overdue: number }> {
  const [row] = await db
    .select({
      open: sql<number>`count(*) filter (where ${followups.status} = 'open')::int`,
      overdue: sql<number>`count(*) filter (where ${followups.status} = 'open' and ${followups.dueOn} < ${today})::int`,
    })
    .from(followups)
    .where(eq(followups.incidentId, incidentId));
  return { open: row?.open ?? 0, overdue: row?.overdue ?? 0 };
}

export interface ListedFollowup extends FollowupRow {
  incidentNumber: number;
  incidentTitle: string;
  incidentChannelId: string | null;
}

/** Open follow-ups of a workspace (not of private or test incidents), by due date (undated last). */
export function openFollowups(db: Db, teamId: string, limit = 200): Promise<ListedFollowup[]> {
  return listFollowups(db, teamId, { publicOnly: true }, limit);
}

/** A person's own open follow-ups, of any incident of the workspace (private ones too: they are theirs). */
export function openFollowupsOwnedBy(
  db: Db,
  teamId: string,
  userId: string,
  limit = 200,
): Promise<ListedFollowup[]> {
  return listFollowups(db, teamId, { ownerId: userId }, limit);
}

async function listFollowups(
  db: Db,
  teamId: string,
  only: { publicOnly: true } | { ownerId: string },
  limit: number,
): Promise<ListedFollowup[]> {
  const rows = await db
    .select({
      f: followups,
      number: incidents.number,
      title: incidents.title,
      channelId: incidents.channelId,
    })
    .from(followups)
    .innerJoin(incidents, eq(incidents.id, followups.incidentId))
    .where(
      and(
        eq(incidents.teamId, teamId),
        eq(followups.status, 'open'),
        ...('ownerId' in only
          ? [eq(followups.ownerId, only.ownerId)]
          : [eq(incidents.isPrivate, false), eq(incidents.isTest, false)]),
      ),
    )
    .orderBy(sql`${followups.dueOn} asc nulls last`, asc(incidents.number), asc(followups.number))
    .limit(limit);
  return rows.map((r) => ({
    ...r.f,
    incidentNumber: r.number,
    incidentTitle: r.title,
    incidentChannelId: r.channelId,
  }));
}

export interface FollowupJobDeps {
  db: Db;
  chat: IncidentChat;
  config: IncidentConfig;
  clock: IncidentDeps['clock'];
}

export function followupJobs(deps: FollowupJobDeps): JobBinding[] {
  const find = async (id: number) => (await deps.db.select().from(followups).where(eq(followups.id, id)))[0];
  return [
    handle(followupRemindJob, {
      async run(p) {
        const now = deps.clock.now();
        const zone = deps.config.businessTimeZone;
        await deps.db.transaction(async (tx) => {
          const [f] = await tx.select().from(followups).where(eq(followups.id, p.followupId)).for('update');
          if (f?.status !== 'open' || !f.dueOn || !f.ownerId) return;
          const today = localDate(now, zone);
          const told = today >= plusDays(f.dueOn, -DUE_SOON_DAYS);
          if (told) {
            // One DM per follow-up per day, however often this runs.
            await scheduleOnce(
              tx,
              followupDmJob,
              {
                key: followupKeys.dm(f.id, today),
                dueAt: now,
                payload: { followupId: f.id, day: today, overdue: today > f.dueOn },
              },
              now,
            );
          }
          // After the due-soon DM, the next one is on the first overdue morning.
          await planReminder(tx, deps.config, f, now, told);
        });
      },
    }),

    handle(followupDmJob, {
      async run(p, ctx) {
        const f = await find(p.followupId);
        if (f?.status !== 'open' || !f.ownerId) return;
        const incident = await findIncident(deps.db, f.incidentId);
        if (!incident) return;
        const dm = await deps.chat.openDm(f.ownerId);
        const marker = { type: MESSAGE_MARKER.followup, id: ctx.key };
        if (await postedBefore(deps.chat, ctx.attempt, dm, marker, ctx.createdAt)) return;
        await deps.chat.post(
          dm,
          {
            kind: 'followup_reminder',
            followup: f,
            incident: { number: incident.number, title: incident.title, channelId: incident.channelId },
            overdue: p.overdue,
          },
          { marker },
        );
      },
    }),
  ];
}
