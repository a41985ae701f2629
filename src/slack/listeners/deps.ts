import type { Clock } from '../../clock.js';
import type { IncidentConfig } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { SlackGateway } from '../gateway.js';

/** What listeners are given. They pass `db` on to use-cases and never query it themselves. */
export interface ListenerDeps {
  config: IncidentConfig;
  db: Db;
  clock: Clock;
  logger: Logger;
  slack: SlackGateway;
  /** Starts due jobs now (after a commit that scheduled some) instead of at the next tick. */
  kickJobs: () => void;
}
