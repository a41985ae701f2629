import {
  capitalized,
  type FollowupStatus,
  INCIDENT_STATUS_WORDS,
  type IncidentStatus,
  POSTMORTEM_STATUS_WORDS,
  type PostmortemPart,
  type PostmortemStatus,
  type Role,
  type UpdateAudience,
} from '../incidents/model.js';
import type { TimelineEvent } from '../timeline/model.js';
import { type Dialect, describeEvent } from '../timeline/words.js';

/**
 * The postmortem as one Markdown document, generated from the database: PagerDuty's template (header,
 * overview, what happened, contributing factors, resolution, impact, responders, timeline, how'd we do,
 * action items, messaging). Pure and deterministic: the same data always gives the same document, byte for
 * byte — no clock, no locale, times in UTC. The parts people write come in as they are (they write
 * Markdown); everything else is said by the bot, in blameless words.
 */

export interface PostmortemInput {
  incident: {
    number: number;
    title: string;
    summary: string;
    severity: string;
    status: IncidentStatus;
    declaredAt: Date;
    acknowledgedAt: Date | null;
    mitigatedAt: Date | null;
    resolvedAt: Date | null;
    resolutionSummary: string | null;
    reopenCount: number;
    postmortemStatus: PostmortemStatus | null;
    postmortemDueAt: Date | null;
  };
  /** The postmortem's owner: named, or else the commander; null when neither. */
  owner: string | null;
  parts: Record<PostmortemPart, string>;
  roles: { role: Role; userId: string; assignedAt: Date; relievedAt: Date | null }[];
  /** Oldest first. */
  events: TimelineEvent[];
  updates: {
    status: IncidentStatus;
    audience: UpdateAudience;
    message: string;
    postedBy: string;
    postedAt: Date;
  }[];
  followups: {
    number: number;
    text: string;
    ownerId: string | null;
    dueOn: string | null;
    status: FollowupStatus;
    dropReason: string | null;
  }[];
}

/** Canvases show `![](@U…)` as the person and `![](#C…)` as the channel; a file says the ids. */
export type PostmortemStyle = 'canvas' | 'file';

const pad = (n: number) => String(n).padStart(2, '0');
export const utc = (d: Date) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;

/** A span of time in words: `1h 05m`, `3d 2h`, `45s`. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0 || s === 0) return `${m}m`;
  return `${s}s`;
}

/** T+ offset from the declaration. */
const tPlus = (from: Date, at: Date) => `T+${span(at.getTime() - from.getTime())}`;

/**
 * What someone typed, in a table cell or a line: one line, a backslash or a `|` taken literally (never a
 * column break), and `![` (a canvas mention or image) defused.
 */
const cell = (v: string) =>
  v.replace(/\r?\n/g, ' ').replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/!\[/g, '!\\[').trim();

const dialect = (style: PostmortemStyle): Dialect => ({
  user: (id) => (style === 'canvas' ? `![](@${id})` : `@${id}`),
  channel: (id) => (style === 'canvas' ? `![](#${id})` : `#${id}`),
  text: (v) => cell(String(v ?? '')),
  time: (at) => utc(at),
  code: (v) => `\`${v.replace(/`/g, "'")}\``,
});

const statusWords = (s: IncidentStatus) => capitalized(INCIDENT_STATUS_WORDS[s]);

const ROLE_WORDS: Record<Role, string> = {
  commander: 'Incident commander',
  deputy: 'Deputy',
  liaison: 'Customer liaison',
  scribe: 'Scribe',
};

const PROMPTS: Record<PostmortemPart, string> = {
  overview: 'What happened, in a few sentences, and its impact.',
  whatHappened: 'How the incident unfolded, from the first sign to the fix.',
  contributingFactors:
    'The conditions that together allowed this to happen (there is rarely a single root cause, and never a culprit).',
  resolution: 'What was done to mitigate and resolve it.',
  wentWell: 'What helped.',
  wentBadly: 'What got in the way.',
  lucky: 'Where things could have been worse.',
};

/** A part people write, or a prompt in italics saying what belongs there. */
const part = (input: PostmortemInput, name: PostmortemPart) =>
  input.parts[name].trim() || `_To be written: ${PROMPTS[name]}_`;

/** How long the incident spent at each severity, from its declaration to its final resolve. */
export function timeAtSeverity(input: PostmortemInput): { severity: string; ms: number }[] {
  const changes = input.events.flatMap((e) =>
    e.kind === 'severity_changed' ? [{ at: e.occurredAt, from: e.data.from, to: e.data.to }] : [],
  );
  const end = input.incident.resolvedAt ?? input.events.at(-1)?.occurredAt ?? input.incident.declaredAt;
  const spent = new Map<string, number>();
  let current = changes[0]?.from ?? input.incident.severity;
  let since = input.incident.declaredAt;
  for (const c of changes) {
    spent.set(current, (spent.get(current) ?? 0) + Math.max(0, c.at.getTime() - since.getTime()));
    current = c.to;
    since = c.at;
  }
  spent.set(current, (spent.get(current) ?? 0) + Math.max(0, end.getTime() - since.getTime()));
  return [...spent.entries()].map(([severity, ms]) => ({ severity, ms }));
}

function header(input: PostmortemInput, d: Dialect): string[] {
  const i = input.incident;
  const at = (x: Date | null) => (x ? `${utc(x)} (${tPlus(i.declaredAt, x)})` : '—');
  const changes = input.events.flatMap((e) =>
    e.kind === 'severity_changed' ? [`${e.data.from} → ${e.data.to} at ${utc(e.occurredAt)}`] : [],
  );
  const duration = i.resolvedAt
    ? `${span(i.resolvedAt.getTime() - i.declaredAt.getTime())}${i.reopenCount > 0 ? ` (reopened ${i.reopenCount === 1 ? 'once' : `${i.reopenCount} times`})` : ''}`
    : 'ongoing';
  const rows: [string, string][] = [
    ['Incident', `#${i.number} ${cell(i.title)}`],
    ['Severity', `${cell(i.severity)}${changes.length > 0 ? ` (${changes.map(cell).join('; ')})` : ''}`],
    ['Status', statusWords(i.status)],
    ['Declared', utc(i.declaredAt)],
    ['Acknowledged', at(i.acknowledgedAt)],
    ['Mitigated', at(i.mitigatedAt)],
    ['Resolved', at(i.resolvedAt)],
    ['Duration', duration],
    ['Owner', input.owner ? d.user(input.owner) : '—'],
    ['Due', i.postmortemDueAt ? utc(i.postmortemDueAt) : '—'],
    ['Postmortem status', capitalized(POSTMORTEM_STATUS_WORDS[i.postmortemStatus ?? 'draft'])],
  ];
  return ['| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)];
}

function impact(input: PostmortemInput): string[] {
  const customer = input.updates.filter((u) => u.audience === 'customers');
  const first = customer[0];
  return [
    'Time spent at each severity:',
    '',
    ...timeAtSeverity(input).map((s) => `- ${cell(s.severity)}: ${span(s.ms)}`),
    '',
    customer.length === 0
      ? 'No customer-facing updates were posted.'
      : `${customer.length} customer-facing update${customer.length === 1 ? ' was' : 's were'} posted, the first at ${utc(first?.postedAt as Date)} (${tPlus(input.incident.declaredAt, first?.postedAt as Date)}).`,
  ];
}

function responders(input: PostmortemInput, d: Dialect): string[] {
  if (input.roles.length === 0) return ['Nobody held a role.'];
  const end = input.incident.resolvedAt;
  const rows = [...input.roles]
    .sort((a, b) => a.assignedAt.getTime() - b.assignedAt.getTime() || a.role.localeCompare(b.role))
    .map((r) => {
      const until = r.relievedAt ?? end;
      return `| ${ROLE_WORDS[r.role]} | ${d.user(r.userId)} | ${utc(r.assignedAt)} | ${until ? utc(until) : 'now'} |`;
    });
  return ['| Role | Who | From | Until |', '| --- | --- | --- | --- |', ...rows];
}

function timeline(input: PostmortemInput, d: Dialect): string[] {
  const from = input.incident.declaredAt;
  return [
    '| Time (UTC) | Since declared | Event |',
    '| --- | --- | --- |',
    ...input.events.map(
      // Every piece of user text in the sentence went through the dialect's `text` (cell): once only.
      (e) => `| ${utc(e.occurredAt)} | ${tPlus(from, e.occurredAt)} | ${describeEvent(e, d)} |`,
    ),
  ];
}

const FOLLOWUP_WORDS: Record<FollowupStatus, string> = { open: 'Open', done: 'Done', dropped: 'Dropped' };

function actionItems(input: PostmortemInput, d: Dialect): string[] {
  if (input.followups.length === 0)
    return ['No follow-ups yet. Add them with `/incident followup add <text> [@owner] [due YYYY-MM-DD]`.'];
  return [
    '| # | Follow-up | Owner | Due | Status |',
    '| --- | --- | --- | --- | --- |',
    ...input.followups.map(
      (f) =>
        `| ${f.number} | ${cell(f.text)} | ${f.ownerId ? d.user(f.ownerId) : '—'} | ${f.dueOn ?? '—'} | ${FOLLOWUP_WORDS[f.status]}${f.status === 'dropped' && f.dropReason ? `: ${cell(f.dropReason)}` : ''} |`,
    ),
  ];
}

function messaging(input: PostmortemInput, d: Dialect): string[] {
  const list = (audience: UpdateAudience) => {
    const updates = input.updates.filter((u) => u.audience === audience);
    if (updates.length === 0) return ['None.'];
    // As sent: every line of the message, quoted.
    return updates.map(
      (u) =>
        `- ${utc(u.postedAt)} (${tPlus(input.incident.declaredAt, u.postedAt)}), ${statusWords(u.status)}, by ${d.user(u.postedBy)}:\n${u.message
          .split(/\r?\n/)
          .map((line) => `  > ${cell(line)}`)
          .join('\n')}`,
    );
  };
  return [
    '### Internal updates',
    '',
    ...list('internal'),
    '',
    '### Customer-facing updates',
    '',
    ...list('customers'),
  ];
}

/** The whole document. */
export function postmortemMarkdown(input: PostmortemInput, style: PostmortemStyle): string {
  const d = dialect(style);
  const i = input.incident;
  const resolution =
    input.parts.resolution.trim() ||
    (i.resolutionSummary
      ? `${cell(i.resolutionSummary)}\n\n_(The resolution summary; expand on it.)_`
      : part(input, 'resolution'));
  const sections: string[][] = [
    [`# Postmortem: incident #${i.number}, ${cell(i.title)}`],
    [
      '_Blameless: this document describes what happened and the conditions that allowed it, so that the next incident is shorter. It names contributing factors, not a root cause or a culprit._',
    ],
    header(input, d),
    ['## Overview', '', part(input, 'overview')],
    ['## What happened', '', part(input, 'whatHappened')],
    ['## Contributing factors', '', part(input, 'contributingFactors')],
    ['## Resolution', '', resolution],
    ['## Impact', '', ...impact(input)],
    ['## Responders', '', ...responders(input, d)],
    ['## Timeline', '', ...timeline(input, d)],
    [
      "## How'd we do",
      '',
      '### What went well',
      '',
      part(input, 'wentWell'),
      '',
      "### What didn't go well",
      '',
      part(input, 'wentBadly'),
      '',
      '### Where we got lucky',
      '',
      part(input, 'lucky'),
    ],
    ['## Action items', '', ...actionItems(input, d)],
    ['## Messaging', '', ...messaging(input, d)],
  ];
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
