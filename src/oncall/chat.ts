import type { ChatMessageRef, MessageMarker } from '../incidents/chat.js';

/**
 * What on-call says in Slack, as data, and the chat port it says it through (slack/chat.ts implements
 * it): DMs at handoffs and overrides, and the user group kept equal to whoever is on call.
 */

/** An open incident the person coming on call inherits. */
export interface InheritedIncident {
  number: number;
  title: string;
  severity: string;
  channelId: string | null;
}

/** An open alert group the person coming on call inherits. */
export interface InheritedAlertGroup {
  title: string;
  firingCount: number;
  channelId: string;
  messageTs: string | null;
}

export type OncallNotice =
  /** To whoever comes on call: until when, why (an override), and what is open. */
  | {
      kind: 'oncall_handoff';
      schedule: string;
      userId: string;
      until: Date | null;
      /** Set when the shift is an override: who set it. */
      overrideBy: string | null;
      incidents: InheritedIncident[];
      alertGroups: InheritedAlertGroup[];
      /** Open ones not listed. */
      more: number;
      /** The workspace's URL, for links to alert messages. */
      workspaceUrl: string;
    }
  /** An override set or removed, to the person it puts on call and to the one it relieves. */
  | {
      kind: 'oncall_override';
      change: 'set' | 'removed';
      /** Whom this DM is for: the person the override puts on call, or the one it relieves. */
      audience: 'on_call' | 'relieved';
      schedule: string;
      userId: string;
      /** Everyone with a shift inside the override, as the schedule stood when it was set. */
      relievedUserIds: string[];
      by: string;
      startsAt: Date;
      endsAt: Date;
    };

export interface OncallChat {
  openDm(user: string): Promise<string>;
  post(channel: string, notice: OncallNotice, options?: { marker?: MessageMarker }): Promise<ChatMessageRef>;
  findMarked(channel: string, marker: MessageMarker, since: Date): Promise<ChatMessageRef | undefined>;
  /** The workspace the bot is in: its team id and URL. */
  workspace(): Promise<{ teamId: string; url: string }>;
  usergroupMembers(group: string): Promise<string[]>;
  setUsergroupMembers(group: string, users: string[]): Promise<void>;
}
