import { createHash } from 'node:crypto';

/**
 * Alertmanager webhook notifications (payload version 4, as Alertmanager sends them) for the process
 * suites and the bench: realistic labels and annotations, a fingerprint per alert.
 */

export interface TestAlert {
  alertname: string;
  instance: string;
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
}

const fingerprint = (a: TestAlert) =>
  createHash('sha256').update(`${a.alertname}\0${a.instance}`).digest('hex').slice(0, 16);

/** One notification of `alerts`, grouped by alertname as a default Alertmanager route would. */
export function alertmanagerNotification(alerts: TestAlert[], startsAt = '2026-11-29T12:00:00Z'): string {
  const status = alerts.some((a) => (a.status ?? 'firing') === 'firing') ? 'firing' : 'resolved';
  const first = alerts[0];
  return JSON.stringify({
    receiver: 'incident-bot',
    status,
    alerts: alerts.map((a) => {
      const labels = {
        alertname: a.alertname,
        instance: a.instance,
        job: 'node',
        cluster: 'prod-eu-1',
        severity: 'critical',
        ...a.labels,
      };
      return {
        status: a.status ?? 'firing',
        labels,
        annotations: {
          summary: `${a.alertname} on ${a.instance}`,
          description: `${a.alertname} has been firing on ${a.instance} for more than 5 minutes.`,
          runbook_url: `https://runbooks.example.com/${a.alertname}`,
        },
        startsAt,
        endsAt: a.status === 'resolved' ? '2026-11-29T12:30:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: `https://prometheus.example.com/graph?g0.expr=up%7Binstance%3D%22${a.instance}%22%7D`,
        fingerprint: fingerprint(a),
      };
    }),
    groupLabels: { alertname: first?.alertname ?? '' },
    commonLabels: { alertname: first?.alertname ?? '', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'https://alertmanager.example.com',
    version: '4',
    groupKey: `{}:{alertname="${first?.alertname ?? ''}"}`,
    truncatedAlerts: 0,
  });
}
