import type { AlertNotice, AlertsChat, Workspace } from '../alerts/chat.js';
import type { IncidentConfig } from '../config/index.js';
import type { ChatMessageRef, IncidentChat, IncidentNotice, MessageMarker } from '../incidents/chat.js';
import type { IncidentSnapshot } from '../incidents/queries.js';
import type { LearnChat, LearnNotice } from '../learn/chat.js';
import type { OncallChat, OncallNotice } from '../oncall/chat.js';
import type { SlackGateway } from './gateway.js';
import { incidentTopic } from './views/card.js';
import { renderNotice } from './views/notices.js';

/**
 * The Slack side of the capabilities' chat ports (`IncidentChat`, `AlertsChat`, `OncallChat`, `LearnChat`): the capabilities' jobs say what to tell whom (a
 * notice, as data); this renders it with the pure views and sends it through the one Web API gateway.
 */
export class SlackChat implements IncidentChat, AlertsChat, OncallChat, LearnChat {
  constructor(
    private readonly slack: SlackGateway,
    private readonly config: IncidentConfig,
  ) {}

  botUserId(): Promise<string> {
    return this.slack.getBotUserId();
  }

  async workspace(): Promise<Workspace> {
    const me = await this.slack.whoAmI();
    return { teamId: me.teamId, botUserId: me.userId, url: me.url };
  }

  async createChannel(name: string, isPrivate: boolean): Promise<{ id: string } | 'name_taken'> {
    const created = await this.slack.createChannel(name, isPrivate);
    return created === 'name_taken' ? created : { id: created.id };
  }

  findChannelByName(name: string) {
    return this.slack.findChannelByName(name);
  }

  invite(channel: string, user: string): Promise<void> {
    return this.slack.invite(channel, user);
  }

  topic(incident: IncidentSnapshot): string {
    return incidentTopic(incident);
  }

  setTopic(channel: string, topic: string): Promise<void> {
    return this.slack.setTopic(channel, topic);
  }

  pin(message: ChatMessageRef): Promise<void> {
    return this.slack.pin(message.channel, message.ts);
  }

  openDm(user: string): Promise<string> {
    return this.slack.openDm(user);
  }

  post(
    channel: string,
    notice: IncidentNotice | AlertNotice | OncallNotice | LearnNotice,
    options: { threadTs?: string; marker?: MessageMarker } = {},
  ): Promise<ChatMessageRef> {
    return this.slack.postMessage({ channel, ...renderNotice(notice, this.config), ...options });
  }

  update(
    message: ChatMessageRef,
    notice: IncidentNotice | AlertNotice | OncallNotice | LearnNotice,
  ): Promise<void> {
    return this.slack.updateMessage(message.channel, message.ts, renderNotice(notice, this.config));
  }

  findMarked(channel: string, marker: MessageMarker, since: Date): Promise<ChatMessageRef | undefined> {
    return this.slack.findMarkedMessage(channel, marker, since);
  }

  usergroupMembers(group: string): Promise<string[]> {
    return this.slack.usergroupMembers(group);
  }

  setUsergroupMembers(group: string, users: string[]): Promise<void> {
    return this.slack.setUsergroupMembers(group, users);
  }

  createChannelCanvas(channelId: string, title: string, markdown: string): Promise<string> {
    return this.slack.createChannelCanvas(channelId, title, markdown);
  }

  replaceCanvas(canvasId: string, markdown: string): Promise<void> {
    return this.slack.replaceCanvas(canvasId, markdown);
  }

  channelCanvas(channelId: string): Promise<string | undefined> {
    return this.slack.channelCanvasId(channelId);
  }

  uploadFile(input: Parameters<LearnChat['uploadFile']>[0]): Promise<void> {
    return this.slack.uploadFile(input);
  }
}
