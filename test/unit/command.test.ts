import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/slack/command.js';

describe('/incident parsing', () => {
  it.each([
    ['', { kind: 'open' }],
    ['   ', { kind: 'open' }],
    ['declare', { kind: 'declare', title: '' }],
    ['DECLARE  Payments &amp; refunds down ', { kind: 'declare', title: 'Payments & refunds down' }],
    ['declare <@U1ABC|bob> broke it', { kind: 'declare', title: '@bob broke it' }],
    ['help', { kind: 'help' }],
    ['Help', { kind: 'help' }],
    ['frobnicate now', { kind: 'help', unknown: 'frobnicate' }],
    // roles
    ['role commander <@U0ABC123|alice>', { kind: 'role', role: 'commander', userId: 'U0ABC123' }],
    ['role Deputy <@W0ABC123>', { kind: 'role', role: 'deputy', userId: 'W0ABC123' }],
    ['role liaison <@U0ABC123|alice>', { kind: 'role', role: 'liaison', userId: 'U0ABC123' }],
    ['role scribe <@U0ABC123>', { kind: 'role', role: 'scribe', userId: 'U0ABC123' }],
    ['role', { kind: 'roles_modal' }],
    ['roles', { kind: 'roles' }],
    // severity
    ['severity SEV-1', { kind: 'severity', severity: 'SEV-1' }],
    ['sev 2', { kind: 'severity', severity: '2' }],
    // updates
    ['update', { kind: 'update_modal' }],
    ['update DB &lt;primary&gt; failing over', { kind: 'update', text: 'DB <primary> failing over' }],
    // tasks
    [
      'task add Check replica lag',
      { kind: 'task_add', text: 'Check replica lag', assigneeId: undefined, minutes: undefined },
    ],
    [
      'task add Check lag <@U0BOB|bob>',
      { kind: 'task_add', text: 'Check lag', assigneeId: 'U0BOB', minutes: undefined },
    ],
    [
      'task add Check lag <@U0BOB> in 10m',
      { kind: 'task_add', text: 'Check lag', assigneeId: 'U0BOB', minutes: 10 },
    ],
    [
      'task add Call vendor in 2h',
      { kind: 'task_add', text: 'Call vendor', assigneeId: undefined, minutes: 120 },
    ],
    [
      'task add Call vendor in 15 minutes',
      { kind: 'task_add', text: 'Call vendor', assigneeId: undefined, minutes: 15 },
    ],
    [
      'task add log in to the console',
      { kind: 'task_add', text: 'log in to the console', assigneeId: undefined, minutes: undefined },
    ],
    ['task done 3', { kind: 'task_done', number: 3 }],
    ['task done #3', { kind: 'task_done', number: 3 }],
    ['task assign 2 <@U0ANN|ann>', { kind: 'task_assign', number: 2, assigneeId: 'U0ANN' }],
    ['tasks', { kind: 'tasks' }],
    // the rest
    ['note restarted <@U0BOB|bob>', { kind: 'note', text: 'restarted @bob' }],
    ['timeline', { kind: 'timeline' }],
    ['resolve', { kind: 'resolve' }],
    ['resolve rolled back &amp; verified', { kind: 'resolve', summary: 'rolled back & verified' }],
    ['reopen', { kind: 'reopen' }],
    ['list', { kind: 'list' }],
  ])('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each([
    [
      'role wizard <@U0ABC>',
      '`wizard` is not a role. Usage: `/incident role <commander|deputy|liaison|scribe> @person`',
    ],
    ['role commander', 'Name one person. Usage: `/incident role <commander|deputy|liaison|scribe> @person`'],
    ['role commander <@U0A> <@U0B>', 'Name one person.'],
    ['role commander <!subteam^S0OPS|@ops>', 'Give it to one person, not a user group.'],
    ['role commander @alice', 'Mention the person so Slack links them'],
    ['role commander <#C0123|general>', '`&lt;#C0123|general&gt;` is not a mention of a person.'],
    ['severity', 'Usage: `/incident severity <SEV1…>`'],
    ['severity 1 2', 'Usage: `/incident severity <SEV1…>`'],
    ['task', 'Usage: `/incident task add'],
    ['task frob 1', 'Usage: `/incident task add'],
    ['task add', 'Say what the task is.'],
    ['task add <@U0BOB|bob> in 5m', 'Say what the task is.'],
    ['task add fix it in 0m', 'A time box is 1 minute to 7 days.'],
    ['task add fix it <!subteam^S1|@team>', 'Give it to one person, not a user group.'],
    ['task done', 'Give the task number.'],
    ['task done one', 'Give the task number.'],
    ['task assign 2', 'Give the task number and one person.'],
    ['task assign x <@U0ANN>', 'Give the task number and one person.'],
    ['task assign 2 @ann', 'Mention the person so Slack links them'],
    ['note', 'Write the note. Usage: `/incident note <text>`'],
  ])('refuses %j with a usage line', (text, message) => {
    const parsed = parseCommand(text);
    expect(parsed.kind).toBe('usage');
    expect(parsed.kind === 'usage' && parsed.message).toContain(message);
  });
});
