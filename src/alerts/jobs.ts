import { z } from 'zod';
import { jobKey, jobKeyPrefix, jobType } from '../jobs/job.js';

/**
 * The alert hub's job types and their keys, in one place: what a change to a group schedules (changes.ts)
 * and what runs it (render.ts, relay.ts, paging.ts, groups.ts) name the same jobs without importing each
 * other. Every key is per group (or per channel), so a job scheduled again while due is one job.
 */

const groupId = z.number().int();

/** Edits one group's message to its current state (at most once per 5 s). */
export const renderJob = jobType('alerts.render', z.object({ groupId }));
/** Posts the next new message of one channel, then itself again a second later while there is more. */
export const sendJob = jobType('alerts.send', z.object({ channelId: z.string() }));
/** Tells the incident a group was declared as what changed in the group (coalesced), and its count. */
export const relayJob = jobType('alerts.relay', z.object({ groupId }));
/** A route's `declare:`: declares the incident for a new group, once. */
export const declareJob = jobType('alerts.declare', z.object({ groupId }));
/** One step (tier × round) of the group's escalation policy. */
export const pageStepJob = jobType(
  'alerts.page_step',
  z.object({ groupId, index: z.number().int().min(0), policy: z.string() }),
);
/** One page to one person: a DM with an Acknowledge button. `eventId` is the group's `paged` event. */
export const pageJob = jobType('alerts.page', z.object({ groupId, userId: z.string(), eventId: z.number() }));
/** A silence ended: what it held back goes out, and paging resumes. */
export const unsilenceJob = jobType('alerts.unsilence', z.object({ groupId }));

export const alertKeys = {
  render: (id: number) => jobKey('alert-group', id, 'render'),
  send: (channelId: string) => jobKey('alert-channel', channelId, 'send'),
  relay: (id: number) => jobKey('alert-group', id, 'relay'),
  declare: (id: number) => jobKey('alert-group', id, 'declare'),
  unsilence: (id: number) => jobKey('alert-group', id, 'unsilence'),
  steps: (id: number) => jobKeyPrefix('alert-group', id, 'escalation'),
  step: (id: number, index: number) => jobKey('alert-group', id, 'escalation', index),
  /** One per person per step of one escalation run: a person is paged once per tier. */
  page: (id: number, run: number, index: number, userId: string) =>
    jobKey('alert-group', id, 'page', run, index, userId),
};
