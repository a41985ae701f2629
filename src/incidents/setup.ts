import { and, eq, isNull, ne, type SQL, sql, type WithSubquery } from 'drizzle-orm';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { reusable } from '../db/prepared.js';
import { type IncidentRow, incidents } from '../db/schema.js';
import { PermanentError, RetryableError } from '../errors.js';
import { defaultBackoff } from '../jobs/engine.js';
import {
  handle,
  isPending,
  type JobBinding,
  type JobContext,
  type JobLease,
  jobKey,
  jobType,
  leasedJob,
  newJobValues,
  wakeValues,
  wakeWaiters,
  wakeWaitersWith,
} from '../jobs/job.js';
import type { Logger } from '../logger.js';
import { eventValues, type NewEvent, recordEvent, recordEventWith } from '../timeline/timeline.js';
import { type IncidentChat, type IncidentNotice, MESSAGE_MARKER } from './chat.js';
import { channelName } from './naming.js';
import { currentRoles, findIncident, type IncidentSnapshot, toSnapshot } from './queries.js';

type Roles = Awaited<ReturnType<typeof currentRoles>>;

import { withIncident } from './unit-of-work.js';

/**
 * The job that gives a declared incident its Slack presence: channel, pinned card, invites, topic,
 * announcement and a word to the reporter. Each step records its result on the incident row before the
 * next one starts, so a retry (after a Slack failure, or on another replica after a crash) resumes where
 * the last attempt stopped. The two steps whose result Slack might have applied without our hearing of
 * it (creating the channel, posting a message) look for their own earlier work before acting again.
 */

export const setupJob = jobType('incident.provision', z.object({ incidentId: z.uuid() }));
export const setupKey = (incidentId: string) => jobKey('incident', incidentId, 'provision');

const setupScheduled = (incidentId: string, now: Date) => ({
  key: setupKey(incidentId),
  dueAt: now,
  payload: { incidentId },
});
/**
 * The setup job's values for `newJobWith` in the declaring statement (declare.ts): due at once, or
 * created under `lease` for this process's engine to run as the declaration commits.
 */
export const setupJobValues = (incidentId: string, now: Date, lease?: JobLease) =>
  newJobValues(setupJob, setupScheduled(incidentId, now), now, lease);
/** The setup job created under `lease` as row `jobId`, to hand to the engine (`runLeasedJob`). */
export const leasedSetupJob = (incidentId: string, now: Date, lease: JobLease, jobId: number) =>
  leasedJob(setupJob, setupScheduled(incidentId, now), now, lease, jobId);

/**
 * For a job that needs what setup makes (the channel, the card, the announcement) and found it missing in
 * the incident it read: ends the run well, running the job again when setup wakes it (`WAIT_FALLBACK_MS`
 * on at the latest), at once when setup made the thing meanwhile, or never when setup has ended without
 * it (setup has said why). The wait is asked for before the incident is read again: setup may have made
 * the thing just after the caller's read and woken nobody, as nobody waited yet (the first relay of an
 * alert group then waited for its fallback); a wake after the wait is asked for reaches this run, and one
 * before it comes with a record the second read sees.
 */
export async function waitForSetup(
  db: Db,
  ctx: JobContext,
  incidentId: string,
  ready: (incident: IncidentRow) => boolean,
): Promise<void> {
  const setup = setupKey(incidentId);
  if (await isPending(db, setup)) await ctx.runAgain(ctx.now(), { after: setup });
  const incident = await findIncident(db, incidentId);
  if (incident && ready(incident)) await ctx.runAgain(ctx.now());
}

export interface SetupDeps {
  db: Db;
  chat: IncidentChat;
  config: IncidentConfig;
  clock: Clock;
}

const SETTLED_COLUMNS = [
  'invitesSettled',
  'topicSettled',
  'pinSettled',
  'announceSettled',
  'notifySettled',
] as const;
type SettledColumn = (typeof SETTLED_COLUMNS)[number];
const RETRY_AFTER_PROGRESS_MS = 1000;

/** How many of setup's steps are done: the channel, the card and each settled step. */
const doneSteps = (incident: IncidentRow): number =>
  Number(!!incident.channelId) +
  Number(!!incident.cardTs) +
  SETTLED_COLUMNS.filter((column) => incident[column]).length;

const MAX_NAME_ATTEMPTS = 10;

/** One run of the setup job: whether an earlier attempt may have done some of the work, and its logger. */
interface Attempt {
  retrying: boolean;
  log: Logger;
}

/**
 * Setup's record-once statements, built once (db/prepared.ts): the change to the incident (only if the
 * step's column is still empty), and beside it as CTEs of the same statement its timeline event and the
 * wake-up of the jobs waiting for setup, both only if the change was made.
 */
const alongside = (db: Db | Tx, recorded: WithSubquery) =>
  [recorded, recordEventWith(db, recorded), wakeWaitersWith(db, recorded)] as const;
const byId = eq(incidents.id, sql.placeholder('incidentId'));
const nowAt = sql`${sql.placeholder('now_at')}::timestamptz`;
/** Records one of setup's results (`set`) on the incident unless `unlessSet` already holds one. */
const recordOnceStatement = (
  name: string,
  unlessSet: 'channelId' | 'cardTs',
  set: Partial<Record<keyof IncidentRow, SQL>>,
) =>
  reusable(name, (db) => {
    const recorded = db.$with('recorded').as(
      db
        .update(incidents)
        .set({ ...set, updatedAt: nowAt })
        .where(and(byId, isNull(incidents[unlessSet])))
        .returning(),
    );
    return db
      .with(...alongside(db, recorded))
      .select()
      .from(recorded);
  });
const recordOnceStatements = {
  channel: recordOnceStatement('setup_record_channel', 'channelId', {
    channelId: sql`${sql.placeholder('channelId')}`,
    channelName: sql`${sql.placeholder('channelName')}`,
  }),
  card: recordOnceStatement('setup_record_card', 'cardTs', { cardTs: sql`${sql.placeholder('cardTs')}` }),
};
/**
 * The announcement's record: settled here too, not only with the other steps, so that a retry after a
 * crash in between finds the message (no second post) and records no second `announced` event.
 */
const recordAnnouncement = reusable('setup_record_announcement', (db) => {
  const recorded = db.$with('recorded').as(
    db
      .update(incidents)
      .set({
        announcementChannelId: sql`${sql.placeholder('channelId')}`,
        announcementTs: sql`${sql.placeholder('ts')}`,
        announceSettled: true,
        updatedAt: nowAt,
      })
      .where(byId)
      .returning({ id: incidents.id }),
  );
  return db
    .with(...alongside(db, recorded))
    .select()
    .from(recorded);
});

/** What a step that succeeded writes: its settled flag, and the topic it set. */
type Settled = Partial<Record<SettledColumn, true>> & { lastTopic?: string };
/**
 * Marks the steps that succeeded settled in one statement: a flag is only ever set here, never cleared
 * (`or`), and the topic is kept unless a step set one.
 */
const settleStatement = reusable('setup_settle', (db) =>
  db
    .update(incidents)
    .set({
      invitesSettled: sql`${incidents.invitesSettled} or ${sql.placeholder('invitesSettled')}`,
      topicSettled: sql`${incidents.topicSettled} or ${sql.placeholder('topicSettled')}`,
      pinSettled: sql`${incidents.pinSettled} or ${sql.placeholder('pinSettled')}`,
      announceSettled: sql`${incidents.announceSettled} or ${sql.placeholder('announceSettled')}`,
      notifySettled: sql`${incidents.notifySettled} or ${sql.placeholder('notifySettled')}`,
      lastTopic: sql`coalesce(${sql.placeholder('lastTopic')}, ${incidents.lastTopic})`,
      updatedAt: nowAt,
    })
    .where(byId),
);

export function setupJobs(deps: SetupDeps): JobBinding[] {
  const { db, chat, clock } = deps;

  /** Marks the steps that succeeded settled, with the values they store alongside, in one statement. */
  async function settle(incident: IncidentRow, settled: Settled[]) {
    if (settled.length === 0) return;
    const all: Settled = Object.assign({}, ...settled);
    await settleStatement(db, {
      incidentId: incident.id,
      now_at: clock.now().toISOString(),
      ...Object.fromEntries(SETTLED_COLUMNS.map((column) => [column, all[column] === true])),
      lastTopic: all.lastTopic ?? null,
    });
  }

  /** Marks a step that failed for good settled, with a timeline event saying why, in one transaction. */
  async function settleFailed(
    incident: IncidentRow,
    column: SettledColumn,
    failure: { step: string; error: Error },
  ) {
    await db.transaction(async (tx) => {
      await tx
        .update(incidents)
        .set({ [column]: true, updatedAt: clock.now() })
        .where(eq(incidents.id, incident.id));
      await recordEvent(tx, {
        incidentId: incident.id,
        kind: 'side_effect_failed',
        at: clock.now(),
        data: { step: failure.step, error: failure.error.message },
      });
      // A post waiting for the announcement learns there will be none.
      if (column === 'announceSettled') await wakeWaiters(tx, setupKey(incident.id), clock.now());
    });
  }

  /**
   * Runs an optional step: a permanent failure is recorded and does not stop the others. On success it
   * returns what to write: the settled flag and `storeOnSuccess`. The steps run side by side and what
   * succeeded is written in one statement after them (`settle`): each step is safe to run again (a pin,
   * invite or topic Slack already applied is accepted; a message is looked for before posting again), so
   * a crash between a step and that write only repeats the step.
   */
  async function optionalStep(
    attempt: Attempt,
    incident: IncidentRow,
    column: SettledColumn,
    step: string,
    run: () => Promise<void>,
    options: {
      storeOnSuccess?: Omit<Settled, SettledColumn>;
      onPermanentFailure?: (error: PermanentError) => Promise<void>;
    } = {},
  ): Promise<Settled | undefined> {
    try {
      await run();
    } catch (err) {
      if (!(err instanceof PermanentError)) throw err;
      attempt.log.warn(`${step} failed for good: ${err.message}`);
      await settleFailed(incident, column, { step, error: err });
      await options.onPermanentFailure?.(err);
      return undefined;
    }
    return { ...options.storeOnSuccess, [column]: true };
  }

  /**
   * Records a step's result on the incident unless an earlier attempt already did (then keeps that one),
   * with its timeline event, in one statement, and wakes the jobs waiting for it (a post for the channel,
   * a refresh for the card); returns the incident as stored.
   */
  async function recordOnce(
    incident: IncidentRow,
    step: 'channel' | 'card',
    values: Record<string, unknown>,
    event: NewEvent,
  ): Promise<IncidentRow> {
    const now = clock.now();
    const [row] = await recordOnceStatements[step](db, {
      incidentId: incident.id,
      now_at: now.toISOString(),
      ...values,
      ...eventValues(event),
      ...wakeValues(setupKey(incident.id), now),
    });
    return row ?? (await findIncident(db, incident.id)) ?? incident;
  }

  const recordChannel = (incident: IncidentRow, channel: { id: string; name: string }, adopted: boolean) =>
    recordOnce(
      incident,
      'channel',
      { channelId: channel.id, channelName: channel.name },
      {
        incidentId: incident.id,
        kind: 'channel_created',
        at: clock.now(),
        data: { channelId: channel.id, name: channel.name, ...(adopted ? { adopted: true } : {}) },
      },
    );

  /** Is this channel (created by the bot, found by name) the one an earlier attempt made for this incident? */
  async function isOurLostChannel(
    incident: IncidentRow,
    channel: { id: string; creator: string | undefined },
  ) {
    if (channel.creator !== (await chat.botUserId())) return false;
    const [other] = await db
      .select({ id: incidents.id })
      .from(incidents)
      .where(
        and(
          eq(incidents.teamId, incident.teamId),
          eq(incidents.channelId, channel.id),
          ne(incidents.id, incident.id),
        ),
      );
    return !other;
  }

  /** Creates the incident's channel (or adopts the one a lost attempt made); the caller records it. */
  async function ensureChannel(
    incident: IncidentRow,
  ): Promise<{ id: string; name: string; adopted: boolean }> {
    // A new incident has no name yet: the first is made from the number its declaration took, the same
    // on every attempt, so only the names after it need recording before they are tried.
    const first =
      incident.channelName || channelName(deps.config.channelPrefix, incident.number, incident.title);
    const candidates = [first];
    for (let n = 2; candidates.length < MAX_NAME_ATTEMPTS; n++) {
      const name = channelName(deps.config.channelPrefix, incident.number, incident.title, n);
      if (!candidates.includes(name)) candidates.push(name);
    }
    for (const name of candidates) {
      if (name !== first) {
        // Record the name we are about to try first, so a retry after a crash checks this one.
        await db.update(incidents).set({ channelName: name }).where(eq(incidents.id, incident.id));
      }
      const created = await chat.createChannel(name, incident.isPrivate);
      if (created !== 'name_taken') return { id: created.id, name, adopted: false };
      const existing = await chat.findChannelByName(name);
      if (existing && (await isOurLostChannel(incident, existing))) {
        return { id: existing.id, name, adopted: true };
      }
    }
    throw new PermanentError('name_taken', `no free channel name after ${MAX_NAME_ATTEMPTS} tries`);
  }

  /**
   * Posts one of the incident's marked messages. On a retry it first looks for the copy an earlier attempt
   * may have posted just before dying, so the message appears once.
   */
  async function postOnce(
    attempt: Attempt,
    incident: IncidentRow,
    markerType: string,
    channel: string,
    notice: IncidentNotice,
  ) {
    const marker = { type: markerType, id: incident.id };
    if (attempt.retrying) {
      try {
        const found = await chat.findMarked(channel, marker, incident.declaredAt);
        if (found) return found;
      } catch (err) {
        // Without history access we cannot check; posting again risks a duplicate but never a loss.
        if (!(err instanceof PermanentError)) throw err;
        attempt.log.warn(`cannot check ${channel} for an earlier post: ${err.message}`);
      }
    }
    return chat.post(channel, notice, { marker });
  }

  const postCard = (attempt: Attempt, incident: IncidentRow, snapshot: IncidentSnapshot, channel: string) =>
    postOnce(attempt, incident, MESSAGE_MARKER.card, channel, { kind: 'card', incident: snapshot });

  const recordCard = (incident: IncidentRow, ts: string) =>
    recordOnce(
      incident,
      'card',
      { cardTs: ts },
      { incidentId: incident.id, kind: 'card_posted', at: clock.now(), data: { ts } },
    );

  async function announce(
    attempt: Attempt,
    incident: IncidentRow,
    snapshot: IncidentSnapshot,
    channel: string,
  ) {
    const posted = await postOnce(attempt, incident, MESSAGE_MARKER.announcement, channel, {
      kind: 'announcement',
      incident: snapshot,
    });
    const now = clock.now();
    const event: NewEvent = {
      incidentId: incident.id,
      kind: 'announced',
      at: now,
      data: { channelId: posted.channel, ts: posted.ts },
    };
    await recordAnnouncement(db, {
      incidentId: incident.id,
      channelId: posted.channel,
      ts: posted.ts,
      now_at: now.toISOString(),
      ...eventValues(event),
      ...wakeValues(setupKey(incident.id), now),
    });
  }

  /** A direct message to the reporter, once: like the card, a retry first looks for its earlier copy. */
  async function tellReporter(
    attempt: Attempt,
    incident: IncidentRow,
    markerType: string,
    notice: IncidentNotice,
  ) {
    // Declared by the bot itself (an alert route's `declare:`): nobody to tell.
    if (incident.reporterId === (await chat.botUserId())) return;
    await postOnce(attempt, incident, markerType, await chat.openDm(incident.reporterId), notice);
  }

  /**
   * Every step not yet done, in order: channel, card, then the independent ones side by side. Slack's next
   * call does not wait for the last result's write: the card is posted while the channel is recorded, and
   * pinned while the card is recorded (on the path from submit to a pinned card, each write is a round
   * trip to the database). Either order is safe to repeat: a retry adopts its own lost channel, finds its
   * marked card, and a second pin is accepted.
   */
  async function setUp(attempt: Attempt, incident: IncidentRow, roles: Roles): Promise<void> {
    let channel: string | null = incident.channelId;
    let channelRecorded: Promise<IncidentRow> | undefined;
    if (!channel) {
      const made = await ensureChannel(incident);
      channel = made.id;
      channelRecorded = recordChannel(incident, made, made.adopted);
    }
    const inChannelOf = (id: string) => ({ ...toSnapshot(incident, roles), channelId: id });
    let current = incident;
    let pinned: { ts: string; done: Promise<void> } | undefined;
    if (!incident.cardTs) {
      // Both settle before either failure is thrown: a retry must not start while this card post is still
      // on its way, or its look for the card could miss it and post a second one.
      const [postedResult, recordedResult] = await Promise.allSettled([
        postCard(attempt, incident, inChannelOf(channel), channel),
        channelRecorded,
      ]);
      if (postedResult.status === 'rejected') throw postedResult.reason;
      if (recordedResult.status === 'rejected') throw recordedResult.reason;
      let posted = postedResult.value;
      const recorded = recordedResult.value;
      if (recorded?.channelId && recorded.channelId !== channel) {
        // Another run recorded its channel first (a lease that ran out mid-run): the card belongs there.
        channel = recorded.channelId;
        posted = await postCard(attempt, recorded, inChannelOf(channel), channel);
      }
      if (!incident.pinSettled) pinned = { ts: posted.ts, done: chat.pin({ channel, ts: posted.ts }) };
      const withCard = recordCard(recorded ?? incident, posted.ts);
      // Observed now so that a failed record leaves no rejection unhandled; the pin step awaits it below.
      pinned?.done.catch(() => {});
      current = await withCard;
    } else if (channelRecorded) {
      current = await channelRecorded;
    }
    const card = { channel, ts: current.cardTs as string };
    const snapshot = inChannelOf(channel);

    const announcementsChannel = deps.config.announcementsChannel;
    const steps: Promise<Settled | undefined>[] = [];
    if (!current.pinSettled) {
      steps.push(
        optionalStep(attempt, current, 'pinSettled', 'pinning the card', () =>
          pinned?.ts === card.ts ? pinned.done : chat.pin(card),
        ),
      );
    }
    if (!current.invitesSettled) {
      steps.push(
        optionalStep(attempt, current, 'invitesSettled', 'inviting responders', async () => {
          const botUserId = await chat.botUserId();
          const people = new Set([current.reporterId, roles.commander].filter((u): u is string => !!u));
          people.delete(botUserId);
          const failures: string[] = [];
          for (const user of people) {
            try {
              await chat.invite(channel, user);
            } catch (err) {
              if (!(err instanceof PermanentError)) throw err;
              failures.push(`${user}: ${err.code}`);
            }
          }
          if (failures.length > 0) throw new PermanentError('invite_failed', failures.join(', '));
        }),
      );
    }
    if (!current.topicSettled) {
      const topic = chat.topic(snapshot);
      steps.push(
        optionalStep(
          attempt,
          current,
          'topicSettled',
          'setting the topic',
          () => chat.setTopic(channel, topic),
          {
            storeOnSuccess: { lastTopic: topic },
          },
        ),
      );
    }
    if (!current.announceSettled && announcementsChannel && !current.isPrivate && !current.isTest) {
      steps.push(
        optionalStep(
          attempt,
          current,
          'announceSettled',
          'posting the announcement',
          () => announce(attempt, current, snapshot, announcementsChannel),
          {
            onPermanentFailure: (error) =>
              tellReporter(attempt, current, MESSAGE_MARKER.announcementFailure, {
                kind: 'setup_failed',
                incident: snapshot,
                step: 'posting the announcement',
                error: error.code,
              }),
          },
        ),
      );
    }
    if (!current.notifySettled) {
      steps.push(
        optionalStep(attempt, current, 'notifySettled', 'telling the reporter', () =>
          tellReporter(attempt, current, MESSAGE_MARKER.reporterNotice, {
            kind: 'reporter_notice',
            incident: snapshot,
          }),
        ),
      );
    }
    const results = await Promise.allSettled(steps);
    // What succeeded is settled even when another step failed, so the retry skips it.
    await settle(
      current,
      results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : [])),
    );
    const failed = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason);
    if (failed.length > 0) {
      // Settled steps are skipped next time; wait as long as the slowest rate limit asks.
      const waits = failed.map((e) => (e instanceof RetryableError ? (e.retryAfterMs ?? 0) : 0));
      const first = failed[0] instanceof Error ? failed[0] : new Error(String(failed[0]));
      throw Math.max(...waits) > 0
        ? new RetryableError(first.message, Math.max(...waits), { cause: first })
        : first;
    }
  }

  /**
   * When to try again. The engine backs off by attempt count, which suits a Slack that is down; but an
   * attempt that got part of the way (a channel, a card, a settled step) shows Slack is answering, so it
   * is retried in a second, and an attempt that achieved nothing backs off by the attempts that achieved
   * nothing — not by earlier attempts that made progress — so a run of unlucky calls under random
   * faults does not push the rest of the setup minutes out. Rate limits keep their Retry-After and
   * permanent failures stay permanent.
   */
  async function retryPolicy(err: unknown, before: IncidentRow, attempt: number): Promise<unknown> {
    if (err instanceof PermanentError || (err instanceof RetryableError && err.retryAfterMs !== undefined))
      return err;
    const after = await findIncident(db, before.id).catch(() => undefined);
    if (!after) return err;
    const error = err instanceof Error ? err : new Error(String(err));
    const progressed = doneSteps(after) > doneSteps(before);
    // Every attempt that made progress completed at least one step, so this never overstates the
    // attempts that achieved nothing.
    const wait = progressed
      ? RETRY_AFTER_PROGRESS_MS
      : defaultBackoff(Math.max(1, attempt - doneSteps(after)));
    return new RetryableError(error.message, wait, { cause: error });
  }

  const attemptOf = (ctx: JobContext): Attempt => ({ retrying: ctx.attempt > 1, log: ctx.log });

  return [
    handle(setupJob, {
      async run(p, ctx) {
        // Both reads at once: the roles of an incident that is gone are not used.
        const [incident, roles] = await Promise.all([
          findIncident(db, p.incidentId),
          currentRoles(db, p.incidentId),
        ]);
        if (!incident) return;
        try {
          await setUp(attemptOf(ctx), incident, roles);
        } catch (err) {
          throw await retryPolicy(err, incident, ctx.attempt);
        }
      },

      async onGiveUp(p, error, ctx) {
        const incident = await findIncident(db, p.incidentId);
        if (!incident) return;
        const step = incident.channelId ? 'setting up the incident channel' : 'creating the channel';
        await withIncident(deps, incident.id, async (l) => {
          await recordEvent(l.tx, {
            incidentId: incident.id,
            kind: 'side_effect_failed',
            at: l.now,
            data: { step, error: error.message, final: true },
          });
          // Jobs waiting for what setup would have made learn that it will not come (they skip).
          await wakeWaiters(l.tx, setupKey(incident.id), l.now);
        });
        const code = error instanceof PermanentError ? error.code : error.message;
        // Reported by the lease holder only, so once; no earlier copy to look for.
        await tellReporter({ ...attemptOf(ctx), retrying: false }, incident, MESSAGE_MARKER.setupFailure, {
          kind: 'setup_failed',
          incident: toSnapshot(incident, {}),
          step,
          error: code,
        });
      },
    }),
  ];
}
