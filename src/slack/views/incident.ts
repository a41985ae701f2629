import type { KnownBlock } from '@slack/web-api';
import type { Severity } from '../../config.js';
import type { IncidentStatus, Role } from '../../db/schema.js';
import type { IncidentSnapshot } from '../../incidents/queries.js';
import { CARD_ACTION } from '../ids.js';
import { escapeMrkdwn, mentionChannel, mentionUser, slackDate, truncate } from '../text.js';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

const STATUS_LABEL: Record<IncidentStatus, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

export const statusLabel = (status: IncidentStatus): string => STATUS_LABEL[status];

const who = (userId: string | undefined): string => (userId ? mentionUser(userId) : '_unassigned_');

/** `#12 Title` as plain text (for headers, which Slack does not parse as mrkdwn). */
export const incidentName = (i: { number: number; title: string }): string => `#${i.number} ${i.title}`;

function flags(i: IncidentSnapshot): string[] {
  return [...(i.isTest ? ['🧪 Test incident'] : []), ...(i.isPrivate ? ['🔒 Private'] : [])];
}

const ROLE_LABEL: Record<Role, string> = {
  commander: 'Commander',
  deputy: 'Deputy',
  liaison: 'Liaison',
  scribe: 'Scribe',
};
export const roleLabel = (role: Role): string => ROLE_LABEL[role];

/** The card's buttons: only actions that exist, and Reopen instead of the rest once resolved. */
function cardActions(i: IncidentSnapshot, severities: Severity[]): KnownBlock {
  const button = (action: string, text: string, style?: 'primary' | 'danger') => ({
    type: 'button' as const,
    action_id: action,
    value: i.id,
    text: { type: 'plain_text' as const, text },
    ...(style ? { style } : {}),
  });
  if (i.status === 'resolved') {
    return {
      type: 'actions',
      block_id: `card_actions:${i.id}`,
      elements: [button(CARD_ACTION.reopen, 'Reopen')],
    };
  }
  const options = severities.slice(0, 100).map((s) => ({
    text: { type: 'plain_text' as const, text: truncate(s.id, 75) },
    value: truncate(s.id, 150),
  }));
  const current = options.find((o) => o.value === i.severity);
  return {
    type: 'actions',
    block_id: `card_actions:${i.id}`,
    elements: [
      button(CARD_ACTION.update, 'Post update', 'primary'),
      button(CARD_ACTION.roles, 'Assign roles'),
      button(CARD_ACTION.task, 'Add task'),
      {
        type: 'static_select',
        action_id: CARD_ACTION.severity,
        placeholder: { type: 'plain_text', text: 'Change severity' },
        options,
        ...(current ? { initial_option: current } : {}),
      },
      button(CARD_ACTION.resolve, 'Resolve', 'danger'),
    ],
  };
}

/** The incident card: pinned in the channel (and shown ephemerally by `/incident` there). */
export function incidentCard(i: IncidentSnapshot, severities: Severity[] = []): SlackMessage {
  const roleFields = (['deputy', 'liaison', 'scribe'] as const)
    .filter((r) => i.roles[r])
    .map((r) => ({ type: 'mrkdwn' as const, text: `*${roleLabel(r)}*\n${who(i.roles[r])}` }));
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`${i.status === 'resolved' ? '✅' : '🚨'} ${incidentName(i)}`, 150),
        emoji: true,
      },
    },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Severity*\n${escapeMrkdwn(i.severity)}` },
        { type: 'mrkdwn', text: `*Status*\n${statusLabel(i.status)}` },
        { type: 'mrkdwn', text: `*Commander*\n${who(i.commanderId)}` },
        { type: 'mrkdwn', text: `*Reporter*\n${who(i.reporterId)}` },
        ...roleFields,
        { type: 'mrkdwn', text: `*Open tasks*\n${i.openTaskCount}` },
        {
          type: 'mrkdwn',
          text: `*Last update*\n${i.lastUpdateAt ? slackDate(i.lastUpdateAt, '{date_short_pretty} {time}') : '_none yet_'}${
            i.nextUpdateAt && i.status !== 'resolved' ? ` · next ${slackDate(i.nextUpdateAt, '{time}')}` : ''
          }`,
        },
      ],
    },
  ];
  if (i.summary.trim()) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*Summary*\n${escapeMrkdwn(i.summary)}`, 3000) },
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: [
          `Declared ${slackDate(i.declaredAt)}`,
          ...(i.acknowledgedBy ? [`✅ Acknowledged by ${mentionUser(i.acknowledgedBy)}`] : []),
          ...(i.paging ? ['📟 Paging until someone acknowledges'] : []),
          ...(i.resolvedAt ? [`Resolved ${slackDate(i.resolvedAt)}`] : []),
          ...flags(i),
        ].join(' · '),
      },
    ],
  });
  if (severities.length > 0) blocks.push(cardActions(i, severities));
  return {
    text: truncate(
      `Incident #${i.number}: ${escapeMrkdwn(i.title)} (${escapeMrkdwn(i.severity)}, ${statusLabel(i.status)})`,
      3000,
    ),
    blocks,
  };
}

/** The channel topic: severity · status · commander, within Slack's 250 characters. */
export function incidentTopic(i: IncidentSnapshot): string {
  const commander = i.commanderId ? `Commander: ${mentionUser(i.commanderId)}` : 'Commander: unassigned';
  return truncate(`${i.severity} · ${statusLabel(i.status)} · ${commander}`, 250);
}

/** The message in the announcements channel. */
export function announcement(i: IncidentSnapshot): SlackMessage {
  const where = i.channelId ? mentionChannel(i.channelId) : 'its channel';
  const line = `🚨 *New incident #${i.number}: ${escapeMrkdwn(i.title)}* (${escapeMrkdwn(i.severity)})`;
  return {
    text: truncate(`${line} — join ${where}`, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(line, 3000) } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `Join ${where} · Commander: ${who(i.commanderId)} · Declared by ${who(i.reporterId)} ${slackDate(i.declaredAt)}`,
          },
        ],
      },
    ],
  };
}

/** Tells the reporter where the incident lives. */
export function reporterNotice(i: IncidentSnapshot): SlackMessage {
  const where = i.channelId ? mentionChannel(i.channelId) : 'its channel (being created)';
  const text = `Incident #${i.number} *${escapeMrkdwn(i.title)}* is declared. It lives in ${where}.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }] };
}

/** Tells the reporter that a part of setting up the incident failed for good, and what to do. */
export function setupFailureNotice(
  i: { number: number; title: string },
  step: string,
  error: string,
): SlackMessage {
  const text =
    `⚠️ Incident #${i.number} *${escapeMrkdwn(i.title)}* is recorded, but ${step} failed: ` +
    `\`${escapeMrkdwn(error)}\`. ${FAILURE_ADVICE[step] ?? 'Please check the bot’s permissions.'}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } }] };
}

const FAILURE_ADVICE: Record<string, string> = {
  'creating the channel': 'Ask a workspace admin whether the bot may create channels, then declare again.',
  'posting the announcement':
    'Invite the bot to the announcements channel so future incidents are announced.',
};
