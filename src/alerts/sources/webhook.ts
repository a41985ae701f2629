import type { WebhookFields } from '../../config/index.js';
import { truncate } from '../../text.js';
import {
  type AlertEvent,
  DEDUP_KEY_MAX,
  LABEL_VALUE_MAX,
  type Normalized,
  SUMMARY_MAX,
  severityFrom,
} from '../event.js';

/**
 * Any tool that can POST JSON: the integration's `fields` say, as dot paths, where the dedup key, the
 * summary and optionally the severity, the status and the labels are. A body is one alert, or a list of
 * them. Status values resolved, ok and closed (any case) mean resolved; anything else, or none, firing.
 * Labels are an object (values become text) or a list of "key:value" / "key=value" tags.
 */

const RESOLVED = new Set(['resolved', 'ok', 'closed']);

function at(body: unknown, path: string): unknown {
  let node: unknown = body;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

const scalar = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v.trim() === ''
      ? undefined
      : v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : undefined;

function labelsFrom(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    const out: Record<string, string> = {};
    for (const tag of value) {
      if (typeof tag !== 'string') return undefined;
      const m = /^([^:=]+)[:=](.*)$/.exec(tag);
      if (m) out[(m[1] as string).trim()] = truncate((m[2] as string).trim(), LABEL_VALUE_MAX);
      else out[tag.trim()] = 'true';
    }
    return out;
  }
  if (typeof value === 'object') {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const s = scalar(v);
      if (s !== undefined) out[k] = truncate(s, LABEL_VALUE_MAX);
    }
    return out;
  }
  return undefined;
}

export function normalizeWebhook(body: unknown, fields: WebhookFields): Normalized {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0)
    return { ok: false, errors: ['body: is an empty list (send one alert, or a list of them)'] };
  const errors: string[] = [];
  const events: AlertEvent[] = [];
  items.forEach((item, n) => {
    const where = (path: string) => (Array.isArray(body) ? `[${n}].${path}` : path);
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      errors.push(`${Array.isArray(body) ? `[${n}]` : 'body'}: must be a JSON object`);
      return;
    }
    const dedupKey = scalar(at(item, fields.dedupKey));
    if (!dedupKey)
      errors.push(`${where(fields.dedupKey)}: is missing (fields.dedup_key says the dedup key is here)`);
    else if (dedupKey.length > DEDUP_KEY_MAX)
      errors.push(`${where(fields.dedupKey)}: must be at most ${DEDUP_KEY_MAX} characters`);
    const summary = scalar(at(item, fields.summary));
    if (!summary)
      errors.push(`${where(fields.summary)}: is missing (fields.summary says the summary is here)`);
    const labels = fields.labels ? labelsFrom(at(item, fields.labels)) : {};
    if (!labels && fields.labels)
      errors.push(`${where(fields.labels)}: must be an object, or a list of "key:value" tags`);
    if (!dedupKey || dedupKey.length > DEDUP_KEY_MAX || !summary || !labels) return;
    const status = fields.status ? scalar(at(item, fields.status)) : undefined;
    const resolved = !!status && RESOLVED.has(status.toLowerCase());
    events.push({
      dedupKey,
      status: resolved ? 'resolved' : 'firing',
      severity: severityFrom(fields.severity ? at(item, fields.severity) : undefined),
      summary: truncate(summary, SUMMARY_MAX),
      source: null,
      labels: { alertname: truncate(summary, 200), ...labels },
      links: [],
      startedAt: null,
      endedAt: null,
    });
  });
  return errors.length > 0 ? { ok: false, errors: errors.slice(0, 20) } : { ok: true, events, truncated: 0 };
}
