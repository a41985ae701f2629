import { z } from 'zod';
import { jobKey, jobType } from '../jobs/job.js';

/**
 * On-call's job types and their keys. A schedule has one handoff job, due at its next change of hands; a
 * DM is keyed by what it tells, so it goes out once; the user-group sync is one job per schedule that
 * sets the group to whoever is on call when it runs.
 */

const schedule = z.string();

/** At a change of who is on call: records it, tells the incoming person, syncs the user group, re-arms. */
export const handoffJob = jobType('oncall.handoff', z.object({ schedule }));

/** Makes the schedule's Slack user group the people on call now (skipped when it already is). */
export const usergroupJob = jobType('oncall.usergroup', z.object({ schedule }));

/** A DM to a person coming on call. */
export const handoffDmJob = jobType(
  'oncall.handoff_dm',
  z.object({ schedule, userId: z.string(), at: z.iso.datetime(), overrideBy: z.string().nullable() }),
);

/** A DM about an override, to the person it puts on call or to one it relieves. */
export const overrideDmJob = jobType(
  'oncall.override_dm',
  z.object({
    overrideId: z.number().int(),
    change: z.enum(['set', 'removed']),
    audience: z.enum(['on_call', 'relieved']),
    userId: z.string(),
  }),
);

export const oncallKeys = {
  handoff: (name: string) => jobKey('oncall', name, 'handoff'),
  usergroup: (name: string) => jobKey('oncall', name, 'usergroup'),
  handoffDm: (name: string, at: Date, userId: string) => jobKey('oncall', name, 'dm', at.getTime(), userId),
  overrideDm: (id: number, change: 'set' | 'removed', userId: string) =>
    jobKey('oncall-override', id, change, userId),
};
