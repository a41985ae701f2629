import type { Clock } from '../../src/clock.js';
import { DEFAULT_INCIDENT_CONFIG, type IncidentConfig } from '../../src/config/index.js';
import type { Db } from '../../src/db/client.js';
import { escalationControl } from '../../src/escalation/steps.js';
import type { IncidentDeps } from '../../src/incidents/unit-of-work.js';

/** What the incident use-cases need, wired as bot.ts wires them (escalation plugged in). */
export function incidentDeps(
  db: Db,
  clock: Clock,
  config: IncidentConfig = DEFAULT_INCIDENT_CONFIG,
): IncidentDeps {
  return { db, clock, config, escalation: escalationControl(config) };
}
