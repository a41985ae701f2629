import type { StatusPageConfig } from '../config/index.js';
import type { IncidentRow, StatusUpdateRow } from '../incidents/queries.js';
import { type ComponentState, IMPACTS, type Impact, INDICATOR_WORDS, type Indicator } from './model.js';

/**
 * The public status page as data, shaped as Atlassian Statuspage's public API shapes it (field names and
 * values), so that existing widgets and clients read it unchanged. Pure: built from the page's config,
 * the public incidents with their customer-facing updates, and now.
 *
 * - An incident's impact comes from its severity's rank in the config: the first severity is critical,
 *   the second major, the third minor, the rest none.
 * - A component's state is the worst its unresolved incidents' latest updates give it; resolved ones
 *   leave it operational.
 * - The page's indicator is the worst of the unresolved incidents' impacts and the components' states.
 */

export interface PublicIncident {
  incident: IncidentRow;
  updates: StatusUpdateRow[];
}

export interface PageInput {
  config: StatusPageConfig;
  /** The config's severity ids, in order. */
  severities: string[];
  incidents: PublicIncident[];
  now: Date;
}

const PAGE_ID = 'incident-bot';

export function impactOf(severity: string, severities: string[]): Impact {
  const rank = severities.indexOf(severity);
  return rank === 0 ? 'critical' : rank === 1 ? 'major' : rank === 2 ? 'minor' : 'none';
}

const STATE_RANK: Record<ComponentState, number> = {
  operational: 0,
  under_maintenance: 1,
  degraded_performance: 2,
  partial_outage: 3,
  major_outage: 4,
};

const STATE_IMPACT: Record<ComponentState, Indicator> = {
  operational: 'none',
  under_maintenance: 'maintenance',
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
};

/** Every component's state now. */
export function componentStates(input: PageInput): Map<string, ComponentState> {
  const states = new Map<string, ComponentState>(input.config.components.map((c) => [c.id, 'operational']));
  for (const { incident, updates } of input.incidents) {
    if (incident.status === 'resolved') continue;
    const latest = new Map<string, ComponentState>();
    for (const u of updates) for (const c of u.components) latest.set(c.id, c.state);
    for (const [id, state] of latest) {
      const now = states.get(id);
      if (now !== undefined && STATE_RANK[state] > STATE_RANK[now]) states.set(id, state);
    }
  }
  return states;
}

/** The page's indicator: the worst of open incidents' impacts and components' states. */
export function indicatorOf(input: PageInput): Indicator {
  const impacts: Indicator[] = [
    ...input.incidents
      .filter((i) => i.incident.status !== 'resolved')
      .map((i) => impactOf(i.incident.severity, input.severities)),
    ...[...componentStates(input).values()].map((s) => STATE_IMPACT[s]),
  ];
  const worst = impacts.reduce<Impact>(
    (w, i) => (i !== 'maintenance' && IMPACTS.indexOf(i) > IMPACTS.indexOf(w) ? i : w),
    'none',
  );
  return worst === 'none' && impacts.includes('maintenance') ? 'maintenance' : worst;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const publicTitle = (p: PublicIncident) =>
  p.updates.findLast((u) => u.publicTitle)?.publicTitle ?? p.incident.title;
const updatedAt = (p: PublicIncident) => p.updates.at(-1)?.postedAt ?? p.incident.declaredAt;

function pageObject(input: PageInput) {
  const latest = input.incidents.map(updatedAt).sort((a, b) => b.getTime() - a.getTime())[0];
  return {
    id: PAGE_ID,
    name: input.config.title,
    url: input.config.publicUrl,
    time_zone: 'Etc/UTC',
    updated_at: iso(latest ?? input.now),
  };
}

export function statusObject(input: PageInput) {
  const indicator = indicatorOf(input);
  return { indicator, description: INDICATOR_WORDS[indicator] };
}

export function componentsList(input: PageInput) {
  const states = componentStates(input);
  const groups = [...new Set(input.config.components.flatMap((c) => (c.group ? [c.group] : [])))];
  const groupId = (name: string) => `group-${groups.indexOf(name) + 1}`;
  const stamp = iso(input.now);
  const components = input.config.components.map((c, position) => ({
    id: c.id,
    name: c.name,
    status: states.get(c.id) ?? 'operational',
    created_at: stamp,
    updated_at: stamp,
    position: position + 1,
    description: null,
    showcase: true,
    start_date: null,
    group_id: c.group ? groupId(c.group) : null,
    page_id: PAGE_ID,
    group: false,
    only_show_if_degraded: false,
  }));
  const groupObjects = groups.map((name, n) => {
    const members = input.config.components.filter((c) => c.group === name);
    const worst = members
      .map((c) => states.get(c.id) ?? 'operational')
      .reduce<ComponentState>((w, s) => (STATE_RANK[s] > STATE_RANK[w] ? s : w), 'operational');
    return {
      id: groupId(name),
      name,
      status: worst,
      created_at: stamp,
      updated_at: stamp,
      position: input.config.components.length + n + 1,
      description: null,
      showcase: false,
      start_date: null,
      group_id: null,
      page_id: PAGE_ID,
      group: true,
      only_show_if_degraded: false,
      components: members.map((c) => c.id),
    };
  });
  return [...components, ...groupObjects];
}

/** One incident as Statuspage shows it, its updates newest first. */
export function incidentObject(p: PublicIncident, input: PageInput) {
  const { incident } = p;
  const names = new Map(input.config.components.map((c) => [c.id, c.name]));
  const seen = new Map<string, ComponentState>();
  const updates = p.updates.map((u) => {
    const affected = u.components.map((c) => {
      const old = seen.get(c.id) ?? 'operational';
      seen.set(c.id, c.state);
      return { code: c.id, name: names.get(c.id) ?? c.id, old_status: old, new_status: c.state };
    });
    return {
      id: `${incident.id}-${u.id}`,
      status: u.status,
      body: u.publicBody ?? u.message,
      incident_id: incident.id,
      created_at: iso(u.postedAt),
      updated_at: iso(u.postedAt),
      display_at: iso(u.postedAt),
      affected_components: affected.length > 0 ? affected : null,
      deliver_notifications: true,
      custom_tweet: null,
      tweet_id: null,
    };
  });
  const monitoring = p.updates.find((u) => u.status === 'monitoring');
  const involved = [...seen.keys()];
  const states = componentStates(input);
  return {
    id: incident.id,
    name: publicTitle(p),
    status: incident.status,
    created_at: iso(incident.declaredAt),
    updated_at: iso(updatedAt(p)),
    monitoring_at: iso(monitoring?.postedAt),
    resolved_at: incident.status === 'resolved' ? iso(incident.resolvedAt) : null,
    impact: impactOf(incident.severity, input.severities),
    shortlink: `${input.config.publicUrl}/status/incidents/${incident.id}`,
    started_at: iso(incident.declaredAt),
    page_id: PAGE_ID,
    incident_updates: updates.reverse(),
    components: componentsList(input)
      .filter((c) => !c.group && involved.includes(c.id))
      .map((c) => ({
        ...c,
        status: states.get(c.id) ?? 'operational',
      })),
  };
}

export const unresolved = (input: PageInput) =>
  input.incidents.filter((i) => i.incident.status !== 'resolved');

/** `/api/v2/summary.json`. */
export function summaryJson(input: PageInput) {
  return {
    page: pageObject(input),
    components: componentsList(input),
    incidents: unresolved(input).map((p) => incidentObject(p, input)),
    scheduled_maintenances: [],
    status: statusObject(input),
  };
}

export const statusJson = (input: PageInput) => ({ page: pageObject(input), status: statusObject(input) });
export const componentsJson = (input: PageInput) => ({
  page: pageObject(input),
  components: componentsList(input),
});
/** The 50 latest, as Statuspage lists them. */
export const incidentsJson = (input: PageInput) => ({
  page: pageObject(input),
  incidents: input.incidents.slice(0, 50).map((p) => incidentObject(p, input)),
});
export const unresolvedJson = (input: PageInput) => ({
  page: pageObject(input),
  incidents: unresolved(input).map((p) => incidentObject(p, input)),
});
