import type { App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { View } from '@slack/web-api';
import { acknowledge, escalateNow, pagePeople } from '../../escalation/service.js';
import type { IncidentSnapshot } from '../../incidents/queries.js';
import {
  addNote,
  addTask,
  assignRole,
  assignTask,
  changeSeverity,
  completeTask,
  findIncidentByChannel,
  listOpenIncidents,
  listTasks,
  loadSnapshot,
  postStatusUpdate,
  reopenIncident,
  resolveIncident,
  timelineOf,
} from '../../incidents/run.js';
import { parseCommand } from '../command.js';
import { guarded } from '../errors.js';
import { declareModal } from '../views/declare-modal.js';
import { takeCommandOffer } from '../views/escalation.js';
import { helpMessage } from '../views/help.js';
import { incidentCard, type SlackMessage } from '../views/incident.js';
import {
  confirmation,
  incidentList,
  notIncidentChannelMessage,
  resolveModal,
  rolesList,
  rolesModal,
  tasksList,
  timelinePage,
  updateModal,
} from '../views/run.js';
import type { ListenerDeps } from './deps.js';

/**
 * `/incident …`: parses the text, finds the incident of the channel when the command needs one, calls one
 * use-case and answers ephemerally within Slack's 3 seconds. Modals open right after the acknowledgement,
 * before any slow work, while the trigger_id is fresh.
 */
export function registerCommands(app: App, deps: ListenerDeps): void {
  const run = { db: deps.db, clock: deps.clock, config: deps.config };

  app.command(
    '/incident',
    guarded(deps.logger, '/incident', async ({ command, ack, respond }: SlackCommandMiddlewareArgs) => {
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
          const open = await listOpenIncidents(deps.db, command.team_id);
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
      }

      const incident = await findIncidentByChannel(deps.db, command.team_id, command.channel_id);
      if (!incident) return parsed.kind === 'open' ? openDeclare('') : reply(notIncidentChannelMessage());
      const base = { incidentId: incident.id, actorId: command.user_id };
      const snapshot = () =>
        loadSnapshot(deps.db, incident.id).then((s) => s ?? Promise.reject(new Error('incident vanished')));
      const openModal = async (build: (s: IncidentSnapshot) => View) => {
        await ack();
        await deps.slack.openView(command.trigger_id, build(await snapshot()));
      };
      const done = async (text: string) => {
        await reply(confirmation(text));
        deps.kickJobs();
      };

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
        case 'severity': {
          const { to } = await changeSeverity(run, { ...base, severity: parsed.severity });
          return done(`Severity is now ${to}.`);
        }
        case 'update_modal':
          return openModal(updateModal);
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
          return reply(tasksList(incident, await listTasks(deps.db, incident.id), deps.clock.now()));
        case 'note':
          await addNote(run, { ...base, text: parsed.text });
          return reply(confirmation('Noted on the timeline.'));
        case 'timeline':
          return reply(timelinePage(incident, await timelineOf(deps.db, incident.id), 0));
        case 'resolve':
          if (parsed.summary === undefined) return openModal(resolveModal);
          await resolveIncident(run, { ...base, summary: parsed.summary });
          return done('Resolved.');
        case 'reopen':
          await reopenIncident(run, base);
          return done('Reopened; the incident is investigating again.');
        case 'ack': {
          const { offerCommand } = await acknowledge(run, base);
          await reply(
            offerCommand ? takeCommandOffer(incident) : confirmation('Acknowledged; paging has stopped.'),
          );
          deps.kickJobs();
          return;
        }
        case 'escalate': {
          const { tier } = await escalateNow(run, { ...base, reason: parsed.reason });
          return done(`Paging tier ${tier} now.`);
        }
        case 'page':
          await pagePeople(run, { ...base, targets: parsed.targets, reason: parsed.reason });
          return done(
            `Paging ${parsed.targets.map((t) => (t.startsWith('S') ? `<!subteam^${t}>` : `<@${t}>`)).join(', ')}.`,
          );
      }
    }),
  );
}
