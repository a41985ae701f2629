import { POSTMORTEM_STATUS_WORDS, type Reminder } from '../incidents/model.js';
import type { TimelineEvent } from './model.js';

/**
 * The timeline in words, in any text dialect: Slack's mrkdwn (the channel, `/incident timeline`) and
 * Markdown (the postmortem) say the same sentence for each event, each with its own way of naming a
 * person or a channel, quoting what people typed and writing a time.
 */

export interface Dialect {
  /** A person, by Slack user id. */
  user(id: string): string;
  /** A channel, by id. */
  channel(id: string): string;
  /** What someone typed (escaped for the dialect, cut to a sensible length). */
  text(value: unknown): string;
  /** A time of day. */
  time(at: Date): string;
  /** A short code or error code. */
  code(value: string): string;
}

const USER = /^[UW][A-Z0-9]+$/;

const REMINDER_TEXT: Record<Reminder, string> = {
  update: 'a status update is due',
  commander: 'nobody has taken command',
  task: 'a task’s time box is up',
  deputy: 'the deputy’s clock',
  postmortem: 'the postmortem is due',
};

/**
 * Who a page reached; a tier that resolved to nobody (nobody on call, an empty group) says so and names the
 * tier paged at once instead. Labels are the bot's own words ("tier 2").
 */
export function pagedWho(d: Dialect, users: string[], skippedTo?: string | null): string {
  if (users.length > 0) return users.map((u) => (USER.test(u) ? d.user(u) : 'nobody')).join(', ');
  return `nobody to page (nobody on call, no members)${skippedTo ? ` — ${d.text(skippedTo)} pages now` : ''}`;
}

/** One line of the timeline, in words. Every kind has its own (a test renders each one). */
export function describeEvent(e: TimelineEvent, d: Dialect): string {
  const by = e.actorId ? d.user(e.actorId) : 'The bot';
  const str = d.text;
  const userOrNobody = (v: unknown) => (typeof v === 'string' && USER.test(v) ? d.user(v) : 'nobody');
  switch (e.kind) {
    case 'declared':
      return `${by} declared the incident (${str(e.data.severity)})`;
    case 'role_assigned': {
      const r = e.data;
      return `${by} made ${userOrNobody(r.userId)} ${str(r.role)}${r.previous ? ` (was ${userOrNobody(r.previous)})` : ''}`;
    }
    case 'channel_created':
      return `The bot created ${/^[CG][A-Z0-9]+$/.test(e.data.channelId) ? d.channel(e.data.channelId) : 'the channel'}`;
    case 'card_posted':
      return 'The bot pinned the incident card';
    case 'announced':
      return 'The bot announced the incident';
    case 'side_effect_failed':
      return `⚠️ ${str(e.data.step)} failed: ${d.code(String(e.data.error))}`;
    case 'severity_changed':
      return `${by} changed severity from ${str(e.data.from)} to ${str(e.data.to)}`;
    case 'incident_updated': {
      const u = e.data;
      return [
        ...(u.title ? [`${by} renamed the incident “${str(u.title.to)}” (was “${str(u.title.from)}”)`] : []),
        ...(u.summary ? [`${by} changed the summary: ${str(u.summary.to)}`] : []),
      ].join('; ');
    }
    case 'status_changed':
      return `${by} changed status from ${str(e.data.from)} to ${str(e.data.to)}`;
    case 'status_update':
      return `${by} posted a${e.data.audience === 'customers' ? ' customer-facing' : 'n internal'} update: “${str(e.data.message)}”`;
    case 'task_added': {
      const t = e.data;
      return `${by} added task ${str(t.number)}: ${str(t.text)}${t.assigneeId ? ` for ${userOrNobody(t.assigneeId)}` : ''}`;
    }
    case 'task_assigned':
      return `${by} gave task ${str(e.data.number)} to ${userOrNobody(e.data.assigneeId)}`;
    case 'task_completed':
      return `${by} completed task ${str(e.data.number)}`;
    case 'note':
      return `📝 ${by}: ${str(e.data.text)}`;
    case 'resolved':
      return `${by} resolved the incident${e.data.summary ? `: ${str(e.data.summary)}` : ''}`;
    case 'reopened':
      return `${by} reopened the incident`;
    case 'acknowledged':
      return `✅ ${by} acknowledged the incident${e.data.stoppedSteps > 0 ? '; paging stopped' : ''}`;
    case 'escalated':
      return `${by} escalated to tier ${str(e.data.tier)}${e.data.reason ? `: ${str(e.data.reason)}` : ''}`;
    case 'paged': {
      const p = e.data;
      return `📟 Paged ${str(p.label)}: ${pagedWho(d, p.users, p.skippedTo)}${p.reason ? ` — ${str(p.reason)}` : ''}`;
    }
    case 'tier_passed':
      return `📟 ${str(e.data.label)} was not paged: by the time Slack let its page through, ${str(e.data.paged)} had paged`;
    case 'reminded': {
      const r = e.data;
      const to = r.to ? ` (${userOrNobody(r.to)})` : '';
      const which = r.reminder === 'task' && r.number !== undefined ? ` (task ${r.number})` : '';
      const mark = r.reminder === 'deputy' && r.mark !== undefined ? ` (mark ${r.mark})` : '';
      return `⏰ The bot reminded: ${REMINDER_TEXT[r.reminder]}${which}${mark}${to}`;
    }
    case 'reminder_snoozed':
      return `${by} snoozed the update reminder until ${d.time(new Date(e.data.until))}`;
    case 'alerts_linked':
      return `🔔 Declared from alerts: ${str(e.data.title)} (${str(e.data.firing)} firing)`;
    case 'alerts_resolved':
      return `✅ All alerts of ${str(e.data.title)} resolved`;
    case 'postmortem_owner_set':
      return `${by} made ${userOrNobody(e.data.ownerId)} the postmortem's owner`;
    case 'postmortem_status_changed':
      return `${by} moved the postmortem to ${POSTMORTEM_STATUS_WORDS[e.data.to]}`;
    case 'postmortem_edited':
      return `${by} edited the postmortem (${e.data.parts.map(str).join(', ')})`;
    case 'followup_added': {
      const f = e.data;
      const who = f.ownerId ? ` for ${userOrNobody(f.ownerId)}` : '';
      return `${by} added follow-up ${str(f.number)}: ${str(f.text)}${who}${f.dueOn ? `, due ${str(f.dueOn)}` : ''}`;
    }
    case 'followup_done':
      return `${by} completed follow-up ${str(e.data.number)}`;
    case 'followup_dropped':
      return `${by} dropped follow-up ${str(e.data.number)}: ${str(e.data.reason)}`;
    case 'unreadable':
      return `${by}: ${str(e.storedKind)} (recorded by another version of the bot)`;
  }
}
