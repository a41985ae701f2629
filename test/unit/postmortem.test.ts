import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addBusinessDays } from '../../src/calendar.js';
import { type PostmortemInput, postmortemMarkdown, span, timeAtSeverity } from '../../src/learn/document.js';
import type { TimelineData, TimelineEvent, TimelineKind } from '../../src/timeline/model.js';

/**
 * The postmortem document, byte for byte, for a fixture incident: roles handed over, severity changed
 * twice, updates to customers, a reopen and follow-ups. The golden file is what a reviewer reads; set
 * UPDATE_GOLDEN=1 to rewrite it after a deliberate change, and read the diff.
 */

const GOLDEN = join(import.meta.dirname, '../golden/postmortem-incident-7.md');
const at = (hhmm: string, day = 26) => new Date(`2026-11-${day}T${hhmm}:00Z`);

let nextId = 1;
function event<K extends TimelineKind>(
  kind: K,
  time: Date,
  data: TimelineData[K],
  actorId: string | null = 'U0ANN',
) {
  return {
    id: nextId++,
    incidentId: 'i-7',
    kind,
    actorId,
    occurredAt: time,
    data,
  } as unknown as TimelineEvent;
}

const FIXTURE: PostmortemInput = {
  incident: {
    number: 7,
    title: 'Checkout fails for EU customers | payments',
    summary: 'EU card payments fail at the last step.',
    severity: 'SEV1',
    status: 'resolved',
    declaredAt: at('10:00'),
    acknowledgedAt: at('10:03'),
    mitigatedAt: at('10:50'),
    resolvedAt: at('11:30'),
    resolutionSummary: 'Rolled back the payment gateway to 4.2.',
    reopenCount: 1,
    postmortemStatus: 'in_review',
    postmortemDueAt: at('11:30', 29),
  },
  owner: 'U0BOB',
  parts: {
    overview: 'For 90 minutes, EU customers could not pay by card.\nAbout 1,200 orders failed.',
    whatHappened: '',
    contributingFactors:
      '- The gateway upgrade changed the 3-D Secure callback.\n- No canary for EU traffic.',
    resolution: '',
    wentWell: 'Paging reached the payments on-call within 3 minutes.',
    wentBadly: '',
    lucky: '',
  },
  roles: [
    { role: 'commander', userId: 'U0ANN', assignedAt: at('10:00'), relievedAt: at('10:30') },
    { role: 'liaison', userId: 'U0CAT', assignedAt: at('10:02'), relievedAt: null },
    { role: 'commander', userId: 'U0BOB', assignedAt: at('10:30'), relievedAt: null },
  ],
  events: [
    event('declared', at('10:00'), {
      title: 'Checkout fails for EU customers | payments',
      severity: 'SEV3',
      private: false,
      test: false,
    }),
    event('role_assigned', at('10:00'), { role: 'commander', userId: 'U0ANN' }),
    event('channel_created', at('10:00'), { channelId: 'C0INC7', name: 'inc-7-checkout' }, null),
    event('role_assigned', at('10:02'), { role: 'liaison', userId: 'U0CAT' }),
    event('acknowledged', at('10:03'), { stoppedSteps: 1 }, 'U0DAN'),
    event('severity_changed', at('10:05'), { from: 'SEV3', to: 'SEV2' }),
    event(
      'status_update',
      at('10:10'),
      {
        updateId: 1,
        status: 'investigating',
        audience: 'internal',
        message: 'Looking at the gateway.',
        nextUpdateAt: null,
      },
      'U0CAT',
    ),
    event(
      'status_update',
      at('10:15'),
      {
        updateId: 2,
        status: 'investigating',
        audience: 'customers',
        message: 'Some card payments fail; we are on it.',
        nextUpdateAt: null,
      },
      'U0CAT',
    ),
    event('severity_changed', at('10:20'), { from: 'SEV2', to: 'SEV1' }, 'U0BOB'),
    event('role_assigned', at('10:30'), { role: 'commander', userId: 'U0BOB', previous: 'U0ANN' }),
    event(
      'note',
      at('10:35'),
      { text: 'Gateway 4.3 changed the 3-D Secure callback: grep 3ds | wc -l gives 0 (C:\\logs).' },
      'U0DAN',
    ),
    event(
      'status_update',
      at('10:40'),
      {
        updateId: 3,
        status: 'identified',
        audience: 'customers',
        message: 'Cause found; a fix is rolling out.',
        nextUpdateAt: null,
      },
      'U0CAT',
    ),
    event('status_changed', at('10:50'), { from: 'identified', to: 'monitoring' }, 'U0BOB'),
    event('resolved', at('11:00'), { from: 'monitoring', to: 'resolved', summary: 'Rolled back.' }, 'U0BOB'),
    event('reopened', at('11:10'), { from: 'resolved', to: 'investigating' }, 'U0CAT'),
    event(
      'resolved',
      at('11:30'),
      { from: 'investigating', to: 'resolved', summary: 'Rolled back the payment gateway to 4.2.' },
      'U0BOB',
    ),
    event(
      'followup_added',
      at('11:35'),
      { number: 1, text: 'Canary EU traffic on gateway upgrades', ownerId: 'U0BOB', dueOn: '2026-12-04' },
      'U0BOB',
    ),
    event(
      'followup_added',
      at('11:36'),
      { number: 2, text: 'Alert on 3-D Secure callback errors', ownerId: 'U0DAN', dueOn: null },
      'U0BOB',
    ),
    event('followup_done', at('11:50'), { number: 2 }, 'U0DAN'),
    event(
      'followup_added',
      at('11:51'),
      { number: 3, text: 'Rewrite the gateway client', ownerId: null, dueOn: null },
      'U0BOB',
    ),
    event('followup_dropped', at('11:52'), { number: 3, reason: 'superseded by the migration' }, 'U0BOB'),
    event('postmortem_status_changed', at('12:00'), { from: 'draft', to: 'in_review' }, 'U0BOB'),
  ],
  updates: [
    {
      status: 'investigating',
      audience: 'internal',
      message: 'Looking at the gateway.',
      postedBy: 'U0CAT',
      postedAt: at('10:10'),
    },
    {
      status: 'investigating',
      audience: 'customers',
      message: 'Some card payments fail; we are on it.',
      postedBy: 'U0CAT',
      postedAt: at('10:15'),
    },
    {
      status: 'identified',
      audience: 'customers',
      message: 'Cause found; a fix is rolling out.\nNext update by 11:30 UTC.',
      postedBy: 'U0CAT',
      postedAt: at('10:40'),
    },
  ],
  followups: [
    {
      number: 1,
      text: 'Canary EU traffic on gateway upgrades',
      ownerId: 'U0BOB',
      dueOn: '2026-12-04',
      status: 'open',
      dropReason: null,
    },
    {
      number: 2,
      text: 'Alert on 3-D Secure callback errors',
      ownerId: 'U0DAN',
      dueOn: null,
      status: 'done',
      dropReason: null,
    },
    {
      number: 3,
      text: 'Rewrite the gateway client',
      ownerId: null,
      dueOn: null,
      status: 'dropped',
      dropReason: 'superseded by the migration',
    },
  ],
};

describe('the postmortem document', () => {
  it('matches the golden file for the fixture incident (canvas style)', () => {
    const markdown = postmortemMarkdown(FIXTURE, 'canvas');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, markdown);
    expect(existsSync(GOLDEN), `${GOLDEN} is missing: run with UPDATE_GOLDEN=1 and read it`).toBe(true);
    expect(markdown).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('keeps every timeline row at three cells, whatever people typed', () => {
    const rows = postmortemMarkdown(FIXTURE, 'canvas')
      .split('\n')
      .filter((l) => l.startsWith('| 2026-'));
    // Column breaks are the pipes not escaped by a backslash (itself not escaped).
    const breaks = (row: string) => row.replace(/\\\\/g, '').replace(/\\\|/g, '').split('|').length - 1;
    expect(rows.length).toBe(FIXTURE.events.length);
    for (const row of rows) expect(breaks(row), row).toBe(4);
  });

  it('is the same for the same data, and says people plainly in a file', () => {
    expect(postmortemMarkdown(FIXTURE, 'canvas')).toBe(
      postmortemMarkdown(structuredClone(FIXTURE), 'canvas'),
    );
    const file = postmortemMarkdown(FIXTURE, 'file');
    expect(file).toContain('| Owner | @U0BOB |');
    expect(file).not.toContain('![](@');
  });

  it('counts the time at each severity from the declaration to the final resolve', () => {
    expect(timeAtSeverity(FIXTURE).map((s) => [s.severity, span(s.ms)])).toEqual([
      ['SEV3', '5m'],
      ['SEV2', '15m'],
      ['SEV1', '1h 10m'],
    ]);
  });
});

describe('business days', () => {
  it('a SEV2 resolved on a Friday with 5bd is due the next Friday, same local time', () => {
    const friday = new Date('2026-11-27T16:30:00Z'); // 17:30 in Berlin
    expect(addBusinessDays(friday, 5, 'Europe/Berlin').toISOString()).toBe('2026-12-04T16:30:00.000Z');
    // From a Saturday, the first business day is Monday.
    expect(addBusinessDays(new Date('2026-11-28T10:00:00Z'), 1, 'UTC').toISOString()).toBe(
      '2026-11-30T10:00:00.000Z',
    );
    // Counted in the zone: Friday 23:30 UTC is already Saturday in Tokyo.
    expect(addBusinessDays(new Date('2026-11-27T23:30:00Z'), 1, 'Asia/Tokyo').toISOString()).toBe(
      '2026-11-29T23:30:00.000Z',
    );
  });
});
