import type { View } from '@slack/web-api';
import { FOLLOWUP_TEXT_MAX } from '../../incidents/model.js';
import { truncate } from '../../text.js';
import { FOLLOWUP_SHORTCUT } from '../ids.js';
import { text } from './blocks.js';

/** The Create follow-up form (from a message shortcut): the incident, the text, an owner, a due date. */

export interface FollowupModalMetadata {
  /** The message it is made from. */
  channelId: string;
  ts: string;
}

export function followupModal(input: {
  incidents: { id: string; number: number; title: string }[];
  selected?: string;
  text: string;
  metadata: FollowupModalMetadata;
}): View {
  const ids = FOLLOWUP_SHORTCUT;
  const options = input.incidents.slice(0, 100).map((i) => ({
    text: text(truncate(`#${i.number} ${i.title}`, 75)),
    value: i.id,
  }));
  const initial = options.find((o) => o.value === input.selected);
  const body = truncate(input.text.trim(), FOLLOWUP_TEXT_MAX);
  return {
    type: 'modal',
    callback_id: ids.modal,
    title: text('Create follow-up'),
    submit: text('Create'),
    close: text('Cancel'),
    private_metadata: JSON.stringify(input.metadata),
    blocks: [
      {
        type: 'input',
        block_id: ids.incident.block,
        label: text('Incident'),
        element: {
          type: 'static_select',
          action_id: ids.incident.action,
          placeholder: text('Choose the incident'),
          options: options.length > 0 ? options : [{ text: text('No incidents yet'), value: 'none' }],
          ...(initial ? { initial_option: initial } : {}),
        },
      },
      {
        type: 'input',
        block_id: ids.text.block,
        label: text('Follow-up'),
        hint: text('What will make the next incident shorter. The message is linked.'),
        element: {
          type: 'plain_text_input',
          action_id: ids.text.action,
          multiline: true,
          max_length: FOLLOWUP_TEXT_MAX,
          ...(body ? { initial_value: body } : {}),
        },
      },
      {
        type: 'input',
        block_id: ids.owner.block,
        optional: true,
        label: text('Owner'),
        element: { type: 'users_select', action_id: ids.owner.action, placeholder: text('Who will do it') },
      },
      {
        type: 'input',
        block_id: ids.due.block,
        optional: true,
        label: text('Due'),
        element: { type: 'datepicker', action_id: ids.due.action },
      },
    ],
  };
}
