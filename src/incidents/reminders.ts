import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { addBusinessDays } from '../calendar.js';
import type { IncidentConfig } from '../config/index.js';
import { tasks } from '../db/schema.js';
import {
  cancelJob,
  cancelJobs,
  handle,
  type JobBinding,
  jobKey,
  jobKeyPrefix,
  jobType,
  schedule,
} from '../jobs/job.js';
import type { TimelineData } from '../timeline/model.js';
import { recordEvent } from '../timeline/timeline.js';
import { post } from './notify.js';
import { findIncident } from './queries.js';
import { severityOf } from './rules.js';
import { assertOpen, type IncidentDeps, type Locked, updateIncident, withIncident } from './unit-of-work.js';

/**
 * The incident's reminder plan: every timer an incident keeps besides escalation, planned inside the
 * transaction of the change that needs it. The status-update cadence, the missing-commander nudge, the
 * deputy's clock, task time boxes and the postmortem reminder. Keys are per incident and per purpose, so
 * re-planning is an upsert and stopping is a cancel; the handler checks under the incident's lock that a
 * reminder still applies before it says anything.
 */

export const remindJob = jobType(
  'incident.remind',
  z.discriminatedUnion('reminder', [
    z.object({ incidentId: z.uuid(), reminder: z.literal('update') }),
    z.object({ incidentId: z.uuid(), reminder: z.literal('commander') }),
    z.object({ incidentId: z.uuid(), reminder: z.literal('deputy'), mark: z.number().int().min(1) }),
    z.object({ incidentId: z.uuid(), reminder: z.literal('task'), taskId: z.number().int() }),
    z.object({ incidentId: z.uuid(), reminder: z.literal('postmortem') }),
  ]),
);

export const reminderKeys = {
  /** Every reminder of an incident but the postmortem's. */
  all: (id: string) => jobKeyPrefix('incident', id, 'remind'),
  update: (id: string) => jobKey('incident', id, 'remind', 'update'),
  commander: (id: string) => jobKey('incident', id, 'remind', 'commander'),
  deputy: (id: string) => jobKey('incident', id, 'remind', 'deputy'),
  task: (id: string, taskId: number) => jobKey('incident', id, 'remind', 'task', taskId),
  postmortem: (id: string) => jobKey('incident', id, 'postmortem'),
};

// ── The plan ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * The status-update reminder: `update_every` after `base` (the last update, declare or reopen); none, and
 * any planned one cancelled, when the severity has no cadence.
 */
export async function planUpdateReminder(
  l: Locked,
  config: IncidentConfig,
  base: Date,
  options: { fresh?: boolean } = {},
): Promise<void> {
  const every = severityOf(config, l.incident.severity)?.updateEveryMs;
  const key = reminderKeys.update(l.incident.id);
  if (!every) {
    // A new incident has no reminder to cancel.
    if (!options.fresh) await cancelJob(l.tx, key, l.now);
    return;
  }
  await schedule(
    l.tx,
    remindJob,
    {
      key,
      dueAt: new Date(base.getTime() + every),
      payload: { incidentId: l.incident.id, reminder: 'update' },
    },
    l.now,
  );
}

/** The deputy's `mark`-th call-out, `mark × deputy_callouts` after the declaration. */
async function planDeputyClock(l: Locked, config: IncidentConfig, mark: number): Promise<void> {
  const every = config.reminders.deputyCalloutsMs;
  if (!every) return;
  await schedule(
    l.tx,
    remindJob,
    {
      key: reminderKeys.deputy(l.incident.id),
      dueAt: new Date(l.incident.declaredAt.getTime() + mark * every),
      payload: { incidentId: l.incident.id, reminder: 'deputy', mark },
    },
    l.now,
  );
}

export async function planOnDeclare(l: Locked, config: IncidentConfig): Promise<void> {
  await planUpdateReminder(l, config, l.incident.declaredAt, { fresh: true });
  const after = config.reminders.missingCommanderAfterMs;
  if (after !== undefined && !l.roles.commander) {
    await schedule(
      l.tx,
      remindJob,
      {
        key: reminderKeys.commander(l.incident.id),
        dueAt: new Date(l.incident.declaredAt.getTime() + after),
        payload: { incidentId: l.incident.id, reminder: 'commander' },
      },
      l.now,
    );
  }
  await planDeputyClock(l, config, 1);
}

/** Someone took command: the missing-commander nudge is moot. */
export function commanderAssigned(l: Locked): Promise<boolean> {
  return cancelJob(l.tx, reminderKeys.commander(l.incident.id), l.now);
}

/** Another severity may have another cadence: re-time the reminder from the last update. */
export function replanOnSeverity(l: Locked, config: IncidentConfig): Promise<void> {
  return planUpdateReminder(l, config, l.incident.lastUpdateAt ?? l.incident.declaredAt);
}

export async function planTaskReminder(l: Locked, taskId: number, dueAt: Date): Promise<void> {
  await schedule(
    l.tx,
    remindJob,
    {
      key: reminderKeys.task(l.incident.id, taskId),
      dueAt,
      payload: { incidentId: l.incident.id, reminder: 'task', taskId },
    },
    l.now,
  );
}

export function taskDone(l: Locked, taskId: number): Promise<boolean> {
  return cancelJob(l.tx, reminderKeys.task(l.incident.id, taskId), l.now);
}

/** Resolving stops every reminder, and plans the postmortem reminder when the severity wants one. */
export async function planOnResolved(l: Locked, config: IncidentConfig): Promise<void> {
  await cancelJobs(l.tx, reminderKeys.all(l.incident.id), l.now);
  const dueAt = postmortemDueAt(config, l.incident.severity, l.now);
  if (!dueAt) return;
  // The postmortem is due from the final resolve; it starts as a draft the first time.
  await updateIncident(l, {
    postmortemDueAt: dueAt,
    postmortemStatus: l.incident.postmortemStatus ?? 'draft',
  });
  await schedule(
    l.tx,
    remindJob,
    {
      key: reminderKeys.postmortem(l.incident.id),
      dueAt,
      payload: { incidentId: l.incident.id, reminder: 'postmortem' },
    },
    l.now,
  );
}

/** When a postmortem resolved at `resolvedAt` is due: a duration later, or business days later. */
export function postmortemDueAt(
  config: IncidentConfig,
  severity: string,
  resolvedAt: Date,
): Date | undefined {
  const due = severityOf(config, severity)?.postmortemDue;
  if (!due) return undefined;
  return 'ms' in due
    ? new Date(resolvedAt.getTime() + due.ms)
    : addBusinessDays(resolvedAt, due.businessDays, config.businessTimeZone);
}

/** Reopening restarts the cadence (and the deputy's clock) and withdraws the postmortem reminder. */
export async function planOnReopened(l: Locked, config: IncidentConfig): Promise<void> {
  await cancelJob(l.tx, reminderKeys.postmortem(l.incident.id), l.now);
  await planUpdateReminder(l, config, l.now);
  const every = config.reminders.deputyCalloutsMs;
  if (every) {
    const next = Math.floor((l.now.getTime() - l.incident.declaredAt.getTime()) / every) + 1;
    await planDeputyClock(l, config, next);
  }
}

/** The Snooze button of the update reminder: remind again in `minutes` (15 by default). */
export async function snoozeUpdateReminder(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; minutes?: number },
): Promise<Date> {
  return withIncident(deps, input.incidentId, async (l) => {
    assertOpen(l);
    const until = new Date(l.now.getTime() + (input.minutes ?? 15) * 60_000);
    await schedule(
      l.tx,
      remindJob,
      {
        key: reminderKeys.update(l.incident.id),
        dueAt: until,
        payload: { incidentId: l.incident.id, reminder: 'update' },
      },
      l.now,
    );
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'reminder_snoozed',
      actorId: input.actorId,
      at: l.now,
      data: { until: until.toISOString() },
    });
    return until;
  });
}

// ── The handler ──────────────────────────────────────────────────────────────────────────────────────

/** Status-update cadence, missing commander, task time boxes, the deputy's clock and the postmortem. */
export function reminderJobs(deps: Omit<IncidentDeps, 'escalation'>): JobBinding[] {
  const { config } = deps;
  return [
    handle(remindJob, {
      async run(p) {
        if (!(await findIncident(deps.db, p.incidentId))) return;
        await withIncident(deps, p.incidentId, async (l) => {
          const open = l.incident.status !== 'resolved';
          const at = l.now.getTime();
          const reminded = (data: Parameters<typeof remindedEvent>[1]) => remindedEvent(l, data);
          switch (p.reminder) {
            case 'update': {
              const every = severityOf(config, l.incident.severity)?.updateEveryMs;
              const base = (l.incident.lastUpdateAt ?? l.incident.declaredAt).getTime();
              // Superseded when the cadence went away or an update came in less than `every` ago.
              if (!open || !every || at + 1000 < base + every) return;
              const who = l.roles.liaison ?? l.roles.commander;
              const event = await reminded({ reminder: 'update', to: who ?? null, everyMs: every });
              await post(l, `remind:update:${at}`, 'channel', event);
              await schedule(
                l.tx,
                remindJob,
                { key: reminderKeys.update(l.incident.id), dueAt: new Date(at + every), payload: p },
                l.now,
              );
              return;
            }
            case 'commander': {
              const after = config.reminders.missingCommanderAfterMs ?? 0;
              if (!open || l.roles.commander) return;
              const event = await reminded({ reminder: 'commander', afterMs: after });
              await post(l, 'remind:commander', 'channel', event);
              return;
            }
            case 'task': {
              const [task] = await l.tx
                .select()
                .from(tasks)
                .where(and(eq(tasks.incidentId, l.incident.id), eq(tasks.id, p.taskId)));
              if (!open || !task || task.doneAt) return;
              const event = await reminded({ reminder: 'task', number: task.number });
              await post(l, `remind:task:${task.id}`, 'channel', event);
              return;
            }
            case 'deputy': {
              const every = config.reminders.deputyCalloutsMs;
              if (!open || !every) return;
              // Late (the bot was down over several marks): one call-out, at the mark the clock has
              // reached, not one for each mark missed in a row.
              const reached = Math.floor((l.now.getTime() - l.incident.declaredAt.getTime()) / every);
              const mark = Math.max(p.mark, reached);
              if (l.roles.deputy) {
                const event = await reminded({ reminder: 'deputy', mark });
                await post(l, `remind:deputy:${mark}`, 'dm', event, l.roles.deputy);
              }
              await planDeputyClock(l, config, mark + 1);
              return;
            }
            case 'postmortem': {
              const resolvedAt = l.incident.resolvedAt;
              if (l.incident.status !== 'resolved' || !resolvedAt) return;
              // Reviewed or closed already: nothing to remind of.
              if (l.incident.postmortemStatus === 'reviewed' || l.incident.postmortemStatus === 'closed')
                return;
              const owner = l.incident.postmortemOwnerId ?? l.roles.commander;
              const event = await reminded({
                reminder: 'postmortem',
                to: owner ?? null,
                resolvedAt: resolvedAt.toISOString(),
                ...(l.incident.postmortemDueAt ? { dueAt: l.incident.postmortemDueAt.toISOString() } : {}),
              });
              await post(l, `remind:postmortem:${resolvedAt.getTime()}`, 'channel', event);
              if (owner) await post(l, `remind:postmortem:${resolvedAt.getTime()}:dm`, 'dm', event, owner);
              return;
            }
          }
        });
      },
    }),
  ];
}

function remindedEvent(l: Locked, data: TimelineData['reminded']): Promise<number> {
  return recordEvent(l.tx, { incidentId: l.incident.id, kind: 'reminded', at: l.now, data });
}
