import type { Severity } from '../config/index.js';
import { UserError } from '../errors.js';
import { codePoints, escapeMrkdwn, stripControl, truncate } from '../text.js';
import { type IncidentStatus, type Role, TEXT_MAX } from './model.js';

/**
 * The pure rules of running an incident: the lifecycle state machine, who may do what, and how a typed
 * severity is understood. No I/O; the use-cases call these inside their transactions.
 */

// ── Lifecycle ───────────────────────────────────────────────────────────────────────────────────────

/** Legal moves. Moving back (monitoring → identified) is allowed: a fix can turn out not to hold. */
const TRANSITIONS: Record<IncidentStatus, IncidentStatus[]> = {
  investigating: ['identified', 'monitoring', 'resolved'],
  identified: ['investigating', 'monitoring', 'resolved'],
  monitoring: ['investigating', 'identified', 'resolved'],
  resolved: ['investigating'],
};

export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Refuses an illegal transition with a reason the user can act on. */
export function assertTransition(from: IncidentStatus, to: IncidentStatus): void {
  if (canTransition(from, to)) return;
  if (from === to) throw new UserError('same_status', `The incident is already ${from}.`);
  if (from === 'resolved') {
    throw new UserError('resolved', 'The incident is resolved. Reopen it first with `/incident reopen`.');
  }
  throw new UserError('bad_transition', `An incident cannot go from ${from} to ${to}.`);
}

export interface LifecycleTimestamps {
  acknowledgedAt: Date | null;
  mitigatedAt: Date | null;
  resolvedAt: Date | null;
}

/**
 * The timestamps after a transition: acknowledged on first leaving `investigating`, mitigated on first
 * reaching `monitoring` (or resolving without it), resolved on resolve; reopening clears `resolvedAt`.
 * First times are kept, so time-to-acknowledge and time-to-mitigate stay honest after flapping.
 */
export function timestampsAfter(
  current: LifecycleTimestamps,
  to: IncidentStatus,
  now: Date,
): LifecycleTimestamps {
  const next: LifecycleTimestamps = {
    acknowledgedAt: current.acknowledgedAt,
    mitigatedAt: current.mitigatedAt,
    resolvedAt: current.resolvedAt,
  };
  if (to !== 'investigating') next.acknowledgedAt ??= now;
  if (to === 'monitoring' || to === 'resolved') next.mitigatedAt ??= now;
  next.resolvedAt = to === 'resolved' ? now : null;
  return next;
}

// ── Permissions ─────────────────────────────────────────────────────────────────────────────────────

export type Action = 'assign_role' | 'change_severity' | 'edit' | 'resolve' | 'reopen' | 'post_update';

export interface Actor {
  userId: string;
  roles: Partial<Record<Role, string>>;
  admins: readonly string[];
}

const ACTION_TEXT: Record<Action, string> = {
  assign_role: 'reassign roles',
  change_severity: 'change the severity',
  edit: 'change the title or summary',
  resolve: 'resolve the incident',
  reopen: 'reopen the incident',
  post_update: 'post status updates',
};

/**
 * While an incident has a commander, only the commander, the deputy and the config's admins may reassign
 * roles, change severity, resolve or reopen; status updates also the liaison. Without a commander
 * nobody is in charge yet, so anyone may (and anyone may take the empty commander role).
 */
export function authorize(action: Action, actor: Actor): void {
  const { roles } = actor;
  if (!roles.commander || actor.admins.includes(actor.userId)) return;
  const allowed: Role[] =
    action === 'post_update' ? ['commander', 'deputy', 'liaison'] : ['commander', 'deputy'];
  if (allowed.some((r) => roles[r] === actor.userId)) return;
  const holders = allowed
    .filter((r) => roles[r])
    .map((r) => `the ${r} (<@${roles[r]}>)`)
    .concat(actor.admins.length > 0 ? ['an admin'] : []);
  const list = holders.length > 1 ? `${holders.slice(0, -1).join(', ')} or ${holders.at(-1)}` : holders[0];
  throw new UserError('forbidden', `Only ${list} may ${ACTION_TEXT[action]}.`);
}

// ── Severity ───────────────────────────────────────────────────────────────────────────────────────

/** The configured severity with this id. */
export function severityOf(config: { severities: Severity[] }, id: string): Severity | undefined {
  return config.severities.find((s) => s.id === id);
}

const squash = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

/** Understands `SEV1`, `sev1`, `SEV-1` and `1` (when exactly one severity ends in that number). */
export function parseSeverity(input: string, severities: Severity[]): Severity {
  const wanted = squash(input);
  const exact = severities.find((s) => squash(s.id) === wanted);
  if (exact) return exact;
  if (/^\d+$/.test(wanted)) {
    const byNumber = severities.filter((s) => squash(s.id).replace(/^[A-Z]+/, '') === wanted);
    if (byNumber.length === 1 && byNumber[0]) return byNumber[0];
  }
  throw new UserError(
    'unknown_severity',
    `"${escapeMrkdwn(truncate(input, 40))}" is not a severity. Choose one of ${severities.map((s) => escapeMrkdwn(s.id)).join(', ')}.`,
  );
}

// ── Text people type ─────────────────────────────────────────────────────────────────────────────────

/** Cleans what someone typed for `what` (control characters out, trimmed) and refuses it empty or too long. */
export function cleanText(text: string, what: string, max = TEXT_MAX): string {
  const t = stripControl(text).trim();
  if (!t) throw new UserError('empty', `The ${what} is empty.`);
  if (codePoints(t) > max) throw new UserError('too_long', `Keep the ${what} to ${max} characters or fewer.`);
  return t;
}
