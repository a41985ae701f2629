import type { KnownBlock } from '@slack/web-api';
import type { Reminder } from '../../incidents/model.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import type { TimelineEvent } from '../../timeline/model.js';
import { TIMELINE_PAGE_ACTION } from '../ids.js';
import { mentionChannel, mentionUser, slackDate } from '../text.js';
import { type SlackMessage, section, text } from './blocks.js';
import { pagedWho } from './paging.js';

/** The timeline in words, page by page. */

const by = (e: TimelineEvent) => (e.actorId ? mentionUser(e.actorId) : 'The bot');

const str = (v: unknown) => escapeMrkdwn(truncate(String(v ?? ''), 300));

const userOrNobody = (v: unknown) =>
  typeof v === 'string' && /^[UW][A-Z0-9]+$/.test(v) ? mentionUser(v) : 'nobody';

const REMINDER_TEXT: Record<Reminder, string> = {
  update: 'a status update is due',
  commander: 'nobody has taken command',
  task: 'a task’s time box is up',
  deputy: 'the deputy’s clock',
  postmortem: 'the postmortem is due',
};

/** One line of the timeline, in words. Every kind has its own (a test renders each one). */
export function describeEvent(e: TimelineEvent): string {
  switch (e.kind) {
    case 'declared':
      return `${by(e)} declared the incident (${str(e.data.severity)})`;
    case 'role_assigned': {
      const d = e.data;
      return `${by(e)} made ${userOrNobody(d.userId)} ${str(d.role)}${d.previous ? ` (was ${userOrNobody(d.previous)})` : ''}`;
    }
    case 'channel_created':
      return `The bot created ${/^[CG][A-Z0-9]+$/.test(e.data.channelId) ? mentionChannel(e.data.channelId) : 'the channel'}`;
    case 'card_posted':
      return 'The bot pinned the incident card';
    case 'announced':
      return 'The bot announced the incident';
    case 'side_effect_failed':
      return `⚠️ ${str(e.data.step)} failed: \`${str(e.data.error)}\``;
    case 'severity_changed':
      return `${by(e)} changed severity from ${str(e.data.from)} to ${str(e.data.to)}`;
    case 'status_changed':
      return `${by(e)} changed status from ${str(e.data.from)} to ${str(e.data.to)}`;
    case 'status_update':
      return `${by(e)} posted a${e.data.audience === 'customers' ? ' customer-facing' : 'n internal'} update: “${str(e.data.message)}”`;
    case 'task_added': {
      const d = e.data;
      return `${by(e)} added task ${str(d.number)}: ${str(d.text)}${d.assigneeId ? ` for ${userOrNobody(d.assigneeId)}` : ''}`;
    }
    case 'task_assigned':
      return `${by(e)} gave task ${str(e.data.number)} to ${userOrNobody(e.data.assigneeId)}`;
    case 'task_completed':
      return `${by(e)} completed task ${str(e.data.number)}`;
    case 'note':
      return `📝 ${by(e)}: ${str(e.data.text)}`;
    case 'resolved':
      return `${by(e)} resolved the incident${e.data.summary ? `: ${str(e.data.summary)}` : ''}`;
    case 'reopened':
      return `${by(e)} reopened the incident`;
    case 'acknowledged':
      return `✅ ${by(e)} acknowledged the incident${e.data.stoppedSteps > 0 ? '; paging stopped' : ''}`;
    case 'escalated':
      return `${by(e)} escalated to tier ${str(e.data.tier)}${e.data.reason ? `: ${str(e.data.reason)}` : ''}`;
    case 'paged': {
      const d = e.data;
      const who = d.users.length > 0 ? d.users.map(userOrNobody).join(', ') : pagedWho([], d.skippedTo);
      return `📟 Paged ${str(d.label)}: ${who}${d.reason ? ` — ${str(d.reason)}` : ''}`;
    }
    case 'reminded': {
      const d = e.data;
      const to = d.to ? ` (${userOrNobody(d.to)})` : '';
      const which = d.reminder === 'task' && d.number !== undefined ? ` (task ${d.number})` : '';
      const mark = d.reminder === 'deputy' && d.mark !== undefined ? ` (mark ${d.mark})` : '';
      return `⏰ The bot reminded: ${REMINDER_TEXT[d.reminder]}${which}${mark}${to}`;
    }
    case 'reminder_snoozed':
      return `${by(e)} snoozed the update reminder until ${slackDate(new Date(e.data.until), '{time}')}`;
    case 'alerts_linked':
      return `🔔 Declared from alerts: ${str(e.data.title)} (${str(e.data.firing)} firing)`;
    case 'alerts_resolved':
      return `✅ All alerts of ${str(e.data.title)} resolved`;
    case 'unreadable':
      return `${by(e)}: ${str(e.storedKind)} (recorded by another version of the bot)`;
  }
}

export const TIMELINE_PAGE_SIZE = 25;

/** One page of the timeline (oldest first), with a button to the next page when there is one. */
export function timelinePage(
  i: { id: string; number: number },
  events: TimelineEvent[],
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
