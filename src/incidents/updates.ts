import type { IncidentConfig } from '../config/index.js';
import { statusUpdates } from '../db/schema.js';
import { UserError } from '../errors.js';
import { COMPONENT_STATES, type ComponentImpact, PUBLIC_TITLE_MAX } from '../statuspage/model.js';
import { recordEvent } from '../timeline/timeline.js';
import { moveStatus } from './lifecycle.js';
import type { IncidentStatus, UpdateAudience } from './model.js';
import { postEverywhere, refreshCard } from './notify.js';
import { planUpdateReminder } from './reminders.js';
import { authorize, cleanText } from './rules.js';
import { actorOf, assertOpen, type IncidentDeps, updateIncident, withIncident } from './unit-of-work.js';

/**
 * Status updates, as the liaison (or the commander, the deputy) posts them: to the channel and the
 * announcement thread, internal or for customers too, each promising the time of the next one. Posting
 * one can move the status, and resets the update reminder's clock.
 */
export async function postStatusUpdate(
  deps: IncidentDeps,
  input: {
    incidentId: string;
    actorId: string;
    message: string;
    status?: IncidentStatus;
    audience?: UpdateAudience;
    nextUpdateMinutes?: number;
    /** For customers: how it reads on the status page (title, text) and the components it affects. */
    publication?: { title?: string; body?: string; components?: ComponentImpact[] };
  },
) {
  const text = cleanText(input.message, 'update');
  const publication =
    input.audience === 'customers' && input.publication
      ? checkPublication(deps.config, input.publication)
      : undefined;
  return withIncident(deps, input.incidentId, async (l) => {
    authorize('post_update', actorOf(deps, l, input.actorId));
    assertOpen(l);
    const status = input.status ?? l.incident.status;
    if (status === 'resolved')
      throw new UserError('use_resolve', 'To resolve the incident, use `/incident resolve`.');
    if (status !== l.incident.status)
      await moveStatus(deps, l, input.actorId, status, { kind: 'status_changed' });
    const audience = input.audience ?? 'internal';
    const nextUpdateAt = input.nextUpdateMinutes
      ? new Date(l.now.getTime() + input.nextUpdateMinutes * 60_000)
      : null;
    const [row] = await l.tx
      .insert(statusUpdates)
      .values({
        incidentId: l.incident.id,
        status,
        message: text,
        audience,
        postedBy: input.actorId,
        postedAt: l.now,
        nextUpdateAt,
        publicTitle: publication?.title ?? null,
        publicBody: publication?.body ?? null,
        components: publication?.components ?? [],
      })
      .returning({ id: statusUpdates.id });
    if (!row) throw new Error('status update insert returned nothing');
    await updateIncident(l, { lastUpdateAt: l.now, nextUpdateAt });
    await planUpdateReminder(l, deps.config, l.now);
    const event = await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'status_update',
      actorId: input.actorId,
      at: l.now,
      data: {
        updateId: row.id,
        status,
        audience,
        message: text,
        nextUpdateAt: nextUpdateAt?.toISOString() ?? null,
      },
    });
    await postEverywhere(deps.config, l, `update:${row.id}`, event);
    await refreshCard(l);
    return { status, audience, nextUpdateAt };
  });
}

/** A publication as the liaison wrote it, checked: its texts cleaned, its components the page's own. */
export function checkPublication(
  config: IncidentConfig,
  p: { title?: string; body?: string; components?: ComponentImpact[] },
): { title?: string; body?: string; components: ComponentImpact[] } {
  const known = new Set(config.statusPage?.components.map((c) => c.id) ?? []);
  const components = p.components ?? [];
  const unknown = components.find((c) => !known.has(c.id) || !COMPONENT_STATES.includes(c.state));
  if (unknown)
    throw new UserError(
      'bad_component',
      `\`${unknown.id.slice(0, 40)}\` is not a component of the status page.`,
    );
  const title = p.title?.trim() ? cleanText(p.title, 'public title', PUBLIC_TITLE_MAX) : undefined;
  const body = p.body?.trim() ? cleanText(p.body, 'public text') : undefined;
  return { ...(title ? { title } : {}), ...(body ? { body } : {}), components };
}
