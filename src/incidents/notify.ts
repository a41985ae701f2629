import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db } from '../db/client.js';
import { type IncidentRow, incidents } from '../db/schema.js';
import { PermanentError } from '../errors.js';
import {
  handle,
  type JobBinding,
  type JobContext,
  jobKey,
  jobType,
  schedule,
  scheduleOnce,
} from '../jobs/job.js';
import { findEvent, recordEvent, type TimelineEvent } from '../timeline/timeline.js';
import { type IncidentChat, type IncidentNotice, MESSAGE_MARKER, postedBefore } from './chat.js';
import {
  countFollowups,
  currentRoles,
  findIncident,
  findTask,
  openTaskCount,
  toSnapshot,
} from './queries.js';
import { setupKey, waitForSetup } from './setup.js';
import type { Locked } from './unit-of-work.js';

/**
 * How a change to a running incident reaches Slack: three job types, scheduled inside the change's
 * transaction and run after it commits.
 *
 * - `incident.refresh` re-renders the pinned card (and the topic, only when it changed) from the committed
 *   state; one job per incident, re-armed by every change, so the last render always shows the last state.
 * - `incident.post` tells the channel, the announcement thread or one person about one timeline event; the
 *   key says what caused it, so a key already used posts nothing.
 * - `incident.invite` brings people into the incident channel.
 *
 * One scheduled while the setup job has not yet made the channel, card or announcement it needs waits for
 * setup to wake it (and, should it run early anyway, runs again when setup wakes it: `waitForSetup`).
 * Each is idempotent on retry: a post first looks for its own marked copy.
 */

export const POST_TARGETS = ['channel', 'announcement', 'dm'] as const;
/** Where an `incident.post` job posts. `announcement` threads under the incident's announcement. */
export type PostTarget = (typeof POST_TARGETS)[number];

const incidentId = z.uuid();

export const refreshJob = jobType('incident.refresh', z.object({ incidentId }));
const postTo = {
  incidentId,
  target: z.enum(POST_TARGETS),
  /** For `dm`: who. */ userId: z.string().optional(),
};
export const postJob = jobType(
  'incident.post',
  z
    .union([
      /** The timeline event the message is about. */
      z.object({ ...postTo, eventId: z.number().int() }),
      /**
       * Upgrading: the version before typed jobs stored the rendered message; a row it left queued is
       * posted as it is. Delete once no such row can be pending (the release after 0.1.0).
       */
      z.object({
        ...postTo,
        message: z.object({ text: z.string(), blocks: z.array(z.unknown()).optional() }),
      }),
    ])
    .refine((p) => p.target !== 'dm' || !!p.userId, { message: 'a dm needs a userId', path: ['userId'] }),
);
export const inviteJob = jobType(
  'incident.invite',
  z.object({
    incidentId,
    userIds: z.array(z.string()),
    /** Pages: nobody is brought into the channel of an incident resolved meanwhile. */
    unlessResolved: z.boolean().optional(),
  }),
);

export const notifyKeys = {
  refresh: (id: string) => jobKey('incident', id, 'refresh'),
  /** `what` names the cause, e.g. `update:12:announcement`; one post per key, ever. */
  post: (id: string, what: string) => jobKey('incident', id, 'post', what),
  invite: (id: string, what: string) => jobKey('incident', id, 'invite', what),
};

// ── Scheduling (inside a use-case's transaction) ────────────────────────────────────────────────────

/**
 * What the incident's setup has not made yet and a job needs: such a job waits for setup to wake it. The
 * caller holds the incident's row lock, as setup does when it records what it made, so no wake is missed.
 */
const afterSetup = (l: Locked, ready: boolean) => (ready ? undefined : setupKey(l.incident.id));

/** Re-renders the card and topic after this transaction commits (after setup, if the card is not posted yet). */
export function refreshCard(l: Locked): Promise<void> {
  const id = l.incident.id;
  return schedule(
    l.tx,
    refreshJob,
    {
      key: notifyKeys.refresh(id),
      dueAt: l.now,
      payload: { incidentId: id },
      after: afterSetup(l, !!l.incident.cardTs),
    },
    l.now,
  );
}

/** Tells `target` about a timeline event, once per `what`. */
export function post(
  l: Locked,
  what: string,
  target: PostTarget,
  eventId: number,
  userId?: string,
): Promise<void> {
  const id = l.incident.id;
  const ready =
    target === 'dm' ||
    (target === 'channel' && !!l.incident.channelId) ||
    (target === 'announcement' && (!!l.incident.announcementTs || l.incident.announceSettled));
  return scheduleOnce(
    l.tx,
    postJob,
    {
      key: notifyKeys.post(id, what),
      dueAt: l.now,
      payload: { incidentId: id, target, eventId, ...(userId ? { userId } : {}) },
      after: afterSetup(l, ready),
    },
    l.now,
  );
}

/** Tells the channel and, unless the incident is private or a test, the announcement thread. */
export async function postEverywhere(
  config: Pick<IncidentConfig, 'announcementsChannel'>,
  l: Locked,
  what: string,
  eventId: number,
): Promise<void> {
  await post(l, `${what}:channel`, 'channel', eventId);
  if (config.announcementsChannel && !l.incident.isPrivate && !l.incident.isTest) {
    await post(l, `${what}:announcement`, 'announcement', eventId);
  }
}

/** Invites people to the incident channel, once per `what`. */
export function invite(
  l: Locked,
  what: string,
  userIds: string[],
  options: { unlessResolved?: boolean } = {},
): Promise<void> {
  const id = l.incident.id;
  return scheduleOnce(
    l.tx,
    inviteJob,
    {
      key: notifyKeys.invite(id, what),
      dueAt: l.now,
      payload: { incidentId: id, userIds, ...(options.unlessResolved ? { unlessResolved: true } : {}) },
      after: afterSetup(l, !!l.incident.channelId),
    },
    l.now,
  );
}

// ── Handlers ─────────────────────────────────────────────────────────────────────────────────────────

export interface NotifyDeps {
  db: Db;
  chat: IncidentChat;
  clock: Clock;
}

/**
 * The notice telling `audience` about one timeline event (by id, or the event itself), from the committed
 * state; undefined if the event is gone.
 */
export async function eventNotice(
  db: Db,
  incident: IncidentRow,
  eventOrId: number | TimelineEvent,
  audience: 'channel' | 'person',
): Promise<IncidentNotice | undefined> {
  const event = typeof eventOrId === 'number' ? await findEvent(db, incident.id, eventOrId) : eventOrId;
  if (!event) return undefined;
  const [roles, open] = [await currentRoles(db, incident.id), await openTaskCount(db, incident.id)];
  const taskNumber =
    event.kind === 'task_completed' || event.kind === 'task_assigned'
      ? event.data.number
      : event.kind === 'reminded'
        ? event.data.number
        : undefined;
  const task = taskNumber === undefined ? undefined : await findTask(db, incident.id, taskNumber);
  return {
    kind: 'event',
    incident: toSnapshot(incident, roles, open),
    event,
    audience,
    ...(task ? { task } : {}),
  };
}

function recordFailure(deps: NotifyDeps, step: string) {
  return async (payload: { incidentId: string }, error: Error, ctx: JobContext) => {
    if (!(await findIncident(deps.db, payload.incidentId))) return;
    await recordEvent(deps.db, {
      incidentId: payload.incidentId,
      kind: 'side_effect_failed',
      at: deps.clock.now(),
      data: { step, error: error instanceof PermanentError ? error.code : error.message, job: ctx.key },
    });
  };
}

export function notifyJobs(deps: NotifyDeps): JobBinding[] {
  const { db, chat } = deps;
  return [
    handle(refreshJob, {
      async run(p, ctx) {
        const incident = await findIncident(db, p.incidentId);
        if (!incident) return;
        if (!incident.cardTs || !incident.channelId)
          return waitForSetup(db, ctx, incident.id, (i) => !!i.cardTs && !!i.channelId);
        const [roles, open, followups] = [
          await currentRoles(db, incident.id),
          await openTaskCount(db, incident.id),
          await countFollowups(db, incident.id),
        ];
        const snapshot = toSnapshot(incident, roles, open, followups);
        await chat.update(
          { channel: incident.channelId, ts: incident.cardTs },
          { kind: 'card', incident: snapshot },
        );
        const topic = chat.topic(snapshot);
        if (topic !== incident.lastTopic) {
          await chat.setTopic(incident.channelId, topic);
          await db.update(incidents).set({ lastTopic: topic }).where(eq(incidents.id, incident.id));
        }
      },
      onGiveUp: recordFailure(deps, 'updating the card'),
    }),

    handle(postJob, {
      async run(p, ctx) {
        const incident = await findIncident(db, p.incidentId);
        if (!incident) return;
        let channel: string | undefined;
        let threadTs: string | undefined;
        switch (p.target) {
          case 'dm':
            // The DM channel's id lets a retry look for the message it may already have sent.
            channel = await chat.openDm(p.userId as string);
            break;
          case 'channel':
            if (!incident.channelId) return waitForSetup(db, ctx, incident.id, (i) => !!i.channelId);
            channel = incident.channelId;
            break;
          case 'announcement':
            if (!incident.announcementTs || !incident.announcementChannelId) {
              // No announcement to thread under: wait for setup, or skip if it was never made.
              if (!incident.announceSettled)
                await waitForSetup(db, ctx, incident.id, (i) => i.announceSettled);
              return;
            }
            channel = incident.announcementChannelId;
            threadTs = incident.announcementTs;
            break;
        }
        const marker = { type: MESSAGE_MARKER.post, id: ctx.key };
        if (!channel) return;
        if (await postedBefore(chat, ctx.attempt, channel, marker, ctx.createdAt)) return;
        const notice: IncidentNotice | undefined =
          'eventId' in p
            ? await eventNotice(db, incident, p.eventId, p.target === 'dm' ? 'person' : 'channel')
            : { kind: 'prerendered', text: p.message.text, blocks: p.message.blocks ?? [] };
        if (notice) await chat.post(channel, notice, { threadTs, marker });
      },
      onGiveUp: recordFailure(deps, 'posting a message'),
    }),

    handle(inviteJob, {
      async run(p, ctx) {
        const incident = await findIncident(db, p.incidentId);
        if (!incident || (p.unlessResolved && incident.status === 'resolved')) return;
        if (!incident.channelId) return waitForSetup(db, ctx, incident.id, (i) => !!i.channelId);
        const bot = await chat.botUserId();
        for (const user of p.userIds) if (user !== bot) await chat.invite(incident.channelId, user);
      },
      onGiveUp: recordFailure(deps, 'inviting to the channel'),
    }),
  ];
}
