import { describe, expect, it } from 'vitest';
import { DEFAULT_SEVERITIES } from '../../src/config.js';
import type { IncidentSnapshot } from '../../src/incidents/queries.js';
import { declareModal } from '../../src/slack/views/declare-modal.js';
import { helpMessage } from '../../src/slack/views/help.js';
import {
  announcement,
  incidentCard,
  incidentTopic,
  reporterNotice,
  setupFailureNotice,
} from '../../src/slack/views/incident.js';
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
