import { and, eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config.js';
import type { Db } from '../db/client.js';
import { incidents, type TimerRow, tasks } from '../db/schema.js';
import { PermanentError, RetryableError } from '../errors.js';
import { type Locked, post, refreshCard, withIncident } from '../incidents/locked.js';
import { findIncident } from '../incidents/queries.js';
import type { Logger } from '../logger.js';
import type { SlackGateway } from '../slack/gateway.js';
import {
  deputyCalloutMessage,
  missingCommanderMessage,
  pageDm,
  pagedMessage,
  postmortemReminderMessage,
  taskDueMessage,
  updateReminderMessage,
} from '../slack/views/escalation.js';
import { recordEvent } from '../timeline/timeline.js';
import { scheduleTimer, scheduleTimerOnce, type TimerHandler } from '../timers/engine.js';
import { planEscalation } from './plan.js';
import {
  DELIVER_KIND,
  planDeputyClock,
  REMIND_KIND,
  type Reminder,
  severityOf,
  timerKeys,
} from './timers.js';

/**
 * Job handlers of escalation and reminders. Each checks, under the incident's row lock, that it still
 * applies (not resolved, not acknowledged, not superseded) before it schedules anything, and everything
 * it schedules is keyed so that a re-run adds nothing: one page per person per step, one DM per page.
 */

export interface EscalationDeps {
  db: Db;
  slack: SlackGateway;
  config: IncidentConfig;
  clock: Clock;
  logger: Logger;
}

/** People behind a list of user and user-group ids (groups expanded with usergroups.users.list). */
async function expandTargets(slack: SlackGateway, targets: string[]): Promise<string[]> {
  const bot = await slack.getBotUserId();
  const users: string[] = [];
  for (const target of targets) {
    const members = target.startsWith('S') ? await slack.usergroupMembers(target) : [target];
    for (const u of members) if (u !== bot && !users.includes(u)) users.push(u);
  }
  return users;
}

/** Schedules the DMs (with invites) and the channel post of one page, once each. */
async function schedulePages(
  l: Locked,
  page: { key: string; label: string; users: string[]; reason: string | null; actorId: string | null },
) {
  for (const userId of page.users) {
    await scheduleTimerOnce(
      l.tx,
      {
        key: `incident:${l.incident.id}:page:${page.key}:${userId}`,
        kind: DELIVER_KIND,
        dueAt: l.now,
        payload: { incidentId: l.incident.id, userId, label: page.label, reason: page.reason },
      },
      l.now,
    );
  }
  await post(
    l,
    `page:${page.key}`,
    'channel',
    pagedMessage(l.incident, page.label, page.users, page.reason ?? undefined),
  );
  await recordEvent(l.tx, {
    incidentId: l.incident.id,
    kind: 'paged',
    actorId: page.actorId,
    at: l.now,
    data: { label: page.label, users: page.users, reason: page.reason },
  });
  await refreshCard(l);
}

export function escalationStepHandler(deps: EscalationDeps): TimerHandler {
  return {
    async run(timer) {
      const p = timer.payload as {
        incidentId: string;
        index: number;
        policy: string;
        manual?: boolean;
        by?: string;
        reason?: string | null;
      };
      const stillDue = (i: {
        status: string;
        acknowledgedAt: Date | null;
        escalationPolicy: string | null;
        escalationStep: number;
      }) =>
        i.status !== 'resolved' &&
        (p.manual || !i.acknowledgedAt) &&
        i.escalationPolicy === p.policy &&
        p.index >= i.escalationStep;
      const incident = await findIncident(deps.db, p.incidentId);
      const policy = deps.config.escalationPolicies[p.policy];
      const step = policy ? planEscalation(policy)[p.index] : undefined;
      if (!incident || !step || !stillDue(incident)) return;
      const users = await expandTargets(deps.slack, step.notify);
      await withIncident(deps, p.incidentId, async (l) => {
        if (!stillDue(l.incident)) return;
        await l.tx
          .update(incidents)
          .set({ escalationStep: p.index + 1 })
          .where(eq(incidents.id, l.incident.id));
        const label = `tier ${step.tier + 1}${step.round > 0 ? ` (round ${step.round + 1})` : ''}`;
        // Keyed by the escalation run too: a later escalation (after a severity change) pages afresh.
        const run = l.incident.escalationStartedAt?.getTime() ?? 0;
        await schedulePages(l, {
          key: `step:${run}:${p.index}`,
          label,
          users,
          reason: p.reason ?? null,
          actorId: p.by ?? null,
        });
      });
    },
  };
}

/** `/incident page @person…`: expands groups, then pages like a tier. */
export function pageTargetsHandler(deps: EscalationDeps): TimerHandler {
  return {
    async run(timer) {
      const p = timer.payload as {
        incidentId: string;
        targets: string[];
        label: string;
        actorId: string;
        reason: string | null;
      };
      const users = await expandTargets(deps.slack, p.targets);
      await withIncident(deps, p.incidentId, async (l) => {
        if (l.incident.status === 'resolved') return;
        await schedulePages(l, {
          key: `manual:${timer.id}`,
          label: p.label,
          users,
          reason: p.reason,
          actorId: p.actorId,
        });
      });
    },
  };
}

/** One page to one person: a DM with an Acknowledge button (once, even across a crash), and an invite. */
export function pageDeliveryHandler(deps: EscalationDeps): TimerHandler {
  return {
    async run(timer, ctx) {
      const p = timer.payload as { incidentId: string; userId: string; label: string; reason: string | null };
      const incident = await findIncident(deps.db, p.incidentId);
      if (!incident || incident.status === 'resolved') return;
      const dm = await deps.slack.openDm(p.userId);
      const marker = { type: 'incident_page', id: timer.key };
      const sent =
        ctx.attempt > 1
          ? await deps.slack.findMarkedMessage(dm, marker, timer.createdAt).catch(() => undefined)
          : undefined;
      if (!sent)
        await deps.slack.postMessage({
          channel: dm,
          ...pageDm(incident, p.label, p.reason ?? undefined),
          marker,
        });
      if (!incident.channelId)
        throw new RetryableError('waiting for the incident channel before inviting', 2000);
      await deps.slack.invite(incident.channelId, p.userId);
    },
    async onGiveUp(timer, error) {
      const p = timer.payload as { incidentId: string; userId: string };
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
  };
}

/** Status-update cadence, missing commander, task time boxes, the deputy's clock and the postmortem. */
export function reminderHandler(deps: EscalationDeps): TimerHandler {
  const remind = async (l: Locked, what: Reminder, data: Record<string, unknown> = {}) =>
    recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'reminded',
      at: l.now,
      data: { reminder: what, ...data },
    });

  return {
    async run(timer: TimerRow) {
      const p = timer.payload as { incidentId: string; reminder: Reminder; taskId?: number; mark?: number };
      if (!(await findIncident(deps.db, p.incidentId))) return;
      await withIncident(deps, p.incidentId, async (l) => {
        const open = l.incident.status !== 'resolved';
        const at = l.now.getTime();
        switch (p.reminder) {
          case 'update': {
            const every = severityOf(deps.config, l.incident.severity)?.updateEveryMs;
            const base = (l.incident.lastUpdateAt ?? l.incident.declaredAt).getTime();
            // Superseded when the cadence went away or an update came in less than `every` ago.
            if (!open || !every || at + 1000 < base + every) return;
            const who = l.roles.liaison ?? l.roles.commander;
            await post(l, `remind:update:${at}`, 'channel', updateReminderMessage(l.incident, who, every));
            await remind(l, 'update', { to: who ?? null });
            await scheduleTimer(
              l.tx,
              {
                key: timerKeys.remind(l.incident.id, 'update'),
                kind: REMIND_KIND,
                dueAt: new Date(at + every),
                payload: p,
              },
              l.now,
            );
            return;
          }
          case 'commander': {
            const after = deps.config.reminders.missingCommanderAfterMs ?? 0;
            if (!open || l.roles.commander) return;
            await post(l, 'remind:commander', 'channel', missingCommanderMessage(l.incident, after));
            await remind(l, 'commander');
            return;
          }
          case 'task': {
            const [task] = await l.tx
              .select()
              .from(tasks)
              .where(and(eq(tasks.incidentId, l.incident.id), eq(tasks.id, p.taskId ?? -1)));
            if (!open || !task || task.doneAt) return;
            await post(l, `remind:task:${task.id}`, 'channel', taskDueMessage(task));
            await remind(l, 'task', { number: task.number });
            return;
          }
          case 'deputy': {
            const mark = p.mark ?? 1;
            const every = deps.config.reminders.deputyCalloutsMs;
            if (!open || !every) return;
            if (l.roles.deputy) {
              const elapsed = at - l.incident.declaredAt.getTime();
              await post(
                l,
                `remind:deputy:${mark}`,
                'dm',
                deputyCalloutMessage(l.incident, elapsed),
                l.roles.deputy,
              );
              await remind(l, 'deputy', { mark });
            }
            await planDeputyClock(l.tx, l.incident, deps.config, mark + 1, l.now);
            return;
          }
          case 'postmortem': {
            if (l.incident.status !== 'resolved' || !l.incident.resolvedAt) return;
            const message = postmortemReminderMessage(l.incident, l.roles.commander, l.incident.resolvedAt);
            await post(l, `remind:postmortem:${l.incident.resolvedAt.getTime()}`, 'channel', message);
            if (l.roles.commander)
              await post(
                l,
                `remind:postmortem:${l.incident.resolvedAt.getTime()}:dm`,
                'dm',
                message,
                l.roles.commander,
              );
            await remind(l, 'postmortem');
            return;
          }
        }
      });
    },
  };
}
