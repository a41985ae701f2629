import { and, eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config.js';
import type { Db } from '../db/client.js';
import { type IncidentRow, incidents, type TimerRow, timers } from '../db/schema.js';
import { PermanentError, RetryableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SlackGateway } from '../slack/gateway.js';
import { incidentCard, incidentTopic } from '../slack/views/incident.js';
import { recordEvent } from '../timeline/timeline.js';
import type { TimerHandler } from '../timers/engine.js';
import { provisionKey } from './declare.js';
import { findIncident, loadSnapshot } from './queries.js';
import type { PostPayload } from './run.js';

/**
 * Job handlers for the Slack side effects of running an incident: re-rendering the card and topic, posting
 * messages, inviting people. Each is idempotent on retry; each waits (retries shortly) while the incident's
 * setup job has not yet made the channel, card or announcement it needs.
 */

export interface EffectsDeps {
  db: Db;
  slack: SlackGateway;
  config: IncidentConfig;
  clock: Clock;
  logger: Logger;
}

const WAIT_FOR_SETUP_MS = 2000;

async function setupPending(db: Db, incidentId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: timers.id })
    .from(timers)
    .where(and(eq(timers.key, provisionKey(incidentId)), eq(timers.status, 'pending')));
  return !!row;
}

/** Waits for the setup job, or gives up quietly if setup ended without what we need (it has said why). */
async function waitForSetup(db: Db, incident: IncidentRow, what: string): Promise<'skip'> {
  if (await setupPending(db, incident.id))
    throw new RetryableError(`waiting for the ${what}`, WAIT_FOR_SETUP_MS);
  return 'skip';
}

function recordFailure(deps: EffectsDeps, step: string) {
  return async (timer: TimerRow, error: Error) => {
    const incidentId = String(timer.payload.incidentId ?? '');
    if (!(await findIncident(deps.db, incidentId))) return;
    await recordEvent(deps.db, {
      incidentId,
      kind: 'side_effect_failed',
      at: deps.clock.now(),
      data: { step, error: error instanceof PermanentError ? error.code : error.message, job: timer.key },
    });
  };
}

/** Re-renders the card (chat.update) and the topic from the committed state; last writer always wins. */
export function refreshHandler(deps: EffectsDeps): TimerHandler {
  return {
    async run(timer) {
      const incident = await findIncident(deps.db, String(timer.payload.incidentId ?? ''));
      if (!incident) return;
      if (!incident.cardTs || !incident.channelId) {
        await waitForSetup(deps.db, incident, 'card');
        return;
      }
      const snapshot = await loadSnapshot(deps.db, incident.id);
      if (!snapshot) return;
      await deps.slack.updateMessage(
        incident.channelId,
        incident.cardTs,
        incidentCard(snapshot, deps.config.severities),
      );
      const topic = incidentTopic(snapshot);
      if (topic !== incident.lastTopic) {
        await deps.slack.setTopic(incident.channelId, topic);
        await deps.db.update(incidents).set({ lastTopic: topic }).where(eq(incidents.id, incident.id));
      }
    },
    onGiveUp: recordFailure(deps, 'updating the card'),
  };
}

export function postHandler(deps: EffectsDeps): TimerHandler {
  return {
    async run(timer, ctx) {
      const payload = timer.payload as PostPayload;
      const incident = await findIncident(deps.db, payload.incidentId);
      if (!incident) return;
      let channel: string | null | undefined;
      let threadTs: string | undefined;
      switch (payload.target) {
        case 'dm':
          // The DM channel's id lets a retry look for the message it may already have sent.
          channel = payload.userId ? await deps.slack.openDm(payload.userId) : undefined;
          break;
        case 'channel':
          channel = incident.channelId;
          if (!channel) {
            await waitForSetup(deps.db, incident, 'channel');
            return;
          }
          break;
        case 'announcement':
          if (!incident.announcementTs || !incident.announcementChannelId) {
            // No announcement to thread under: wait for setup, or skip if it was never made.
            if (!incident.announceSettled) await waitForSetup(deps.db, incident, 'announcement');
            return;
          }
          channel = incident.announcementChannelId;
          threadTs = incident.announcementTs;
          break;
      }
      if (!channel) return;
      const marker = { type: 'incident_post', id: timer.key };
      if (ctx.attempt > 1) {
        // An earlier attempt may have posted and died before recording it.
        const found = await deps.slack
          .findMarkedMessage(channel, marker, timer.createdAt)
          .catch((err: unknown) => {
            if (err instanceof PermanentError) return undefined;
            throw err;
          });
        if (found) return;
      }
      await deps.slack.postMessage({ channel, threadTs, ...payload.message, marker });
    },
    onGiveUp: recordFailure(deps, 'posting a message'),
  };
}

export function inviteHandler(deps: EffectsDeps): TimerHandler {
  return {
    async run(timer) {
      const incident = await findIncident(deps.db, String(timer.payload.incidentId ?? ''));
      if (!incident) return;
      if (!incident.channelId) {
        await waitForSetup(deps.db, incident, 'channel');
        return;
      }
      const botUserId = await deps.slack.getBotUserId();
      const userIds = (timer.payload.userIds as string[] | undefined) ?? [];
      for (const user of userIds) if (user !== botUserId) await deps.slack.invite(incident.channelId, user);
    },
    onGiveUp: recordFailure(deps, 'inviting to the channel'),
  };
}
