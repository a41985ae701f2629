import type { KnownBlock, View } from '@slack/web-api';
import type {
  IncidentRow,
  IncidentStatus,
  Role,
  TaskRow,
  TimelineEventRow,
  UpdateAudience,
} from '../../db/schema.js';
import { ROLES } from '../../db/schema.js';
import type { IncidentSnapshot } from '../../incidents/queries.js';
import { RESOLVE_MODAL, ROLES_MODAL, TASK_MODAL, TIMELINE_PAGE_ACTION, UPDATE_MODAL } from '../ids.js';
import { escapeMrkdwn, mentionChannel, mentionUser, slackDate, truncate } from '../text.js';
import { roleLabel, type SlackMessage, statusLabel } from './incident.js';

/** Pure builders for running an incident: modals, lists, the timeline and the messages posted in channels. */

export interface IncidentModalMetadata {
  incidentId: string;
}

const meta = (incidentId: string) => JSON.stringify({ incidentId } satisfies IncidentModalMetadata);
const text = (t: string) => ({ type: 'plain_text' as const, text: t });
const section = (mrkdwn: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(mrkdwn, 3000) },
});
const message = (line: string, extra: KnownBlock[] = []): SlackMessage => ({
  text: truncate(line, 3000),
  blocks: [section(line), ...extra],
});
const modalTitle = (i: { number: number }) => truncate(`Incident #${i.number}`, 24);

/** As many whole lines as fit in one section (never cutting a mention or date token), then a count of the rest. */
export function fitLines(lines: string[], budget = 2800): string[] {
  const out: string[] = [];
  let used = 0;
  for (const [n, l] of lines.entries()) {
    if (used + l.length + 1 > budget) {
      out.push(`…and ${lines.length - n} more`);
      break;
    }
    out.push(l);
    used += l.length + 1;
  }
  return out;
}

/** A modal about one incident: its number in the title, its id in private_metadata. */
function incidentModal(i: IncidentSnapshot, callbackId: string, submit: string, blocks: KnownBlock[]): View {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: text(modalTitle(i)),
    submit: text(submit),
    close: text('Cancel'),
    private_metadata: meta(i.id),
    blocks,
  };
}

// ── Modals ─────────────────────────────────────────────────────────────────────────────────────────

export function rolesModal(i: IncidentSnapshot): View {
  return incidentModal(
    i,
    ROLES_MODAL.callbackId,
    'Assign',
    ROLES.map((role) => ({
      type: 'input',
      block_id: role,
      optional: true,
      label: text(roleLabel(role)),
      element: {
        type: 'users_select',
        action_id: ROLES_MODAL.action,
        placeholder: text('Choose a person'),
        ...(i.roles[role] ? { initial_user: i.roles[role] } : {}),
      },
    })),
  );
}

export const NEXT_UPDATE_CHOICES = [10, 15, 20, 30, 60, 120] as const;
const UPDATE_STATUSES: IncidentStatus[] = ['investigating', 'identified', 'monitoring'];

export function updateModal(i: IncidentSnapshot): View {
  const statusOption = (s: IncidentStatus) => ({ text: text(statusLabel(s)), value: s });
  const minutesOption = (m: number) => ({
    text: text(m < 60 ? `In ${m} minutes` : `In ${m / 60} hour${m > 60 ? 's' : ''}`),
    value: String(m),
  });
  const current = UPDATE_STATUSES.includes(i.status) ? i.status : 'investigating';
  return incidentModal(i, UPDATE_MODAL.callbackId, 'Post update', [
    {
      type: 'input',
      block_id: UPDATE_MODAL.status.block,
      label: text('Status'),
      element: {
        type: 'static_select',
        action_id: UPDATE_MODAL.status.action,
        options: UPDATE_STATUSES.map(statusOption),
        initial_option: statusOption(current),
      },
    },
    {
      type: 'input',
      block_id: UPDATE_MODAL.message.block,
      label: text('Update'),
      hint: text('What changed, what is being done, what people should do.'),
      element: {
        type: 'plain_text_input',
        action_id: UPDATE_MODAL.message.action,
        multiline: true,
        max_length: 3000,
      },
    },
    {
      type: 'input',
      block_id: UPDATE_MODAL.audience.block,
      label: text('Audience'),
      element: {
        type: 'radio_buttons',
        action_id: UPDATE_MODAL.audience.action,
        options: [
          { text: text('Internal'), value: 'internal' },
          { text: text('Customers too'), value: 'customers' },
        ],
        initial_option: { text: text('Internal'), value: 'internal' },
      },
    },
    {
      type: 'input',
      block_id: UPDATE_MODAL.next.block,
      optional: true,
      label: text('Next update'),
      element: {
        type: 'static_select',
        action_id: UPDATE_MODAL.next.action,
        placeholder: text('No promise'),
        options: NEXT_UPDATE_CHOICES.map(minutesOption),
        initial_option: minutesOption(20),
      },
    },
  ]);
}

export const TIME_BOX_CHOICES = [5, 10, 15, 30, 60] as const;

export function taskModal(i: IncidentSnapshot): View {
  return incidentModal(i, TASK_MODAL.callbackId, 'Add task', [
    {
      type: 'input',
      block_id: TASK_MODAL.text.block,
      label: text('Task'),
      element: { type: 'plain_text_input', action_id: TASK_MODAL.text.action, max_length: 500 },
    },
    {
      type: 'input',
      block_id: TASK_MODAL.assignee.block,
      optional: true,
      label: text('Assignee'),
      element: {
        type: 'users_select',
        action_id: TASK_MODAL.assignee.action,
        placeholder: text('Choose a person'),
      },
    },
    {
      type: 'input',
      block_id: TASK_MODAL.timeBox.block,
      optional: true,
      label: text('Time box'),
      element: {
        type: 'static_select',
        action_id: TASK_MODAL.timeBox.action,
        placeholder: text('None'),
        options: TIME_BOX_CHOICES.map((m) => ({ text: text(`${m} minutes`), value: String(m) })),
      },
    },
  ]);
}

export function resolveModal(i: IncidentSnapshot): View {
  return incidentModal(i, RESOLVE_MODAL.callbackId, 'Resolve', [
    section(
      `Resolve *#${i.number} ${escapeMrkdwn(i.title)}*? The summary goes to the channel and the announcement.`,
    ),
    {
      type: 'input',
      block_id: RESOLVE_MODAL.summary.block,
      label: text('Resolution summary'),
      hint: text('What fixed it, and whether any data was lost.'),
      element: {
        type: 'plain_text_input',
        action_id: RESOLVE_MODAL.summary.action,
        multiline: true,
        max_length: 3000,
      },
    },
  ]);
}

// ── Ephemeral answers ──────────────────────────────────────────────────────────────────────────────

export function rolesList(i: IncidentSnapshot): SlackMessage {
  const lines = ROLES.map(
    (r) => `*${roleLabel(r)}*: ${i.roles[r] ? mentionUser(i.roles[r]) : '_unassigned_'}`,
  );
  return message(`Roles in incident #${i.number}:\n${lines.join('\n')}`);
}

export function tasksList(i: { number: number }, rows: TaskRow[], now: Date): SlackMessage {
  if (rows.length === 0)
    return message(`No tasks in incident #${i.number} yet. Add one with \`/incident task add <text>\`.`);
  const open = rows.filter((t) => !t.doneAt);
  const done = rows.filter((t) => t.doneAt);
  const line = (t: TaskRow) => {
    const who = t.assigneeId ? ` — ${mentionUser(t.assigneeId)}` : ' — _unassigned_';
    const due =
      t.dueAt && !t.doneAt
        ? ` · ${t.dueAt <= now ? '⏰ overdue since' : 'due'} ${slackDate(t.dueAt, '{time}')}`
        : '';
    return `${t.doneAt ? '✅' : '▫️'} *${t.number}.* ${escapeMrkdwn(truncate(t.text, 200))}${who}${due}`;
  };
  // Open tasks first, the newest done ones after.
  const out = fitLines([...open, ...done.reverse()].map(line));
  return message(`Tasks in incident #${i.number} (${open.length} open):\n${out.join('\n')}`);
}

export function incidentList(rows: IncidentRow[]): SlackMessage {
  if (rows.length === 0) return message('No open incidents. 🎉');
  const lines = rows.map((r) => {
    const where = r.channelId ? mentionChannel(r.channelId) : '_channel being created_';
    return `*#${r.number}* ${escapeMrkdwn(truncate(r.title, 100))} · ${escapeMrkdwn(r.severity)} · ${statusLabel(r.status)} · ${where}${r.isPrivate ? ' · 🔒' : ''}`;
  });
  return message(`Open incidents, newest first:\n${fitLines(lines).join('\n')}`);
}

// ── Timeline ───────────────────────────────────────────────────────────────────────────────────────

const by = (e: TimelineEventRow) => (e.actorId ? mentionUser(e.actorId) : 'The bot');
const str = (v: unknown) => escapeMrkdwn(truncate(String(v ?? ''), 300));
const userOrNobody = (v: unknown) =>
  typeof v === 'string' && /^[UW][A-Z0-9]+$/.test(v) ? mentionUser(v) : 'nobody';

/** One line of the timeline, in words. */
export function describeEvent(e: TimelineEventRow): string {
  const d = e.data;
  switch (e.kind) {
    case 'declared':
      return `${by(e)} declared the incident (${str(d.severity)})`;
    case 'role_assigned':
      return `${by(e)} made ${userOrNobody(d.userId)} ${str(d.role)}${d.previous ? ` (was ${userOrNobody(d.previous)})` : ''}`;
    case 'channel_created':
      return `The bot created ${typeof d.channelId === 'string' ? mentionChannel(d.channelId) : 'the channel'}`;
    case 'card_posted':
      return 'The bot pinned the incident card';
    case 'announced':
      return 'The bot announced the incident';
    case 'side_effect_failed':
      return `⚠️ ${str(d.step)} failed: \`${str(d.error)}\``;
    case 'severity_changed':
      return `${by(e)} changed severity from ${str(d.from)} to ${str(d.to)}`;
    case 'status_changed':
      return `${by(e)} changed status from ${str(d.from)} to ${str(d.to)}`;
    case 'status_update':
      return `${by(e)} posted a${d.audience === 'customers' ? ' customer-facing' : 'n internal'} update: “${str(d.message)}”`;
    case 'task_added':
      return `${by(e)} added task ${str(d.number)}: ${str(d.text)}${d.assigneeId ? ` for ${userOrNobody(d.assigneeId)}` : ''}`;
    case 'task_assigned':
      return `${by(e)} gave task ${str(d.number)} to ${userOrNobody(d.assigneeId)}`;
    case 'task_completed':
      return `${by(e)} completed task ${str(d.number)}`;
    case 'note':
      return `📝 ${by(e)}: ${str(d.text)}`;
    case 'resolved':
      return `${by(e)} resolved the incident${d.summary ? `: ${str(d.summary)}` : ''}`;
    case 'reopened':
      return `${by(e)} reopened the incident`;
    default:
      return `${by(e)}: ${str(e.kind)}`;
  }
}

export const TIMELINE_PAGE_SIZE = 25;

/** One page of the timeline (oldest first), with a button to the next page when there is one. */
export function timelinePage(
  i: { id: string; number: number },
  events: TimelineEventRow[],
  page: number,
): SlackMessage {
  const pages = Math.max(1, Math.ceil(events.length / TIMELINE_PAGE_SIZE));
  const current = Math.min(Math.max(0, page), pages - 1);
  const slice = events.slice(current * TIMELINE_PAGE_SIZE, (current + 1) * TIMELINE_PAGE_SIZE);
  const lines = slice.map((e) => `${slackDate(e.occurredAt, '{date_short} {time}')} ${describeEvent(e)}`);
  const blocks: KnownBlock[] = [
    section(`*Timeline of incident #${i.number}* (page ${current + 1} of ${pages})`),
  ];
  // Several sections, each well under 3000 characters.
  for (let n = 0; n < lines.length; n += 8) blocks.push(section(lines.slice(n, n + 8).join('\n')));
  const nav = [
    ...(current > 0 ? [{ label: '← Earlier', page: current - 1 }] : []),
    ...(current < pages - 1 ? [{ label: 'Later →', page: current + 1 }] : []),
  ];
  if (nav.length > 0) {
    blocks.push({
      type: 'actions',
      elements: nav.map((n) => ({
        type: 'button',
        action_id: `${TIMELINE_PAGE_ACTION}_${n.page > current ? 'next' : 'prev'}`,
        text: text(n.label),
        value: `${i.id}:${n.page}`,
      })),
    });
  }
  return { text: `Timeline of incident #${i.number}`, blocks };
}

// ── Messages posted in the incident channel and the announcement thread ────────────────────────────

export function roleAssignedMessage(
  role: Role,
  userId: string,
  actorId: string,
  previous: string | undefined,
): SlackMessage {
  if (role === 'commander') {
    if (previous && previous === actorId)
      return message(`🎖️ ${mentionUser(previous)} handed command to ${mentionUser(userId)}.`);
    if (previous)
      return message(
        `🎖️ ${mentionUser(actorId)} handed command from ${mentionUser(previous)} to ${mentionUser(userId)}.`,
      );
    if (actorId === userId) return message(`🎖️ ${mentionUser(userId)} took command.`);
  }
  return message(
    `${mentionUser(actorId)} made ${mentionUser(userId)} the ${roleLabel(role).toLowerCase()}${previous ? ` (was ${mentionUser(previous)})` : ''}.`,
  );
}

export function roleDm(
  i: { number: number; title: string; channelId: string | null },
  role: Role,
  description: string,
): SlackMessage {
  const where = i.channelId ? ` in ${mentionChannel(i.channelId)}` : '';
  return message(
    `You are now the *${roleLabel(role).toLowerCase()}* of incident #${i.number} *${escapeMrkdwn(i.title)}*${where}.\n${escapeMrkdwn(description)}`,
  );
}

export function severityChangedMessage(actorId: string, from: string, to: string): SlackMessage {
  return message(
    `${mentionUser(actorId)} changed severity from *${escapeMrkdwn(from)}* to *${escapeMrkdwn(to)}*.`,
  );
}

export function statusUpdateMessage(
  i: { number: number; title: string },
  u: {
    status: IncidentStatus;
    message: string;
    audience: UpdateAudience;
    postedBy: string;
    nextUpdateAt: Date | null;
  },
): SlackMessage {
  const head = `${u.audience === 'customers' ? '📣 *Customer-facing update*' : '📝 *Status update*'} · incident #${i.number} *${escapeMrkdwn(i.title)}* · ${statusLabel(u.status)}`;
  const next = u.nextUpdateAt
    ? `Next update by ${slackDate(u.nextUpdateAt, '{time}')}`
    : 'No further update promised';
  return {
    text: truncate(`${head}: ${escapeMrkdwn(u.message)}`, 3000),
    blocks: [
      section(head),
      section(escapeMrkdwn(u.message)),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Posted by ${mentionUser(u.postedBy)} · ${next}` }],
      },
    ],
  };
}

export function taskMessage(
  what: 'added' | 'completed' | 'assigned',
  t: { number: number; text: string; assigneeId: string | null; dueAt: Date | null },
  actorId: string,
): SlackMessage {
  const task = `task *${t.number}*: ${escapeMrkdwn(truncate(t.text, 500))}`;
  const forWhom = t.assigneeId ? ` for ${mentionUser(t.assigneeId)}` : '';
  const due = t.dueAt ? `, due ${slackDate(t.dueAt, '{time}')}` : '';
  switch (what) {
    case 'added':
      return message(`📋 ${mentionUser(actorId)} added ${task}${forWhom}${due}`);
    case 'assigned':
      return message(
        `📋 ${mentionUser(actorId)} gave ${task} to ${t.assigneeId ? mentionUser(t.assigneeId) : 'nobody'}${due}`,
      );
    case 'completed':
      return message(`✅ ${mentionUser(actorId)} completed ${task}`);
  }
}

export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d ? `${d}d` : '', h ? `${h}h` : '', `${m}m`].filter(Boolean).join(' ');
}

export function resolvedMessage(
  i: IncidentSnapshot,
  actorId: string,
  summary: string,
  resolvedAt: Date,
): SlackMessage {
  const roles = ROLES.filter((r) => i.roles[r]).map(
    (r) => `${roleLabel(r)} ${mentionUser(i.roles[r] as string)}`,
  );
  const lines = [
    `✅ *Incident #${i.number} ${escapeMrkdwn(i.title)}* was resolved by ${mentionUser(actorId)} after ${formatDuration(resolvedAt.getTime() - i.declaredAt.getTime())}.`,
    `*Severity:* ${escapeMrkdwn(i.severity)} · *Roles:* ${roles.length ? roles.join(', ') : 'none assigned'} · *Open tasks left:* ${i.openTaskCount}`,
    `*Summary:* ${escapeMrkdwn(summary)}`,
  ];
  return message(lines.join('\n'));
}

export function reopenedMessage(i: { number: number; title: string }, actorId: string): SlackMessage {
  return message(
    `🔁 ${mentionUser(actorId)} reopened incident #${i.number} *${escapeMrkdwn(i.title)}*; it is investigating again.`,
  );
}

export function notIncidentChannelMessage(): SlackMessage {
  return message(
    'This is not an incident channel. Declare an incident with `/incident declare <title>`, or see the open ones with `/incident list`.',
  );
}

/** A one-line ephemeral answer; the text is trusted (built by the bot, user input already escaped). */
export const confirmation = (line: string): SlackMessage => message(line);
