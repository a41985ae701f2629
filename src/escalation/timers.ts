import { eq } from 'drizzle-orm';
import type { IncidentConfig, Severity } from '../config.js';
import type { Tx } from '../db/client.js';
import { type IncidentRow, incidents } from '../db/schema.js';
import { cancelTimers, scheduleTimer } from '../timers/engine.js';
import { planEscalation, reschedule } from './plan.js';

/**
 * Every timer an incident keeps, planned inside the transaction of the change that needs it: escalation
 * steps, the status-update cadence, the missing-commander nudge, the deputy's clock, task time boxes and
 * the postmortem reminder. Keys are per incident and per purpose, so re-planning is an upsert and
 * stopping is a cancel by key prefix.
 */

export const STEP_KIND = 'escalation.step';
export const PAGE_KIND = 'page.targets';
export const DELIVER_KIND = 'page.deliver';
export const REMIND_KIND = 'incident.remind';

export type Reminder = 'update' | 'commander' | 'deputy' | 'task' | 'postmortem';

export const timerKeys = {
  escalation: (id: string) => `incident:${id}:escalation:`,
  step: (id: string, index: number) => `incident:${id}:escalation:${index}`,
  reminders: (id: string) => `incident:${id}:remind:`,
  remind: (id: string, what: Exclude<Reminder, 'task' | 'postmortem'>) => `incident:${id}:remind:${what}`,
  task: (id: string, taskId: number) => `incident:${id}:remind:task:${taskId}`,
  postmortem: (id: string) => `incident:${id}:postmortem`,
};

type Inc = Pick<
  IncidentRow,
  'id' | 'severity' | 'declaredAt' | 'lastUpdateAt' | 'acknowledgedAt' | 'escalationPolicy'
>;

export function severityOf(config: IncidentConfig, id: string): Severity | undefined {
  return config.severities.find((s) => s.id === id);
}

/** Plans the severity's escalation from `now` (tier 1 at once when its `after` is 0m). */
export async function startEscalation(
  tx: Tx,
  incident: Inc,
  config: IncidentConfig,
  now: Date,
): Promise<void> {
  await cancelTimers(tx, timerKeys.escalation(incident.id), now);
  const name = severityOf(config, incident.severity)?.escalationPolicy;
  const policy = name ? config.escalationPolicies[name] : undefined;
  await tx
    .update(incidents)
    .set({
      escalationPolicy: policy?.name ?? null,
      escalationStartedAt: policy ? now : null,
      escalationStep: 0,
    })
    .where(eq(incidents.id, incident.id));
  if (!policy) return;
  for (const { step, dueAt } of reschedule(planEscalation(policy), 0, now)) {
    await scheduleTimer(
      tx,
      {
        key: timerKeys.step(incident.id, step.index),
        kind: STEP_KIND,
        dueAt,
        payload: { incidentId: incident.id, index: step.index, policy: policy.name },
      },
      now,
    );
  }
}

export function stopEscalation(tx: Tx, incidentId: string, now: Date): Promise<number> {
  return cancelTimers(tx, timerKeys.escalation(incidentId), now);
}

/** The status-update reminder: `update_every` after `base` (the last update, declare or reopen). */
export async function planUpdateReminder(
  tx: Tx,
  incident: Inc,
  config: IncidentConfig,
  base: Date,
  now: Date,
) {
  const every = severityOf(config, incident.severity)?.updateEveryMs;
  const key = timerKeys.remind(incident.id, 'update');
  if (!every) {
    await cancelTimers(tx, key, now);
    return;
  }
  await scheduleTimer(
    tx,
    {
      key,
      kind: REMIND_KIND,
      dueAt: new Date(base.getTime() + every),
      payload: { incidentId: incident.id, reminder: 'update' },
    },
    now,
  );
}

export async function planDeputyClock(
  tx: Tx,
  incident: Inc,
  config: IncidentConfig,
  mark: number,
  now: Date,
) {
  const every = config.reminders.deputyCalloutsMs;
  if (!every) return;
  await scheduleTimer(
    tx,
    {
      key: timerKeys.remind(incident.id, 'deputy'),
      kind: REMIND_KIND,
      dueAt: new Date(incident.declaredAt.getTime() + mark * every),
      payload: { incidentId: incident.id, reminder: 'deputy', mark },
    },
    now,
  );
}

export async function planOnDeclare(
  tx: Tx,
  incident: Inc,
  config: IncidentConfig,
  hasCommander: boolean,
  now: Date,
) {
  await startEscalation(tx, incident, config, now);
  await planUpdateReminder(tx, incident, config, incident.declaredAt, now);
  const after = config.reminders.missingCommanderAfterMs;
  if (after !== undefined && !hasCommander) {
    await scheduleTimer(
      tx,
      {
        key: timerKeys.remind(incident.id, 'commander'),
        kind: REMIND_KIND,
        dueAt: new Date(incident.declaredAt.getTime() + after),
        payload: { incidentId: incident.id, reminder: 'commander' },
      },
      now,
    );
  }
  await planDeputyClock(tx, incident, config, 1, now);
}

/** A severity change re-plans: another policy pages anew (unless someone already acknowledged), another cadence re-times the reminder. */
export async function replanOnSeverity(tx: Tx, incident: Inc, config: IncidentConfig, now: Date) {
  const policy = severityOf(config, incident.severity)?.escalationPolicy ?? null;
  if (!incident.acknowledgedAt && policy !== incident.escalationPolicy)
    await startEscalation(tx, incident, config, now);
  await planUpdateReminder(tx, incident, config, incident.lastUpdateAt ?? incident.declaredAt, now);
}

export async function scheduleTaskReminder(
  tx: Tx,
  incidentId: string,
  taskId: number,
  dueAt: Date,
  now: Date,
) {
  await scheduleTimer(
    tx,
    {
      key: timerKeys.task(incidentId, taskId),
      kind: REMIND_KIND,
      dueAt,
      payload: { incidentId, reminder: 'task', taskId },
    },
    now,
  );
}

/** Resolving stops every escalation and reminder, and plans the postmortem reminder when the severity wants one. */
export async function onResolved(tx: Tx, incident: Inc, config: IncidentConfig, now: Date) {
  await stopEscalation(tx, incident.id, now);
  await cancelTimers(tx, timerKeys.reminders(incident.id), now);
  const due = severityOf(config, incident.severity)?.postmortemDueMs;
  if (due !== undefined) {
    await scheduleTimer(
      tx,
      {
        key: timerKeys.postmortem(incident.id),
        kind: REMIND_KIND,
        dueAt: new Date(now.getTime() + due),
        payload: { incidentId: incident.id, reminder: 'postmortem' },
      },
      now,
    );
  }
}

/** Reopening restarts the cadence (and the deputy's clock) and withdraws the postmortem reminder. */
export async function onReopened(tx: Tx, incident: Inc, config: IncidentConfig, now: Date) {
  await cancelTimers(tx, timerKeys.postmortem(incident.id), now);
  await planUpdateReminder(tx, incident, config, now, now);
  const every = config.reminders.deputyCalloutsMs;
  if (every) {
    const next = Math.floor((now.getTime() - incident.declaredAt.getTime()) / every) + 1;
    await planDeputyClock(tx, incident, config, next, now);
  }
}
