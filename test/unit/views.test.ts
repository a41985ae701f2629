import { describe, expect, it } from 'vitest';
import { DEFAULT_INCIDENT_CONFIG, DEFAULT_SEVERITIES } from '../../src/config/index.js';
import type { IncidentSnapshot } from '../../src/incidents/queries.js';
import { incidentCard, incidentTopic } from '../../src/slack/views/card.js';
import { declareModal } from '../../src/slack/views/declare-modal.js';
import { helpMessage } from '../../src/slack/views/help.js';
import { incidentList, rolesList, tasksList } from '../../src/slack/views/lists.js';
import {
  formatDuration,
  reopenedMessage,
  resolvedMessage,
  roleAssignedMessage,
  roleDm,
  severityChangedMessage,
  statusUpdateMessage,
  taskMessage,
} from '../../src/slack/views/messages.js';
import { resolveModal, rolesModal, taskModal, updateModal } from '../../src/slack/views/modals.js';
import { renderNotice } from '../../src/slack/views/notices.js';
import { announcement, reporterNotice, setupFailureNotice } from '../../src/slack/views/setup.js';
import { describeEvent, timelinePage } from '../../src/slack/views/timeline.js';
import { readEvent, TIMELINE_KINDS, type TimelineData, type TimelineKind } from '../../src/timeline/model.js';
import { checkMessage, checkModal } from '../helpers/slack-limits.js';

const longest: IncidentSnapshot = {
  id: '0b6f8f3e-8d5c-4a57-9d0b-7f1b8a9c2e11',
  number: 123456,
  title: `${'Ü'.repeat(140)}🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥`,
  summary: '<&>'.repeat(1000),
  severity: 'SEV1-CUSTOMER-FACING',
  status: 'investigating',
  isPrivate: true,
  isTest: true,
  reporterId: 'U0REPORTER',
  commanderId: 'W0COMMANDER',
  roles: { commander: 'W0COMMANDER', deputy: 'U0DEPUTY', liaison: 'U0LIAISON', scribe: 'U0SCRIBE' },
  declaredAt: new Date('2026-11-26T10:00:00Z'),
  resolvedAt: undefined,
  channelId: 'C0INCIDENT',
  openTaskCount: 12,
  lastUpdateAt: new Date('2026-11-26T10:20:00Z'),
  nextUpdateAt: new Date('2026-11-26T10:40:00Z'),
  acknowledgedBy: 'U0ACKER',
  paging: false,
  alertsFiring: 123456,
  followups: { total: 0, open: 0, items: [] },
  postmortem: { status: undefined, ownerId: undefined, dueAt: undefined },
};

describe('declare modal', () => {
  it('stays within Slack limits with the default severities', () => {
    expect(checkModal(declareModal({ severities: DEFAULT_SEVERITIES, metadata: {} }) as never)).toEqual([]);
  });

  it('stays within Slack limits with 100 long severities and a long prefilled title', () => {
    const severities = Array.from({ length: 100 }, (_, i) => ({
      id: `S${i}`.padEnd(20, 'X'),
      description: 'd'.repeat(150),
    }));
    const view = declareModal({
      severities,
      initialTitle: 'T'.repeat(500),
      metadata: { sourceChannelId: 'C123' },
    });
    expect(checkModal(view as never)).toEqual([]);
    const title = (view.blocks as { block_id: string; element: { initial_value?: string } }[]).find(
      (b) => b.block_id === 'title',
    );
    expect(Array.from(title?.element.initial_value ?? '')).toHaveLength(150);
  });

  it('has every field the declare flow needs', () => {
    const view = declareModal({ severities: DEFAULT_SEVERITIES, metadata: {} });
    expect((view.blocks as { block_id: string }[]).map((b) => b.block_id)).toEqual([
      'title',
      'severity',
      'summary',
      'commander',
      'options',
    ]);
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({});
  });
});

describe('running an incident', () => {
  const events = Array.from({ length: 60 }, (_, n) => ({
    id: n,
    incidentId: longest.id,
    kind: n % 2 ? 'note' : 'status_update',
    actorId: 'U0SCRIBE',
    data: { text: '<!channel> '.repeat(300), message: 'x'.repeat(3000), audience: 'customers' },
    occurredAt: new Date(Date.UTC(2026, 10, 26, 10, n)),
  }));
  const manyTasks = Array.from({ length: 200 }, (_, n) => ({
    id: n,
    incidentId: longest.id,
    number: n + 1,
    text: 'T'.repeat(500),
    assigneeId: n % 3 ? 'U0BOB' : null,
    createdBy: 'U0ANN',
    createdAt: new Date(),
    dueAt: new Date(Date.UTC(2026, 10, 26, 11)),
    doneAt: n % 2 ? new Date() : null,
    doneBy: null,
  }));

  it('modals stay within Slack limits', () => {
    for (const view of [
      rolesModal(longest),
      updateModal(longest),
      taskModal(longest),
      resolveModal(longest),
    ]) {
      expect(checkModal(view as never)).toEqual([]);
    }
    expect(JSON.parse(rolesModal(longest).private_metadata ?? '')).toEqual({ incidentId: longest.id });
  });

  it('the card with buttons, lists, timeline pages and channel messages stay within Slack limits', () => {
    const severities = Array.from({ length: 120 }, (_, n) => ({
      id: `SEVERITY-${n}`.padEnd(20, 'X'),
      description: 'd',
    }));
    const resolved = { ...longest, status: 'resolved' as const, resolvedAt: new Date() };
    const incidentRow = {
      ...longest,
      channelId: 'C0INC',
      isPrivate: true,
      status: 'identified' as const,
    } as never;
    const messages = [
      incidentCard(longest, severities),
      incidentCard(resolved, severities),
      rolesList(longest),
      tasksList(longest, manyTasks as never, new Date(Date.UTC(2026, 10, 26, 12))),
      incidentList(Array.from({ length: 60 }, () => incidentRow)),
      timelinePage(longest, events as never, 0),
      timelinePage(longest, events as never, 2),
      roleAssignedMessage('commander', 'U0NEW', 'U0OLD', 'U0OLD'),
      roleDm({ number: 1, title: longest.title, channelId: 'C0INC' }, 'liaison', 'd'.repeat(1500)),
      severityChangedMessage('U0A', 'S'.repeat(20), 'T'.repeat(20)),
      statusUpdateMessage(longest, {
        status: 'monitoring',
        message: '<&>'.repeat(1000),
        audience: 'customers',
        postedBy: 'U0A',
        nextUpdateAt: new Date(),
      }),
      taskMessage(
        'added',
        { number: 9, text: 'x'.repeat(500), assigneeId: 'U0BOB', dueAt: new Date() },
        'U0A',
      ),
      resolvedMessage(longest, 'U0A', 's'.repeat(3000), new Date()),
      reopenedMessage(longest, 'U0A'),
    ];
    for (const m of messages) expect(checkMessage(m as never)).toEqual([]);
  });

  it('long lists end with a count of what did not fit, never a cut mention', () => {
    const incidentRow = { ...longest, channelId: 'C0INC', status: 'identified' as const } as never;
    const list = incidentList(Array.from({ length: 60 }, () => incidentRow)).text;
    expect(list).toMatch(/…and \d+ more$/);
    expect(list.length).toBeLessThanOrEqual(3000);
    const tasks = tasksList(longest, manyTasks as never, new Date()).text;
    expect(tasks).toMatch(/…and \d+ more$/);
  });

  it('the card offers only the actions that apply', () => {
    const open = JSON.stringify(incidentCard(longest, DEFAULT_SEVERITIES).blocks);
    for (const a of ['card_update', 'card_roles', 'card_task', 'card_severity', 'card_resolve'])
      expect(open).toContain(a);
    expect(open).not.toContain('card_reopen');
    const resolved = JSON.stringify(
      incidentCard({ ...longest, status: 'resolved' }, DEFAULT_SEVERITIES).blocks,
    );
    expect(resolved).toContain('card_reopen');
    expect(resolved).not.toContain('card_resolve');
    expect(JSON.stringify(incidentCard(longest).blocks)).not.toContain('"actions"');
  });

  it('timeline pages escape what users wrote and page forward and back', () => {
    const page = JSON.stringify(timelinePage(longest, events as never, 1));
    expect(page).not.toContain('<!channel>');
    expect(page).toContain('page 2 of 3');
    expect(page).toContain('timeline_page_prev');
    expect(page).toContain('timeline_page_next');
    expect(page).toContain(`"value":"${longest.id}:2"`);
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0m');
    expect(formatDuration(133 * 60_000)).toBe('2h 13m');
    expect(formatDuration((26 * 60 + 1) * 60_000)).toBe('1d 2h 1m');
  });
});

describe('incident messages', () => {
  it('card, announcement, notices and help stay within Slack limits for the longest input', () => {
    for (const message of [
      incidentCard(longest),
      announcement(longest),
      reporterNotice(longest),
      setupFailureNotice(longest, 'creating the channel', 'restricted_action'),
      helpMessage('x'.repeat(5000)),
    ]) {
      expect(checkMessage(message as never)).toEqual([]);
    }
  });

  it('card leaves out the summary section when there is none, and shows unassigned roles', () => {
    const card = incidentCard({ ...longest, summary: '  ', commanderId: undefined });
    const json = JSON.stringify(card.blocks);
    expect(json).not.toContain('*Summary*');
    expect(json).toContain('_unassigned_');
    expect(json).toContain('🧪 Test incident');
    expect(json).toContain('🔒 Private');
  });

  it('topic fits in 250 characters', () => {
    const topic = incidentTopic({ ...longest, severity: 'S'.repeat(300) });
    expect(Array.from(topic).length).toBeLessThanOrEqual(250);
    expect(incidentTopic(longest)).toBe('SEV1-CUSTOMER-FACING · Investigating · Commander: <@W0COMMANDER>');
  });
});

describe('timeline events', () => {
  /** One event of every kind, with the data its writer records (the longest and most hostile where it matters). */
  const SAMPLE: TimelineData = {
    declared: { title: '<!channel>', severity: 'SEV1', private: false, test: true },
    role_assigned: { role: 'liaison', userId: 'U0LIAISON', previous: 'U0OLD', relievedRoleId: 3 },
    channel_created: { channelId: 'C0INCIDENT', name: 'inc-1-x', adopted: true },
    card_posted: { ts: '1700000000.000100' },
    announced: { channelId: 'C0ANNOUNCE', ts: '1700000000.000200' },
    side_effect_failed: { step: 'pinning the card', error: 'restricted_action', final: true },
    severity_changed: { from: 'SEV2', to: 'SEV1' },
    incident_updated: {
      title: { from: 'Old <!channel>', to: 'T'.repeat(150) },
      summary: { from: '', to: '<https://evil|click> '.repeat(150) },
    },
    status_changed: { from: 'investigating', to: 'identified' },
    status_update: {
      updateId: 4,
      status: 'identified',
      audience: 'customers',
      message: '<https://evil|click> & more'.repeat(100),
      nextUpdateAt: '2026-11-26T10:40:00.000Z',
    },
    task_added: { number: 2, text: 'T'.repeat(500), assigneeId: 'U0BOB', dueAt: '2026-11-26T10:30:00.000Z' },
    task_assigned: { number: 2, assigneeId: 'U0ANN', previous: 'U0BOB' },
    task_completed: { number: 2 },
    note: { text: 'all good <!here>' },
    resolved: { from: 'monitoring', to: 'resolved', summary: 'rolled back'.repeat(200), openTasks: 3 },
    reopened: { from: 'resolved', to: 'investigating' },
    acknowledged: { stoppedSteps: 2 },
    escalated: { tier: 2, reason: 'no answer <!channel>' },
    paged: { label: 'tier 2 (round 2)', users: ['U0A', 'U0B'], reason: 'database <down>' },
    tier_passed: { label: 'tier 1 <!channel>', paged: 'tier 2 <!here>' },
    reminded: { reminder: 'update', to: 'U0LIAISON', everyMs: 20 * 60_000 },
    reminder_snoozed: { until: '2026-11-26T10:45:00.000Z' },
    alerts_linked: { groupId: 4, title: '<!channel> HighErrorRate', firing: 12 },
    alerts_resolved: { title: '<!here> HighErrorRate' },
    postmortem_owner_set: { ownerId: 'U0OWNER', previous: null },
    postmortem_status_changed: { from: 'draft', to: 'in_review' },
    postmortem_edited: { parts: ['overview', 'contributingFactors'] },
    followup_added: {
      number: 3,
      text: '<!channel> add a canary'.repeat(20),
      ownerId: 'U0ANN',
      dueOn: '2026-12-04',
    },
    followup_done: { number: 3 },
    followup_dropped: { number: 3, reason: 'superseded by <!here> the migration' },
  };
  const task = {
    id: 9,
    incidentId: longest.id,
    number: 2,
    text: 'roll back <!channel>',
    assigneeId: 'U0BOB',
    createdBy: 'U0ANN',
    createdAt: new Date(),
    dueAt: new Date(Date.UTC(2026, 10, 26, 11)),
    doneAt: null,
    doneBy: null,
  };
  const event = (kind: TimelineKind, data: object, n = 1) =>
    readEvent({
      id: n,
      incidentId: longest.id,
      kind,
      actorId: 'U0CMD',
      data: data as Record<string, unknown>,
      occurredAt: new Date(Date.UTC(2026, 10, 26, 10, 30)),
    });
  const reminders: TimelineData['reminded'][] = [
    { reminder: 'update', to: 'U0LIAISON', everyMs: 20 * 60_000 },
    { reminder: 'commander', afterMs: 10 * 60_000 },
    { reminder: 'task', number: 2 },
    { reminder: 'deputy', mark: 3 },
    { reminder: 'postmortem', to: 'U0CMD', resolvedAt: '2026-11-26T12:00:00.000Z' },
  ];

  it('reads and describes every kind in its own words, escaped', () => {
    expect(Object.keys(SAMPLE).sort()).toEqual([...TIMELINE_KINDS].sort());
    const lines = TIMELINE_KINDS.map((kind) => {
      const e = event(kind, SAMPLE[kind]);
      expect(e.kind, `${kind} reads back`).toBe(kind);
      return describeEvent(e);
    });
    for (const line of lines) {
      expect(line).not.toMatch(/another version|undefined|NaN|\[object/);
      expect(line).not.toMatch(/<!channel>|<!here>|<https:/);
    }
    expect(new Set(lines).size).toBe(lines.length);
    for (const r of reminders) expect(describeEvent(event('reminded', r))).toMatch(/^⏰ The bot reminded: /);
  });

  it('says so, instead of failing, for an event this version cannot read', () => {
    const odd = event('acknowledged', { stopped: 'yes' });
    expect(odd.kind).toBe('unreadable');
    expect(describeEvent(odd)).toBe('<@U0CMD>: acknowledged (recorded by another version of the bot)');
  });

  it('renders every event the bot posts, to the channel and to a person, within Slack limits', () => {
    const posted: [TimelineKind, object][] = [
      ['role_assigned', SAMPLE.role_assigned],
      ['severity_changed', SAMPLE.severity_changed],
      ['status_update', SAMPLE.status_update],
      ['task_added', SAMPLE.task_added],
      ['task_assigned', SAMPLE.task_assigned],
      ['task_completed', SAMPLE.task_completed],
      ['resolved', SAMPLE.resolved],
      ['reopened', SAMPLE.reopened],
      ['acknowledged', SAMPLE.acknowledged],
      ['paged', SAMPLE.paged],
      ['alerts_resolved', SAMPLE.alerts_resolved],
      ...reminders.map((r) => ['reminded', r] as [TimelineKind, object]),
    ];
    for (const [kind, data] of posted) {
      for (const audience of ['channel', 'person'] as const) {
        const message = renderNotice(
          { kind: 'event', incident: longest, event: event(kind, data), audience, task },
          DEFAULT_INCIDENT_CONFIG,
        );
        expect(checkMessage(message as never), `${kind} to ${audience}`).toEqual([]);
        expect(JSON.stringify(message)).not.toMatch(/<!channel>|<!here>|<https:\/\/evil/);
      }
    }
    // What the resolution message says comes from the event: the open tasks when it was resolved.
    const resolved = renderNotice(
      { kind: 'event', incident: longest, event: event('resolved', SAMPLE.resolved), audience: 'channel' },
      DEFAULT_INCIDENT_CONFIG,
    );
    expect(resolved.text).toContain('Open tasks left:* 3');
    // A role DM says what the role means.
    const dm = renderNotice(
      {
        kind: 'event',
        incident: longest,
        event: event('role_assigned', SAMPLE.role_assigned),
        audience: 'person',
      },
      DEFAULT_INCIDENT_CONFIG,
    );
    expect(dm.text).toContain('You are now the *liaison*');
  });

  it('refuses to post an event that has no message', () => {
    expect(() =>
      renderNotice(
        { kind: 'event', incident: longest, event: event('note', SAMPLE.note), audience: 'channel' },
        DEFAULT_INCIDENT_CONFIG,
      ),
    ).toThrow(/has no message/);
  });
});
