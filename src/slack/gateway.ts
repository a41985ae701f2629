import {
  type AppsManifestValidateArguments,
  ErrorCode,
  type KnownBlock,
  type View,
  WebClient,
  type WebClientOptions,
} from '@slack/web-api';
import { PermanentError, RetryableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { boltLogger } from './bolt-logger.js';
import { slackFetch } from './web-fetch.js';

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

/** Turns a Web API client error into the product's retry vocabulary. */
/** Slack's outcome of a failed call, as a metric label: 429, the platform's error code, http_<status>. */
function slackOutcome(err: unknown): string {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number };
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      return '429';
    case ErrorCode.PlatformError:
      return e.data?.error ?? 'unknown_error';
    case ErrorCode.HTTPError:
      return e.statusCode === 429 ? '429' : `http_${e.statusCode ?? 0}`;
    default:
      return 'request_error';
  }
}

export function classifySlackError(method: string, err: unknown): Error {
  const e = err as {
    code?: string;
    data?: { error?: string; needed?: string };
    retryAfter?: number;
    statusCode?: number;
    message?: string;
  };
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      return new RetryableError(`${method}: rate limited`, (e.retryAfter ?? 1) * 1000, { cause: err });
    case ErrorCode.HTTPError:
      return (e.statusCode ?? 500) >= 500 || e.statusCode === 429
        ? new RetryableError(`${method}: HTTP ${e.statusCode}`, undefined, { cause: err })
        : new PermanentError(`http_${e.statusCode}`, `${method}: HTTP ${e.statusCode}`, { cause: err });
    case ErrorCode.RequestError:
      return new RetryableError(`${method}: request failed (${e.message ?? 'network error'})`, undefined, {
        cause: err,
      });
    case ErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      if (RETRYABLE_PLATFORM_ERRORS.has(code))
        return new RetryableError(`${method}: ${code}`, undefined, { cause: err });
      const needed = code === 'missing_scope' && e.data?.needed ? ` (needs ${e.data.needed})` : '';
      return new PermanentError(code, `${method}: ${code}${needed}`, { cause: err });
    }
    default:
      return err instanceof Error ? err : new Error(String(err));
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
  private readonly client: WebClient;
  private identity: BotIdentity | undefined;
  private readonly timeoutMs: number;
  private readonly metrics: Metrics | undefined;
  /** Each person's DM channel with the bot, as conversations.open returned it. */
  private readonly dmChannels = new Map<string, string>();

  constructor(options: SlackGatewayOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.metrics = options.metrics;
    const clientOptions: WebClientOptions = {
      slackApiUrl: options.apiUrl,
      logger: boltLogger(options.logger.child({ component: 'web-api' })),
      rejectRateLimitedCalls: true,
      // The deadline is kept by slackFetch, which costs less than the AbortSignal.timeout the client makes.
      fetch: slackFetch({ timeoutMs: this.timeoutMs }),
      timeout: 0,
      retryConfig: {
        // No retries here: a call that timed out may have been applied by Slack, so only the job engine
        // repeats it, and its handlers first look for their own earlier work.
        retries: 0,
        factor: 2,
        minTimeout: 250,
        maxTimeout: 2000,
        randomize: true,
      },
    };
    this.client = new WebClient(options.token, clientOptions);
  }

  /** Every Web API call: counted by method and outcome, its failure classified. */
  private async call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.metrics?.slackCalls.inc({ method, outcome: 'ok' });
      return result;
    } catch (err) {
      this.metrics?.slackCalls.inc({ method, outcome: slackOutcome(err) });
      throw classifySlackError(method, err);
    }
  }

  /** A call whose failure with one of `codes` is an answer, not an error (the code is returned). */
  private async tolerate<T, C extends string>(
    method: string,
    codes: C[],
    run: () => Promise<T>,
  ): Promise<T | C> {
    try {
      return await this.call(method, run);
    } catch (err) {
      if (err instanceof PermanentError && (codes as string[]).includes(err.code)) return err.code as C;
      throw err;
    }
  }

  /** Verifies the token and learns who the bot is (remembered: it does not change while we run). */
  async authTest(): Promise<BotIdentity> {
    const res = await this.call('auth.test', () => this.client.auth.test());
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
    await this.call('views.open', () => this.client.views.open({ trigger_id: triggerId, view }));
  }

  /** Sets a person's App Home tab. */
  async publishHome(userId: string, view: View): Promise<void> {
    await this.call('views.publish', () => this.client.views.publish({ user_id: userId, view }));
  }

  /** Creates a channel; returns 'name_taken' instead of throwing when the name is in use. */
  async createChannel(name: string, isPrivate: boolean): Promise<ChannelInfo | 'name_taken'> {
    const res = await this.tolerate('conversations.create', ['name_taken'], () =>
      this.client.conversations.create({ name, is_private: isPrivate }),
    );
    if (res === 'name_taken') return res;
    return { id: res.channel?.id ?? '', name: res.channel?.name ?? name, creator: res.channel?.creator };
  }

  /** Finds a channel by exact name among the channels the bot can see (public, and private ones it is in). */
  async findChannelByName(name: string): Promise<ChannelInfo | undefined> {
    let cursor: string | undefined;
    // Bounded: 20 pages of 1,000 channels; a workspace larger than that falls back to a new name.
    for (let page = 0; page < 20; page++) {
      const res = await this.call('conversations.list', () =>
        this.client.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: false,
          limit: 1000,
          cursor,
        }),
      );
      const found = res.channels?.find((c) => c.name === name);
      if (found?.id) return { id: found.id, name, creator: found.creator };
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /** Invites one user; being in the channel already, or being the bot, is success. */
  async invite(channel: string, user: string): Promise<void> {
    await this.tolerate('conversations.invite', ['already_in_channel', 'cant_invite_self'], () =>
      this.client.conversations.invite({ channel, users: user }),
    );
  }

  async setTopic(channel: string, topic: string): Promise<void> {
    await this.call('conversations.setTopic', () => this.client.conversations.setTopic({ channel, topic }));
  }

  async postMessage(input: MessageInput): Promise<PostedMessage> {
    const res = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel: input.channel,
        text: input.text,
        blocks: input.blocks,
        thread_ts: input.threadTs,
        unfurl_links: false,
        unfurl_media: false,
        metadata: input.marker
          ? { event_type: input.marker.type, event_payload: { id: input.marker.id } }
          : undefined,
      }),
    );
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
    const res = await this.call('conversations.history', () =>
      this.client.conversations.history({
        channel,
        oldest: (oldest.getTime() / 1000 - 60).toFixed(6),
        limit: 200,
        include_all_metadata: true,
      }),
    );
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
    await this.call('chat.update', () =>
      this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks }),
    );
  }

  /** Whether a user is a member of a channel (used to show private incidents only to their members). */
  async isMember(channel: string, user: string): Promise<boolean> {
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await this.call('conversations.members', () =>
        this.client.conversations.members({ channel, limit: 1000, cursor }),
      );
      if (res.members?.includes(user)) return true;
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return false;
    }
    return false;
  }

  /** The members of a user group (`S…`). */
  async usergroupMembers(usergroup: string): Promise<string[]> {
    const res = await this.call('usergroups.users.list', () =>
      this.client.usergroups.users.list({ usergroup }),
    );
    return res.users ?? [];
  }

  /** Makes the channel's canvas with this Markdown; its id. */
  async createChannelCanvas(channelId: string, title: string, markdown: string): Promise<string> {
    const res = await this.call('conversations.canvases.create', () =>
      this.client.conversations.canvases.create({
        channel_id: channelId,
        title,
        document_content: { type: 'markdown', markdown },
      }),
    );
    if (!res.canvas_id)
      throw new PermanentError('no_canvas_id', 'conversations.canvases.create returned no id');
    return res.canvas_id;
  }

  /** The id of the channel's canvas, if it has one. */
  async channelCanvasId(channel: string): Promise<string | undefined> {
    const res = await this.call('conversations.info', () => this.client.conversations.info({ channel }));
    const properties = res.channel?.properties as { canvas?: { file_id?: string } } | undefined;
    return properties?.canvas?.file_id;
  }

  /** Replaces a canvas's whole content. */
  async replaceCanvas(canvasId: string, markdown: string): Promise<void> {
    await this.call('canvases.edit', () =>
      this.client.canvases.edit({
        canvas_id: canvasId,
        changes: [{ operation: 'replace', document_content: { type: 'markdown', markdown } }],
      }),
    );
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
    const target = await this.call('files.getUploadURLExternal', () =>
      this.client.files.getUploadURLExternal({ filename: input.filename, length: bytes.length }),
    );
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
    await this.call('files.completeUploadExternal', () =>
      this.client.files.completeUploadExternal({
        files: [{ id: fileId, title: input.title }],
        channel_id: input.channelId,
        initial_comment: input.comment,
      }),
    );
  }

  /** Sets a user group's members (never empty: Slack refuses that, and callers keep the last members). */
  async setUsergroupMembers(usergroup: string, users: string[]): Promise<void> {
    if (users.length === 0) throw new PermanentError('empty_usergroup', 'a user group cannot be emptied');
    await this.call('usergroups.users.update', () =>
      this.client.usergroups.users.update({ usergroup, users: users.join(',') }),
    );
  }

  /**
   * The bot's DM channel with a user (opened if needed), so a DM can be checked for in its history. A
   * bot's DM channel with a person never changes, so it is remembered: the people a bot DMs are mostly the
   * same few (reporters, the people on call), and each saves a call before every later DM.
   */
  async openDm(user: string): Promise<string> {
    const known = this.dmChannels.get(user);
    if (known) return known;
    const res = await this.call('conversations.open', () => this.client.conversations.open({ users: user }));
    const id = res.channel?.id;
    if (!id) throw new PermanentError('no_dm_channel', `conversations.open returned no channel for ${user}`);
    if (this.dmChannels.size >= DM_CHANNELS_REMEMBERED) this.dmChannels.clear();
    this.dmChannels.set(user, id);
    return id;
  }

  /** Pins a message; already pinned is success. */
  async pin(channel: string, ts: string): Promise<void> {
    await this.tolerate('pins.add', ['already_pinned'], () =>
      this.client.pins.add({ channel, timestamp: ts }),
    );
  }
}
