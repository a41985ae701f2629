import type {
  AppsManifestValidateArguments,
  AuthTestResponse,
  ChatPostMessageResponse,
  ConversationsCreateResponse,
  ConversationsHistoryResponse,
  ConversationsInfoResponse,
  ConversationsListResponse,
  ConversationsMembersResponse,
  ConversationsOpenResponse,
  FilesGetUploadURLExternalResponse,
  KnownBlock,
  UsergroupsUsersListResponse,
  View,
} from '@slack/web-api';
import { PermanentError, RetryableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { type CallArguments, SlackCallError, SlackWebApi } from './web-api.js';

/**
 * Every Slack Web API call the product makes goes through here, so that retries, error mapping and the
 * scopes in manifest.yml have one home. Methods return plain values; failures become RetryableError
 * (rate limits, 5xx, timeouts: the job engine tries again later) or PermanentError (Slack said no
 * for good). Errors a flow must branch on (name_taken, already_in_channel …) are handled here.
 */

/**
 * The bot scopes each Web API method needs for the way we call it (public and private incident channels);
 * the manifest test checks manifest.yml against this table and this table against the calls in src/.
 */
type ManifestScopes = NonNullable<
  NonNullable<AppsManifestValidateArguments['manifest']['oauth_config']>['scopes']
>;
/** A bot scope as Slack's own manifest type knows it (a typo does not compile). */
export type ManifestBotScope = NonNullable<ManifestScopes['bot']>[number];
/**
 * …and the canvas scopes, which Slack grants (conversations.canvases.create and canvases.edit need
 * `canvases:write`) but @slack/web-api 8.2's manifest type does not list yet.
 */
export type BotScope = ManifestBotScope | 'canvases:write';

export const METHOD_SCOPES: Record<string, BotScope[]> = {
  'auth.test': [],
  'views.open': [],
  'views.publish': [],
  'conversations.create': ['channels:manage', 'groups:write'],
  'conversations.list': ['channels:read', 'groups:read'],
  'conversations.invite': ['channels:manage', 'groups:write'],
  'conversations.setTopic': ['channels:manage', 'groups:write'],
  // im:history: a retried DM (a page) first looks for itself in the DM, so nobody is paged twice.
  'conversations.history': ['channels:history', 'groups:history', 'im:history'],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'conversations.members': ['channels:read', 'groups:read'],
  'pins.add': ['pins:write'],
  'usergroups.users.list': ['usergroups:read'],
  // Keeps a schedule's user group equal to whoever is on call.
  'usergroups.users.update': ['usergroups:write'],
  'conversations.open': ['im:write'],
  // The postmortem: the incident channel's canvas, or a Markdown file where canvases are refused.
  'conversations.canvases.create': ['canvases:write'],
  'canvases.edit': ['canvases:write'],
  // A retried postmortem finds the channel canvas its first attempt made.
  'conversations.info': ['channels:read', 'groups:read'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
};

const RETRYABLE_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

export interface PostedMessage {
  channel: string;
  ts: string;
}

export interface MessageInput {
  channel: string;
  /** Fallback text for notifications; must already be escaped mrkdwn. */
  text: string;
  blocks?: KnownBlock[];
  threadTs?: string;
  /** Marks the message so a retry can find it instead of posting it twice. */
  marker?: { type: string; id: string };
}

export interface ChannelInfo {
  id: string;
  name: string;
  creator: string | undefined;
}

export interface SlackGatewayOptions {
  token: string;
  apiUrl: string;
  logger: Logger;
  timeoutMs?: number;
  /** Counts every call by method and outcome. */
  metrics?: Metrics;
}

/** Slack's outcome of a failed call, as a metric label: 429, the platform's error code, http_<status>. */
function slackOutcome(err: unknown): string {
  if (!(err instanceof SlackCallError)) return 'request_error';
  const f = err.failure;
  switch (f.kind) {
    case 'rate_limited':
      return '429';
    case 'platform':
      return f.error;
    case 'http':
      return `http_${f.status}`;
    case 'request':
      return 'request_error';
  }
}

/** Turns a failed Web API call into the product's retry vocabulary. */
export function classifySlackError(method: string, err: unknown): Error {
  if (!(err instanceof SlackCallError)) return err instanceof Error ? err : new Error(String(err));
  const f = err.failure;
  switch (f.kind) {
    case 'rate_limited':
      return new RetryableError(`${method}: rate limited`, f.retryAfterS * 1000, { cause: err });
    case 'http':
      return f.status >= 500
        ? new RetryableError(`${method}: HTTP ${f.status}`, undefined, { cause: err })
        : new PermanentError(`http_${f.status}`, `${method}: HTTP ${f.status}`, { cause: err });
    case 'request':
      return new RetryableError(`${method}: request failed (${f.reason})`, undefined, { cause: err });
    case 'platform': {
      if (RETRYABLE_PLATFORM_ERRORS.has(f.error))
        return new RetryableError(`${method}: ${f.error}`, undefined, { cause: err });
      const needed = f.error === 'missing_scope' && f.needed ? ` (needs ${f.needed})` : '';
      return new PermanentError(f.error, `${method}: ${f.error}${needed}`, { cause: err });
    }
  }
}

/** How many people's DM channels are remembered before the memory starts over (a bound, not a cache policy). */
const DM_CHANNELS_REMEMBERED = 10_000;

/** Who the bot is, from auth.test: its user, workspace, bot id and the workspace's URL. */
export interface BotIdentity {
  userId: string;
  teamId: string;
  botId: string | undefined;
  url: string;
}

export class SlackGateway {
  private readonly api: SlackWebApi;
  private identity: BotIdentity | undefined;
  private readonly timeoutMs: number;
  private readonly metrics: Metrics | undefined;
  /** Each person's DM channel with the bot, as conversations.open returned it. */
  private readonly dmChannels = new Map<string, string>();

  constructor(options: SlackGatewayOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.metrics = options.metrics;
    // No retries inside a call: a call that timed out may have been applied by Slack, so only the job
    // engine repeats it, and its handlers first look for their own earlier work.
    this.api = new SlackWebApi({
      token: options.token,
      apiUrl: options.apiUrl,
      timeoutMs: this.timeoutMs,
      logger: options.logger.child({ component: 'web-api' }),
    });
  }

  /** Every Web API call: counted by method and outcome, its failure classified. */
  private async call<T extends object = object>(method: string, args: CallArguments = {}): Promise<T> {
    try {
      const result = await this.api.call<T>(method, args);
      this.metrics?.slackCalls.inc({ method, outcome: 'ok' });
      return result;
    } catch (err) {
      this.metrics?.slackCalls.inc({ method, outcome: slackOutcome(err) });
      throw classifySlackError(method, err);
    }
  }

  /** A call whose failure with one of `codes` is an answer, not an error (the code is returned). */
  private async tolerate<T extends object, C extends string>(
    method: string,
    codes: C[],
    args: CallArguments,
  ): Promise<T | C> {
    try {
      return await this.call<T>(method, args);
    } catch (err) {
      if (err instanceof PermanentError && (codes as string[]).includes(err.code)) return err.code as C;
      throw err;
    }
  }

  /** Verifies the token and learns who the bot is (remembered: it does not change while we run). */
  async authTest(): Promise<BotIdentity> {
    const res = await this.call<AuthTestResponse>('auth.test');
    this.identity = {
      userId: res.user_id ?? '',
      teamId: res.team_id ?? '',
      botId: res.bot_id,
      url: res.url ?? '',
    };
    return this.identity;
  }

  async whoAmI(): Promise<BotIdentity> {
    return this.identity ?? this.authTest();
  }

  async getBotUserId(): Promise<string> {
    return (await this.whoAmI()).userId;
  }

  async openView(triggerId: string, view: View): Promise<void> {
    await this.call('views.open', { trigger_id: triggerId, view });
  }

  /** Sets a person's App Home tab. */
  async publishHome(userId: string, view: View): Promise<void> {
    await this.call('views.publish', { user_id: userId, view });
  }

  /** Creates a channel; returns 'name_taken' instead of throwing when the name is in use. */
  async createChannel(name: string, isPrivate: boolean): Promise<ChannelInfo | 'name_taken'> {
    const res = await this.tolerate<ConversationsCreateResponse, 'name_taken'>(
      'conversations.create',
      ['name_taken'],
      { name, is_private: isPrivate },
    );
    if (res === 'name_taken') return res;
    return { id: res.channel?.id ?? '', name: res.channel?.name ?? name, creator: res.channel?.creator };
  }

  /** Finds a channel by exact name among the channels the bot can see (public, and private ones it is in). */
  async findChannelByName(name: string): Promise<ChannelInfo | undefined> {
    let cursor: string | undefined;
    // Bounded: 20 pages of 1,000 channels; a workspace larger than that falls back to a new name.
    for (let page = 0; page < 20; page++) {
      const res = await this.call<ConversationsListResponse>('conversations.list', {
        types: 'public_channel,private_channel',
        exclude_archived: false,
        limit: 1000,
        cursor,
      });
      const found = res.channels?.find((c) => c.name === name);
      if (found?.id) return { id: found.id, name, creator: found.creator };
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /** Invites one user; being in the channel already, or being the bot, is success. */
  async invite(channel: string, user: string): Promise<void> {
    await this.tolerate('conversations.invite', ['already_in_channel', 'cant_invite_self'], {
      channel,
      users: user,
    });
  }

  async setTopic(channel: string, topic: string): Promise<void> {
    await this.call('conversations.setTopic', { channel, topic });
  }

  async postMessage(input: MessageInput): Promise<PostedMessage> {
    const res = await this.call<ChatPostMessageResponse>('chat.postMessage', {
      channel: input.channel,
      text: input.text,
      blocks: input.blocks,
      thread_ts: input.threadTs,
      unfurl_links: false,
      unfurl_media: false,
      metadata: input.marker
        ? { event_type: input.marker.type, event_payload: { id: input.marker.id } }
        : undefined,
    });
    return { channel: res.channel ?? input.channel, ts: res.ts ?? '' };
  }

  /**
   * Looks for a message this bot posted with `marker` since `oldest` (seconds), so that a job retried after
   * a crash adopts the message it already posted instead of posting a second one.
   */
  async findMarkedMessage(
    channel: string,
    marker: { type: string; id: string },
    oldest: Date,
  ): Promise<PostedMessage | undefined> {
    const res = await this.call<ConversationsHistoryResponse>('conversations.history', {
      channel,
      oldest: (oldest.getTime() / 1000 - 60).toFixed(6),
      limit: 200,
      include_all_metadata: true,
    });
    const found = res.messages?.find(
      (m) =>
        m.metadata?.event_type === marker.type &&
        (m.metadata?.event_payload as { id?: unknown } | undefined)?.id === marker.id,
    );
    return found?.ts ? { channel, ts: found.ts } : undefined;
  }

  async updateMessage(
    channel: string,
    ts: string,
    message: { text: string; blocks: KnownBlock[] },
  ): Promise<void> {
    await this.call('chat.update', { channel, ts, text: message.text, blocks: message.blocks });
  }

  /** Whether a user is a member of a channel (used to show private incidents only to their members). */
  async isMember(channel: string, user: string): Promise<boolean> {
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await this.call<ConversationsMembersResponse>('conversations.members', {
        channel,
        limit: 1000,
        cursor,
      });
      if (res.members?.includes(user)) return true;
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return false;
    }
    return false;
  }

  /** The members of a user group (`S…`). */
  async usergroupMembers(usergroup: string): Promise<string[]> {
    const res = await this.call<UsergroupsUsersListResponse>('usergroups.users.list', { usergroup });
    return res.users ?? [];
  }

  /** Makes the channel's canvas with this Markdown; its id. */
  async createChannelCanvas(channelId: string, title: string, markdown: string): Promise<string> {
    const res = await this.call<{ canvas_id?: string }>('conversations.canvases.create', {
      channel_id: channelId,
      title,
      document_content: { type: 'markdown', markdown },
    });
    if (!res.canvas_id)
      throw new PermanentError('no_canvas_id', 'conversations.canvases.create returned no id');
    return res.canvas_id;
  }

  /** The id of the channel's canvas, if it has one. */
  async channelCanvasId(channel: string): Promise<string | undefined> {
    const res = await this.call<ConversationsInfoResponse>('conversations.info', { channel });
    const properties = res.channel?.properties as { canvas?: { file_id?: string } } | undefined;
    return properties?.canvas?.file_id;
  }

  /** Replaces a canvas's whole content. */
  async replaceCanvas(canvasId: string, markdown: string): Promise<void> {
    await this.call('canvases.edit', {
      canvas_id: canvasId,
      changes: [{ operation: 'replace', document_content: { type: 'markdown', markdown } }],
    });
  }

  /**
   * Uploads a text file into a channel the way Slack asks now: an upload URL, the bytes POSTed to it, then
   * the upload completed into the channel (files.upload is retired).
   */
  async uploadFile(input: {
    channelId: string;
    filename: string;
    title: string;
    content: string | Uint8Array;
    comment: string;
  }): Promise<void> {
    const bytes =
      typeof input.content === 'string' ? Buffer.from(input.content, 'utf8') : Buffer.from(input.content);
    const target = await this.call<FilesGetUploadURLExternalResponse>('files.getUploadURLExternal', {
      filename: input.filename,
      length: bytes.length,
    });
    if (!target.upload_url || !target.file_id)
      throw new PermanentError('no_upload_url', 'files.getUploadURLExternal returned no upload URL');
    let res: Response;
    try {
      res = await fetch(target.upload_url, {
        method: 'POST',
        body: bytes,
        headers: { 'content-type': 'application/octet-stream' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new RetryableError('uploading the file failed', undefined, { cause: err });
    }
    if (!res.ok) throw new RetryableError(`uploading the file answered HTTP ${res.status}`);
    const fileId = target.file_id;
    await this.call('files.completeUploadExternal', {
      files: [{ id: fileId, title: input.title }],
      channel_id: input.channelId,
      initial_comment: input.comment,
    });
  }

  /** Sets a user group's members (never empty: Slack refuses that, and callers keep the last members). */
  async setUsergroupMembers(usergroup: string, users: string[]): Promise<void> {
    if (users.length === 0) throw new PermanentError('empty_usergroup', 'a user group cannot be emptied');
    await this.call('usergroups.users.update', { usergroup, users: users.join(',') });
  }

  /**
   * The bot's DM channel with a user (opened if needed), so a DM can be checked for in its history. A
   * bot's DM channel with a person never changes, so it is remembered: the people a bot DMs are mostly the
   * same few (reporters, the people on call), and each saves a call before every later DM.
   */
  async openDm(user: string): Promise<string> {
    const known = this.dmChannels.get(user);
    if (known) return known;
    const res = await this.call<ConversationsOpenResponse>('conversations.open', { users: user });
    const id = res.channel?.id;
    if (!id) throw new PermanentError('no_dm_channel', `conversations.open returned no channel for ${user}`);
    if (this.dmChannels.size >= DM_CHANNELS_REMEMBERED) this.dmChannels.clear();
    this.dmChannels.set(user, id);
    return id;
  }

  /** Pins a message; already pinned is success. */
  async pin(channel: string, ts: string): Promise<void> {
    await this.tolerate('pins.add', ['already_pinned'], { channel, timestamp: ts });
  }
}
