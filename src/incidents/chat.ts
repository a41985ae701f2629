import { PermanentError } from '../errors.js';
import type { TimelineEvent } from '../timeline/timeline.js';
import type { FollowupRow, IncidentSnapshot, TaskRow } from './queries.js';

/**
 * The chat platform as incidents (and escalation) need it, and the messages they send through it as data.
 * slack/chat.ts implements it and the composition root (bot.ts) plugs it in, so incidents never import
 * Slack: a job says *what* to tell whom; the Slack side renders *how* when it runs.
 */

/** Where a message in Slack is. */
export interface ChatMessageRef {
  channel: string;
  ts: string;
}

/** Put in a message's metadata so that a retried job finds the message it already posted. */
export interface MessageMarker {
  type: string;
  id: string;
}

export const MESSAGE_MARKER = {
  card: 'incident_card',
  announcement: 'incident_announcement',
  reporterNotice: 'incident_reporter_notice',
  announcementFailure: 'incident_announcement_failed',
  setupFailure: 'incident_setup_failed',
  /** A post job; the marker's id is the job's key. */
  post: 'incident_post',
  /** A page's DM; the marker's id is the job's key. */
  page: 'incident_page',
  /** A follow-up reminder's DM; the marker's id is the job's key. */
  followup: 'followup_reminder',
} as const;

/**
 * A message about an incident, as data: what to say, not how it looks. The Slack side renders it (Block
 * Kit, mrkdwn, mentions) when the job that sends it runs, from committed state.
 */
export type IncidentNotice =
  | { kind: 'card'; incident: IncidentSnapshot }
  | { kind: 'announcement'; incident: IncidentSnapshot }
  | { kind: 'reporter_notice'; incident: IncidentSnapshot }
  | { kind: 'setup_failed'; incident: IncidentSnapshot; step: string; error: string }
  /**
   * A timeline event told to the channel (and the announcement thread) or to one person by DM. `task` is
   * the task the event is about, for the kinds that name one by number.
   */
  | {
      kind: 'event';
      incident: IncidentSnapshot;
      event: TimelineEvent;
      audience: 'channel' | 'person';
      task?: TaskRow;
    }
  /** To a follow-up's owner: due soon, or overdue. */
  | {
      kind: 'followup_reminder';
      followup: FollowupRow;
      incident: { number: number; title: string; channelId: string | null };
      overdue: boolean;
    }
  /** Upgrading only: a message the version before typed jobs rendered and queued (see notify.ts). */
  | { kind: 'prerendered'; text: string; blocks: unknown[] };

/** The chat platform as incidents (and escalation) use it. Errors are RetryableError or PermanentError. */
export interface IncidentChat {
  botUserId(): Promise<string>;
  /** 'name_taken' when the name is in use (perhaps by the channel an earlier attempt made). */
  createChannel(name: string, isPrivate: boolean): Promise<{ id: string } | 'name_taken'>;
  findChannelByName(name: string): Promise<{ id: string; creator: string | undefined } | undefined>;
  /** Being in the channel already is success. */
  invite(channel: string, user: string): Promise<void>;
  /** The channel topic for the incident's current state. */
  topic(incident: IncidentSnapshot): string;
  setTopic(channel: string, topic: string): Promise<void>;
  /** Being pinned already is success. */
  pin(message: ChatMessageRef): Promise<void>;
  /** The direct-message channel with a person, opened if needed. */
  openDm(user: string): Promise<string>;
  post(
    channel: string,
    notice: IncidentNotice,
    options?: { threadTs?: string; marker?: MessageMarker },
  ): Promise<ChatMessageRef>;
  update(message: ChatMessageRef, notice: IncidentNotice): Promise<void>;
  /** A message this bot posted with `marker` since `since`. */
  findMarked(channel: string, marker: MessageMarker, since: Date): Promise<ChatMessageRef | undefined>;
  /** The members of a user group. */
  usergroupMembers(group: string): Promise<string[]>;
}

/**
 * What an earlier attempt of this job may have posted and died before recording (looked for from the
 * second attempt on). Not finding it — or not being allowed to look — means posting again.
 */
export function postedBefore(
  chat: Pick<IncidentChat, 'findMarked'>,
  attempt: number,
  channel: string,
  marker: MessageMarker,
  since: Date,
): Promise<ChatMessageRef | undefined> {
  if (attempt <= 1) return Promise.resolve(undefined);
  return chat.findMarked(channel, marker, since).catch((err: unknown) => {
    if (err instanceof PermanentError) return undefined;
    throw err;
  });
}
