import type { App, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { type DeclareFieldErrors, declareIncident, validateDeclareForm } from '../../incidents/declare.js';
import { guarded } from '../errors.js';
import { DECLARE_MODAL, DECLARE_OPTION } from '../ids.js';
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
      .optional(),
  })
  .catch({});

function parseMetadata(text: string | undefined): { sourceChannelId?: string } {
  try {
    return metadataSchema.parse(JSON.parse(text || '{}'));
  } catch {
    return {};
  }
}

export function registerViews(app: App, deps: ListenerDeps): void {
  app.view(
    DECLARE_MODAL.callbackId,
    guarded(
      deps.logger,
      'declare submission',
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
        // Commit first, then close the modal: a closed modal always means a stored incident.
        await declareIncident(
          { db: deps.db, clock: deps.clock, config: deps.config },
          {
            ...form.fields,
            teamId,
            reporterId: body.user.id,
            declareKey: view.id,
            sourceChannelId: parseMetadata(view.private_metadata).sourceChannelId,
          },
        );
        await ack();
        deps.kickJobs();
      },
      { modalErrorBlock: DECLARE_MODAL.title.block },
    ),
  );
}
