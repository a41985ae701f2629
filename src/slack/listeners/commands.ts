import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { View } from '@slack/web-api';
import { listOpenGroups } from '../../alerts/queries.js';
import { localDate, plusDays } from '../../calendar.js';
import { pagePeople } from '../../escalation/pages.js';
import { escalateNow } from '../../escalation/steps.js';
import {
  addFollowup,
  completeFollowup,
  dropFollowup,
  followupsOf,
  openFollowups,
  openFollowupsOwnedBy,
} from '../../incidents/followups.js';
import {
  acknowledge,
  changeSeverity,
  editIncident,
  reopenIncident,
  resolveIncident,
} from '../../incidents/lifecycle.js';
import { addNote } from '../../incidents/notes.js';
import {
  findIncidentByChannel,
  type IncidentSnapshot,
  listOpenIncidents,
  listTasks,
  loadSnapshot,
  timelineOf,
} from '../../incidents/queries.js';
import { assignRole } from '../../incidents/roles.js';
import { parseSeverity } from '../../incidents/rules.js';
import { addTask, assignTask, completeTask } from '../../incidents/tasks.js';
import { postStatusUpdate } from '../../incidents/updates.js';
import { exportPostmortem, setPostmortemOwner, writePostmortem } from '../../learn/postmortems.js';
import { incidentStats, requestChart } from '../../learn/stats.js';
import { addOverride, scheduleNamed } from '../../oncall/overrides.js';
import { onCallSummaries, overridesFrom } from '../../oncall/queries.js';
import { pingEndpoints, recentDeliveries } from '../../webhooks/deliveries.js';
import { parseCommand } from '../command.js';
import { slackDate } from '../text.js';
import { alertGroupList } from '../views/alerts.js';
import { confirmation, type SlackMessage } from '../views/blocks.js';
import { incidentCard } from '../views/card.js';
import { declareModal } from '../views/declare-modal.js';
import { incidentFollowupsList, openFollowupsList } from '../views/followups.js';
import { helpMessage } from '../views/help.js';
import { incidentList, notIncidentChannelMessage, rolesList, tasksList } from '../views/lists.js';
import { resolveModal, rolesModal, updateModal } from '../views/modals.js';
import { onCallMessage, overrideModal, overridesMessage } from '../views/oncall.js';
import { takeCommandOffer } from '../views/paging.js';
import { postmortemAnswer } from '../views/postmortem.js';
import { statsMessage } from '../views/stats.js';
import { timelinePage } from '../views/timeline.js';
import { webhooksMessage } from '../views/webhooks.js';
import type { ListenerDeps } from './deps.js';

/**
 * `/incident …`: parses the text, finds the incident of the channel when the command needs one, calls one
 * use-case and answers ephemerally within Slack's 3 seconds. Modals open right after the acknowledgement,
 * before any slow work, while the trigger_id is fresh.
 */
export function registerCommands(deps: ListenerDeps): void {
  const run = deps.incidents;
  const db = run.db;

  deps.on.command('/incident', async ({ command, ack, respond }: SlackCommandMiddlewareArgs) => {
    const reply = (m: SlackMessage) => ack({ response_type: 'ephemeral', ...m });
    const openDeclare = async (title: string) => {
      await ack();
      await deps.slack.openView(
        command.trigger_id,
        declareModal({
          severities: deps.config.severities,
          initialTitle: title,
          metadata: { sourceChannelId: command.channel_id },
        }),
      );
    };
    const parsed = parseCommand(command.text ?? '');
    switch (parsed.kind) {
      case 'help':
        return reply(helpMessage(parsed.unknown));
      case 'usage':
        return reply(confirmation(parsed.message));
      case 'declare':
        return openDeclare(parsed.title);
      case 'list': {
        await ack();
        const open = await listOpenIncidents(db, command.team_id);
        // Private incidents only for their members: Slack's membership is the truth.
        const visible = await Promise.all(
          open.map(
            async (i) =>
              !i.isPrivate || (!!i.channelId && (await deps.slack.isMember(i.channelId, command.user_id))),
          ),
        );
        await respond({ response_type: 'ephemeral', ...incidentList(open.filter((_, n) => visible[n])) });
        return;
      }
      case 'oncall': {
        if (parsed.schedule !== undefined) scheduleNamed(deps.config, parsed.schedule);
        const summaries = await onCallSummaries(db, deps.config, run.clock.now(), parsed.schedule);
        return reply(onCallMessage(summaries));
      }
      case 'oncall_overrides':
        return reply(overridesMessage(await overridesFrom(db, run.clock.now())));
      case 'oncall_override_modal':
        await ack();
        await deps.slack.openView(
          command.trigger_id,
          overrideModal({
            schedules: Object.values(deps.config.schedules),
            now: run.clock.now(),
            metadata: {},
          }),
        );
        return;
      case 'oncall_override': {
        const now = run.clock.now();
        const row = await addOverride(run, {
          schedule: parsed.schedule,
          userId: parsed.userId,
          startsAt: now,
          endsAt: new Date(now.getTime() + parsed.durationMs),
          actorId: command.user_id,
        });
        return reply(
          confirmation(
            `<@${row.userId}> is on call for *${row.schedule}* until ${slackDate(row.endsAt, '{date_short_pretty} {time}')}; both of you are told.`,
          ),
        );
      }
      case 'followups': {
        const here = await findIncidentByChannel(db, command.team_id, command.channel_id);
        const today = localDate(run.clock.now(), deps.config.businessTimeZone);
        if (here) return reply(incidentFollowupsList(here, await followupsOf(db, here.id), today));
        const lists = {
          mine: await openFollowupsOwnedBy(db, command.team_id, command.user_id),
          everyone: await openFollowups(db, command.team_id),
        };
        return reply(openFollowupsList(lists, command.user_id, today));
      }
      case 'stats': {
        const severity = parsed.severity
          ? parseSeverity(parsed.severity, deps.config.severities).id
          : undefined;
        const input = { teamId: command.team_id, days: parsed.days, ...(severity ? { severity } : {}) };
        const stats = await incidentStats(db, deps.config, { ...input, now: run.clock.now() });
        if (stats.total > 0) await requestChart(run, { ...input, userId: command.user_id });
        return reply(statsMessage(stats, stats.total > 0));
      }
      case 'webhooks':
        return reply(
          webhooksMessage(await recentDeliveries(run, command.user_id), deps.config.webhooks.length),
        );
      case 'webhooks_ping': {
        const n = await pingEndpoints(run, command.user_id);
        return reply(confirmation(`Pinging ${n} endpoint${n === 1 ? '' : 's'}; see \`/incident webhooks\`.`));
      }
      case 'alerts': {
        await ack();
        const list = await listOpenGroups(db, run.clock.now());
        const me = await deps.slack.whoAmI();
        await respond({
          response_type: 'ephemeral',
          ...alertGroupList(list, me.url, !!deps.config.alerts),
        });
        return;
      }
    }

    const incident = await findIncidentByChannel(db, command.team_id, command.channel_id);
    if (!incident) return parsed.kind === 'open' ? openDeclare('') : reply(notIncidentChannelMessage());
    const base = { incidentId: incident.id, actorId: command.user_id };
    const snapshot = () =>
      loadSnapshot(db, incident.id).then((s) => s ?? Promise.reject(new Error('incident vanished')));
    const openModal = async (build: (s: IncidentSnapshot) => View) => {
      await ack();
      await deps.slack.openView(command.trigger_id, build(await snapshot()));
    };
    const done = (text: string) => reply(confirmation(text));

    switch (parsed.kind) {
      case 'open':
        return reply(incidentCard(await snapshot(), deps.config.severities));
      case 'roles':
        return reply(rolesList(await snapshot()));
      case 'roles_modal':
        return openModal(rolesModal);
      case 'role':
        await assignRole(run, { ...base, role: parsed.role, userId: parsed.userId });
        return done(`<@${parsed.userId}> is now the ${parsed.role}.`);
      case 'edit': {
        const changed = await editIncident(run, {
          ...base,
          ...(parsed.title !== undefined ? { title: parsed.title } : {}),
          ...(parsed.summary !== undefined ? { summary: parsed.summary } : {}),
        });
        return done(changed.title ? 'Renamed; the channel keeps its name.' : 'Summary changed.');
      }
      case 'severity': {
        const { to } = await changeSeverity(run, { ...base, severity: parsed.severity });
        return done(`Severity is now ${to}.`);
      }
      case 'update_modal':
        return openModal((s) => updateModal(s, deps.config.statusPage));
      case 'update':
        await postStatusUpdate(run, { ...base, message: parsed.text });
        return done('Update posted.');
      case 'task_add': {
        const task = await addTask(run, {
          ...base,
          text: parsed.text,
          assigneeId: parsed.assigneeId,
          minutes: parsed.minutes,
        });
        return done(`Added task ${task.number}.`);
      }
      case 'task_done':
        await completeTask(run, { ...base, number: parsed.number });
        return done(`Task ${parsed.number} is done.`);
      case 'task_assign':
        await assignTask(run, { ...base, number: parsed.number, assigneeId: parsed.assigneeId });
        return done(`Task ${parsed.number} is now <@${parsed.assigneeId}>’s.`);
      case 'tasks':
        return reply(tasksList(incident, await listTasks(db, incident.id), run.clock.now()));
      case 'note':
        await addNote(run, { ...base, text: parsed.text });
        return reply(confirmation('Noted on the timeline.'));
      case 'timeline':
        return reply(timelinePage(incident, await timelineOf(db, incident.id), 0));
      case 'resolve':
        if (parsed.summary === undefined) return openModal((s) => resolveModal(s, deps.config.statusPage));
        await resolveIncident(run, { ...base, summary: parsed.summary });
        return done('Resolved.');
      case 'reopen':
        await reopenIncident(run, base);
        return done('Reopened; the incident is investigating again.');
      case 'ack': {
        const { offerCommand } = await acknowledge(run, base);
        return reply(
          offerCommand ? takeCommandOffer(incident) : confirmation('Acknowledged; paging has stopped.'),
        );
      }
      case 'escalate': {
        const { tier } = await escalateNow(run, { ...base, reason: parsed.reason });
        return done(`Paging tier ${tier} now.`);
      }
      case 'postmortem': {
        const { status, canvas } = await writePostmortem(run, base);
        return reply(postmortemAnswer(incident.id, status, canvas));
      }
      case 'postmortem_export':
        await exportPostmortem(run, { ...base, channelId: command.channel_id });
        return done('📝 Uploading the postmortem as a Markdown file here.');
      case 'postmortem_owner':
        await setPostmortemOwner(run, { ...base, ownerId: parsed.userId });
        return done(`<@${parsed.userId}> owns the postmortem now.`);
      case 'followup_add': {
        const dueOn =
          parsed.due && 'inDays' in parsed.due
            ? plusDays(localDate(run.clock.now(), deps.config.businessTimeZone), parsed.due.inDays)
            : parsed.due?.on;
        const row = await addFollowup(run, {
          ...base,
          text: parsed.text,
          ...(parsed.ownerId ? { ownerId: parsed.ownerId } : {}),
          ...(dueOn ? { dueOn } : {}),
        });
        return done(`Added follow-up ${row.number}${row.dueOn ? `, due ${row.dueOn}` : ''}.`);
      }
      case 'followup_done':
        await completeFollowup(run, { ...base, number: parsed.number });
        return done(`Follow-up ${parsed.number} is done.`);
      case 'followup_drop':
        await dropFollowup(run, { ...base, number: parsed.number, reason: parsed.reason });
        return done(`Follow-up ${parsed.number} is dropped.`);
      case 'page':
        await pagePeople(run, { ...base, targets: parsed.targets, reason: parsed.reason });
        return done(
          `Paging ${parsed.targets.map((t) => (t.startsWith('S') ? `<!subteam^${t}>` : `<@${t}>`)).join(', ')}.`,
        );
    }
  });
}
