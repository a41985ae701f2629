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

/** Markers put in message metadata so a retried job can find a message it already posted. */
export const MESSAGE_MARKER = {
  card: 'incident_card',
  announcement: 'incident_announcement',
} as const;
