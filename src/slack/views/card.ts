import type { KnownBlock } from '@slack/web-api';
import type { Severity } from '../../config/index.js';
import { POSTMORTEM_STATUS_WORDS } from '../../incidents/model.js';
import type { IncidentSnapshot } from '../../incidents/queries.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { CARD_ACTION } from '../ids.js';
import { mentionUser, slackDate } from '../text.js';
import type { SlackMessage } from './blocks.js';
import { incidentName, personOrUnassigned, roleLabel, statusLabel } from './labels.js';

/** The incident card, pinned in the channel and re-rendered from the database after every change, and the topic. */

function flags(i: IncidentSnapshot): string[] {
  return [...(i.isTest ? ['🧪 Test incident'] : []), ...(i.isPrivate ? ['🔒 Private'] : [])];
}

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
    .map((r) => ({ type: 'mrkdwn' as const, text: `*${roleLabel(r)}*\n${personOrUnassigned(i.roles[r])}` }));
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
        { type: 'mrkdwn', text: `*Commander*\n${personOrUnassigned(i.commanderId)}` },
        { type: 'mrkdwn', text: `*Reporter*\n${personOrUnassigned(i.reporterId)}` },
        ...roleFields,
        { type: 'mrkdwn', text: `*Open tasks*\n${i.openTaskCount}` },
        ...(i.alertsFiring !== undefined
          ? [{ type: 'mrkdwn' as const, text: `*Alerts*\n${i.alertsFiring} firing` }]
          : []),
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
  const followups = followupsSection(i);
  if (followups) blocks.push(followups);
  const learn = learnLine(i);
  if (learn) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: learn }] });
  if (severities.length > 0) blocks.push(cardActions(i, severities));
  return {
    text: truncate(
      `Incident #${i.number}: ${escapeMrkdwn(i.title)} (${escapeMrkdwn(i.severity)}, ${statusLabel(i.status)})`,
      3000,
    ),
    blocks,
  };
}

/** The open follow-ups, the first few of them by name. */
function followupsSection(i: IncidentSnapshot): KnownBlock | undefined {
  const f = i.followups;
  if (f.open === 0) return undefined;
  const lines = f.items.map(
    (x) =>
      `▫️ *${x.number}.* ${escapeMrkdwn(truncate(x.text, 150))}${x.ownerId ? ` — ${mentionUser(x.ownerId)}` : ''}${x.dueOn ? ` · due ${x.dueOn}` : ''}`,
  );
  if (f.open > f.items.length) lines.push(`…and ${f.open - f.items.length} more: \`/incident followups\``);
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(`*Follow-ups*\n${lines.join('\n')}`, 3000) },
  };
}

/** Follow-ups and the postmortem, once there are any. */
function learnLine(i: IncidentSnapshot): string | undefined {
  const parts = [
    ...(i.followups.total > 0
      ? [`📌 Follow-ups: ${i.followups.open} open of ${i.followups.total} (\`/incident followups\`)`]
      : []),
    ...(i.postmortem.status
      ? [
          `📝 Postmortem: ${POSTMORTEM_STATUS_WORDS[i.postmortem.status]}${i.postmortem.ownerId ? `, owner ${mentionUser(i.postmortem.ownerId)}` : ''}${i.postmortem.dueAt ? `, due ${slackDate(i.postmortem.dueAt, '{date_short_pretty}')}` : ''}`,
        ]
      : []),
  ];
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** The channel topic: severity · status · commander, within Slack's 250 characters. */
export function incidentTopic(i: IncidentSnapshot): string {
  const commander = i.commanderId ? `Commander: ${mentionUser(i.commanderId)}` : 'Commander: unassigned';
  return truncate(`${i.severity} · ${statusLabel(i.status)} · ${commander}`, 250);
}
