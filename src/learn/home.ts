import { localDate } from '../calendar.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db } from '../db/client.js';
import { type ListedFollowup, openFollowupsOwnedBy } from '../incidents/followups.js';
import {
  type IncidentRow,
  listOpenIncidents,
  OPEN_INCIDENTS_LISTED,
  openIncidentsWithRole,
  openTasksOf,
} from '../incidents/queries.js';
import { onCallSummaries } from '../oncall/queries.js';
import { incidentStats, type Stats } from './stats.js';

/**
 * What a person's App Home shows, read for them: the incidents where they hold a role, every open
 * incident (private ones only where they hold a role), who is on call now, their open follow-ups and
 * tasks, and the last 30 days' numbers.
 */

export interface HomeData {
  userId: string;
  now: Date;
  today: string;
  /** More open incidents than were read (the list stops at 200). */
  moreOpen: boolean;
  mine: IncidentRow[];
  open: IncidentRow[];
  onCall: { schedule: string; userId: string | undefined; until: Date | undefined }[];
  followups: ListedFollowup[];
  tasks: Awaited<ReturnType<typeof openTasksOf>>;
  stats: Stats;
}

export async function homeData(
  deps: { db: Db; config: IncidentConfig },
  input: { teamId: string; userId: string; now: Date },
): Promise<HomeData> {
  const { db, config } = deps;
  const mine = await openIncidentsWithRole(db, input.teamId, input.userId);
  const mineIds = new Set(mine.map((i) => i.id));
  const all = await listOpenIncidents(db, input.teamId);
  const open = all.filter((i) => !i.isPrivate || mineIds.has(i.id));
  const onCall = (await onCallSummaries(db, config, input.now)).map((s) => ({
    schedule: s.schedule.name,
    userId: s.current.userId,
    until: s.current.end === undefined ? undefined : new Date(s.current.end),
  }));
  const followups = await openFollowupsOwnedBy(db, input.teamId, input.userId);
  return {
    userId: input.userId,
    now: input.now,
    today: localDate(input.now, config.businessTimeZone),
    moreOpen: all.length >= OPEN_INCIDENTS_LISTED,
    mine,
    open,
    onCall,
    followups,
    tasks: await openTasksOf(db, input.teamId, input.userId),
    stats: await incidentStats(db, config, { teamId: input.teamId, now: input.now, days: 30 }),
  };
}
