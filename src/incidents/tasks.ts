import { eq } from 'drizzle-orm';
import { type TaskRow, tasks } from '../db/schema.js';
import { UserError } from '../errors.js';
import { recordEvent } from '../timeline/timeline.js';
import { TASK_TEXT_MAX } from './model.js';
import { post, refreshCard } from './notify.js';
import { findTask } from './queries.js';
import { planTaskReminder, taskDone } from './reminders.js';
import { cleanText } from './rules.js';
import { type IncidentDeps, type Locked, updateIncident, withIncident } from './unit-of-work.js';

/**
 * Tasks inside an incident: numbered 1, 2, 3 … per incident, optionally assigned and time-boxed (the
 * assignee is reminded in the channel when the box runs out). Anyone in the channel may add, assign and
 * complete them.
 */

export async function addTask(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; text: string; assigneeId?: string; minutes?: number },
): Promise<TaskRow> {
  const text = cleanText(input.text, 'task', TASK_TEXT_MAX);
  return withIncident(deps, input.incidentId, async (l) => {
    const number = l.incident.lastTaskNumber + 1;
    await updateIncident(l, { lastTaskNumber: number });
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
    if (dueAt) await planTaskReminder(l, task.id, dueAt);
    const event = await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'task_added',
      actorId: input.actorId,
      at: l.now,
      data: { number, text, assigneeId: task.assigneeId, dueAt: dueAt?.toISOString() ?? null },
    });
    await post(l, `task:${task.id}:added`, 'channel', event);
    await refreshCard(l);
    return task;
  });
}

async function openTask(l: Locked, number: number): Promise<TaskRow> {
  const task = await findTask(l.tx, l.incident.id, number);
  if (!task) throw new UserError('no_task', `There is no task ${number}. See them with \`/incident tasks\`.`);
  if (task.doneAt) throw new UserError('done', `Task ${task.number} is already done.`);
  return task;
}

export async function completeTask(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; number: number },
): Promise<TaskRow> {
  return withIncident(deps, input.incidentId, async (l) => {
    const task = await openTask(l, input.number);
    await l.tx.update(tasks).set({ doneAt: l.now, doneBy: input.actorId }).where(eq(tasks.id, task.id));
    await taskDone(l, task.id);
    const event = await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'task_completed',
      actorId: input.actorId,
      at: l.now,
      data: { number: task.number },
    });
    await post(l, `task:${task.id}:done`, 'channel', event);
    await refreshCard(l);
    return task;
  });
}

export async function assignTask(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; number: number; assigneeId: string },
): Promise<TaskRow> {
  return withIncident(deps, input.incidentId, async (l) => {
    const task = await openTask(l, input.number);
    if (task.assigneeId === input.assigneeId)
      throw new UserError('unchanged', `Task ${task.number} is already <@${input.assigneeId}>’s.`);
    await l.tx.update(tasks).set({ assigneeId: input.assigneeId }).where(eq(tasks.id, task.id));
    const event = await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'task_assigned',
      actorId: input.actorId,
      at: l.now,
      data: { number: task.number, assigneeId: input.assigneeId, previous: task.assigneeId },
    });
    await post(l, `task:${task.id}:assigned:${l.now.getTime()}`, 'channel', event);
    return task;
  });
}
