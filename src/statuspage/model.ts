/**
 * The words of the public status page, as Atlassian Statuspage has them (its JSON API uses the same). A
 * leaf: it imports nothing from the project.
 */

export const COMPONENT_STATES = [
  'operational',
  'degraded_performance',
  'partial_outage',
  'major_outage',
  'under_maintenance',
] as const;
export type ComponentState = (typeof COMPONENT_STATES)[number];

/** How a component's state reads on the page. */
export const COMPONENT_STATE_WORDS: Record<ComponentState, string> = {
  operational: 'Operational',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
  under_maintenance: 'Under maintenance',
};

export const IMPACTS = ['none', 'minor', 'major', 'critical'] as const;
export type Impact = (typeof IMPACTS)[number];
/** The page's overall indicator: an impact, or maintenance. */
export type Indicator = Impact | 'maintenance';

/** Statuspage's own words for the rolled-up status. */
export const INDICATOR_WORDS: Record<Indicator, string> = {
  none: 'All Systems Operational',
  minor: 'Minor Service Outage',
  major: 'Partial System Outage',
  critical: 'Major Service Outage',
  maintenance: 'Service Under Maintenance',
};

/** A component named in a public update, and its state then. */
export interface ComponentImpact {
  id: string;
  state: ComponentState;
}

export const PUBLIC_TITLE_MAX = 150;

/** What a resolved incident's final public update says when nobody wrote anything else. */
export const DEFAULT_RESOLVED_TEXT = 'This incident has been resolved.';
