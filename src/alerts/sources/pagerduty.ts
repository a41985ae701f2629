import { randomUUID } from 'node:crypto';
import { truncate } from '../../text.js';
import {
  type AlertEvent,
  type AlertLink,
  DEDUP_KEY_MAX,
  LABEL_VALUE_MAX,
  SUMMARY_MAX,
  timeFrom,
} from '../event.js';
import type { AlertSeverity } from '../model.js';

/**
 * PagerDuty's Events API v2 (POST /v2/enqueue), checked as PagerDuty checks it, with PagerDuty's own
 * error texts (its typo in "maiximum" included), so that existing clients — `@pagerduty/pdjs`,
 * Alertmanager's `pagerduty_configs` — read our answers as they read PagerDuty's. `trigger` fires an
 * alert, `acknowledge` and `resolve` act on the open one with that dedup_key.
 */

const ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
const SEVERITIES: readonly AlertSeverity[] = ['critical', 'error', 'warning', 'info'];

export interface PagerDutyEvent {
  routingKey: string;
  action: (typeof ACTIONS)[number];
  /** As given, or generated for a trigger without one (PagerDuty returns it). */
  dedupKey: string;
  event: AlertEvent;
}

export type PagerDutyParsed = { ok: true; pd: PagerDutyEvent } | { ok: false; errors: string[] };

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

export function parsePagerDuty(body: unknown): PagerDutyParsed {
  if (!isObject(body)) return { ok: false, errors: ['Event object format is unrecognized'] };
  const errors: string[] = [];
  const routingKey = text(body.routing_key);
  if (!routingKey) errors.push("'routing_key' is missing or blank");
  else if (routingKey.length !== 32)
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  const action = text(body.event_action);
  if (!action) errors.push("'event_action' is missing or blank");
  else if (!(ACTIONS as readonly string[]).includes(action))
    errors.push(
      "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')",
    );
  const givenKey =
    body.dedup_key === undefined || body.dedup_key === null ? undefined : String(body.dedup_key);
  if (givenKey !== undefined && givenKey.length > DEDUP_KEY_MAX)
    errors.push("'dedup_key' is too long (maximum is 255 characters)");
  if ((action === 'acknowledge' || action === 'resolve') && !text(givenKey))
    errors.push("'dedup_key' is missing or blank");

  const payload = body.payload;
  let summary: string | undefined;
  let source: string | undefined;
  let severity: AlertSeverity | undefined;
  if (action === 'trigger') {
    if (!isObject(payload)) errors.push("'payload' is missing or blank");
    else {
      summary = text(payload.summary);
      if (!summary) errors.push("'payload.summary' is missing or blank");
      else if (Array.from(summary).length > SUMMARY_MAX)
        errors.push("'summary' is too long (maiximum is 1024 characters)");
      source = text(payload.source);
      if (!source) errors.push("'payload.source' is missing or blank");
      const sev = text(payload.severity);
      if (!sev) errors.push("'payload.severity' is missing or blank");
      else if (!(SEVERITIES as readonly string[]).includes(sev))
        errors.push(
          "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
        );
      else severity = sev as AlertSeverity;
      if (payload.timestamp !== undefined && timeFrom(payload.timestamp) === null)
        errors.push("'payload.timestamp' is invalid (must be an ISO 8601 date and time)");
    }
  }
  const links: AlertLink[] = [];
  if (body.links !== undefined) {
    if (!Array.isArray(body.links)) errors.push("'links' is invalid (must be a list)");
    else
      body.links.forEach((l, n) => {
        const href = isObject(l) ? text(l.href) : undefined;
        if (!href) errors.push(`'links[${n}].href' is missing or blank`);
        else links.push({ href, text: (isObject(l) && text(l.text)) || href });
      });
  }
  if (body.images !== undefined) {
    if (!Array.isArray(body.images)) errors.push("'images' is invalid (must be a list)");
    else
      body.images.forEach((i, n) => {
        const src = isObject(i) ? text(i.src) : undefined;
        if (!src) errors.push(`'images[${n}].src' is missing or blank`);
        else if (!src.startsWith('https://'))
          errors.push(`'images[${n}].src' is invalid (must be an HTTPS URL)`);
      });
  }
  if (errors.length > 0 || !routingKey || !action) return { ok: false, errors };

  const p = isObject(payload) ? payload : {};
  const labels: Record<string, string> = {};
  for (const field of ['class', 'component', 'group'] as const) {
    const v = text(p[field]);
    if (v) labels[field] = truncate(v, LABEL_VALUE_MAX);
  }
  if (source) labels.source = truncate(source, LABEL_VALUE_MAX);
  // Grouping and routing speak of alertnames: an event's is its class, else its summary.
  labels.alertname = truncate(labels.class ?? summary ?? 'PagerDuty event', 200);
  const dedupKey = text(givenKey) ?? randomUUID().replace(/-/g, '');
  const status = action === 'trigger' ? 'firing' : action === 'acknowledge' ? 'acknowledged' : 'resolved';
  const timestamp = timeFrom(p.timestamp);
  return {
    ok: true,
    pd: {
      routingKey,
      action: action as PagerDutyEvent['action'],
      dedupKey,
      event: {
        dedupKey,
        status,
        severity: severity ?? 'warning',
        summary: summary ?? '',
        source: source ?? null,
        labels,
        links,
        startedAt: status === 'firing' ? timestamp : null,
        endedAt: status === 'resolved' ? timestamp : null,
      },
    },
  };
}

/** The answers PagerDuty gives, as PagerDuty words them. */
export const pagerDutyAnswer = {
  accepted: (dedupKey: string) => ({ status: 'success', message: 'Event processed', dedup_key: dedupKey }),
  invalid: (errors: string[]) => ({ status: 'invalid event', message: 'Event object is invalid', errors }),
  unreadable: () => ({
    status: 'Unrecognized object',
    message: 'Event object format is unrecognized',
    errors: ['JSON parse error'],
  }),
};
