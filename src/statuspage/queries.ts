import type { IncidentConfig } from '../config/index.js';
import type { Db } from '../db/client.js';
import { publicIncidents } from '../incidents/queries.js';
import type { PageInput } from './page.js';

/** What reading the page needs (the database, the config, the clock): transports hand it on. */
export interface StatusPageDeps {
  db: Db;
  config: IncidentConfig;
  clock: { now(): Date };
}

/** What the status page shows, read now: public incidents open or resolved in the last `days` days. */
export async function pageInput(
  deps: { db: Db; config: IncidentConfig },
  now: Date,
  days = 90,
): Promise<PageInput | undefined> {
  const config = deps.config.statusPage;
  if (!config) return undefined;
  return {
    config,
    severities: deps.config.severities.map((s) => s.id),
    incidents: await publicIncidents(deps.db, new Date(now.getTime() - days * 86_400_000)),
    now,
  };
}
