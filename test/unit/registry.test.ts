import { describe, expect, it } from 'vitest';
import type { AlertGroupView } from '../../src/alerts/chat.js';
import { DEFAULT_SEVERITIES } from '../../src/config/index.js';
import type { IncidentSnapshot } from '../../src/incidents/queries.js';
import type { IncidentDeps } from '../../src/incidents/unit-of-work.js';
import { buildSlack } from '../../src/slack/app.js';
import { SlackGateway } from '../../src/slack/gateway.js';
import { alertGroupMessage, alertPageMessage } from '../../src/slack/views/alerts.js';
import { incidentCard } from '../../src/slack/views/card.js';
import { declareModal } from '../../src/slack/views/declare-modal.js';
import { alertsResolvedMessage } from '../../src/slack/views/messages.js';
import { resolveModal, rolesModal, taskModal, updateModal } from '../../src/slack/views/modals.js';
import { pageDm, pagedMessage, takeCommandOffer } from '../../src/slack/views/paging.js';
import { missingCommanderMessage, updateReminderMessage } from '../../src/slack/views/reminders.js';
import { timelinePage } from '../../src/slack/views/timeline.js';
import { testConfig } from '../helpers/http.js';
import { captureLogger } from '../helpers/logger.js';

/**
 * Registering a listener records its command, form or button, and the "belongs to an older version"
 * answer is derived from those records: every control the views put in front of people is known.
 */

const incident: IncidentSnapshot = {
  id: '0b6f8f3e-8d5c-4a57-9d0b-7f1b8a9c2e11',
  number: 7,
  title: 'Checkout down',
  summary: '',
  severity: 'SEV1',
  status: 'investigating',
  isPrivate: false,
  isTest: false,
  reporterId: 'U0REPORTER',
  commanderId: 'U0CMD',
  roles: { commander: 'U0CMD' },
  declaredAt: new Date('2026-11-26T10:00:00Z'),
  resolvedAt: undefined,
  channelId: 'C0INCIDENT',
  openTaskCount: 0,
  lastUpdateAt: undefined,
  nextUpdateAt: undefined,
  acknowledgedBy: undefined,
  paging: true,
  alertsFiring: undefined,
  followups: { total: 0, open: 0, items: [] },
  postmortem: { status: undefined, ownerId: undefined, dueAt: undefined },
};

const alertGroup: AlertGroupView = {
  id: 3,
  title: 'HighErrorRate',
  channelId: 'C0ALERTS',
  status: 'open',
  severity: 'critical',
  firingCount: 2,
  alertCount: 2,
  truncated: 0,
  flaps: 0,
  groupLabels: { alertname: 'HighErrorRate' },
  integrations: ['prometheus'],
  openedAt: new Date('2026-11-26T10:00:00Z'),
  resolvedAt: null,
  acknowledgedBy: null,
  silencedUntil: null,
  paging: null,
  incident: null,
};

function controlsIn(value: unknown): { actions: Set<string>; views: Set<string> } {
  const actions = new Set<string>();
  const views = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      // Controls that send block_actions: elements of actions blocks and section accessories (input
      // blocks' elements only report with the form's submission).
      const interactive = o.type === 'actions' ? (o.elements as unknown[]) : o.accessory ? [o.accessory] : [];
      for (const e of interactive) {
        const id = (e as { action_id?: unknown }).action_id;
        if (typeof id === 'string') actions.add(id);
      }
      if (o.type === 'modal' && typeof o.callback_id === 'string') views.add(o.callback_id);
      Object.values(o).forEach(walk);
    }
  };
  walk(value);
  return { actions, views };
}

describe('listener registration', () => {
  const config = testConfig();
  const { logger } = captureLogger();
  const { listeners } = buildSlack({
    config,
    logger,
    incidents: {} as IncidentDeps,
    slack: new SlackGateway({ token: config.slack.botToken, apiUrl: config.slack.apiUrl, logger }),
    bot: { userId: 'UBOT', botId: 'BBOT' },
  });

  it('knows every button, select and form the views show', () => {
    const events = Array.from({ length: 60 }, (_, n) => ({
      id: n,
      incidentId: incident.id,
      kind: 'note' as const,
      actorId: 'U0CMD',
      data: { text: 'x' },
      occurredAt: new Date(),
    }));
    const shown = controlsIn([
      incidentCard(incident, DEFAULT_SEVERITIES),
      incidentCard({ ...incident, status: 'resolved' }, DEFAULT_SEVERITIES),
      declareModal({ severities: DEFAULT_SEVERITIES, metadata: {} }),
      rolesModal(incident),
      updateModal(incident),
      taskModal(incident),
      resolveModal(incident),
      pageDm({ ...incident, channelId: 'C0INCIDENT' }, 'tier 1', undefined),
      pagedMessage({ ...incident, channelId: 'C0INCIDENT' }, 'tier 1', ['U0A'], undefined),
      takeCommandOffer({ ...incident, channelId: 'C0INCIDENT' }),
      updateReminderMessage({ ...incident, channelId: 'C0INCIDENT' }, 'U0CMD', 20 * 60_000),
      missingCommanderMessage({ ...incident, channelId: 'C0INCIDENT' }, 10 * 60_000),
      timelinePage(incident, events, 1),
      alertGroupMessage({ kind: 'alert_group', group: alertGroup, alerts: [], more: 0 }),
      alertPageMessage({ kind: 'alert_page', group: alertGroup, alerts: [], more: 0, label: 'tier 1' }),
      alertsResolvedMessage(incident, 'HighErrorRate'),
    ]);
    expect(shown.actions.size).toBe(15);
    for (const action of shown.actions) expect(listeners.knowsAction(action), action).toBe(true);
    expect(shown.views.size).toBe(5);
    for (const view of shown.views) expect(listeners.knowsView(view), view).toBe(true);
    expect(listeners.knowsCommand('/incident')).toBe(true);
  });

  it('does not know what nobody registered', () => {
    expect(listeners.knowsAction('card_something_removed')).toBe(false);
    expect(listeners.knowsView('incident_old_form')).toBe(false);
    expect(listeners.knowsCommand('/other')).toBe(false);
    expect(listeners.registered().actionPrefixes).toEqual(['timeline_page_']);
  });
});
