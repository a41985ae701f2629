import { recordEvent } from '../timeline/timeline.js';
import { cleanText } from './rules.js';
import { type IncidentDeps, withIncident } from './unit-of-work.js';

/** A note on the timeline (the scribe's tool): recorded, not posted. Anyone in the channel may add one. */
export async function addNote(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; text: string },
) {
  const text = cleanText(input.text, 'note');
  return withIncident(deps, input.incidentId, async (l) => {
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'note',
      actorId: input.actorId,
      at: l.now,
      data: { text },
    });
  });
}
