import type { KnownBlock, View } from '@slack/web-api';
import type { OncallNotice } from '../../oncall/chat.js';
import type { Schedule } from '../../oncall/model.js';
import type { OnCallSummary, OverrideRow } from '../../oncall/queries.js';
import type { Shift } from '../../oncall/schedule.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { ONCALL_ACTION, OVERRIDE_MODAL } from '../ids.js';
import { mentionChannel, mentionUser, slackDate } from '../text.js';
import { messageLink } from './alerts.js';
import { button, fitLines, message, type SlackMessage, section, text } from './blocks.js';

/** On-call: who is on call (`/incident oncall`), overrides, and the DMs of handoffs and overrides. */

const WHEN = '{date_short_pretty} {time}';
const when = (at: Date | number) => slackDate(new Date(at), WHEN);
const who = (userId: string | undefined) => (userId ? mentionUser(userId) : '_nobody_');

/** How many schedules one answer shows (two blocks each, within Slack's 50). */
const SCHEDULES_SHOWN = 20;
const OVERRIDES_SHOWN = 40;

function currentLine(summary: OnCallSummary): string {
  const c = summary.current;
  const why =
    c.source?.kind === 'override' ? ` (override set by ${mentionUser(c.source.override.createdBy)})` : '';
  const until = c.end === undefined ? 'until further notice' : `until ${when(c.end)}`;
  return c.userId ? `On call now: ${who(c.userId)}${why}, ${until}.` : `Nobody is on call now, ${until}.`;
}

/** Whom an override relieves, as words after its span. */
function insteadOf(relieved: string[], userId: string): string {
  const others = relieved.filter((u) => u !== userId);
  return others.length > 0 ? `, instead of ${others.map(mentionUser).join(', ')}` : '';
}

const nextLine = (s: Shift) => `${who(s.userId)} from ${when(s.start)}`;

/** `/incident oncall [schedule]`: each schedule's person on call, until when, the next handoffs, and actions. */
export function onCallMessage(summaries: OnCallSummary[]): SlackMessage {
  if (summaries.length === 0)
    return message('No on-call schedules are configured. Add them under `schedules:` in the config file.');
  const blocks: KnownBlock[] = [];
  const lines: string[] = [];
  for (const summary of summaries.slice(0, SCHEDULES_SHOWN)) {
    const s = summary.schedule;
    const next = summary.next.length > 0 ? `\nNext: ${summary.next.map(nextLine).join(' · ')}` : '';
    const line = `📅 *${escapeMrkdwn(s.name)}* (${escapeMrkdwn(s.timeZone)})\n${currentLine(summary)}${next}`;
    lines.push(`${s.name}: ${summary.current.userId ? `<@${summary.current.userId}>` : 'nobody'}`);
    blocks.push(section(line), {
      type: 'actions',
      elements: [
        button(ONCALL_ACTION.override, 'Override', s.name),
        button(ONCALL_ACTION.take, 'Take the rest of this shift', s.name),
      ],
    });
  }
  if (summaries.length > SCHEDULES_SHOWN)
    blocks.push(section(`…and ${summaries.length - SCHEDULES_SHOWN} more: \`/incident oncall <schedule>\``));
  return { text: truncate(`On call: ${lines.join(', ')}`, 3000), blocks };
}

/** `/incident oncall overrides`: current and coming overrides, soonest first, each with Remove. */
export function overridesMessage(rows: OverrideRow[]): SlackMessage {
  if (rows.length === 0)
    return message(
      'No overrides now or to come. Set one with `/incident oncall override <schedule> @person <duration>`.',
    );
  const line = (o: OverrideRow) =>
    `*${escapeMrkdwn(o.schedule)}*: ${mentionUser(o.userId)} from ${when(o.startsAt)} to ${when(o.endsAt)}` +
    `${insteadOf(o.relievedUserIds, o.userId)} (set by ${mentionUser(o.createdBy)})`;
  const blocks: KnownBlock[] = [section('Overrides, soonest first:')];
  for (const o of rows.slice(0, OVERRIDES_SHOWN)) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: line(o) },
      accessory: button(ONCALL_ACTION.remove, 'Remove', String(o.id), 'danger'),
    });
  }
  if (rows.length > OVERRIDES_SHOWN) blocks.push(section(`…and ${rows.length - OVERRIDES_SHOWN} more`));
  return { text: `Overrides: ${rows.length}`, blocks };
}

export interface OverrideModalMetadata {
  /** Where the form was opened from, for the confirmation. */
  channelId?: string;
}

/** The Override form: schedule, person, start and end (date-time pickers, in each reader's own zone). */
export function overrideModal(input: {
  schedules: Schedule[];
  schedule?: string;
  userId?: string;
  now: Date;
  metadata: OverrideModalMetadata;
}): View {
  const ids = OVERRIDE_MODAL;
  const options = input.schedules.slice(0, 100).map((s) => ({
    text: text(truncate(s.name, 75)),
    description: text(truncate(s.timeZone, 75)),
    value: s.name,
  }));
  const initial = options.find((o) => o.value === input.schedule);
  const seconds = Math.floor(input.now.getTime() / 1000);
  return {
    type: 'modal',
    callback_id: ids.callbackId,
    title: text('Override on-call'),
    submit: text('Override'),
    close: text('Cancel'),
    private_metadata: JSON.stringify(input.metadata),
    blocks: [
      {
        type: 'input',
        block_id: ids.schedule.block,
        label: text('Schedule'),
        element: {
          type: 'static_select',
          action_id: ids.schedule.action,
          placeholder: text('Choose a schedule'),
          options,
          ...(initial ? { initial_option: initial } : {}),
        },
      },
      {
        type: 'input',
        block_id: ids.user.block,
        label: text('Who is on call instead'),
        element: {
          type: 'users_select',
          action_id: ids.user.action,
          placeholder: text('Choose a person'),
          ...(input.userId ? { initial_user: input.userId } : {}),
        },
      },
      {
        type: 'input',
        block_id: ids.start.block,
        label: text('From'),
        hint: text('In your own time zone. A time already past means now.'),
        element: { type: 'datetimepicker', action_id: ids.start.action, initial_date_time: seconds },
      },
      {
        type: 'input',
        block_id: ids.end.block,
        label: text('Until'),
        element: {
          type: 'datetimepicker',
          action_id: ids.end.action,
          initial_date_time: seconds + 24 * 3600,
        },
      },
    ],
  };
}

function handoffMessage(n: Extract<OncallNotice, { kind: 'oncall_handoff' }>): SlackMessage {
  const until = n.until ? `until ${when(n.until)}` : 'until further notice';
  const why = n.overrideBy ? ` (an override set by ${mentionUser(n.overrideBy)})` : '';
  const head = `📅 You are on call for *${escapeMrkdwn(n.schedule)}* ${until}${why}.`;
  const lines = [
    ...n.incidents.map(
      (i) =>
        `• Incident #${i.number} *${escapeMrkdwn(truncate(i.title, 100))}* (${escapeMrkdwn(i.severity)})${i.channelId ? ` in ${mentionChannel(i.channelId)}` : ''}`,
    ),
    ...n.alertGroups.map((g) => {
      const title = escapeMrkdwn(truncate(g.title, 100));
      const url = g.messageTs ? messageLink(n.workspaceUrl, g.channelId, g.messageTs) : undefined;
      const link = url ? `<${url}|${title}>` : `*${title}*`;
      return `• Alerts: ${link} — ${g.firingCount} firing, in ${mentionChannel(g.channelId)}`;
    }),
  ];
  if (n.more > 0) lines.push(`…and ${n.more} more: \`/incident list\`, \`/incident alerts\``);
  const open =
    lines.length > 0 ? `\nOpen now, yours to watch:\n${fitLines(lines).join('\n')}` : '\nNothing is open. 🎉';
  return { text: truncate(head, 3000), blocks: [section(`${head}${open}`)] };
}

function overrideMessage(n: Extract<OncallNotice, { kind: 'oncall_override' }>): SlackMessage {
  const span = `from ${when(n.startsAt)} to ${when(n.endsAt)}`;
  const schedule = `*${escapeMrkdwn(n.schedule)}*`;
  const by = mentionUser(n.by);
  const instead = insteadOf(n.relievedUserIds, n.userId);
  let line: string;
  if (n.change === 'set')
    line =
      n.audience === 'on_call'
        ? `📅 ${by} put you on call for ${schedule} ${span}${instead}.`
        : `📅 ${mentionUser(n.userId)} covers your ${schedule} shift ${span} (an override set by ${by}). You are off call then.`;
  else
    line =
      n.audience === 'on_call'
        ? `📅 ${by} removed your override of ${schedule} ${span}: you are not on call for it then.`
        : `📅 ${by} removed the override that had ${mentionUser(n.userId)} cover your ${schedule} shift ${span}: you are on call then after all.`;
  return message(line);
}

export function oncallNoticeMessage(notice: OncallNotice): SlackMessage {
  return notice.kind === 'oncall_handoff' ? handoffMessage(notice) : overrideMessage(notice);
}
