import type { AlertRoute, AlertsConfig, Matcher } from '../config/index.js';
import type { AlertEvent } from './event.js';

/**
 * Pure decisions about a new alert: which route it takes (the first whose every matcher matches; labels,
 * plus `severity` and `integration`), and which group it joins (the route and its group_by label values).
 */

export interface Placement {
  /** Index in alerts.routes, -1 when none matched. */
  routeIndex: number;
  route: AlertRoute | undefined;
  groupKey: string;
  groupLabels: Record<string, string>;
  channelId: string;
  title: string;
}

const matches = (m: Matcher, value: string | undefined) =>
  value !== undefined && ('equals' in m ? value === m.equals : m.regex.test(value));

export function routeOf(config: AlertsConfig, integration: string, event: AlertEvent): number {
  const fields: Record<string, string | undefined> = {
    ...event.labels,
    severity: event.severity,
    integration,
  };
  return config.routes.findIndex((r) =>
    Object.entries(r.match).every(([label, m]) => matches(m, fields[label])),
  );
}

export function place(config: AlertsConfig, integration: string, event: AlertEvent): Placement {
  const routeIndex = routeOf(config, integration, event);
  const route = config.routes[routeIndex];
  const groupBy = route?.groupBy ?? config.groupBy;
  const groupLabels = Object.fromEntries(groupBy.map((l) => [l, event.labels[l] ?? '']));
  const values = groupBy.map((l) => groupLabels[l]).filter((v): v is string => !!v);
  return {
    routeIndex,
    route,
    groupKey: `${routeIndex}:${JSON.stringify(groupBy.map((l) => [l, groupLabels[l]]))}`,
    groupLabels,
    channelId: route?.channel ?? config.channel,
    title: values.length > 0 ? values.join(' · ') : event.summary,
  };
}
