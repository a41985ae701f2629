import { eq, max, sum } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { UserError } from '../errors.js';
import { alertsChanged, alertsLinked } from '../incidents/alerts.js';
import { postedBefore } from '../incidents/chat.js';
import { type DeclareRequest, declareIncident } from '../incidents/declare.js';
import { SUMMARY_MAX, TITLE_MAX } from '../incidents/model.js';
import { findIncident } from '../incidents/queries.js';
import { waitForSetup } from '../incidents/setup.js';
import type { IncidentDeps, Locked } from '../incidents/unit-of-work.js';
import { handle, type JobBinding, schedule } from '../jobs/job.js';
import { codePoints, truncate } from '../text.js';
import { groupChanged, RELAY_EVERY_MS, stopPaging } from './changes.js';
import type { AlertsChat } from './chat.js';
import { alertKeys, declareJob, relayJob } from './jobs.js';
import type { AlertSeverity } from './model.js';
import { changesSince, groupNotice, groupWithAlerts } from './notices.js';
import { type AlertGroupRow, alertEvents, alertGroups } from './tables.js';

/**
 * Alert groups becoming incidents. A group is declared by hand (its **Declare incident** button opens the
 * declare form, prefilled) or by its route's `declare:` (the bot as reporter, once per group); either way
 * the link is made in the declaring transaction. A linked group's message shows the incident; the incident
 * channel gets the group's alerts and, coalesced, what changes; the incident counts the firing alerts and
 * its timeline records the first alert and when all have resolved. The group's own paging stops: the
 * incident's severity policy pages from now on, so nobody is paged twice for one problem.
 */

export interface AlertIncidentDeps {
  db: Db;
  clock: Clock;
  config: IncidentConfig;
  chat: AlertsChat;
  incidents: IncidentDeps;
}

/** Alert severities, worst first, preselect the config's severities in their order (clamped to the last). */
const SEVERITY_RANK: Record<AlertSeverity, number> = { critical: 0, error: 1, warning: 2, info: 3 };

export interface DeclareDraft {
  groupId: number;
  title: string;
  severity: string | undefined;
  summary: string;
  /** Where the group's message is. */
  channelId: string;
}

async function lockGroup(l: Locked, groupId: number): Promise<AlertGroupRow> {
  const [group] = await l.tx.select().from(alertGroups).where(eq(alertGroups.id, groupId)).for('update');
  if (!group) throw new UserError('not_found', 'That alert group no longer exists.');
  return group;
}

async function refuseIfDeclared(db: Db | Tx, group: AlertGroupRow): Promise<void> {
  if (!group.incidentId) return;
  const incident = await findIncident(db, group.incidentId);
  const where = incident?.channelId ? ` in <#${incident.channelId}>` : '';
  throw new UserError(
    'already_declared',
    `These alerts are incident #${incident?.number ?? '?'} already${where}.`,
  );
}

/** In the declaring transaction: the group becomes the incident's, and stops paging on its own. */
async function linkGroup(l: Locked, groupId: number): Promise<void> {
  const group = await lockGroup(l, groupId);
  await refuseIfDeclared(l.tx, group);
  const [linked] = await l.tx
    .update(alertGroups)
    .set({ incidentId: l.incident.id, updatedAt: l.now })
    .where(eq(alertGroups.id, group.id))
    .returning();
  await stopPaging(l.tx, group.id, l.now);
  await alertsLinked(l, { groupId: group.id, title: group.title, firing: group.firingCount });
  await groupChanged(l.tx, linked ?? group, l.now);
}

/** What the declare form starts with for a group: its title, a severity, and its alerts as the summary. */
export async function declareDraft(
  deps: Pick<AlertIncidentDeps, 'db' | 'clock' | 'config'>,
  groupId: number,
) {
  const [group] = await deps.db.select().from(alertGroups).where(eq(alertGroups.id, groupId));
  if (!group) throw new UserError('not_found', 'That alert group no longer exists.');
  await refuseIfDeclared(deps.db, group);
  return draftOf(deps, group);
}

async function draftOf(
  deps: Pick<AlertIncidentDeps, 'db' | 'clock' | 'config'>,
  group: AlertGroupRow,
): Promise<DeclareDraft> {
  const { severities, alerts: hub } = deps.config;
  const routed = hub?.routes[group.routeIndex]?.declare;
  const ranked = severities[Math.min(SEVERITY_RANK[group.severity], severities.length - 1)]?.id;
  const { alerts, more } = await groupWithAlerts(deps.db, group, deps.clock.now());
  const head = `${group.firingCount} firing of ${group.alertCount} alert${group.alertCount === 1 ? '' : 's'} (${group.severity}):`;
  const lines = [head, ...alerts.map((a) => `• [${a.status}] ${a.summary}`)];
  if (more > 0) lines.push(`…and ${more} more`);
  let summary = '';
  for (const line of lines) {
    const next = summary ? `${summary}\n${line}` : line;
    if (codePoints(next) > SUMMARY_MAX) break;
    summary = next;
  }
  return {
    groupId: group.id,
    title: truncate(group.title.replace(/\s+/g, ' ').trim() || 'Alerts firing', TITLE_MAX),
    severity: routed ?? ranked,
    summary,
    channelId: group.channelId,
  };
}

/** The declare form's submission for a group: the incident and its link, in one transaction. */
export function declareFromGroup(deps: IncidentDeps, req: DeclareRequest & { groupId: number }) {
  const { groupId, ...request } = req;
  return declareIncident(deps, request, { alsoInTransaction: (l) => linkGroup(l, groupId) });
}

export function alertIncidentJobs(deps: AlertIncidentDeps): JobBinding[] {
  const { db, chat, clock } = deps;
  return [
    handle(declareJob, {
      async run(p) {
        const [group] = await db.select().from(alertGroups).where(eq(alertGroups.id, p.groupId));
        // Declared by hand meanwhile, or over before it got here.
        if (!group || group.incidentId || group.status === 'resolved') return;
        const severity = deps.config.alerts?.routes[group.routeIndex]?.declare;
        if (!severity) return;
        const draft = await draftOf(deps, group);
        const me = await chat.workspace();
        try {
          await declareIncident(
            deps.incidents,
            {
              title: draft.title,
              severity,
              summary: draft.summary,
              commanderId: undefined,
              isPrivate: false,
              isTest: false,
              teamId: me.teamId,
              reporterId: me.botUserId,
              // One incident per group, however often this runs.
              declareKey: `alert-group:${group.id}`,
              sourceChannelId: group.channelId,
            },
            { alsoInTransaction: (l) => linkGroup(l, group.id) },
          );
        } catch (err) {
          // Someone pressed Declare incident first: theirs is the incident.
          if (err instanceof UserError && err.code === 'already_declared') return;
          throw err;
        }
      },
    }),

    handle(relayJob, {
      async run(p, ctx) {
        const [group] = await db.select().from(alertGroups).where(eq(alertGroups.id, p.groupId));
        if (!group?.incidentId) return;
        const incident = await findIncident(db, group.incidentId);
        if (!incident) return;
        if (!incident.channelId) return waitForSetup(db, ctx, incident.id, (i) => !!i.channelId);
        const channel = incident.channelId;
        const now = clock.now();
        // At most one relay every 5 s, whoever asked for this one and whatever they knew of the last.
        const allowed = group.relayedAt ? new Date(group.relayedAt.getTime() + RELAY_EVERY_MS) : now;
        if (allowed > now) {
          await schedule(db, relayJob, { key: alertKeys.relay(group.id), dueAt: allowed, payload: p }, now);
          return;
        }
        let cursor = group.incidentCursor;
        if (cursor === 0) {
          // The first relay shows the group as it is now; later ones, what changed since.
          const [last] = await db
            .select({ id: max(alertEvents.id) })
            .from(alertEvents)
            .where(eq(alertEvents.groupId, group.id));
          const marker = { type: 'alert_relay', id: `${group.id}:0` };
          if (!(await postedBefore(chat, ctx.attempt, channel, marker, group.openedAt)))
            await chat.post(channel, await groupNotice(db, group, now), { marker });
          cursor = last?.id ?? 0;
        } else {
          const changes = await changesSince(db, group, cursor, now);
          if (changes.last > cursor) {
            const marker = { type: 'alert_relay', id: `${group.id}:${changes.last}` };
            if (!(await postedBefore(chat, ctx.attempt, channel, marker, changes.first)))
              await chat.post(channel, changes.notice, { marker });
            cursor = changes.last;
          }
        }
        await db
          .update(alertGroups)
          .set({ incidentCursor: cursor, relayedAt: now })
          .where(eq(alertGroups.id, group.id));
        await alertsChanged(deps.incidents, {
          incidentId: incident.id,
          countFiring: async (tx) => {
            const [firing] = await tx
              .select({ n: sum(alertGroups.firingCount).mapWith(Number) })
              .from(alertGroups)
              .where(eq(alertGroups.incidentId, incident.id));
            return firing?.n ?? 0;
          },
          title: group.title,
        });
      },
    }),
  ];
}
