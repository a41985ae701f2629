import type { KnownBlock, View } from '@slack/web-api';
import type { StatusPageConfig } from '../../config/index.js';
import { type IncidentStatus, ROLES } from '../../incidents/model.js';
import type { IncidentSnapshot } from '../../incidents/queries.js';
import {
  COMPONENT_STATE_WORDS,
  COMPONENT_STATES,
  type ComponentState,
  PUBLIC_TITLE_MAX,
} from '../../statuspage/model.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { RESOLVE_MODAL, ROLES_MODAL, TASK_MODAL, UPDATE_MODAL } from '../ids.js';
import { section, text } from './blocks.js';
import { roleLabel, statusLabel } from './labels.js';

/** The forms opened from an incident (roles, status update, task, resolve); each carries the incident id. */

export interface IncidentModalMetadata {
  incidentId: string;
}

const meta = (incidentId: string) => JSON.stringify({ incidentId } satisfies IncidentModalMetadata);

const modalTitle = (i: { number: number }) => truncate(`Incident #${i.number}`, 24);

/** A modal about one incident: its number in the title, its id in private_metadata. */
function incidentModal(i: IncidentSnapshot, callbackId: string, submit: string, blocks: KnownBlock[]): View {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: text(modalTitle(i)),
    submit: text(submit),
    close: text('Cancel'),
    private_metadata: meta(i.id),
    blocks,
  };
}

export function rolesModal(i: IncidentSnapshot): View {
  return incidentModal(
    i,
    ROLES_MODAL.callbackId,
    'Assign',
    ROLES.map((role) => ({
      type: 'input',
      block_id: role,
      optional: true,
      label: text(roleLabel(role)),
      element: {
        type: 'users_select',
        action_id: ROLES_MODAL.action,
        placeholder: text('Choose a person'),
        ...(i.roles[role] ? { initial_user: i.roles[role] } : {}),
      },
    })),
  );
}

export const NEXT_UPDATE_CHOICES = [10, 15, 20, 30, 60, 120] as const;

const UPDATE_STATUSES: IncidentStatus[] = ['investigating', 'identified', 'monitoring'];

/** The status page's part of the update form: used only when the audience is customers. */
function publicationBlocks(i: IncidentSnapshot, page: StatusPageConfig | undefined): KnownBlock[] {
  if (!page) return [];
  const stateOption = (s: ComponentState) => ({ text: text(COMPONENT_STATE_WORDS[s]), value: s });
  return [
    { type: 'divider' },
    section(
      '*Status page* — for an update to customers only; what it publishes, and the components it affects.',
    ),
    {
      type: 'input',
      block_id: UPDATE_MODAL.publicTitle.block,
      optional: true,
      label: text('Public title'),
      element: {
        type: 'plain_text_input',
        action_id: UPDATE_MODAL.publicTitle.action,
        max_length: PUBLIC_TITLE_MAX,
        initial_value: truncate(i.title, PUBLIC_TITLE_MAX),
      },
    },
    {
      type: 'input',
      block_id: UPDATE_MODAL.publicBody.block,
      optional: true,
      label: text('Public text'),
      hint: text('What customers read. Empty: the update above.'),
      element: {
        type: 'plain_text_input',
        action_id: UPDATE_MODAL.publicBody.action,
        multiline: true,
        max_length: 3000,
      },
    },
    ...page.components.map(
      (c): KnownBlock => ({
        type: 'input',
        block_id: `${UPDATE_MODAL.componentBlock}${c.id}`,
        optional: true,
        label: text(truncate(c.group ? `${c.group}: ${c.name}` : c.name, 2000)),
        element: {
          type: 'static_select',
          action_id: UPDATE_MODAL.componentAction,
          placeholder: text('Not affected'),
          options: COMPONENT_STATES.map(stateOption),
        },
      }),
    ),
  ];
}

export function updateModal(i: IncidentSnapshot, page?: StatusPageConfig): View {
  const statusOption = (s: IncidentStatus) => ({ text: text(statusLabel(s)), value: s });
  const minutesOption = (m: number) => ({
    text: text(m < 60 ? `In ${m} minutes` : `In ${m / 60} hour${m > 60 ? 's' : ''}`),
    value: String(m),
  });
  const current = UPDATE_STATUSES.includes(i.status) ? i.status : 'investigating';
  return incidentModal(i, UPDATE_MODAL.callbackId, 'Post update', [
    {
      type: 'input',
      block_id: UPDATE_MODAL.status.block,
      label: text('Status'),
      element: {
        type: 'static_select',
        action_id: UPDATE_MODAL.status.action,
        options: UPDATE_STATUSES.map(statusOption),
        initial_option: statusOption(current),
      },
    },
    {
      type: 'input',
      block_id: UPDATE_MODAL.message.block,
      label: text('Update'),
      hint: text('What changed, what is being done, what people should do.'),
      element: {
        type: 'plain_text_input',
        action_id: UPDATE_MODAL.message.action,
        multiline: true,
        max_length: 3000,
      },
    },
    {
      type: 'input',
      block_id: UPDATE_MODAL.audience.block,
      label: text('Audience'),
      element: {
        type: 'radio_buttons',
        action_id: UPDATE_MODAL.audience.action,
        options: [
          { text: text('Internal'), value: 'internal' },
          { text: text('Customers too'), value: 'customers' },
        ],
        initial_option: { text: text('Internal'), value: 'internal' },
      },
    },
    {
      type: 'input',
      block_id: UPDATE_MODAL.next.block,
      optional: true,
      label: text('Next update'),
      element: {
        type: 'static_select',
        action_id: UPDATE_MODAL.next.action,
        placeholder: text('No promise'),
        options: NEXT_UPDATE_CHOICES.map(minutesOption),
        initial_option: minutesOption(20),
      },
    },
    ...publicationBlocks(i, page),
  ]);
}

export const TIME_BOX_CHOICES = [5, 10, 15, 30, 60] as const;

export function taskModal(i: IncidentSnapshot): View {
  return incidentModal(i, TASK_MODAL.callbackId, 'Add task', [
    {
      type: 'input',
      block_id: TASK_MODAL.text.block,
      label: text('Task'),
      element: { type: 'plain_text_input', action_id: TASK_MODAL.text.action, max_length: 500 },
    },
    {
      type: 'input',
      block_id: TASK_MODAL.assignee.block,
      optional: true,
      label: text('Assignee'),
      element: {
        type: 'users_select',
        action_id: TASK_MODAL.assignee.action,
        placeholder: text('Choose a person'),
      },
    },
    {
      type: 'input',
      block_id: TASK_MODAL.timeBox.block,
      optional: true,
      label: text('Time box'),
      element: {
        type: 'static_select',
        action_id: TASK_MODAL.timeBox.action,
        placeholder: text('None'),
        options: TIME_BOX_CHOICES.map((m) => ({ text: text(`${m} minutes`), value: String(m) })),
      },
    },
  ]);
}

export function resolveModal(i: IncidentSnapshot, page?: StatusPageConfig): View {
  const publicText: KnownBlock[] = page
    ? [
        {
          type: 'input',
          block_id: RESOLVE_MODAL.publicText.block,
          optional: true,
          label: text('Status page: final update'),
          hint: text(
            'Published only if customers were told of this incident. Empty: "This incident has been resolved."',
          ),
          element: {
            type: 'plain_text_input',
            action_id: RESOLVE_MODAL.publicText.action,
            multiline: true,
            max_length: 3000,
          },
        },
      ]
    : [];
  return incidentModal(i, RESOLVE_MODAL.callbackId, 'Resolve', [
    section(
      `Resolve *#${i.number} ${escapeMrkdwn(i.title)}*? The summary goes to the channel and the announcement.`,
    ),
    {
      type: 'input',
      block_id: RESOLVE_MODAL.summary.block,
      label: text('Resolution summary'),
      hint: text('What fixed it, and whether any data was lost.'),
      element: {
        type: 'plain_text_input',
        action_id: RESOLVE_MODAL.summary.action,
        multiline: true,
        max_length: 3000,
      },
    },
    ...publicText,
  ]);
}
