import { and, asc, eq } from 'drizzle-orm';
import { type IncidentRow, statusUpdates } from '../db/schema.js';
import { UserError } from '../errors.js';
import { DEFAULT_RESOLVED_TEXT } from '../statuspage/model.js';
import { recordEvent } from '../timeline/timeline.js';
import { type IncidentStatus, SUMMARY_MAX, TITLE_MAX } from './model.js';
import { invite, post, postEverywhere, refreshCard } from './notify.js';
import { openTaskCount } from './queries.js';
import { planOnReopened, planOnResolved, replanOnSeverity } from './reminders.js';
import { assertTransition, authorize, cleanText, parseSeverity, timestampsAfter } from './rules.js';
import {
  actorOf,
  assertOpen,
  type IncidentDeps,
  type Locked,
  updateIncident,
  withIncident,
} from './unit-of-work.js';

/**
 * The incident's lifecycle: severity, acknowledgement, the status moves (investigating → identified →
 * monitoring → resolved, and back), resolving and reopening. Each use-case locks the incident, checks the
 * rules, writes the change and its timeline event, re-plans reminders and escalation, and schedules what
 * Slack must hear — all in one transaction.
 */

export async function changeSeverity(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; severity: string },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('change_severity', actorOf(deps, l, input.actorId));
    assertOpen(l);
    const to = parseSeverity(input.severity, deps.config.severities).id;
    const from = l.incident.severity;
    if (from === to) throw new UserError('unchanged', `The severity is already ${to}.`);
    await updateIncident(l, { severity: to });
    await deps.escalation.severityChanged(l);
    await replanOnSeverity(l, deps.config);
    const event = await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'severity_changed',
      actorId: input.actorId,
      at: l.now,
      data: { from, to },
    });
    await post(l, `severity:${l.now.getTime()}:${to}`, 'channel', event);
    await refreshCard(l);
    return { from, to };
  });
}

/**
 * `/incident title …` and `/incident summary …`: the same people who may change the severity. The channel
 * keeps its name (people have linked to it); the card, the topic and the timeline follow.
 */
export async function editIncident(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; title?: string; summary?: string },
) {
  const title = input.title === undefined ? undefined : cleanText(input.title, 'title', TITLE_MAX);
  const summary = input.summary === undefined ? undefined : cleanText(input.summary, 'summary', SUMMARY_MAX);
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('edit', actorOf(deps, l, input.actorId));
    const changes = {
      ...(title !== undefined && title !== l.incident.title
        ? { title: { from: l.incident.title, to: title } }
        : {}),
      ...(summary !== undefined && summary !== l.incident.summary
        ? { summary: { from: l.incident.summary, to: summary } }
        : {}),
    };
    if (!changes.title && !changes.summary) throw new UserError('unchanged', 'Nothing changed.');
    await updateIncident(l, {
      ...(changes.title ? { title: changes.title.to } : {}),
      ...(changes.summary ? { summary: changes.summary.to } : {}),
    });
    const event = await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'incident_updated',
      actorId: input.actorId,
      at: l.now,
      data: changes,
    });
    await post(l, `edited:${l.now.getTime()}`, 'channel', event);
    await refreshCard(l);
    return changes;
  });
}

/**
 * Moves the lifecycle status; one timeline event (`kind`) records the move and anything said with it.
 * Returns the event's id.
 */
export async function moveStatus(
  deps: IncidentDeps,
  l: Locked,
  actorId: string,
  to: IncidentStatus,
  event:
    | { kind: 'status_changed' }
    | { kind: 'reopened' }
    | { kind: 'resolved'; data: { summary: string; openTasks: number } },
  extra: Partial<IncidentRow> = {},
): Promise<number> {
  const from = l.incident.status;
  assertTransition(from, to);
  const stamps = timestampsAfter(l.incident, to, l.now);
  // Leaving `investigating` means someone is on it: paging stops as with an acknowledgement.
  if (!l.incident.acknowledgedAt && stamps.acknowledgedAt) await deps.escalation.stop(l);
  await updateIncident(l, { status: to, ...stamps, ...extra });
  const base = { incidentId: l.incident.id, actorId, at: l.now };
  return event.kind === 'resolved'
    ? recordEvent(l.tx, { ...base, kind: 'resolved', data: { from, to, ...event.data } })
    : recordEvent(l.tx, { ...base, kind: event.kind, data: { from, to } });
}

export async function resolveIncident(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; summary: string; publicText?: string },
) {
  const summary = cleanText(input.summary, 'summary');
  const publicText = input.publicText?.trim() ? cleanText(input.publicText, 'public text') : undefined;
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('resolve', actorOf(deps, l, input.actorId));
    const openTasks = await openTaskCount(l.tx, l.incident.id);
    await publishResolution(l, input.actorId, publicText);
    const event = await moveStatus(
      deps,
      l,
      input.actorId,
      'resolved',
      { kind: 'resolved', data: { summary, openTasks } },
      { resolutionSummary: summary, nextUpdateAt: null },
    );
    // Resolving stops every escalation and reminder.
    await deps.escalation.stop(l);
    await planOnResolved(l, deps.config);
    await postEverywhere(deps.config, l, `resolved:${l.now.getTime()}`, event);
    await refreshCard(l);
  });
}

/**
 * An incident customers heard of ends on the status page too: a final customer-facing update, resolved,
 * with the liaison's words (or the default), and every component it named back to operational.
 */
async function publishResolution(l: Locked, actorId: string, publicText: string | undefined) {
  const published = await l.tx
    .select({ publicTitle: statusUpdates.publicTitle, components: statusUpdates.components })
    .from(statusUpdates)
    .where(and(eq(statusUpdates.incidentId, l.incident.id), eq(statusUpdates.audience, 'customers')))
    .orderBy(asc(statusUpdates.id));
  if (published.length === 0) return;
  const components = [...new Set(published.flatMap((u) => u.components.map((c) => c.id)))];
  await l.tx.insert(statusUpdates).values({
    incidentId: l.incident.id,
    status: 'resolved',
    message: publicText ?? DEFAULT_RESOLVED_TEXT,
    audience: 'customers',
    postedBy: actorId,
    postedAt: l.now,
    publicTitle: published.findLast((u) => u.publicTitle)?.publicTitle ?? null,
    components: components.map((id) => ({ id, state: 'operational' as const })),
  });
}

export async function reopenIncident(deps: IncidentDeps, input: { incidentId: string; actorId: string }) {
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('reopen', actorOf(deps, l, input.actorId));
    const event = await moveStatus(deps, l, input.actorId, 'investigating', { kind: 'reopened' });
    await updateIncident(l, { reopenCount: l.incident.reopenCount + 1 });
    await planOnReopened(l, deps.config);
    await postEverywhere(deps.config, l, `reopened:${l.now.getTime()}`, event);
    await refreshCard(l);
  });
}

/**
 * Acknowledges the incident: paging stops, the timeline and the card say who and when. Returns whether the
 * incident has no commander, so the caller can offer (not force) the role.
 */
export async function acknowledge(deps: IncidentDeps, input: { incidentId: string; actorId: string }) {
  return withIncident(deps, input.incidentId, async (l) => {
    assertOpen(l);
    if (l.incident.acknowledgedBy) {
      throw new UserError(
        'already_acknowledged',
        `<@${l.incident.acknowledgedBy}> already acknowledged the incident.`,
      );
    }
    await updateIncident(l, {
      acknowledgedAt: l.incident.acknowledgedAt ?? l.now,
      acknowledgedBy: input.actorId,
    });
    const stoppedSteps = await deps.escalation.stop(l);
    const event = await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'acknowledged',
      actorId: input.actorId,
      at: l.now,
      data: { stoppedSteps },
    });
    await post(l, `ack:${input.actorId}`, 'channel', event);
    // Someone acknowledging from a DM belongs in the channel.
    await invite(l, `ack:${input.actorId}`, [input.actorId]);
    await refreshCard(l);
    return { incident: l.incident, offerCommand: !l.roles.commander };
  });
}
