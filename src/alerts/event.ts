import type { AlertSeverity, AlertStatus } from './model.js';

/**
 * One alert as a sender reported it, normalised: what every source (Alertmanager, Grafana, PagerDuty's
 * Events API, a generic webhook) becomes before the hub de-duplicates and groups it. Status is per
 * alert, never taken from a notification's envelope.
 */
export interface AlertEvent {
  /** With the integration, what makes two reports the same alert (Alertmanager's fingerprint …). */
  dedupKey: string;
  status: AlertStatus;
  severity: AlertSeverity;
  summary: string;
  source: string | null;
  labels: Record<string, string>;
  links: AlertLink[];
  startedAt: Date | null;
  endedAt: Date | null;
}

export interface AlertLink {
  href: string;
  text: string;
}

/** What a normaliser makes of a request body: the alerts, or every problem found, each naming its place. */
export type Normalized =
  | {
      ok: true;
      events: AlertEvent[] /** Alerts the sender left out (Alertmanager's max_alerts). */;
      truncated: number;
    }
  | { ok: false; errors: string[] };

export const SUMMARY_MAX = 1024;
export const LABEL_VALUE_MAX = 1024;
export const DEDUP_KEY_MAX = 255;

/** Severities as senders write them, mapped onto the hub's four; anything else is a warning. */
export function severityFrom(value: unknown): AlertSeverity {
  const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
  return v === 'critical' || v === 'error' || v === 'warning' || v === 'info' ? v : 'warning';
}

/**
 * Prometheus' fingerprint of a label set: FNV-1a 64 over the sorted names and values, each followed by
 * 0xff, as 16 hex digits. The same labels give the same key as Alertmanager's own `fingerprint`.
 */
export function labelsFingerprint(labels: Record<string, string>): string {
  const OFFSET = 0xcbf29ce484222325n;
  const PRIME = 0x100000001b3n;
  const MASK = 0xffffffffffffffffn;
  let hash = OFFSET;
  const add = (bytes: Uint8Array) => {
    for (const b of bytes) hash = ((hash ^ BigInt(b)) * PRIME) & MASK;
  };
  const encoder = new TextEncoder();
  const separator = new Uint8Array([0xff]);
  for (const name of Object.keys(labels).sort()) {
    add(encoder.encode(name));
    add(separator);
    add(encoder.encode(labels[name] ?? ''));
    add(separator);
  }
  return hash.toString(16).padStart(16, '0');
}

/** A time as senders write it (RFC 3339); Go's zero time and anything unreadable are "not set". */
export function timeFrom(value: unknown): Date | null {
  if (typeof value !== 'string' || value.startsWith('0001-01-01')) return null;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? null : t;
}
