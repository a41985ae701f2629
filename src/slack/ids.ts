/** callback_id / block_id / action_id constants shared by the view builders and the listeners. */

export const DECLARE_MODAL = {
  callbackId: 'incident_declare',
  title: { block: 'title', action: 'title_input' },
  severity: { block: 'severity', action: 'severity_select' },
  summary: { block: 'summary', action: 'summary_input' },
  commander: { block: 'commander', action: 'commander_select' },
  options: { block: 'options', action: 'options_checkboxes' },
} as const;

export const DECLARE_OPTION = { private: 'private', test: 'test' } as const;

/** Buttons and selects on the incident card; each carries the incident id as its value. */
export const CARD_ACTION = {
  roles: 'card_roles',
  update: 'card_update',
  task: 'card_task',
  severity: 'card_severity',
  resolve: 'card_resolve',
  reopen: 'card_reopen',
} as const;

export const TIMELINE_PAGE_ACTION = 'timeline_page';

export const ROLES_MODAL = { callbackId: 'incident_roles', action: 'role_user' } as const;

export const UPDATE_MODAL = {
  callbackId: 'incident_update',
  status: { block: 'status', action: 'status_select' },
  message: { block: 'message', action: 'message_input' },
  audience: { block: 'audience', action: 'audience_radio' },
  next: { block: 'next_update', action: 'next_update_select' },
  publicTitle: { block: 'public_title', action: 'public_title_input' },
  publicBody: { block: 'public_body', action: 'public_body_input' },
  /** One select per component: block `component:<id>`. */
  componentBlock: 'component:',
  componentAction: 'component_state',
} as const;

export const TASK_MODAL = {
  callbackId: 'incident_task',
  text: { block: 'task_text', action: 'task_text_input' },
  assignee: { block: 'task_assignee', action: 'task_assignee_select' },
  timeBox: { block: 'task_time_box', action: 'task_time_box_select' },
} as const;

export const RESOLVE_MODAL = {
  callbackId: 'incident_resolve',
  summary: { block: 'resolution', action: 'resolution_input' },
  publicText: { block: 'public_resolution', action: 'public_resolution_input' },
} as const;

/** Controls on an alert group's message; each carries the group's id (the silence select: id:minutes). */
export const ALERT_ACTION = {
  ack: 'alert_group_ack',
  resolve: 'alert_group_resolve',
  declare: 'alert_group_declare',
  silence: 'alert_group_silence',
} as const;

/** Buttons of paging and reminders; each carries the incident id as its value. */
export const ESCALATION_ACTION = {
  ack: 'incident_ack',
  takeCommand: 'take_command',
  snooze: 'snooze_update_reminder',
} as const;

/** `/incident oncall` and its lists: Override and Take carry the schedule's name, Remove the override's id. */
export const ONCALL_ACTION = {
  override: 'oncall_override',
  take: 'oncall_take_shift',
  remove: 'oncall_remove_override',
} as const;

export const OVERRIDE_MODAL = {
  callbackId: 'oncall_override',
  schedule: { block: 'schedule', action: 'schedule_select' },
  user: { block: 'user', action: 'user_select' },
  start: { block: 'start', action: 'start_picker' },
  end: { block: 'end', action: 'end_picker' },
} as const;

/** The postmortem's controls: Write (generate) and Edit carry the incident id; a status button `id:status`. */
export const POSTMORTEM_ACTION = {
  write: 'postmortem_write',
  edit: 'postmortem_edit',
  status: 'postmortem_status',
} as const;

/** The Edit postmortem form: one block per part people write (block and action ids are the part's name). */
export const POSTMORTEM_MODAL = { callbackId: 'postmortem_edit' } as const;

/** App Home's buttons. */
export const HOME_ACTION = { declare: 'home_declare' } as const;

/** The Create follow-up message shortcut and its form. */
export const FOLLOWUP_SHORTCUT = {
  callbackId: 'create_followup',
  modal: 'followup_create',
  incident: { block: 'incident', action: 'incident_select' },
  text: { block: 'text', action: 'text_input' },
  owner: { block: 'owner', action: 'owner_select' },
  due: { block: 'due', action: 'due_picker' },
} as const;

/** `/incident webhooks`: Redeliver carries the delivery's id. */
export const WEBHOOK_ACTION = { redeliver: 'webhook_redeliver' } as const;
