import { z } from 'zod';
import {
  INCIDENT_STATUSES,
  POSTMORTEM_STATUSES,
  REMINDERS,
  ROLES,
  UPDATE_AUDIENCES,
} from '../incidents/model.js';

/**
 * Every kind of timeline event and the data it carries. The timeline is the incident's memory: the
 * channel posts are rendered from these events, and the postmortem and metrics will be. Writing checks the
 * data's type at compile time; reading parses it, so a row this version cannot read is shown as such
 * instead of breaking a whole timeline. The schemas are loose (extra fields are kept) so that rows written
 * by an older or newer version still read.
 */

const userId = z.string();
const isoTime = z.iso.datetime({ offset: true });
const status = z.enum(INCIDENT_STATUSES);

export const TIMELINE_DATA = {
  declared: z.looseObject({
    title: z.string(),
    severity: z.string(),
    private: z.boolean(),
    test: z.boolean(),
  }),
  role_assigned: z.looseObject({
    role: z.enum(ROLES),
    userId,
    previous: userId.optional(),
    relievedRoleId: z.number().optional(),
  }),
  channel_created: z.looseObject({
    channelId: z.string(),
    name: z.string(),
    adopted: z.boolean().optional(),
  }),
  card_posted: z.looseObject({ ts: z.string() }),
  announced: z.looseObject({ channelId: z.string(), ts: z.string() }),
  side_effect_failed: z.looseObject({
    step: z.string(),
    error: z.string(),
    final: z.boolean().optional(),
    job: z.string().optional(),
  }),
  severity_changed: z.looseObject({ from: z.string(), to: z.string() }),
  /** The title or the summary changed (each present only when it did). */
  incident_updated: z.looseObject({
    title: z.looseObject({ from: z.string(), to: z.string() }).optional(),
    summary: z.looseObject({ from: z.string(), to: z.string() }).optional(),
  }),
  status_changed: z.looseObject({ from: status, to: status }),
  status_update: z.looseObject({
    updateId: z.number(),
    status,
    audience: z.enum(UPDATE_AUDIENCES),
    message: z.string(),
    nextUpdateAt: isoTime.nullable(),
  }),
  task_added: z.looseObject({
    number: z.number(),
    text: z.string(),
    assigneeId: userId.nullable(),
    dueAt: isoTime.nullable(),
  }),
  task_assigned: z.looseObject({ number: z.number(), assigneeId: userId, previous: userId.nullable() }),
  task_completed: z.looseObject({ number: z.number() }),
  note: z.looseObject({ text: z.string() }),
  resolved: z.looseObject({
    from: status,
    to: status,
    summary: z.string(),
    /** Tasks still open when it was resolved (the resolution message says so). */
    openTasks: z.number().optional(),
  }),
  reopened: z.looseObject({ from: status, to: status }),
  acknowledged: z.looseObject({ stoppedSteps: z.number() }),
  escalated: z.looseObject({ tier: z.number(), reason: z.string().nullable() }),
  paged: z.looseObject({
    label: z.string(),
    users: z.array(userId),
    reason: z.string().nullable(),
    /** The tier resolved to nobody (nobody on call, an empty group): the tier paged at once instead, or null. */
    skippedTo: z.string().nullable().optional(),
  }),
  /**
   * A tier's page that could not go out in its turn (Slack kept failing it) found, when it finally could,
   * that a later tier had paged already: it is not sent late, and the timeline says so.
   */
  tier_passed: z.looseObject({ label: z.string(), paged: z.string() }),
  reminded: z.looseObject({
    reminder: z.enum(REMINDERS),
    /** update: who was reminded (the liaison, else the commander, else nobody in particular). */
    to: userId.nullable().optional(),
    /** update: the cadence; commander: how long there had been no commander. */
    everyMs: z.number().optional(),
    afterMs: z.number().optional(),
    /** task: its number. */
    number: z.number().optional(),
    /** deputy: which mark (1 = the first `deputy_callouts` interval). */
    mark: z.number().optional(),
    /** postmortem: when the incident was resolved, and when the postmortem is due. */
    resolvedAt: isoTime.optional(),
    dueAt: isoTime.optional(),
  }),
  reminder_snoozed: z.looseObject({ until: isoTime }),
  /** An alert group became this incident (declared from it): its title and how many alerts fired. */
  alerts_linked: z.looseObject({ groupId: z.number(), title: z.string(), firing: z.number() }),
  /** Every alert of the groups linked to the incident has resolved (the incident itself has not). */
  alerts_resolved: z.looseObject({ title: z.string() }),
  postmortem_owner_set: z.looseObject({ ownerId: userId, previous: userId.nullable() }),
  postmortem_status_changed: z.looseObject({
    from: z.enum(POSTMORTEM_STATUSES).nullable(),
    to: z.enum(POSTMORTEM_STATUSES),
  }),
  /** Someone edited the parts of the postmortem people write (which ones). */
  postmortem_edited: z.looseObject({ parts: z.array(z.string()) }),
  followup_added: z.looseObject({
    number: z.number(),
    text: z.string(),
    ownerId: userId.nullable(),
    dueOn: z.string().nullable(),
  }),
  followup_done: z.looseObject({ number: z.number() }),
  followup_dropped: z.looseObject({ number: z.number(), reason: z.string() }),
} as const;

export type TimelineKind = keyof typeof TIMELINE_DATA;
export const TIMELINE_KINDS = Object.keys(TIMELINE_DATA) as TimelineKind[];

/** What a writer passes for each kind. */
export type TimelineData = { [K in TimelineKind]: z.input<(typeof TIMELINE_DATA)[K]> };

interface EventBase {
  id: number;
  incidentId: string;
  actorId: string | null;
  occurredAt: Date;
}

/** A timeline event as read back: the kind tells the shape of `data`. */
export type TimelineEvent =
  | { [K in TimelineKind]: EventBase & { kind: K; data: z.output<(typeof TIMELINE_DATA)[K]> } }[TimelineKind]
  | (EventBase & { kind: 'unreadable'; storedKind: string; data: Record<string, unknown> });

/** Reads a stored row; never throws. */
export function readEvent(row: EventBase & { kind: string; data: Record<string, unknown> }): TimelineEvent {
  const base = { id: row.id, incidentId: row.incidentId, actorId: row.actorId, occurredAt: row.occurredAt };
  const schema = (TIMELINE_DATA as Record<string, z.ZodType | undefined>)[row.kind];
  const parsed = schema?.safeParse(row.data);
  if (!parsed?.success) return { ...base, kind: 'unreadable', storedKind: row.kind, data: row.data };
  return { ...base, kind: row.kind, data: parsed.data } as TimelineEvent;
}
