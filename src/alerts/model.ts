/**
 * The words of the alert hub. A leaf: it imports nothing from the project.
 *
 * Every source (Alertmanager, Grafana, PagerDuty's Events API, a generic webhook) is normalised into one
 * alert with these statuses and severities; alerts join groups, one Slack message per group.
 */

export const INTEGRATION_TYPES = ['alertmanager', 'pagerduty', 'webhook'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

export const ALERT_STATUSES = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** PagerDuty's four, which Alertmanager's `severity` label is mapped onto (anything else: warning). */
export const ALERT_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Labels that a route can match besides the alert's own: its severity and its integration's name. */
export const ROUTE_FIELDS = ['severity', 'integration'] as const;

/** A Prometheus label name. */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** How long a group can be silenced from its message: 1, 4 or 24 hours. */
export const SILENCE_CHOICES_MINUTES = [60, 240, 1440] as const;

/** The largest request body an alert endpoint reads: Alertmanager can send thousands of alerts at once. */
export const ALERT_BODY_LIMIT = 5 * 1024 * 1024;
