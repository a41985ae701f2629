import { and, eq, isNull } from 'drizzle-orm';
import { incidentRoles } from '../db/schema.js';
import { UserError } from '../errors.js';
import { recordEvent } from '../timeline/timeline.js';
import type { Role } from './model.js';
import { invite, post, refreshCard } from './notify.js';
import { commanderAssigned } from './reminders.js';
import { authorize } from './rules.js';
import { actorOf, type IncidentDeps, withIncident } from './unit-of-work.js';

/**
 * Roles: who commands, deputises, talks to customers and keeps the timeline. The previous holder is
 * relieved (the history is kept), the new one invited and told by DM what the role means, and the channel
 * hears about it.
 */

/**
 * Assigns several roles in one transaction (the roles form); unchanged ones are skipped. Returns the roles
 * that changed.
 */
export async function assignRoles(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; assignments: Partial<Record<Role, string>> },
): Promise<Role[]> {
  return withIncident(deps, input.incidentId, async (l) => {
    const changes = (Object.entries(input.assignments) as [Role, string][]).filter(
      ([role, user]) => l.roles[role] !== user,
    );
    if (changes.length === 0) return [];
    authorize('assign_role', actorOf(deps, l, input.actorId));
    for (const [role, userId] of changes) {
      const previous = l.roles[role];
      const [relieved] = await l.tx
        .update(incidentRoles)
        .set({ relievedAt: l.now })
        .where(
          and(
            eq(incidentRoles.incidentId, l.incident.id),
            eq(incidentRoles.role, role),
            isNull(incidentRoles.relievedAt),
          ),
        )
        .returning({ id: incidentRoles.id });
      const [row] = await l.tx
        .insert(incidentRoles)
        .values({ incidentId: l.incident.id, role, userId, assignedBy: input.actorId, assignedAt: l.now })
        .returning({ id: incidentRoles.id });
      const event = await recordEvent(l.tx, {
        incidentId: l.incident.id,
        kind: 'role_assigned',
        actorId: input.actorId,
        at: l.now,
        data: { role, userId, ...(previous ? { previous, relievedRoleId: relieved?.id } : {}) },
      });
      const what = `role:${row?.id}`;
      await invite(l, what, [userId]);
      await post(l, `${what}:channel`, 'channel', event);
      await post(l, `${what}:dm`, 'dm', event, userId);
      l.roles = { ...l.roles, [role]: userId };
      if (role === 'commander') await commanderAssigned(l);
    }
    await refreshCard(l);
    return changes.map(([role]) => role);
  });
}

export async function assignRole(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; role: Role; userId: string },
): Promise<void> {
  const changed = await assignRoles(deps, { ...input, assignments: { [input.role]: input.userId } });
  if (changed.length === 0)
    throw new UserError('unchanged', `<@${input.userId}> is already the ${input.role}.`);
}

/** Anyone may take command while nobody has it (PROCESS.md: anyone may take the empty commander role). */
export async function takeCommand(deps: IncidentDeps, input: { incidentId: string; actorId: string }) {
  const changed = await assignRoles(deps, { ...input, assignments: { commander: input.actorId } });
  if (changed.length === 0) throw new UserError('unchanged', 'You are already the commander.');
}
