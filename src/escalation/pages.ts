import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { PermanentError, RetryableError, UserError } from '../errors.js';
import { type IncidentChat, MESSAGE_MARKER, postedBefore } from '../incidents/chat.js';
import { eventNotice, invite, post, refreshCard } from '../incidents/notify.js';
import { findIncident } from '../incidents/queries.js';
import { assertOpen, type IncidentDeps, type Locked, withIncident } from '../incidents/unit-of-work.js';
import {
  handle,
  type JobBinding,
  type JobContext,
  type JobKey,
  jobKey,
  jobType,
  pendingJobs,
  scheduleOnce,
} from '../jobs/job.js';
import { SCHEDULE_TARGET_PREFIX } from '../oncall/model.js';
import { whoIsOnCall } from '../oncall/queries.js';
import type { TimelineData } from '../timeline/model.js';
import { recordEvent, type TimelineEvent } from '../timeline/timeline.js';

/**
 * Paging people: a tier of a policy, or `/incident page @person …` by hand. A page is one timeline event
 * (`paged`), a post in the channel saying who was paged, one `page.deliver` job per person (a DM with an
 * Acknowledge button, once, even across a crash) and an invite of them all to the channel. The DM never
 * waits for the channel: a page must not depend on Slack letting us create one. Everything is keyed per
 * page and per person, so a re-run adds nothing.
 */

/** `/incident page`: the targets are expanded (user groups to their members) when the job runs. */
export const pageTargetsJob = jobType(
  'page.targets',
  z.object({
    incidentId: z.uuid(),
    targets: z.array(z.string()).min(1),
    label: z.string(),
    actorId: z.string(),
    reason: z.string().nullable(),
  }),
);

/** One page to one person: a DM saying what the `paged` event says. */
export const pageDeliverJob = jobType(
  'page.deliver',
  z.union([
    z.object({ incidentId: z.uuid(), userId: z.string(), eventId: z.number().int() }),
    /**
     * Upgrading: the version before typed jobs queued the page's words, and invited the person in the
     * same job. Delete once no such row can be pending (the release after 0.1.0).
     */
    z.object({ incidentId: z.uuid(), userId: z.string(), label: z.string(), reason: z.string().nullable() }),
  ]),
);

export const pageKeys = {
  manual: (incidentId: string, at: Date, actorId: string) =>
    jobKey('incident', incidentId, 'page', 'manual', at.getTime(), actorId),
  deliver: (incidentId: string, page: string, userId: string) =>
    jobKey('incident', incidentId, 'page', page, userId),
};

/** Who is on call for a schedule now, if anyone: how a tier's `schedule:<name>` becomes a person. */
export type OnCallLookup = (schedule: string) => Promise<string | undefined>;

/** Resolves `schedule:<name>` when the tier fires (not when the incident started), overrides included. */
export const onCallLookup =
  (deps: { db: Db; config: IncidentConfig; clock: Clock }): OnCallLookup =>
  async (schedule) =>
    (await whoIsOnCall(deps.db, deps.config, schedule, deps.clock.now()))?.userId;

/** People behind a list of user, user-group and schedule targets (groups expanded), without the bot. */
export async function expandTargets(
  chat: Pick<IncidentChat, 'botUserId' | 'usergroupMembers'>,
  targets: string[],
  onCall?: OnCallLookup,
): Promise<string[]> {
  const bot = await chat.botUserId();
  const users: string[] = [];
  for (const target of targets) {
    let members: string[];
    if (target.startsWith(SCHEDULE_TARGET_PREFIX)) {
      const user = onCall ? await onCall(target.slice(SCHEDULE_TARGET_PREFIX.length)) : undefined;
      members = user ? [user] : [];
    } else members = target.startsWith('S') ? await chat.usergroupMembers(target) : [target];
    for (const u of members) if (u !== bot && !users.includes(u)) users.push(u);
  }
  return users;
}

/** How long at most a tier waiting for an earlier one sleeps before it looks again, should no wake come. */
const TIER_WAIT_MAX_MS = 5000;
/**
 * A tier stops waiting for an earlier one that has failed this many attempts (Slack failing its user
 * group, say): with the engine's backoff that is a few seconds, and a tier that keeps failing must not
 * hold the escalation back for the hour its retries can take.
 */
const WAIT_FOR_FAILING_TIER = 3;

/**
 * Tiers page in order. A step finds the record saying which step is next; when that is an earlier one
 * still to run (retrying after Slack failed it, or claimed beside this one because both fell due while
 * the engine was behind), this step must neither page first nor pass it by, which would leave that
 * tier unpaged. It asks for one more run of itself after the earlier step (`ctx.runAgain`, fenced by its
 * lease, so a re-plan that happened meanwhile stands) and returns true: the earlier step wakes it
 * through `wakeWaiters` when it pages, and a wake that comes while this run is still finishing runs it
 * again as soon as the run ends; should a wake be lost all the same, it looks again when the earlier step
 * is next due or 5 s on, whichever is sooner (plus the engine's fallback for waiting jobs). Waiting is a
 * re-run of the job, not a failed attempt, so a long wait never parks it. An earlier step that will
 * never run (cancelled, failed for good) does not hold it up, and neither does one that has failed
 * `WAIT_FOR_FAILING_TIER` attempts: this tier then pages on time, and the failing one finds its turn
 * passed should it get through later (its failures are in the log).
 *
 * Called without the lock that the earlier step pages under, the caller gives `lookAgain`: the steps
 * still before this one, read afresh. The earlier step may have paged between the caller's read and this
 * run's asking, waking nobody, as nobody waited yet (tier 2 then slept until its fallback, and the
 * tests, whose clock stands still, saw it unpaged now and then); read after the asking, the record shows
 * that step gone, and this one runs again at once.
 */
export async function waitForEarlierTiers(
  db: Db | Tx,
  ctx: Pick<JobContext, 'runAgain'>,
  earlier: JobKey[],
  now: Date,
  lookAgain?: () => Promise<JobKey[]>,
): Promise<boolean> {
  const first = (await pendingJobs(db, earlier)).find((j) => j.failures < WAIT_FOR_FAILING_TIER);
  if (!first) return false;
  const at = new Date(Math.min(first.dueAt.getTime(), now.getTime() + TIER_WAIT_MAX_MS));
  await ctx.runAgain(at, { after: first.key });
  if (lookAgain && !(await lookAgain()).includes(first.key)) await ctx.runAgain(now);
  return true;
}

/** Records one page and schedules its channel post, its DMs and its invites, once each. */
export async function schedulePages(
  l: Locked,
  page: {
    key: string;
    label: string;
    users: string[];
    reason: string | null;
    actorId: string | null;
    /** Nobody to page: the tier paged at once instead, if any. */
    skippedTo?: string | null;
  },
): Promise<void> {
  const eventId = await recordEvent(l.tx, {
    incidentId: l.incident.id,
    kind: 'paged',
    actorId: page.actorId,
    at: l.now,
    data: {
      label: page.label,
      users: page.users,
      reason: page.reason,
      ...(page.skippedTo !== undefined ? { skippedTo: page.skippedTo } : {}),
    },
  });
  for (const userId of page.users) {
    await scheduleOnce(
      l.tx,
      pageDeliverJob,
      {
        key: pageKeys.deliver(l.incident.id, page.key, userId),
        dueAt: l.now,
        payload: { incidentId: l.incident.id, userId, eventId },
      },
      l.now,
    );
  }
  await post(l, `page:${page.key}`, 'channel', eventId);
  // One invite per person, as one DM: one person Slack will not invite must not keep the others out.
  for (const userId of page.users)
    await invite(l, `page:${page.key}:${userId}`, [userId], { unlessResolved: true });
  await refreshCard(l);
}

/** Pages people (and user groups) by hand, with the same DM, invite and Acknowledge flow as a tier. */
export async function pagePeople(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; targets: string[]; reason?: string },
) {
  if (input.targets.length === 0) throw new UserError('nobody', 'Name at least one person or group to page.');
  return withIncident(deps, input.incidentId, async (l) => {
    assertOpen(l);
    await scheduleOnce(
      l.tx,
      pageTargetsJob,
      {
        key: pageKeys.manual(l.incident.id, l.now, input.actorId),
        dueAt: l.now,
        payload: {
          incidentId: l.incident.id,
          targets: input.targets,
          label: `by <@${input.actorId}>`,
          actorId: input.actorId,
          reason: input.reason ?? null,
        },
      },
      l.now,
    );
  });
}

/** The `paged` event a page queued by the version before typed jobs would have named. */
const legacyPage = (incidentId: string, data: TimelineData['paged'], at: Date): TimelineEvent => ({
  id: 0,
  incidentId,
  kind: 'paged',
  actorId: null,
  occurredAt: at,
  data: { ...data, reason: data.reason ?? null },
});

export interface PageDeps {
  db: Db;
  chat: IncidentChat;
  clock: IncidentDeps['clock'];
}

export function pageJobs(deps: PageDeps): JobBinding[] {
  return [
    handle(pageTargetsJob, {
      async run(p, ctx) {
        const users = await expandTargets(deps.chat, p.targets);
        await withIncident(deps, p.incidentId, async (l) => {
          if (l.incident.status === 'resolved') return;
          await schedulePages(l, {
            key: `manual:${ctx.id}`,
            label: p.label,
            users,
            reason: p.reason,
            actorId: p.actorId,
          });
        });
      },
    }),

    handle(pageDeliverJob, {
      async run(p, ctx) {
        const incident = await findIncident(deps.db, p.incidentId);
        if (!incident || incident.status === 'resolved') return;
        const dm = await deps.chat.openDm(p.userId);
        const marker = { type: MESSAGE_MARKER.page, id: ctx.key };
        // A failure to look that may pass (a rate limit, a 500) retries the job rather than risk a second
        // DM; only a lookup Slack refuses for good (no history access) means posting again.
        const sent = await postedBefore(deps.chat, ctx.attempt, dm, marker, ctx.createdAt);
        const event =
          'eventId' in p
            ? p.eventId
            : legacyPage(incident.id, { label: p.label, users: [p.userId], reason: p.reason }, ctx.createdAt);
        if (!sent) {
          const notice = await eventNotice(deps.db, incident, event, 'person');
          if (notice) await deps.chat.post(dm, notice, { marker });
        }
        if ('eventId' in p) return;
        if (!incident.channelId)
          throw new RetryableError('waiting for the incident channel before inviting', 2000);
        await deps.chat.invite(incident.channelId, p.userId);
      },
      async onGiveUp(p, error) {
        if (!(await findIncident(deps.db, p.incidentId))) return;
        await recordEvent(deps.db, {
          incidentId: p.incidentId,
          kind: 'side_effect_failed',
          at: deps.clock.now(),
          data: {
            step: `paging <@${p.userId}>`,
            error: error instanceof PermanentError ? error.code : error.message,
          },
        });
      },
    }),
  ];
}
