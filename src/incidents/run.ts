import { and, asc, desc, eq, isNull, ne } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  type IncidentRow,
  type IncidentStatus,
  incidentRoles,
  incidents,
  type Role,
  statusUpdates,
  type TaskRow,
  tasks,
  type UpdateAudience,
} from '../db/schema.js';
import { UserError } from '../errors.js';
import {
  onReopened,
  onResolved,
  planUpdateReminder,
  replanOnSeverity,
  scheduleTaskReminder,
  stopEscalation,
  timerKeys,
} from '../escalation/timers.js';
import { stripControl } from '../slack/text.js';
import {
  reopenedMessage,
  resolvedMessage,
  roleAssignedMessage,
  roleDm,
  severityChangedMessage,
  statusUpdateMessage,
  taskMessage,
} from '../slack/views/run.js';
import { listEvents, recordEvent } from '../timeline/timeline.js';
import { cancelTimers, scheduleTimer } from '../timers/engine.js';
import {
  actorOf,
  INVITE_KIND,
  type Locked,
  post,
  postEverywhere,
  type RunDeps,
  refreshCard,
  withIncident,
} from './locked.js';
import { loadSnapshot, openTaskCount, toSnapshot } from './queries.js';

export { INVITE_KIND, POST_KIND, type PostPayload, REFRESH_KIND, type RunDeps } from './locked.js';

import { assertTransition, authorize, parseSeverity, timestampsAfter } from './rules.js';

/**
 * The use-cases of running an incident. Each one locks the incident row (so concurrent changes to one
 * incident apply one after the other and none is lost), checks the rules, writes the change and its
 * timeline event, and schedules its Slack side effects as durable jobs — all in one transaction.
 * The card is never rendered here: a refresh job renders it from the committed state.
 */

const MAX_TEXT = 3000;
const cleanText = (s: string, what: string, max = MAX_TEXT): string => {
  const t = stripControl(s).trim();
  if (!t) throw new UserError('empty', `The ${what} is empty.`);
  if (Array.from(t).length > max)
    throw new UserError('too_long', `Keep the ${what} to ${max} characters or fewer.`);
  return t;
};

export async function findIncidentByChannel(
  db: Db,
  teamId: string,
  channelId: string,
): Promise<IncidentRow | undefined> {
  const [row] = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.teamId, teamId), eq(incidents.channelId, channelId)));
  return row;
}

// ── Roles ──────────────────────────────────────────────────────────────────────────────────────────

/**
 * Assigns several roles in one transaction (the roles modal); unchanged ones are skipped. Returns the roles
 * that changed. The previous holder is relieved (history kept), the new one invited and told what the
 * role means, and the channel hears about it.
 */
export async function assignRoles(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; assignments: Partial<Record<Role, string>> },
): Promise<Role[]> {
  return withIncident(deps, input.incidentId, async (l) => {
    const changes = (Object.entries(input.assignments) as [Role, string][]).filter(
      ([role, user]) => l.roles[role] !== user,
    );
    if (changes.length === 0) return [];
    authorize('assign_role', actorOf(deps, l, input.actorId));
    for (const [role, userId] of changes) {
      const previous = l.roles[role];
      const [relieved] = await l.tx
        .update(incidentRoles)
        .set({ relievedAt: l.now })
        .where(
          and(
            eq(incidentRoles.incidentId, l.incident.id),
            eq(incidentRoles.role, role),
            isNull(incidentRoles.relievedAt),
          ),
        )
        .returning({ id: incidentRoles.id });
      const [row] = await l.tx
        .insert(incidentRoles)
        .values({ incidentId: l.incident.id, role, userId, assignedBy: input.actorId, assignedAt: l.now })
        .returning({ id: incidentRoles.id });
      await recordEvent(l.tx, {
        incidentId: l.incident.id,
        kind: 'role_assigned',
        actorId: input.actorId,
        at: l.now,
        data: { role, userId, ...(previous ? { previous, relievedRoleId: relieved?.id } : {}) },
      });
      const key = `role:${row?.id}`;
      await scheduleTimer(
        l.tx,
        {
          key: `incident:${l.incident.id}:invite:${key}`,
          kind: INVITE_KIND,
          dueAt: l.now,
          payload: { incidentId: l.incident.id, userIds: [userId] },
        },
        l.now,
      );
      await post(l, `${key}:channel`, 'channel', roleAssignedMessage(role, userId, input.actorId, previous));
      await post(l, `${key}:dm`, 'dm', roleDm(l.incident, role, deps.config.roleDescriptions[role]), userId);
      l.roles = { ...l.roles, [role]: userId };
      if (role === 'commander') await cancelTimers(l.tx, timerKeys.remind(l.incident.id, 'commander'), l.now);
    }
    await refreshCard(l);
    return changes.map(([role]) => role);
  });
}

export async function assignRole(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; role: Role; userId: string },
) {
  const changed = await assignRoles(deps, { ...input, assignments: { [input.role]: input.userId } });
  if (changed.length === 0)
    throw new UserError('unchanged', `<@${input.userId}> is already the ${input.role}.`);
}

// ── Severity and lifecycle ─────────────────────────────────────────────────────────────────────────

export async function changeSeverity(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; severity: string },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('change_severity', actorOf(deps, l, input.actorId));
    if (l.incident.status === 'resolved') {
      throw new UserError('resolved', 'The incident is resolved. Reopen it first with `/incident reopen`.');
    }
    const to = parseSeverity(input.severity, deps.config.severities).id;
    const from = l.incident.severity;
    if (from === to) throw new UserError('unchanged', `The severity is already ${to}.`);
    await l.tx
      .update(incidents)
      .set({ severity: to, updatedAt: l.now })
      .where(eq(incidents.id, l.incident.id));
    await replanOnSeverity(l.tx, { ...l.incident, severity: to }, deps.config, l.now);
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'severity_changed',
      actorId: input.actorId,
      at: l.now,
      data: { from, to },
    });
    await post(
      l,
      `severity:${l.now.getTime()}:${to}`,
      'channel',
      severityChangedMessage(input.actorId, from, to),
    );
    await refreshCard(l);
    return { from, to };
  });
}

/** Moves the lifecycle status; one timeline event (`kind`) records the move and anything said with it. */
async function moveStatus(
  l: Locked,
  actorId: string,
  to: IncidentStatus,
  event: { kind: 'status_changed' | 'resolved' | 'reopened'; data?: Record<string, unknown> },
  extra: Partial<IncidentRow> = {},
) {
  const from = l.incident.status;
  assertTransition(from, to);
  const stamps = timestampsAfter(l.incident, to, l.now);
  // Leaving `investigating` means someone is on it: paging stops as with an acknowledgement.
  if (!l.incident.acknowledgedAt && stamps.acknowledgedAt) await stopEscalation(l.tx, l.incident.id, l.now);
  await l.tx
    .update(incidents)
    .set({ status: to, ...stamps, ...extra, updatedAt: l.now })
    .where(eq(incidents.id, l.incident.id));
  await recordEvent(l.tx, {
    incidentId: l.incident.id,
    kind: event.kind,
    actorId,
    at: l.now,
    data: { from, to, ...event.data },
  });
  l.incident = { ...l.incident, status: to, ...stamps, ...extra };
}

export async function resolveIncident(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; summary: string },
) {
  const summary = cleanText(input.summary, 'summary');
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('resolve', actorOf(deps, l, input.actorId));
    await moveStatus(
      l,
      input.actorId,
      'resolved',
      { kind: 'resolved', data: { summary } },
      { resolutionSummary: summary, nextUpdateAt: null },
    );
    await onResolved(l.tx, l.incident, deps.config, l.now);
    const snapshot = toSnapshot(l.incident, l.roles, await openTaskCount(l.tx, l.incident.id));
    await postEverywhere(
      deps,
      l,
      `resolved:${l.now.getTime()}`,
      resolvedMessage(snapshot, input.actorId, summary, l.now),
    );
    await refreshCard(l);
  });
}

export async function reopenIncident(deps: RunDeps, input: { incidentId: string; actorId: string }) {
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('reopen', actorOf(deps, l, input.actorId));
    await moveStatus(l, input.actorId, 'investigating', { kind: 'reopened' });
    await onReopened(l.tx, l.incident, deps.config, l.now);
    await postEverywhere(deps, l, `reopened:${l.now.getTime()}`, reopenedMessage(l.incident, input.actorId));
    await refreshCard(l);
  });
}

// ── Status updates ─────────────────────────────────────────────────────────────────────────────────

export async function postStatusUpdate(
  deps: RunDeps,
  input: {
    incidentId: string;
    actorId: string;
    message: string;
    status?: IncidentStatus;
    audience?: UpdateAudience;
    nextUpdateMinutes?: number;
  },
) {
  const text = cleanText(input.message, 'update');
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('post_update', actorOf(deps, l, input.actorId));
    if (l.incident.status === 'resolved') {
      throw new UserError('resolved', 'The incident is resolved. Reopen it first with `/incident reopen`.');
    }
    const status = input.status ?? l.incident.status;
    if (status === 'resolved')
      throw new UserError('use_resolve', 'To resolve the incident, use `/incident resolve`.');
    if (status !== l.incident.status) await moveStatus(l, input.actorId, status, { kind: 'status_changed' });
    const audience = input.audience ?? 'internal';
    const nextUpdateAt = input.nextUpdateMinutes
      ? new Date(l.now.getTime() + input.nextUpdateMinutes * 60_000)
      : null;
    const [row] = await l.tx
      .insert(statusUpdates)
      .values({
        incidentId: l.incident.id,
        status,
        message: text,
        audience,
        postedBy: input.actorId,
        postedAt: l.now,
        nextUpdateAt,
      })
      .returning({ id: statusUpdates.id });
    await l.tx
      .update(incidents)
      .set({ lastUpdateAt: l.now, nextUpdateAt, updatedAt: l.now })
      .where(eq(incidents.id, l.incident.id));
    await planUpdateReminder(l.tx, l.incident, deps.config, l.now, l.now);
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'status_update',
      actorId: input.actorId,
      at: l.now,
      data: {
        updateId: row?.id,
        status,
        audience,
        message: text,
        nextUpdateAt: nextUpdateAt?.toISOString() ?? null,
      },
    });
    const msg = statusUpdateMessage(l.incident, {
      status,
      message: text,
      audience,
      postedBy: input.actorId,
      nextUpdateAt,
    });
    await postEverywhere(deps, l, `update:${row?.id}`, msg);
    await refreshCard(l);
    return { status, audience, nextUpdateAt };
  });
}

// ── Tasks and notes ────────────────────────────────────────────────────────────────────────────────

export async function addTask(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; text: string; assigneeId?: string; minutes?: number },
): Promise<TaskRow> {
  const text = cleanText(input.text, 'task', 500);
  return withIncident(deps, input.incidentId, async (l) => {
    const number = l.incident.lastTaskNumber + 1;
    await l.tx
      .update(incidents)
      .set({ lastTaskNumber: number, updatedAt: l.now })
      .where(eq(incidents.id, l.incident.id));
    const dueAt = input.minutes ? new Date(l.now.getTime() + input.minutes * 60_000) : null;
    const [task] = await l.tx
      .insert(tasks)
      .values({
        incidentId: l.incident.id,
        number,
        text,
        assigneeId: input.assigneeId ?? null,
        createdBy: input.actorId,
        createdAt: l.now,
        dueAt,
      })
      .returning();
    if (!task) throw new Error('task insert returned nothing');
    if (dueAt) await scheduleTaskReminder(l.tx, l.incident.id, task.id, dueAt, l.now);
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'task_added',
      actorId: input.actorId,
      at: l.now,
      data: { number, text, assigneeId: task.assigneeId, dueAt: dueAt?.toISOString() ?? null },
    });
    await post(l, `task:${task.id}:added`, 'channel', taskMessage('added', task, input.actorId));
    await refreshCard(l);
    return task;
  });
}

async function lockedTask(l: Locked, number: number): Promise<TaskRow> {
  const [task] = await l.tx
    .select()
    .from(tasks)
    .where(and(eq(tasks.incidentId, l.incident.id), eq(tasks.number, number)));
  if (!task) throw new UserError('no_task', `There is no task ${number}. See them with \`/incident tasks\`.`);
  return task;
}

export async function completeTask(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; number: number },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    const task = await lockedTask(l, input.number);
    if (task.doneAt) throw new UserError('done', `Task ${task.number} is already done.`);
    await l.tx.update(tasks).set({ doneAt: l.now, doneBy: input.actorId }).where(eq(tasks.id, task.id));
    await cancelTimers(l.tx, timerKeys.task(l.incident.id, task.id), l.now);
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'task_completed',
      actorId: input.actorId,
      at: l.now,
      data: { number: task.number },
    });
    await post(l, `task:${task.id}:done`, 'channel', taskMessage('completed', task, input.actorId));
    await refreshCard(l);
    return task;
  });
}

export async function assignTask(
  deps: RunDeps,
  input: { incidentId: string; actorId: string; number: number; assigneeId: string },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    const task = await lockedTask(l, input.number);
    if (task.doneAt) throw new UserError('done', `Task ${task.number} is already done.`);
    if (task.assigneeId === input.assigneeId)
      throw new UserError('unchanged', `Task ${task.number} is already <@${input.assigneeId}>’s.`);
    await l.tx.update(tasks).set({ assigneeId: input.assigneeId }).where(eq(tasks.id, task.id));
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'task_assigned',
      actorId: input.actorId,
      at: l.now,
      data: { number: task.number, assigneeId: input.assigneeId, previous: task.assigneeId },
    });
    await post(
      l,
      `task:${task.id}:assigned:${l.now.getTime()}`,
      'channel',
      taskMessage('assigned', { ...task, assigneeId: input.assigneeId }, input.actorId),
    );
    return task;
  });
}

export async function addNote(deps: RunDeps, input: { incidentId: string; actorId: string; text: string }) {
  const text = cleanText(input.text, 'note');
  return withIncident(deps, input.incidentId, async (l) => {
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'note',
      actorId: input.actorId,
      at: l.now,
      data: { text },
    });
  });
}

// ── Reading ────────────────────────────────────────────────────────────────────────────────────────

export function listTasks(db: Db, incidentId: string): Promise<TaskRow[]> {
  return db.select().from(tasks).where(eq(tasks.incidentId, incidentId)).orderBy(asc(tasks.number));
}

export { listEvents as timelineOf, loadSnapshot };

/** Open incidents of a workspace, newest first (the caller filters private ones by membership). */
export function listOpenIncidents(db: Db, teamId: string): Promise<IncidentRow[]> {
  return db
    .select()
    .from(incidents)
    .where(and(eq(incidents.teamId, teamId), ne(incidents.status, 'resolved')))
    .orderBy(desc(incidents.number))
    .limit(200);
}
