import type { ChatMessageRef, MessageMarker } from '../incidents/chat.js';
import type { AlertLink } from './event.js';
import type { AlertSeverity, AlertStatus } from './model.js';

/**
 * What the hub says in Slack, as data, and the chat port it says it through (slack/chat.ts implements it).
 * One message per group, edited in place; its thread tells what changed.
 */

export interface AlertGroupView {
  id: number;
  title: string;
  /** Where its message is. */
  channelId: string;
  status: 'open' | 'resolved';
  severity: AlertSeverity;
  /** Unresolved alerts (acknowledged ones included): the FIRING count. */
  firingCount: number;
  alertCount: number;
  /** Alerts the sender left out of its last notification. */
  truncated: number;
  flaps: number;
  groupLabels: Record<string, string>;
  integrations: string[];
  openedAt: Date;
  resolvedAt: Date | null;
  /** A user id, or `integration:<name>`. */
  acknowledgedBy: string | null;
  silencedUntil: Date | null;
  /** Paging through an escalation policy, and how many steps have paged; null when not paging. */
  paging: { policy: string; steps: number } | null;
  /** The incident declared for it, where it lives. */
  incident: { number: number; channelId: string | null } | null;
}

export interface AlertView {
  status: AlertStatus;
  severity: AlertSeverity;
  summary: string;
  labels: Record<string, string>;
  links: AlertLink[];
  occurrences: number;
}

export type AlertThreadLine =
  | { kind: 'fired' | 'reopened' | 'acknowledged' | 'resolved'; summary: string; at: Date }
  | { kind: 'paged'; label: string; users: string[]; skippedTo?: string | null; at: Date };

export type AlertNotice =
  /** The group's message: the group and its first alerts (firing first), and how many more there are. */
  | { kind: 'alert_group'; group: AlertGroupView; alerts: AlertView[]; more: number }
  /** A post in the group message's thread: what changed since the last one. */
  | { kind: 'alert_group_thread'; group: AlertGroupView; lines: AlertThreadLine[]; more: number }
  /** A page by DM: the group, its first alerts and an Acknowledge button. */
  | { kind: 'alert_page'; group: AlertGroupView; alerts: AlertView[]; more: number; label: string };

/** The workspace the bot is in: the team, the bot user, and the base of its message links. */
export interface Workspace {
  teamId: string;
  botUserId: string;
  /** e.g. https://acme.slack.com/ */
  url: string;
}

export interface AlertsChat {
  post(
    channel: string,
    notice: AlertNotice,
    options?: { threadTs?: string; marker?: MessageMarker },
  ): Promise<ChatMessageRef>;
  update(message: ChatMessageRef, notice: AlertNotice): Promise<void>;
  findMarked(channel: string, marker: MessageMarker, since: Date): Promise<ChatMessageRef | undefined>;
  openDm(user: string): Promise<string>;
  botUserId(): Promise<string>;
  usergroupMembers(group: string): Promise<string[]>;
  workspace(): Promise<Workspace>;
}
