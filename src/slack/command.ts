import { parseDuration } from '../duration.js';
import { ROLES, type Role } from '../incidents/model.js';
import { escapeMrkdwn, truncate } from '../text.js';
import { unescapeCommandText } from './text.js';

/**
 * What `/incident <text>` asks for. Pure parsing of the text Slack sends (with `should_escape: true`, so
 * mentions arrive as `<@U123|name>` and user groups as `<!subteam^S123|@group>`); the listener decides
 * what to do. A malformed command becomes `usage` with a precise line, never an exception.
 */
export type IncidentCommand =
  | { kind: 'open' }
  | { kind: 'declare'; title: string }
  | { kind: 'help'; unknown?: string }
  | { kind: 'usage'; message: string }
  | { kind: 'role'; role: Role; userId: string }
  | { kind: 'roles_modal' }
  | { kind: 'roles' }
  | { kind: 'severity'; severity: string }
  | { kind: 'update_modal' }
  | { kind: 'update'; text: string }
  | { kind: 'task_add'; text: string; assigneeId?: string; minutes?: number }
  | { kind: 'task_done'; number: number }
  | { kind: 'task_assign'; number: number; assigneeId: string }
  | { kind: 'tasks' }
  | { kind: 'note'; text: string }
  | { kind: 'timeline' }
  | { kind: 'resolve'; summary?: string }
  | { kind: 'reopen' }
  | { kind: 'list' }
  | { kind: 'alerts' }
  | { kind: 'ack' }
  | { kind: 'escalate'; reason?: string }
  | { kind: 'page'; targets: string[]; reason?: string }
  | { kind: 'oncall'; schedule?: string }
  | { kind: 'oncall_overrides' }
  | { kind: 'oncall_override_modal' }
  | { kind: 'oncall_override'; schedule: string; userId: string; durationMs: number }
  | { kind: 'postmortem' }
  | { kind: 'postmortem_export' }
  | { kind: 'postmortem_owner'; userId: string }
  | { kind: 'followup_add'; text: string; ownerId?: string; due?: { on: string } | { inDays: number } }
  | { kind: 'followup_done'; number: number }
  | { kind: 'followup_drop'; number: number; reason: string }
  | { kind: 'followups' }
  | { kind: 'stats'; days: number; severity?: string }
  | { kind: 'edit'; title?: string; summary?: string }
  | { kind: 'webhooks' }
  | { kind: 'webhooks_ping' };

export const USAGE = {
  role: '`/incident role <commander|deputy|liaison|scribe> @person`',
  severity: '`/incident severity <SEV1…>`',
  task: '`/incident task add <text> [@person] [in <N>m]` · `/incident task done <n>` · `/incident task assign <n> @person`',
  note: '`/incident note <text>`',
  page: '`/incident page @person [@group …] [reason]`',
  oncall:
    '`/incident oncall [schedule]` · `/incident oncall override <schedule> @person <duration>` · `/incident oncall overrides`',
  postmortem: '`/incident postmortem` · `/incident postmortem export` · `/incident postmortem owner @person`',
  stats: '`/incident stats [7d|30d|90d|<N>d] [SEV…]`',
  webhooks: '`/incident webhooks` · `/incident webhooks ping`',
  edit: '`/incident title <new title>` · `/incident summary <new summary>`',
  followup:
    '`/incident followup add <text> [@owner] [due YYYY-MM-DD | in <N>d]` · `/incident followup done <n>` · `/incident followup drop <n> <reason>` · `/incident followups`',
} as const;

const usage = (which: keyof typeof USAGE, problem?: string): IncidentCommand => ({
  kind: 'usage',
  message: `${problem ? `${problem} ` : ''}Usage: ${USAGE[which]}`,
});

const USER_MENTION = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;
const GROUP_MENTION = /^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$/;

/** A single person from a mention token, or why the token is not one. */
export function parseUserMention(token: string): { userId: string } | { problem: string } {
  const user = USER_MENTION.exec(token);
  if (user?.[1]) return { userId: user[1] };
  if (GROUP_MENTION.test(token)) return { problem: 'Give it to one person, not a user group.' };
  if (token.startsWith('@')) {
    return {
      problem: `Mention the person so Slack links them (type @ and pick \`${escapeMrkdwn(truncate(token, 40))}\` from the list).`,
    };
  }
  return { problem: `\`${escapeMrkdwn(truncate(token, 40))}\` is not a mention of a person.` };
}

const TIME_BOX = /\s+in\s+(\d{1,4})\s*(m|min|mins|minutes|h|hr|hrs|hours)?$/i;

function parseTaskAdd(rest: string): IncidentCommand {
  let text = rest;
  let minutes: number | undefined;
  const box = TIME_BOX.exec(` ${text}`);
  if (box) {
    const n = Number(box[1]);
    minutes = /^h/i.test(box[2] ?? '') ? n * 60 : n;
    text = ` ${text}`.slice(0, box.index).trim();
    if (minutes < 1 || minutes > 7 * 24 * 60) return usage('task', 'A time box is 1 minute to 7 days.');
  }
  let assigneeId: string | undefined;
  const last = text.split(/\s+/).at(-1) ?? '';
  if (last.startsWith('<@') || last.startsWith('<!subteam')) {
    const who = parseUserMention(last);
    if ('problem' in who) return usage('task', who.problem);
    assigneeId = who.userId;
    text = text.slice(0, text.length - last.length).trim();
  }
  const clean = unescapeCommandText(text).trim();
  if (!clean) return usage('task', 'Say what the task is.');
  return { kind: 'task_add', text: clean, assigneeId, minutes };
}

function parseTask(rest: string): IncidentCommand {
  const [verb = '', ...words] = rest.split(/\s+/);
  const afterVerb = rest.slice(verb.length).trim();
  switch (verb.toLowerCase()) {
    case 'add':
      return parseTaskAdd(afterVerb);
    case 'done':
    case 'complete': {
      const n = /^#?(\d{1,6})$/.exec(afterVerb)?.[1];
      return n ? { kind: 'task_done', number: Number(n) } : usage('task', 'Give the task number.');
    }
    case 'assign': {
      const n = /^#?(\d{1,6})$/.exec(words[0] ?? '')?.[1];
      if (!n || words.length !== 2) return usage('task', 'Give the task number and one person.');
      const who = parseUserMention(words[1] ?? '');
      if ('problem' in who) return usage('task', who.problem);
      return { kind: 'task_assign', number: Number(n), assigneeId: who.userId };
    }
    default:
      return usage('task');
  }
}

/** `page @a <!subteam^S1|@g> the reason`: leading mentions of people or groups, then an optional reason. */
function parsePage(rest: string): IncidentCommand {
  const words = rest ? rest.split(/\s+/) : [];
  const targets: string[] = [];
  let n = 0;
  for (; n < words.length; n++) {
    const word = words[n] ?? '';
    const user = USER_MENTION.exec(word)?.[1];
    const group = GROUP_MENTION.exec(word)?.[1];
    if (user ?? group) targets.push((user ?? group) as string);
    else if (word.startsWith('@')) {
      const who = parseUserMention(word);
      return usage('page', 'problem' in who ? who.problem : undefined);
    } else break;
  }
  if (targets.length === 0) return usage('page', 'Mention who to page.');
  const reason = unescapeCommandText(words.slice(n).join(' ')).trim();
  return { kind: 'page', targets: [...new Set(targets)], ...(reason ? { reason } : {}) };
}

/** `oncall`, `oncall <schedule>`, `oncall overrides`, `oncall override [<schedule> @person <duration>]`. */
function parseOncall(words: string[]): IncidentCommand {
  const [first = '', ...rest] = words;
  switch (first.toLowerCase()) {
    case '':
      return { kind: 'oncall' };
    case 'overrides':
      return rest.length === 0 ? { kind: 'oncall_overrides' } : usage('oncall');
    case 'override': {
      if (rest.length === 0) return { kind: 'oncall_override_modal' };
      const [schedule = '', person = '', length = ''] = rest;
      if (rest.length !== 3)
        return usage('oncall', 'Give the schedule, one person and how long (such as 4h).');
      const who = parseUserMention(person);
      if ('problem' in who) return usage('oncall', who.problem);
      const durationMs = parseDuration(length);
      if (durationMs === undefined || durationMs < 60_000)
        return usage(
          'oncall',
          `\`${escapeMrkdwn(truncate(length, 20))}\` is not a duration such as 30m, 4h or 2d.`,
        );
      return { kind: 'oncall_override', schedule, userId: who.userId, durationMs };
    }
    default:
      return rest.length === 0 ? { kind: 'oncall', schedule: first } : usage('oncall');
  }
}

function parsePostmortem(words: string[]): IncidentCommand {
  const [verb = '', ...rest] = words;
  switch (verb.toLowerCase()) {
    case '':
      return { kind: 'postmortem' };
    case 'export':
      return rest.length === 0 ? { kind: 'postmortem_export' } : usage('postmortem');
    case 'owner': {
      if (rest.length !== 1) return usage('postmortem', 'Name one person.');
      const who = parseUserMention(rest[0] ?? '');
      return 'problem' in who
        ? usage('postmortem', who.problem)
        : { kind: 'postmortem_owner', userId: who.userId };
    }
    default:
      return usage('postmortem');
  }
}

const DUE_ON = /\s+due\s+(\S+)$/i;
const DUE_IN = /\s+in\s+(\d{1,3})\s*d(?:ays?)?$/i;

/** `followup add <text> [@owner] [due YYYY-MM-DD | in <N>d]`, read from the end. */
function parseFollowupAdd(rest: string): IncidentCommand {
  let text = ` ${rest}`;
  let due: { on: string } | { inDays: number } | undefined;
  const on = DUE_ON.exec(text);
  const inDays = DUE_IN.exec(text);
  if (on) {
    due = { on: on[1] as string };
    text = text.slice(0, on.index);
  } else if (inDays) {
    const n = Number(inDays[1]);
    if (n < 1 || n > 365) return usage('followup', 'A follow-up is due in 1 to 365 days.');
    due = { inDays: n };
    text = text.slice(0, inDays.index);
  }
  text = text.trim();
  let ownerId: string | undefined;
  const last = text.split(/\s+/).at(-1) ?? '';
  if (last.startsWith('<@') || last.startsWith('<!subteam')) {
    const who = parseUserMention(last);
    if ('problem' in who) return usage('followup', who.problem);
    ownerId = who.userId;
    text = text.slice(0, text.length - last.length).trim();
  }
  const clean = unescapeCommandText(text).trim();
  if (!clean) return usage('followup', 'Say what the follow-up is.');
  return { kind: 'followup_add', text: clean, ...(ownerId ? { ownerId } : {}), ...(due ? { due } : {}) };
}

function parseFollowup(rest: string): IncidentCommand {
  const [verb = '', first = ''] = rest.split(/\s+/);
  const afterVerb = rest.slice(verb.length).trim();
  const number = /^#?(\d{1,6})$/.exec(first)?.[1];
  switch (verb.toLowerCase()) {
    case 'add':
      return parseFollowupAdd(afterVerb);
    case 'done':
      return number && afterVerb === first
        ? { kind: 'followup_done', number: Number(number) }
        : usage('followup', 'Give the follow-up number.');
    case 'drop': {
      const reason = unescapeCommandText(afterVerb.slice(first.length)).trim();
      if (!number) return usage('followup', 'Give the follow-up number.');
      if (!reason) return usage('followup', 'Say why it is dropped.');
      return { kind: 'followup_drop', number: Number(number), reason };
    }
    default:
      return usage('followup');
  }
}

/** `stats [7d|30d|90d|<N>d] [SEV…]`, in either order; 30 days by default. */
function parseStats(words: string[]): IncidentCommand {
  let days = 30;
  let severity: string | undefined;
  for (const word of words) {
    const window = /^(\d{1,3})d$/i.exec(word);
    if (window) {
      days = Number(window[1]);
      if (days < 1 || days > 365) return usage('stats', 'A window is 1 to 365 days.');
    } else if (severity === undefined) severity = word;
    else return usage('stats');
  }
  return { kind: 'stats', days, ...(severity ? { severity } : {}) };
}

export function parseCommand(rawText: string): IncidentCommand {
  const text = rawText.trim();
  if (text === '') return { kind: 'open' };
  const first = text.split(/\s+/)[0] ?? '';
  const sub = first.toLowerCase();
  const rest = text.slice(first.length).trim();
  const words = rest ? rest.split(/\s+/) : [];
  switch (sub) {
    case 'declare':
    case 'new':
      return { kind: 'declare', title: unescapeCommandText(rest) };
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'role': {
      if (words.length === 0) return { kind: 'roles_modal' };
      const role = (words[0] ?? '').toLowerCase() as Role;
      if (!ROLES.includes(role))
        return usage('role', `\`${escapeMrkdwn(truncate(words[0] ?? '', 40))}\` is not a role.`);
      if (words.length !== 2) return usage('role', 'Name one person.');
      const who = parseUserMention(words[1] ?? '');
      return 'problem' in who ? usage('role', who.problem) : { kind: 'role', role, userId: who.userId };
    }
    case 'roles':
      return { kind: 'roles' };
    case 'severity':
    case 'sev':
      return words.length === 1 ? { kind: 'severity', severity: words[0] ?? '' } : usage('severity');
    case 'update':
      return rest ? { kind: 'update', text: unescapeCommandText(rest) } : { kind: 'update_modal' };
    case 'task':
      return parseTask(rest);
    case 'tasks':
      return { kind: 'tasks' };
    case 'note':
      return rest ? { kind: 'note', text: unescapeCommandText(rest) } : usage('note', 'Write the note.');
    case 'timeline':
      return { kind: 'timeline' };
    case 'resolve':
      return rest ? { kind: 'resolve', summary: unescapeCommandText(rest) } : { kind: 'resolve' };
    case 'reopen':
      return { kind: 'reopen' };
    case 'list':
      return { kind: 'list' };
    case 'alerts':
      return { kind: 'alerts' };
    case 'ack':
    case 'acknowledge':
      return { kind: 'ack' };
    case 'escalate': {
      const reason = unescapeCommandText(rest).trim();
      return reason ? { kind: 'escalate', reason } : { kind: 'escalate' };
    }
    case 'page':
      return parsePage(rest);
    case 'oncall':
    case 'on-call':
      return parseOncall(words);
    case 'postmortem':
    case 'pm':
      return parsePostmortem(words);
    case 'followup':
    case 'follow-up':
      return parseFollowup(rest);
    case 'followups':
    case 'follow-ups':
      return { kind: 'followups' };
    case 'stats':
    case 'metrics':
      return parseStats(words);
    case 'title':
      return rest
        ? { kind: 'edit', title: unescapeCommandText(rest) }
        : usage('edit', 'Write the new title.');
    case 'summary':
      return rest
        ? { kind: 'edit', summary: unescapeCommandText(rest) }
        : usage('edit', 'Write the new summary.');
    case 'webhooks':
      if (words.length === 0) return { kind: 'webhooks' };
      return words.length === 1 && words[0]?.toLowerCase() === 'ping'
        ? { kind: 'webhooks_ping' }
        : usage('webhooks');
    default:
      return { kind: 'help', unknown: first };
  }
}
