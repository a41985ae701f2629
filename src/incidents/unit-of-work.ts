import { eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { IncidentConfig } from '../config/index.js';
import type { Db, Tx } from '../db/client.js';
import { type IncidentRow, incidents } from '../db/schema.js';
import { UserError } from '../errors.js';
import type { NewJobStarter } from '../jobs/job.js';
import type { Role } from './model.js';
import { currentRoles } from './queries.js';
import type { Actor } from './rules.js';

/**
 * The unit of work of every change to a running incident: one transaction with the incident row locked
 * (so concurrent changes to one incident apply one after the other and none is lost), its current roles
 * and one `now`. Use-cases write the change, its timeline event and the jobs that carry it out inside it.
 */

/** Paging through an escalation policy (escalation/ implements it), told of the lifecycle in the transaction. */
export interface EscalationControl {
  /** A new incident: start the severity's policy, if it has one. */
  declared(l: Locked): Promise<void>;
  /** The severity changed: a policy other than the running one starts afresh, unless someone acknowledged. */
  severityChanged(l: Locked): Promise<void>;
  /** Acknowledged, no longer investigating, or resolved: stop paging. Returns how many steps were pending. */
  stop(l: Locked): Promise<number>;
}

export interface IncidentDeps {
  db: Db;
  clock: Clock;
  config: IncidentConfig;
  escalation: EscalationControl;
  /**
   * This process's job engine, when it runs one: a declaration's setup job is created claimed by it and
   * started as the declaration commits. Without it (a process that runs no jobs, some tests) the job is
   * created unclaimed and whichever engine is woken claims it.
   */
  jobs?: NewJobStarter;
}

export type Locked = { tx: Tx; incident: IncidentRow; roles: Partial<Record<Role, string>>; now: Date };

/** Runs `fn` with the incident row locked (FOR UPDATE) for the rest of the transaction. */
export async function withIncident<T>(
  deps: Pick<IncidentDeps, 'db' | 'clock'>,
  incidentId: string,
  fn: (l: Locked) => Promise<T>,
): Promise<T> {
  return deps.db.transaction(async (tx) => {
    const [incident] = await tx.select().from(incidents).where(eq(incidents.id, incidentId)).for('update');
    if (!incident) throw new UserError('not_found', 'That incident no longer exists.');
    const roles = await currentRoles(tx, incidentId);
    return fn({ tx, incident, roles, now: deps.clock.now() });
  });
}

export const actorOf = (deps: Pick<IncidentDeps, 'config'>, l: Locked, userId: string): Actor => ({
  userId,
  roles: l.roles,
  admins: deps.config.admins,
});

/** Writes columns of the locked incident and keeps `l.incident` in step. */
export async function updateIncident(l: Locked, values: Partial<IncidentRow>): Promise<void> {
  await l.tx
    .update(incidents)
    .set({ ...values, updatedAt: l.now })
    .where(eq(incidents.id, l.incident.id));
  l.incident = { ...l.incident, ...values, updatedAt: l.now };
}

/** Refuses changes to a resolved incident. */
export function assertOpen(l: Locked): void {
  if (l.incident.status === 'resolved') {
    throw new UserError('resolved', 'The incident is resolved. Reopen it first with `/incident reopen`.');
  }
}
