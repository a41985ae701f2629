import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentRoles, incidents, statusUpdates, tasks, timelineEvents } from '../../src/db/schema.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { dmChannelOf, isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

const ANNOUNCE = 'C0ANNOUNCE';
const CMD = 'U0CMD0001';
const REPORTER = 'U0REPORTER';

const testDb = useTestDatabase();
let app: TestBot;
let slack: SlackApiMock;
let clock: FakeClock;
let channel: string;

const db = () => testDb().database.db;
const settle = () => app.bot.engine.drain();

/** Declares an incident through the real flow and returns its channel id. */
async function declare(
  fields: Parameters<typeof declareView>[0] = {},
  viewId = 'V0RUN00001',
): Promise<string> {
  const before = slack.channels.length;
  await app.submitView(declareView({ title: 'Checkout down', severity: 'SEV2', ...fields }, viewId));
  await settle();
  const ch = slack.channels[before];
  if (!ch) throw new Error('no channel created');
  return ch.id;
}

/** Runs `/incident <text>` as `user` in `where`; returns the ephemeral answer's text ('' when none). */
async function command(text: string, user = CMD, where = channel): Promise<string> {
  const res = await app.command(text, { channel_id: where, user_id: user });
  expect(res.status).toBe(200);
  const body = await res.text();
  await settle();
  if (!body) return '';
  const json = JSON.parse(body) as { response_type?: string; text?: string };
  expect(json.response_type).toBe('ephemeral');
  return json.text ?? '';
}

async function clickAction(action: Record<string, unknown> & { action_id: string }, user = CMD) {
  const res = await app.action(action, { user, channel });
  expect(res.status).toBe(200);
  await settle();
}

function card() {
  const m = slack.messages.find((x) => x.channel === channel && x.metadata?.event_type === 'incident_card');
  return JSON.stringify(m?.blocks ?? []);
}
/** The last modal opened: its callback_id and private_metadata. */
function lastModal(): { callback_id: string; private_metadata: string } {
  const view = slack.callsTo('views.open').at(-1)?.args.view as
    | { callback_id: string; private_metadata: string }
    | undefined;
  if (!view) throw new Error('no modal was opened');
  return view;
}
const channelPosts = () =>
  slack.messages
    .filter((m) => m.channel === channel && !m.metadata?.event_type.startsWith('incident_card'))
    .map((m) => m.text);
const threadPosts = () =>
  slack.messages.filter((m) => m.channel === ANNOUNCE && m.thread_ts).map((m) => m.text);
const dms = (user: string) =>
  slack.messages.filter((m) => m.channel === dmChannelOf(user)).map((m) => m.text);
const responses = () =>
  slack.callsTo('response_url').map((c) => c.args as { text?: string; replace_original?: boolean });
async function incident() {
  const [row] = await db().select().from(incidents).where(eq(incidents.channelId, channel));
  if (!row) throw new Error('no incident');
  return row;
}
async function events() {
  const row = await incident();
  return db()
    .select()
    .from(timelineEvents)
    .where(eq(timelineEvents.incidentId, row.id))
    .orderBy(asc(timelineEvents.id));
}

beforeEach(async () => {
  isolateNetwork();
  slack = SlackApiMock.withNock();
  clock = new FakeClock();
  app = await startTestBot({
    database: testDb().database,
    clock,
    incident: { announcementsChannel: ANNOUNCE, admins: ['U0ADMIN01'] },
  });
  channel = await declare({ commander: CMD });
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

describe('/incident in and out of an incident channel', () => {
  it('shows the incident card with its buttons in the incident channel, the declare form elsewhere', async () => {
    const res = await app.command('', { channel_id: channel, user_id: REPORTER });
    const body = (await res.json()) as { response_type: string; blocks: unknown[] };
    expect(body.response_type).toBe('ephemeral');
    const json = JSON.stringify(body.blocks);
    for (const action of ['card_update', 'card_roles', 'card_task', 'card_severity', 'card_resolve'])
      expect(json).toContain(action);
    expect(slack.callsTo('views.open')).toHaveLength(0);
    await command('', REPORTER, 'C0GENERAL');
    expect(slack.callsTo('views.open')).toHaveLength(1);
  });

  it('answers commands outside an incident channel with a hint to declare', async () => {
    for (const text of ['tasks', 'role commander <@U0X|x>', 'resolve done', 'timeline']) {
      expect(await command(text, REPORTER, 'C0GENERAL')).toContain('This is not an incident channel');
    }
  });

  it('answers malformed commands with a precise usage line', async () => {
    expect(await command('role wizard <@U0BOB01|bob>')).toMatch(
      /`wizard` is not a role\. Usage: `\/incident role/,
    );
    expect(await command('role commander')).toMatch(/Name one person\. Usage:/);
    expect(await command('role commander <!subteam^S0OPS|@ops>')).toMatch(/one person, not a user group/);
    expect(await command('role deputy @bob')).toMatch(/Mention the person so Slack links them/);
    expect(await command('task add')).toMatch(/Say what the task is\. Usage: `\/incident task add/);
    expect(await command('task done x')).toMatch(/Give the task number/);
    expect(await command('severity')).toMatch(/Usage: `\/incident severity/);
    expect(await command('note')).toMatch(/Write the note/);
    expect(await command('frobnicate')).toMatch(/I don’t know `frobnicate`/);
  });
});

describe('roles', () => {
  it('hands over command: announced, invited, told by DM, history kept, card and topic updated', async () => {
    expect(await command('role commander <@U0NEWCMD|newbie>')).toContain('<@U0NEWCMD> is now the commander');
    expect(channelPosts()).toContain(`🎖️ <@${CMD}> handed command to <@U0NEWCMD>.`);
    expect(slack.channels[0]?.members.has('U0NEWCMD')).toBe(true);
    expect(dms('U0NEWCMD')[0]).toMatch(/You are now the \*commander\*.*Incident Commander/s);
    expect(card()).toContain('*Commander*\\n<@U0NEWCMD>');
    expect(slack.channels[0]?.topic).toBe('SEV2 · Investigating · Commander: <@U0NEWCMD>');
    const history = await db().select().from(incidentRoles).orderBy(asc(incidentRoles.id));
    expect(history.map((r) => [r.userId, r.assignedBy, r.relievedAt !== null])).toEqual([
      [CMD, REPORTER, true],
      ['U0NEWCMD', CMD, false],
    ]);
    const last = (await events()).at(-1);
    expect(last).toMatchObject({
      kind: 'role_assigned',
      actorId: CMD,
      data: { role: 'commander', userId: 'U0NEWCMD', previous: CMD },
    });
  });

  it('refuses role changes by someone who is not in charge, and says who may', async () => {
    const answer = await command('role deputy <@U0BOB01|bob>', 'U0RANDOM1');
    expect(answer).toBe(`Only the commander (<@${CMD}>) or an admin may reassign roles.`);
    expect(await db().select().from(incidentRoles)).toHaveLength(1);
    // The deputy and admins may.
    await command('role deputy <@U0DEP0001>', 'U0ADMIN01');
    expect(await command('role scribe <@U0SCRIBE1>', 'U0DEP0001')).toContain('is now the scribe');
  });

  it('lets anyone take an empty commander role', async () => {
    channel = await declare({ title: 'No lead yet' }, 'V0NOLEAD01');
    expect(await command('role commander <@U0VOLUNT1>', 'U0VOLUNT1')).toContain('is now the commander');
    expect(channelPosts()).toContain('🎖️ <@U0VOLUNT1> took command.');
    expect(await command('role commander <@U0VOLUNT1>', 'U0VOLUNT1')).toContain('is already the commander');
  });

  it('lists roles, opens the roles form, and assigns from it', async () => {
    expect(await command('roles')).toContain(`*Commander*: <@${CMD}>`);
    await command('role');
    const open = lastModal();
    expect(open.callback_id).toBe('incident_roles');
    const values = {
      commander: { role_user: { type: 'users_select', selected_user: CMD } },
      deputy: { role_user: { type: 'users_select', selected_user: 'U0DEP0001' } },
      liaison: { role_user: { type: 'users_select', selected_user: 'U0LIAISON' } },
      scribe: { role_user: { type: 'users_select', selected_user: null } },
    };
    const res = await app.submitView(
      {
        id: 'V0ROLES001',
        callback_id: 'incident_roles',
        private_metadata: open.private_metadata,
        state: { values },
      },
      CMD,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await settle();
    expect(card()).toContain('*Deputy*\\n<@U0DEP0001>');
    expect(card()).toContain('*Liaison*\\n<@U0LIAISON>');
    // A refused submission keeps the form open with the reason.
    const refused = await app.submitView(
      {
        id: 'V0ROLES002',
        callback_id: 'incident_roles',
        private_metadata: open.private_metadata,
        state: {
          values: { ...values, scribe: { role_user: { type: 'users_select', selected_user: 'U0X000001' } } },
        },
      },
      'U0RANDOM1',
    );
    const body = (await refused.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors.commander).toMatch(/may reassign roles/);
  });

  it('keeps a consistent card and timeline when two role changes race', async () => {
    // Two admins (always allowed) hand command to two different people at the same moment.
    await Promise.all([
      command('role commander <@U0AAAAAA1>', 'U0ADMIN01'),
      command('role commander <@U0BBBBBB1>', 'U0ADMIN01'),
    ]);
    await settle();
    const current = await db().select().from(incidentRoles).where(eq(incidentRoles.role, 'commander'));
    const holder = current.find((r) => r.relievedAt === null)?.userId;
    expect(current.filter((r) => r.relievedAt === null)).toHaveLength(1);
    expect(card()).toContain(`*Commander*\\n<@${holder}>`);
    expect(slack.channels[0]?.topic).toContain(`<@${holder}>`);
    const changes = (await events()).filter((e) => e.kind === 'role_assigned' && e.actorId === 'U0ADMIN01');
    expect(changes).toHaveLength(2);
    // The second change took over from the first: no change was lost.
    expect(changes[1]?.data.previous).toBe(changes[0]?.data.userId);
    expect(changes[1]?.data.userId).toBe(holder);
  });
});

describe('severity', () => {
  it('changes severity in any spelling, refuses unknown and unchanged ones', async () => {
    expect(await command('severity sev-1')).toBe('Severity is now SEV1.');
    expect(card()).toContain('*Severity*\\nSEV1');
    expect(slack.channels[0]?.topic).toMatch(/^SEV1 · /);
    expect(channelPosts()).toContain(`<@${CMD}> changed severity from *SEV2* to *SEV1*.`);
    expect(await command('severity 3')).toBe('Severity is now SEV3.');
    expect(await command('severity SEV3')).toBe('The severity is already SEV3.');
    expect(await command('severity SEV9')).toBe(
      '"SEV9" is not a severity. Choose one of SEV1, SEV2, SEV3, SEV4, SEV5.',
    );
    expect(await command('severity 1', 'U0RANDOM1')).toMatch(/^Only the commander/);
    expect((await incident()).severity).toBe('SEV3');
  });

  it('changes severity from the card menu, and refuses it there with an ephemeral reason', async () => {
    const row = await incident();
    const select = (user: string, value: string) =>
      clickAction(
        {
          type: 'static_select',
          action_id: 'card_severity',
          block_id: `card_actions:${row.id}`,
          selected_option: { value, text: { type: 'plain_text', text: value } },
        },
        user,
      );
    await select(CMD, 'SEV1');
    expect((await incident()).severity).toBe('SEV1');
    await select('U0RANDOM1', 'SEV4');
    expect((await incident()).severity).toBe('SEV1');
    expect(responses().at(-1)?.text).toMatch(/^Only the commander/);
  });
});

describe('status updates', () => {
  it('posts a quick update to the channel and the announcement thread', async () => {
    expect(await command('update Failing over the primary &amp; draining queues')).toBe('Update posted.');
    const announcementTs = (await incident()).announcementTs;
    const inThread = slack.messages.filter((m) => m.channel === ANNOUNCE && m.thread_ts === announcementTs);
    expect(inThread).toHaveLength(1);
    expect(inThread[0]?.text).toContain('Failing over the primary &amp; draining queues');
    expect(channelPosts().some((t) => t.includes('📝 *Status update*'))).toBe(true);
    const row = await incident();
    expect(row.lastUpdateAt?.toISOString()).toBe(clock.now().toISOString());
    expect(row.status).toBe('investigating');
    expect(card()).toContain('*Last update*\\n<!date^');
  });

  it('lets the liaison post updates, refuses others while there is a commander', async () => {
    expect(await command('update hello', 'U0RANDOM1')).toBe(
      `Only the commander (<@${CMD}>) or an admin may post status updates.`,
    );
    await command('role liaison <@U0LIAISON>');
    expect(await command('update from the liaison', 'U0LIAISON')).toBe('Update posted.');
  });

  it('posts from the form: status change, customer audience and the promised next update', async () => {
    await command('update');
    const view = lastModal();
    expect(view.callback_id).toBe('incident_update');
    clock.advance(5 * 60_000);
    const res = await app.submitView(
      {
        id: 'V0UPDATE01',
        callback_id: 'incident_update',
        private_metadata: view.private_metadata,
        state: {
          values: {
            status: { status_select: { type: 'static_select', selected_option: { value: 'identified' } } },
            message: {
              message_input: { type: 'plain_text_input', value: 'Cause found: bad deploy <!channel>' },
            },
            audience: { audience_radio: { type: 'radio_buttons', selected_option: { value: 'customers' } } },
            next_update: { next_update_select: { type: 'static_select', selected_option: { value: '30' } } },
          },
        },
      },
      CMD,
    );
    expect(await res.text()).toBe('');
    await settle();
    const row = await incident();
    expect(row.status).toBe('identified');
    expect(row.acknowledgedAt?.toISOString()).toBe(clock.now().toISOString());
    expect(row.nextUpdateAt?.getTime()).toBe(clock.now().getTime() + 30 * 60_000);
    const [update] = await db().select().from(statusUpdates);
    expect(update).toMatchObject({ status: 'identified', audience: 'customers', postedBy: CMD });
    const posted = threadPosts().at(-1) ?? '';
    expect(posted).toContain('📣 *Customer-facing update*');
    expect(posted).toContain('&lt;!channel&gt;');
    expect(posted).not.toContain('<!channel>');
    expect(card()).toContain('*Status*\\nIdentified');
    expect((await events()).map((e) => e.kind).slice(-2)).toEqual(['status_changed', 'status_update']);
  });

  it('keeps private and test incidents out of the announcements channel', async () => {
    channel = await declare({ title: 'Secret', private: true, commander: CMD }, 'V0PRIV0001');
    await command('update quiet');
    await command('resolve fixed quietly');
    expect(slack.messages.filter((m) => m.channel === ANNOUNCE)).toHaveLength(1); // only the first incident's announcement
    expect(channelPosts().length).toBeGreaterThanOrEqual(2);
  });
});

describe('tasks and notes', () => {
  it('adds, lists, reassigns and completes time-boxed tasks, keeping the card count', async () => {
    expect(await command('task add Check replica lag <@U0BOB0001|bob> in 10m', 'U0RANDOM1')).toBe(
      'Added task 1.',
    );
    const [task] = await db().select().from(tasks);
    expect(task).toMatchObject({
      number: 1,
      text: 'Check replica lag',
      assigneeId: 'U0BOB0001',
      createdBy: 'U0RANDOM1',
    });
    expect(task?.dueAt?.getTime()).toBe(clock.now().getTime() + 10 * 60_000);
    expect(await command('task add Page the DBA')).toBe('Added task 2.');
    expect(card()).toContain('*Open tasks*\\n2');
    const list = await command('tasks');
    expect(list).toContain('*1.* Check replica lag — <@U0BOB0001>');
    expect(list).toContain('*2.* Page the DBA — _unassigned_');
    expect(await command('task assign 2 <@U0ANN0001>')).toBe('Task 2 is now <@U0ANN0001>’s.');
    expect(await command('task done 1', 'U0BOB0001')).toBe('Task 1 is done.');
    expect(await command('task done 1')).toBe('Task 1 is already done.');
    expect(await command('task done 7')).toBe('There is no task 7. See them with `/incident tasks`.');
    expect(card()).toContain('*Open tasks*\\n1');
    expect(channelPosts().filter((t) => t.startsWith('📋') || t.startsWith('✅'))).toHaveLength(4);
  });

  it('adds a task from the card button and form', async () => {
    const row = await incident();
    await clickAction({ action_id: 'card_task', value: row.id });
    const view = lastModal();
    expect(view.callback_id).toBe('incident_task');
    await app.submitView({
      id: 'V0TASK0001',
      callback_id: 'incident_task',
      private_metadata: view.private_metadata,
      state: {
        values: {
          task_text: { task_text_input: { type: 'plain_text_input', value: 'Roll back' } },
          task_assignee: { task_assignee_select: { type: 'users_select', selected_user: 'U0BOB0001' } },
          task_time_box: {
            task_time_box_select: { type: 'static_select', selected_option: { value: '15' } },
          },
        },
      },
    });
    await settle();
    const [task] = await db().select().from(tasks);
    expect(task).toMatchObject({ number: 1, text: 'Roll back', assigneeId: 'U0BOB0001' });
  });

  it('notes go on the timeline, and the timeline pages', async () => {
    expect(await command('note Restarted pgbouncer <@U0BOB0001|bob>')).toBe('Noted on the timeline.');
    const note = (await events()).at(-1);
    expect(note).toMatchObject({ kind: 'note', data: { text: 'Restarted pgbouncer @bob' } });
    for (let i = 0; i < 30; i++) await command(`note step ${i}`, 'U0SCRIBE1');
    const res = await app.command('timeline', { channel_id: channel, user_id: CMD });
    const page = (await res.json()) as {
      blocks: { type: string; elements?: { action_id: string; value: string }[] }[];
    };
    const text = JSON.stringify(page.blocks);
    expect(text).toContain('page 1 of 2');
    expect(text).toContain('declared the incident (SEV2)');
    const nav = page.blocks.find((b) => b.type === 'actions')?.elements?.[0];
    expect(nav?.action_id).toBe('timeline_page_next');
    await clickAction({ action_id: nav?.action_id ?? '', value: nav?.value });
    const next = responses().at(-1) as { replace_original?: boolean; blocks?: unknown[] };
    expect(next.replace_original).toBe(true);
    expect(JSON.stringify(next.blocks)).toContain('page 2 of 2');
    expect(JSON.stringify(next.blocks)).toContain('step 29');
  });
});

describe('resolve and reopen', () => {
  it('resolves with a summary: channel and thread hear duration, severity, roles and open tasks', async () => {
    await command('task add leftover');
    clock.advance(2 * 3_600_000 + 13 * 60_000);
    expect(await command('resolve Rolled back the deploy', 'U0RANDOM1')).toMatch(/^Only the commander/);
    expect(await command('resolve Rolled back the deploy')).toBe('Resolved.');
    const row = await incident();
    expect(row).toMatchObject({ status: 'resolved', resolutionSummary: 'Rolled back the deploy' });
    expect(row.resolvedAt?.toISOString()).toBe(clock.now().toISOString());
    expect(row.mitigatedAt?.toISOString()).toBe(clock.now().toISOString());
    for (const text of [channelPosts().at(-1), threadPosts().at(-1)]) {
      expect(text).toContain('was resolved by <@U0CMD0001> after 2h 13m');
      expect(text).toContain('*Severity:* SEV2');
      expect(text).toContain(`Commander <@${CMD}>`);
      expect(text).toContain('*Open tasks left:* 1');
    }
    expect(card()).toContain('card_reopen');
    expect(card()).not.toContain('card_resolve');
    expect(await command('resolve again')).toBe('The incident is already resolved.');
    expect(await command('update too late')).toBe(
      'The incident is resolved. Reopen it first with `/incident reopen`.',
    );
    expect(await command('severity 1')).toBe(
      'The incident is resolved. Reopen it first with `/incident reopen`.',
    );
  });

  it('asks for a summary in a form when none is given', async () => {
    await command('resolve');
    const view = lastModal();
    expect(view.callback_id).toBe('incident_resolve');
    const empty = await app.submitView(
      {
        id: 'V0RES00001',
        callback_id: 'incident_resolve',
        private_metadata: view.private_metadata,
        state: { values: { resolution: { resolution_input: { type: 'plain_text_input', value: '  ' } } } },
      },
      CMD,
    );
    expect(((await empty.json()) as { errors: Record<string, string> }).errors.resolution).toBe(
      'The summary is empty.',
    );
    await app.submitView(
      {
        id: 'V0RES00002',
        callback_id: 'incident_resolve',
        private_metadata: view.private_metadata,
        state: { values: { resolution: { resolution_input: { type: 'plain_text_input', value: 'Fixed' } } } },
      },
      CMD,
    );
    await settle();
    expect((await incident()).status).toBe('resolved');
  });

  it('reopens from the command and from the card button', async () => {
    await command('resolve fixed');
    expect(await command('reopen')).toBe('Reopened; the incident is investigating again.');
    let row = await incident();
    expect(row).toMatchObject({ status: 'investigating', resolvedAt: null });
    expect(channelPosts().at(-1)).toContain('reopened incident #1');
    await command('resolve fixed again');
    await clickAction({ action_id: 'card_reopen', value: row.id });
    row = await incident();
    expect(row.status).toBe('investigating');
    expect(await command('reopen')).toBe('The incident is already investigating.');
  });

  it('opens each form from its card button', async () => {
    const row = await incident();
    for (const [action, callback] of [
      ['card_update', 'incident_update'],
      ['card_roles', 'incident_roles'],
      ['card_task', 'incident_task'],
      ['card_resolve', 'incident_resolve'],
    ] as const) {
      await clickAction({ action_id: action, value: row.id });
      expect(lastModal().callback_id).toBe(callback);
    }
    await clickAction({ action_id: 'card_update', value: 'not-a-uuid' });
    expect(responses().at(-1)?.text).toBe('That incident no longer exists.');
  });
});

describe('/incident list', () => {
  it('lists open incidents newest first, private ones only to their members', async () => {
    await declare({ title: 'Second one', commander: CMD }, 'V0LIST0001');
    await declare({ title: 'Hush', private: true }, 'V0LIST0002');
    await command('list', REPORTER, 'C0GENERAL');
    const forReporter = responses().at(-1)?.text ?? '';
    expect(forReporter.indexOf('#3')).toBeLessThan(forReporter.indexOf('#2'));
    expect(forReporter.indexOf('#2')).toBeLessThan(forReporter.indexOf('#1'));
    expect(forReporter).toContain('Hush');
    await command('list', 'U0OUTSIDER', 'C0GENERAL');
    const forOutsider = responses().at(-1)?.text ?? '';
    expect(forOutsider).toContain('Second one');
    expect(forOutsider).not.toContain('Hush');
  });
});
