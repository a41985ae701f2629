/**
 * The words of an incident and their limits. A leaf: it imports nothing from the project, so the database
 * schema, the config file, the timeline and the Slack views can all speak the domain's language without
 * depending on its use-cases.
 */

/** The lifecycle, in order; see rules.ts for the moves allowed between them. */
export const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** The roles of PROCESS.md. The commander is the single source of truth and authority. */
export const ROLES = ['commander', 'deputy', 'liaison', 'scribe'] as const;
export type Role = (typeof ROLES)[number];

/** Who a status update is for: the team only, or customers too. */
export const UPDATE_AUDIENCES = ['internal', 'customers'] as const;
export type UpdateAudience = (typeof UPDATE_AUDIENCES)[number];

/** The timers an incident keeps besides escalation (see reminders.ts). */
export const REMINDERS = ['update', 'commander', 'deputy', 'task', 'postmortem'] as const;
export type Reminder = (typeof REMINDERS)[number];

/** Limits, in characters (code points), of what people type. */
export const TITLE_MAX = 150;
export const SUMMARY_MAX = 3000;
/** Status updates, notes and resolution summaries. */
export const TEXT_MAX = 3000;
export const TASK_TEXT_MAX = 500;

/** Time boxes and promised next updates: 1 minute to 7 days. */
export const MAX_MINUTES = 7 * 24 * 60;

/** Slack user ids of people (not bots' or groups'). */
export const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** The postmortem's review, PagerDuty's way: written, reviewed by the team, then closed. */
export const POSTMORTEM_STATUSES = ['draft', 'in_review', 'reviewed', 'closed'] as const;
export type PostmortemStatus = (typeof POSTMORTEM_STATUSES)[number];

/** How statuses read in sentences ("moved the postmortem to in review"); capitalise for a label. */
export const INCIDENT_STATUS_WORDS: Record<IncidentStatus, string> = {
  investigating: 'investigating',
  identified: 'identified',
  monitoring: 'monitoring',
  resolved: 'resolved',
};
export const POSTMORTEM_STATUS_WORDS: Record<PostmortemStatus, string> = {
  draft: 'draft',
  in_review: 'in review',
  reviewed: 'reviewed',
  closed: 'closed',
};

/** A word as a label: "in review" → "In review". */
export const capitalized = (words: string): string => words.charAt(0).toUpperCase() + words.slice(1);

/** The parts of a postmortem people write (the rest is generated from the timeline). */
export const POSTMORTEM_PARTS = [
  'overview',
  'whatHappened',
  'contributingFactors',
  'resolution',
  'wentWell',
  'wentBadly',
  'lucky',
] as const;
export type PostmortemPart = (typeof POSTMORTEM_PARTS)[number];
export const POSTMORTEM_PART_MAX = 2900;

/** Follow-ups (action items): the work that makes the next incident shorter; they outlive the incident. */
export const FOLLOWUP_STATUSES = ['open', 'done', 'dropped'] as const;
export type FollowupStatus = (typeof FOLLOWUP_STATUSES)[number];
export const FOLLOWUP_TEXT_MAX = 500;
