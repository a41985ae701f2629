import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { declareFromGroup } from '../../alerts/incidents.js';
import { UserError } from '../../errors.js';
import { type DeclareFieldErrors, declareIncident, validateDeclareForm } from '../../incidents/declare.js';
import { resolveIncident } from '../../incidents/lifecycle.js';
import { MAX_MINUTES, ROLES, type Role } from '../../incidents/model.js';
import { assignRoles } from '../../incidents/roles.js';
import { addTask } from '../../incidents/tasks.js';
import { postStatusUpdate } from '../../incidents/updates.js';
import type { ComponentState } from '../../statuspage/model.js';
import {
  DECLARE_MODAL,
  DECLARE_OPTION,
  RESOLVE_MODAL,
  ROLES_MODAL,
  TASK_MODAL,
  UPDATE_MODAL,
} from '../ids.js';
import type { DeclareModalMetadata } from '../views/declare-modal.js';
import type { ListenerDeps } from './deps.js';

type ViewState = ViewSubmitAction['view']['state']['values'];

/** Reads the declare form's raw values out of Slack's view state (validation happens in the use-case's schema). */
export function readDeclareForm(values: ViewState): Record<string, unknown> {
  const ids = DECLARE_MODAL;
  const options = values[ids.options.block]?.[ids.options.action]?.selected_options ?? [];
  const chosen = new Set(options.map((o) => o.value));
  return {
    title: values[ids.title.block]?.[ids.title.action]?.value ?? '',
    severity: values[ids.severity.block]?.[ids.severity.action]?.selected_option?.value ?? undefined,
    summary: values[ids.summary.block]?.[ids.summary.action]?.value ?? '',
    commanderId: values[ids.commander.block]?.[ids.commander.action]?.selected_user ?? undefined,
    isPrivate: chosen.has(DECLARE_OPTION.private),
    isTest: chosen.has(DECLARE_OPTION.test),
  };
}

const FIELD_BLOCK: Record<keyof DeclareFieldErrors, string> = {
  title: DECLARE_MODAL.title.block,
  severity: DECLARE_MODAL.severity.block,
  summary: DECLARE_MODAL.summary.block,
  commanderId: DECLARE_MODAL.commander.block,
  isPrivate: DECLARE_MODAL.options.block,
  isTest: DECLARE_MODAL.options.block,
};

const metadataSchema = z
  .object({
    sourceChannelId: z
      .string()
      .regex(/^[CGD][A-Z0-9]+$/)
      .optional()
      .catch(undefined),
    alertGroupId: z.number().int().positive().optional().catch(undefined),
  })
  .catch({});

function parseMetadata(text: string | undefined): DeclareModalMetadata {
  try {
    return metadataSchema.parse(JSON.parse(text || '{}'));
  } catch {
    return {};
  }
}

export function registerViews(deps: ListenerDeps): void {
  deps.on.view(
    DECLARE_MODAL.callbackId,
    async ({ ack, body, view }: SlackViewMiddlewareArgs<ViewSubmitAction>) => {
      const form = validateDeclareForm(readDeclareForm(view.state.values), deps.config.severities);
      if (!form.ok) {
        const errors: Record<string, string> = {};
        for (const [field, message] of Object.entries(form.errors)) {
          errors[FIELD_BLOCK[field as keyof DeclareFieldErrors]] ??= message;
        }
        await ack({ response_action: 'errors', errors });
        return;
      }
      const teamId = view.team_id || body.team?.id || body.user.team_id || '';
      const metadata = parseMetadata(view.private_metadata);
      const request = {
        ...form.fields,
        teamId,
        reporterId: body.user.id,
        declareKey: view.id,
        sourceChannelId: metadata.sourceChannelId,
      };
      // Commit first, then close the modal: a closed modal always means a stored incident.
      if (metadata.alertGroupId)
        await declareFromGroup(deps.incidents, { ...request, groupId: metadata.alertGroupId });
      else await declareIncident(deps.incidents, request);
      await ack();
    },
    { modalErrorBlock: DECLARE_MODAL.title.block },
  );

  registerIncidentModals(deps);
}

const incidentMetadata = z.object({ incidentId: z.uuid() });

function incidentIdOf(view: ViewSubmitAction['view']): string {
  try {
    return incidentMetadata.parse(JSON.parse(view.private_metadata || '{}')).incidentId;
  } catch {
    throw new UserError('bad_metadata', 'This form has expired; open it again from the incident card.');
  }
}

const statusSchema = z.enum(['investigating', 'identified', 'monitoring']);
const minutes = z.coerce.number().int().min(1).max(MAX_MINUTES);

/** The modals opened from an incident (roles, status update, task, resolve): read, call one use-case, close. */
function registerIncidentModals(deps: ListenerDeps): void {
  const run = deps.incidents;
  type Args = SlackViewMiddlewareArgs<ViewSubmitAction>;
  const submit = (
    callbackId: string,
    errorBlock: string,
    handle: (args: Args, values: ViewState) => Promise<void>,
  ) =>
    deps.on.view(
      callbackId,
      async (args: Args) => {
        // Commit first, then close the form.
        await handle(args, args.view.state.values);
        await args.ack();
      },
      { modalErrorBlock: errorBlock },
    );

  submit(ROLES_MODAL.callbackId, 'commander', async ({ body, view }, values) => {
    const assignments: Partial<Record<Role, string>> = {};
    for (const role of ROLES) {
      const user = values[role]?.[ROLES_MODAL.action]?.selected_user;
      if (user) assignments[role] = user;
    }
    await assignRoles(run, { incidentId: incidentIdOf(view), actorId: body.user.id, assignments });
  });

  submit(UPDATE_MODAL.callbackId, UPDATE_MODAL.message.block, async ({ body, view }, values) => {
    const ids = UPDATE_MODAL;
    const status = statusSchema.safeParse(
      values[ids.status.block]?.[ids.status.action]?.selected_option?.value,
    );
    const next = minutes.safeParse(values[ids.next.block]?.[ids.next.action]?.selected_option?.value);
    const audience = values[ids.audience.block]?.[ids.audience.action]?.selected_option?.value;
    // The status page's fields, when the form has them (a component left alone is not affected).
    const components = Object.entries(values).flatMap(([block, v]) => {
      const state = v[ids.componentAction]?.selected_option?.value;
      return block.startsWith(ids.componentBlock) && state
        ? [{ id: block.slice(ids.componentBlock.length), state: state as ComponentState }]
        : [];
    });
    await postStatusUpdate(run, {
      incidentId: incidentIdOf(view),
      actorId: body.user.id,
      message: values[ids.message.block]?.[ids.message.action]?.value ?? '',
      status: status.success ? status.data : undefined,
      audience: audience === 'customers' ? 'customers' : 'internal',
      nextUpdateMinutes: next.success ? next.data : undefined,
      publication: {
        title: values[ids.publicTitle.block]?.[ids.publicTitle.action]?.value ?? undefined,
        body: values[ids.publicBody.block]?.[ids.publicBody.action]?.value ?? undefined,
        components,
      },
    });
  });

  submit(TASK_MODAL.callbackId, TASK_MODAL.text.block, async ({ body, view }, values) => {
    const ids = TASK_MODAL;
    const box = minutes.safeParse(values[ids.timeBox.block]?.[ids.timeBox.action]?.selected_option?.value);
    await addTask(run, {
      incidentId: incidentIdOf(view),
      actorId: body.user.id,
      text: values[ids.text.block]?.[ids.text.action]?.value ?? '',
      assigneeId: values[ids.assignee.block]?.[ids.assignee.action]?.selected_user ?? undefined,
      minutes: box.success ? box.data : undefined,
    });
  });

  submit(RESOLVE_MODAL.callbackId, RESOLVE_MODAL.summary.block, async ({ body, view }, values) => {
    const ids = RESOLVE_MODAL.summary;
    const publicText = values[RESOLVE_MODAL.publicText.block]?.[RESOLVE_MODAL.publicText.action]?.value;
    await resolveIncident(run, {
      incidentId: incidentIdOf(view),
      actorId: body.user.id,
      summary: values[ids.block]?.[ids.action]?.value ?? '',
      ...(publicText ? { publicText } : {}),
    });
  });
}
