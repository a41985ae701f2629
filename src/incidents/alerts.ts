import type { Tx } from '../db/client.js';
import { recordEvent } from '../timeline/timeline.js';
import { post, refreshCard } from './notify.js';
import { type IncidentDeps, type Locked, updateIncident, withIncident } from './unit-of-work.js';

/**
 * The incident's side of alerts declared as incidents. The alert hub (alerts/) tells an incident, through
 * these two functions, that a group became it and how many of its alerts still fire; the incident keeps
 * the count for its card and records on its timeline the first alert and the moment all have resolved.
 * Incidents never resolve themselves: when the alerts stop, the commander is asked to decide.
 */

/** Inside the declaring transaction: the group whose alerts this incident is about. */
export async function alertsLinked(
  l: Locked,
  input: { groupId: number; title: string; firing: number },
): Promise<void> {
  await recordEvent(l.tx, {
    incidentId: l.incident.id,
    kind: 'alerts_linked',
    at: l.now,
    data: input,
  });
  await updateIncident(l, { alertsFiring: (l.incident.alertsFiring ?? 0) + input.firing });
  await refreshCard(l);
}

/**
 * The linked groups' alerts changed: `countFiring` says how many are unresolved now. It is read under the
 * incident's lock, so of two groups telling one incident at once, the later writes a count that includes
 * the earlier's. Going to none records `alerts_resolved` and prompts the commander in the channel (with a
 * Resolve button) — once per time it happens.
 */
export function alertsChanged(
  deps: Pick<IncidentDeps, 'db' | 'clock'>,
  input: { incidentId: string; countFiring: (tx: Tx) => Promise<number>; title: string },
): Promise<void> {
  return withIncident(deps, input.incidentId, async (l) => {
    const before = l.incident.alertsFiring;
    const firing = await input.countFiring(l.tx);
    if (before === firing) return;
    await updateIncident(l, { alertsFiring: firing });
    if (firing === 0 && (before ?? 0) > 0 && l.incident.status !== 'resolved') {
      const event = await recordEvent(l.tx, {
        incidentId: l.incident.id,
        kind: 'alerts_resolved',
        at: l.now,
        data: { title: input.title },
      });
      await post(l, `alerts-resolved:${event}`, 'channel', event);
    }
    await refreshCard(l);
  });
}
