import type { AlertNotice } from '../../alerts/chat.js';
import type { IncidentConfig } from '../../config/index.js';
import { PermanentError } from '../../errors.js';
import type { IncidentNotice } from '../../incidents/chat.js';
import type { LearnNotice } from '../../learn/chat.js';
import type { OncallNotice } from '../../oncall/chat.js';
import { alertGroupMessage, alertPageMessage, alertThreadMessage } from './alerts.js';
import type { SlackMessage } from './blocks.js';
import { incidentCard } from './card.js';
import { followupAddedMessage, followupReminderMessage } from './followups.js';
import {
  alertsResolvedMessage,
  reopenedMessage,
  resolvedMessage,
  roleAssignedMessage,
  roleDm,
  severityChangedMessage,
  statusUpdateMessage,
  taskMessage,
} from './messages.js';
import { oncallNoticeMessage } from './oncall.js';
import { acknowledgedMessage, pageDm, pagedMessage } from './paging.js';
import { postmortemReadyMessage } from './postmortem.js';
import {
  deputyCalloutMessage,
  missingCommanderMessage,
  postmortemReminderMessage,
  taskDueMessage,
  updateReminderMessage,
} from './reminders.js';
import { announcement, reporterNotice, setupFailureNotice } from './setup.js';

/**
 * Renders what incidents want said (a notice: data) as a Slack message. Pure: the same notice and config
 * always give the same message. A notice about a timeline event is rendered from the event, so the channel
 * and the timeline tell the same facts.
 */
export function renderNotice(
  notice: IncidentNotice | AlertNotice | OncallNotice | LearnNotice,
  config: IncidentConfig,
): SlackMessage {
  switch (notice.kind) {
    case 'postmortem_ready':
      return postmortemReadyMessage(notice);
    case 'oncall_handoff':
    case 'oncall_override':
      return oncallNoticeMessage(notice);
    case 'alert_group':
      return alertGroupMessage(notice);
    case 'alert_group_thread':
      return alertThreadMessage(notice);
    case 'alert_page':
      return alertPageMessage(notice);
    case 'card':
      return incidentCard(notice.incident, config.severities);
    case 'announcement':
      return announcement(notice.incident);
    case 'reporter_notice':
      return reporterNotice(notice.incident);
    case 'setup_failed':
      return setupFailureNotice(notice.incident, notice.step, notice.error);
    case 'event':
      return renderEvent(notice, config);
    case 'followup_reminder':
      return followupReminderMessage(notice);
    case 'prerendered':
      return { text: notice.text, blocks: notice.blocks as SlackMessage['blocks'] };
  }
}

function renderEvent(
  notice: Extract<IncidentNotice, { kind: 'event' }>,
  config: IncidentConfig,
): SlackMessage {
  const { incident: i, event: e, task } = notice;
  const toPerson = notice.audience === 'person';
  const actor = () => {
    if (!e.actorId) throw new PermanentError('no_actor', `timeline event ${e.id} (${e.kind}) names nobody`);
    return e.actorId;
  };
  const needTask = () => {
    if (!task)
      throw new PermanentError('no_task', `timeline event ${e.id} (${e.kind}) names a task that is gone`);
    return task;
  };
  const ref = { ...i, channelId: i.channelId ?? null };
  switch (e.kind) {
    case 'role_assigned':
      return toPerson
        ? roleDm(ref, e.data.role, config.roleDescriptions[e.data.role])
        : roleAssignedMessage(e.data.role, e.data.userId, actor(), e.data.previous);
    case 'severity_changed':
      return severityChangedMessage(actor(), e.data.from, e.data.to);
    case 'resolved':
      return resolvedMessage(
        { ...i, openTaskCount: e.data.openTasks ?? i.openTaskCount },
        actor(),
        e.data.summary,
        e.occurredAt,
      );
    case 'reopened':
      return reopenedMessage(i, actor());
    case 'alerts_resolved':
      return alertsResolvedMessage(i, e.data.title);
    case 'status_update':
      return statusUpdateMessage(i, {
        status: e.data.status,
        message: e.data.message,
        audience: e.data.audience,
        postedBy: actor(),
        nextUpdateAt: e.data.nextUpdateAt ? new Date(e.data.nextUpdateAt) : null,
      });
    case 'task_added':
      return taskMessage(
        'added',
        { ...e.data, dueAt: e.data.dueAt ? new Date(e.data.dueAt) : null },
        actor(),
      );
    case 'task_completed':
      return taskMessage('completed', needTask(), actor());
    case 'task_assigned':
      return taskMessage('assigned', { ...needTask(), assigneeId: e.data.assigneeId }, actor());
    case 'acknowledged':
      return acknowledgedMessage(actor());
    case 'followup_added':
      return followupAddedMessage(actor(), e.data);
    case 'paged':
      return toPerson
        ? pageDm(ref, e.data.label, e.data.reason ?? undefined)
        : pagedMessage(ref, e.data.label, e.data.users, e.data.reason ?? undefined, e.data.skippedTo);
    case 'reminded':
      switch (e.data.reminder) {
        case 'update':
          return updateReminderMessage(ref, e.data.to ?? undefined, e.data.everyMs ?? 0);
        case 'commander':
          return missingCommanderMessage(ref, e.data.afterMs ?? 0);
        case 'task':
          return taskDueMessage(needTask());
        case 'deputy':
          return deputyCalloutMessage(ref, e.occurredAt.getTime() - i.declaredAt.getTime());
        case 'postmortem':
          return postmortemReminderMessage(
            ref,
            e.data.to ?? undefined,
            e.data.resolvedAt ? new Date(e.data.resolvedAt) : (i.resolvedAt ?? e.occurredAt),
          );
      }
      break;
  }
  throw new PermanentError('not_postable', `timeline event ${e.id} (${e.kind}) has no message`);
}
