import type { GroupDeps } from '../../alerts/groups.js';
import type { IncidentConfig } from '../../config/index.js';
import type { IncidentDeps } from '../../incidents/unit-of-work.js';
import type { Logger } from '../../logger.js';
import type { SlackGateway } from '../gateway.js';
import type { Listeners } from './registry.js';

/** What listeners are given. They hand `incidents` to use-cases and queries; they never touch the database. */
export interface ListenerDeps {
  config: IncidentConfig;
  incidents: IncidentDeps;
  /** For the alert hub's controls. */
  alerts: GroupDeps;
  logger: Logger;
  slack: SlackGateway;
  /** Registers listeners (and so the list of controls this version knows). */
  on: Listeners;
}
