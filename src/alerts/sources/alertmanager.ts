import { z } from 'zod';
import { formatPath } from '../../config/index.js';
import { truncate } from '../../text.js';
import {
  type AlertEvent,
  type AlertLink,
  LABEL_VALUE_MAX,
  labelsFingerprint,
  type Normalized,
  SUMMARY_MAX,
  severityFrom,
  timeFrom,
} from '../event.js';

/**
 * Prometheus Alertmanager's webhook (payload version 4) and Grafana alerting's webhook contact point
 * (version 1: the same envelope plus orgId, state, title and message, and per alert silenceURL,
 * dashboardURL, panelURL, values …). Unknown fields are ignored: newer senders add some
 * (`notification_reason`, `routeLabels`). Each alert carries its own status; the envelope's does not
 * count. A notification repeats every alert of its group, resolved ones once.
 */

const stringMap = z.record(z.string(), z.string({ error: 'must be a string' }), {
  error: 'must be an object of string values',
});

const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved'], { error: 'must be "firing" or "resolved"' }),
  labels: stringMap,
  annotations: stringMap.optional(),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
  // Grafana's links.
  silenceURL: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
});

const envelope = z.looseObject({
  version: z.string().optional(),
  alerts: z.array(alertSchema, { error: 'must be a list of alerts' }),
  truncatedAlerts: z.number().int().min(0).optional(),
});

const link = (href: string | undefined, text: string): AlertLink[] =>
  href && /^https?:\/\//.test(href) ? [{ href, text }] : [];

export function normalizeAlertmanager(body: unknown): Normalized {
  const parsed = envelope.safeParse(body);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.slice(0, 20).map((i) => `${formatPath(i.path) || 'body'}: ${i.message}`),
    };
  }
  const events = parsed.data.alerts.map((a): AlertEvent => {
    const labels = Object.fromEntries(
      Object.entries(a.labels).map(([k, v]) => [k, truncate(v, LABEL_VALUE_MAX)]),
    );
    const annotations = a.annotations ?? {};
    const summary =
      annotations.summary || annotations.description || annotations.message || labels.alertname || 'Alert';
    return {
      dedupKey: a.fingerprint || labelsFingerprint(a.labels),
      status: a.status,
      severity: severityFrom(labels.severity),
      summary: truncate(summary, SUMMARY_MAX),
      source: labels.instance ?? labels.job ?? null,
      labels,
      links: [
        ...link(a.generatorURL, 'Source'),
        ...link(annotations.runbook_url, 'Runbook'),
        ...link(a.dashboardURL, 'Dashboard'),
        ...link(a.panelURL, 'Panel'),
        ...link(a.silenceURL, 'Silence'),
      ],
      startedAt: timeFrom(a.startsAt),
      endedAt: a.status === 'resolved' ? timeFrom(a.endsAt) : null,
    };
  });
  return { ok: true, events, truncated: parsed.data.truncatedAlerts ?? 0 };
}
