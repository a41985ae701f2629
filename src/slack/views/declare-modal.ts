import type { View } from '@slack/web-api';
import type { Severity } from '../../config/index.js';
import { SUMMARY_MAX, TITLE_MAX } from '../../incidents/model.js';
import { truncate } from '../../text.js';
import { DECLARE_MODAL, DECLARE_OPTION } from '../ids.js';

export interface DeclareModalMetadata {
  /** The channel /incident was typed in, for telling the reporter where the incident went. */
  sourceChannelId?: string;
  /** The alert group it is declared from (its Declare incident button): linked in the same transaction. */
  alertGroupId?: number;
}

/** The declare form, empty or prefilled (from an alert group). Pure: the same input always gives the same view. */
export function declareModal(input: {
  severities: Severity[];
  initialTitle?: string;
  initialSeverity?: string;
  initialSummary?: string;
  metadata: DeclareModalMetadata;
}): View {
  const ids = DECLARE_MODAL;
  const initialTitle = input.initialTitle ? truncate(input.initialTitle.trim(), TITLE_MAX) : undefined;
  const severityOptions = input.severities.map((s) => ({
    text: { type: 'plain_text' as const, text: truncate(s.id, 75) },
    description: { type: 'plain_text' as const, text: truncate(s.description, 75) },
    value: s.id,
  }));
  const initialSeverity = severityOptions.find((o) => o.value === input.initialSeverity);
  const initialSummary = input.initialSummary ? truncate(input.initialSummary, SUMMARY_MAX) : undefined;
  return {
    type: 'modal',
    callback_id: ids.callbackId,
    title: { type: 'plain_text', text: 'Declare an incident' },
    submit: { type: 'plain_text', text: 'Declare' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: JSON.stringify(input.metadata),
    blocks: [
      {
        type: 'input',
        block_id: ids.title.block,
        label: { type: 'plain_text', text: 'Title' },
        hint: { type: 'plain_text', text: 'What is broken, in a few words. It names the incident channel.' },
        element: {
          type: 'plain_text_input',
          action_id: ids.title.action,
          max_length: TITLE_MAX,
          placeholder: { type: 'plain_text', text: 'Checkout fails for EU customers' },
          ...(initialTitle ? { initial_value: initialTitle } : {}),
        },
      },
      {
        type: 'input',
        block_id: ids.severity.block,
        label: { type: 'plain_text', text: 'Severity' },
        hint: { type: 'plain_text', text: 'When unsure, pick the higher severity; you can change it later.' },
        element: {
          type: 'static_select',
          action_id: ids.severity.action,
          placeholder: { type: 'plain_text', text: 'Choose a severity' },
          options: severityOptions,
          ...(initialSeverity ? { initial_option: initialSeverity } : {}),
        },
      },
      {
        type: 'input',
        block_id: ids.summary.block,
        optional: true,
        label: { type: 'plain_text', text: 'Summary' },
        element: {
          type: 'plain_text_input',
          action_id: ids.summary.action,
          multiline: true,
          max_length: SUMMARY_MAX,
          placeholder: { type: 'plain_text', text: 'What do we know so far? Who is affected?' },
          ...(initialSummary ? { initial_value: initialSummary } : {}),
        },
      },
      {
        type: 'input',
        block_id: ids.commander.block,
        optional: true,
        label: { type: 'plain_text', text: 'Incident commander' },
        hint: { type: 'plain_text', text: 'Leave empty if nobody has taken command yet.' },
        element: {
          type: 'users_select',
          action_id: ids.commander.action,
          placeholder: { type: 'plain_text', text: 'Choose a person' },
        },
      },
      {
        type: 'input',
        block_id: ids.options.block,
        optional: true,
        label: { type: 'plain_text', text: 'Options' },
        element: {
          type: 'checkboxes',
          action_id: ids.options.action,
          options: [
            {
              text: { type: 'plain_text', text: 'Private incident' },
              description: { type: 'plain_text', text: 'Private channel; not announced' },
              value: DECLARE_OPTION.private,
            },
            {
              text: { type: 'plain_text', text: 'Test incident' },
              description: { type: 'plain_text', text: 'A drill: not announced' },
              value: DECLARE_OPTION.test,
            },
          ],
        },
      },
    ],
  };
}
