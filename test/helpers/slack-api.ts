import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { checkBlocks, checkModal } from './slack-limits.js';

/**
 * The Slack Web API as nock sees it: every call to https://slack.com/api/<method> is recorded and answered
 * like Slack would (channels with unique names, messages with ts and metadata, history). A test can
 * override any method to make it fail, per call.
 */

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** performance.now() when the call arrived. */
  at: number;
}

export type Reply = { status?: number; headers?: Record<string, string>; body: unknown };
export type Override = (args: Record<string, unknown>, nth: number) => Reply | undefined;

interface FakeChannel {
  id: string;
  name: string;
  creator: string;
  is_private: boolean;
  members: Set<string>;
  topic: string;
}
interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown;
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** Knobs for the HTTP transport: how slow and how unreliable Slack is. Rates are fractions of calls. */
export interface Faults {
  latencyMs: number;
  rate429: number;
  rate5xx: number;
  /** Calls that Slack applies but never answers (the client times out). */
  rateHang: number;
  hangMs: number;
  /** Methods never faulted (startup must work). */
  spare: string[];
}

/** A small deterministic random generator, so a fault run can be repeated. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BOT_USER_ID = 'UBOT00001';
/** The DM channel the fake opens with a user (D + the rest of the user id). */
export const dmChannelOf = (user: string) => `D${user.slice(1)}`;
export const TEAM_ID = 'T0TEAM001';
const JSON_FIELDS = new Set(['blocks', 'view', 'metadata', 'attachments']);

function parseArgs(body: unknown): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (typeof body === 'string') {
    for (const [k, v] of new URLSearchParams(body)) {
      args[k] = JSON_FIELDS.has(k) ? JSON.parse(v) : v;
    }
  } else if (body && typeof body === 'object') {
    Object.assign(args, body);
  }
  return args;
}

export class SlackApiMock {
  readonly calls: SlackCall[] = [];
  readonly channels: FakeChannel[] = [];
  readonly messages: FakeMessage[] = [];
  readonly pins: { channel: string; ts: string }[] = [];
  /** User groups (S…) and their members, for usergroups.users.list. */
  readonly usergroups = new Map<string, string[]>();
  /** Channel canvases by id; `refuseCanvases` makes conversations.canvases.create answer that error. */
  readonly canvases = new Map<string, { channel: string; title: string; markdown: string }>();
  refuseCanvases: string | undefined;
  /** Files uploaded (files.getUploadURLExternal, the POST of the bytes, files.completeUploadExternal). */
  readonly files: {
    id: string;
    filename: string;
    length: number;
    content?: string;
    /** The bytes as uploaded (a PNG's). */
    bytes?: Buffer;
    channel?: string;
    title?: string;
    comment?: string;
  }[] = [];
  private readonly overrides = new Map<string, Override>();
  private readonly holds = new Map<string, { arrived: () => void; released: Promise<void> }>();
  private readonly counts = new Map<string, number>();
  private nextTs = 1_700_000_000_000;
  private nextChannel = 1;
  readonly faults: Faults = {
    latencyMs: 0,
    rate429: 0,
    rate5xx: 0,
    rateHang: 0,
    hangMs: 0,
    spare: ['auth.test'],
  };
  /** What the fault knobs did, by kind. */
  readonly injected = { rate429: 0, rate5xx: 0, hang: 0 };
  private random = mulberry32(42);
  /** Resolved when a call to the method is seen (see waitFor). */
  private waiters: { method: string; resolve: () => void; test: (c: SlackCall) => boolean }[] = [];

  /** Answers one Web API call, recording it. Transport-free: nock or a real HTTP server feed it. */
  handle(method: string, args: Record<string, unknown>): Reply {
    const call = { method, args, at: performance.now() };
    this.calls.push(call);
    const nth = (this.counts.get(method) ?? 0) + 1;
    this.counts.set(method, nth);
    const reply = this.overrides.get(method)?.(args, nth) ?? this.answer(method, args);
    // Let waiters see the call after the reply has been produced.
    queueMicrotask(() => {
      this.waiters = this.waiters.filter((w) => {
        if (w.method === method && w.test(call)) {
          w.resolve();
          return false;
        }
        return true;
      });
    });
    return reply;
  }

  /** Intercepts https://slack.com/api/* in this process with nock. */
  static withNock(origin = 'https://slack.com'): SlackApiMock {
    const mock = new SlackApiMock();
    nock(origin)
      .persist()
      .post(/^\/api\/[a-zA-Z.]+$/)
      .reply((uri, body, callback) => {
        const method = uri.replace(/^\/api\//, '');
        const answer = () => {
          const reply = mock.handle(method, parseArgs(body));
          callback(null, [
            reply.status ?? 200,
            JSON.stringify(reply.body),
            { 'content-type': 'application/json', ...reply.headers },
          ]);
        };
        const hold = mock.holds.get(method);
        if (!hold) return answer();
        mock.holds.delete(method);
        hold.arrived();
        void hold.released.then(answer);
      });
    // The bytes of an upload, POSTed to the URL files.getUploadURLExternal gave.
    nock('https://files.slack.com')
      .persist()
      .post(/^\/upload\/v1\/[A-Z0-9]+$/)
      .reply((uri, body) => {
        // nock hands over a body that is not UTF-8 (a PNG) as hex, any other as text.
        const text = typeof body === 'string' ? body : Buffer.from(body as Buffer).toString('utf8');
        const bytes =
          /^([0-9a-f]{2})+$/.test(text) && text.startsWith('89504e47')
            ? Buffer.from(text, 'hex')
            : Buffer.from(text);
        const reply = mock.handle('file_upload', { id: uri.split('/').at(-1), content: text, bytes });
        return [reply.status ?? 200, 'OK - file uploaded'];
      });
    // Answers sent through a command's or an action's response_url.
    nock('https://hooks.slack.com')
      .persist()
      .post(/.*/)
      .reply((uri, body) => {
        mock.handle('response_url', { url: uri, ...(typeof body === 'string' ? JSON.parse(body) : body) });
        return [200, 'ok'];
      });
    return mock;
  }

  /** Serves the fake API on 127.0.0.1 for a bot running in another process; returns its SLACK_API_URL. */
  async listen(): Promise<{ apiUrl: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
          const raw = Buffer.concat(chunks).toString('utf8');
          const isJson = (req.headers['content-type'] ?? '').includes('json');
          const send = (reply: Reply) => {
            if (res.destroyed) return;
            res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
            res.end(JSON.stringify(reply.body));
          };
          if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
          if (!/^Bearer (xox[bp]|xapp)-/.test(String(req.headers.authorization ?? ''))) {
            send({ body: { ok: false, error: 'not_authed' } });
            return;
          }
          const roll = this.faults.spare.includes(method) ? 1 : this.random();
          const f = this.faults;
          if (roll < f.rate429) {
            this.injected.rate429++;
            send({ status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } });
            return;
          }
          if (roll < f.rate429 + f.rate5xx) {
            this.injected.rate5xx++;
            send({ status: 500, body: { ok: false, error: 'internal_error' } });
            return;
          }
          const reply = this.handle(method, parseArgs(isJson && raw ? JSON.parse(raw) : raw));
          if (roll < f.rate429 + f.rate5xx + f.rateHang) {
            // Applied, but the answer comes too late: the client has given up and will retry.
            this.injected.hang++;
            setTimeout(() => send(reply), f.hangMs);
            return;
          }
          send(reply);
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      apiUrl: `http://127.0.0.1:${port}/api/`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  override(method: string, fn: Override): void {
    this.overrides.set(method, fn);
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /**
   * Holds the next call to `method` (nock mode): it is applied and answered only on `release()`, so a test
   * can change things while the bot waits for Slack.
   */
  holdNext(method: string): { arrived: Promise<void>; release: () => void } {
    let arrived: () => void = () => {};
    let release: () => void = () => {};
    const seen = new Promise<void>((r) => {
      arrived = r;
    });
    const released = new Promise<void>((r) => {
      release = r;
    });
    this.holds.set(method, { arrived, released });
    return { arrived: seen, release };
  }

  waitFor(method: string, test: (c: SlackCall) => boolean = () => true, timeoutMs = 15_000): Promise<void> {
    if (this.calls.some((c) => c.method === method && test(c))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${method}`)), timeoutMs);
      this.waiters.push({
        method,
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Adds a channel that exists before the test (e.g. a human's channel with a colliding name). */
  addChannel(name: string, creator = 'UHUMAN001', isPrivate = false): FakeChannel {
    const channel = {
      id: `C${String(this.nextChannel++).padStart(8, '0')}`,
      name,
      creator,
      is_private: isPrivate,
      members: new Set([creator]),
      topic: '',
    };
    this.channels.push(channel);
    return channel;
  }

  /** Slack's message limits: 50 blocks, each within its own limits; text under 40,000 characters. */
  private invalidMessage(args: Record<string, unknown>): Reply | undefined {
    const text = String(args.text ?? '');
    const blocks = args.blocks as unknown[] | undefined;
    if (!text && !blocks) return this.fail('no_text');
    if (text.length > 40_000) return this.fail('msg_too_long');
    if (blocks) {
      const problems = checkBlocks(blocks as never, 50);
      if (problems.length) return this.fail('invalid_blocks', { response_metadata: { messages: problems } });
    }
    return undefined;
  }

  private ok(body: Record<string, unknown> = {}): Reply {
    return { body: { ok: true, ...body } };
  }

  private fail(error: string, extra: Record<string, unknown> = {}): Reply {
    return { body: { ok: false, error, ...extra } };
  }

  private answer(method: string, args: Record<string, unknown>): Reply {
    switch (method) {
      case 'auth.test':
        return this.ok({
          user_id: BOT_USER_ID,
          team_id: TEAM_ID,
          bot_id: 'B0BOT0001',
          user: 'incident-bot',
          url: 'https://acme.slack.com/',
        });
      case 'views.open': {
        const view = args.view as
          | { title?: { text?: string }; blocks?: unknown[]; private_metadata?: string }
          | undefined;
        const problems = view ? checkModal(view as never) : ['no view'];
        return problems.length
          ? this.fail('invalid_arguments', { response_metadata: { messages: problems } })
          : this.ok({ view: { id: 'V0MODAL01' } });
      }
      case 'conversations.create': {
        const name = String(args.name ?? '');
        if (name === '') return this.fail('invalid_name_required');
        if (name.length > 80) return this.fail('invalid_name_maxlength');
        if (!/^[a-z0-9_-]+$/.test(name)) return this.fail('invalid_name_specials');
        if (this.channels.some((c) => c.name === name)) return this.fail('name_taken');
        const ch = this.addChannel(name, BOT_USER_ID, args.is_private === 'true' || args.is_private === true);
        return this.ok({
          channel: { id: ch.id, name: ch.name, creator: ch.creator, is_private: ch.is_private },
        });
      }
      case 'conversations.list':
        return this.ok({
          channels: this.channels.map((c) => ({
            id: c.id,
            name: c.name,
            creator: c.creator,
            is_private: c.is_private,
          })),
          response_metadata: { next_cursor: '' },
        });
      case 'conversations.invite': {
        const ch = this.channels.find((c) => c.id === args.channel);
        if (!ch) return this.fail('channel_not_found');
        const user = String(args.users);
        if (user === BOT_USER_ID) return this.fail('cant_invite_self');
        if (ch.members.has(user)) return this.fail('already_in_channel');
        ch.members.add(user);
        return this.ok({ channel: { id: ch.id } });
      }
      case 'conversations.setTopic': {
        const ch = this.channels.find((c) => c.id === args.channel);
        if (!ch) return this.fail('channel_not_found');
        if (Array.from(String(args.topic ?? '')).length > 250) return this.fail('too_long');
        ch.topic = String(args.topic);
        return this.ok({ channel: { id: ch.id, topic: { value: ch.topic } } });
      }
      case 'chat.postMessage': {
        const invalid = this.invalidMessage(args);
        if (invalid) return invalid;
        const channel = String(args.channel);
        const ts = `${Math.floor(this.nextTs / 1000)}.${String(this.nextTs++ % 1000).padStart(6, '0')}`;
        this.messages.push({
          channel,
          ts,
          text: String(args.text ?? ''),
          blocks: args.blocks,
          thread_ts: args.thread_ts as string | undefined,
          metadata: args.metadata as FakeMessage['metadata'],
        });
        return this.ok({ channel, ts, message: { text: args.text, ts } });
      }
      case 'conversations.history': {
        const msgs = this.messages.filter((m) => m.channel === args.channel).reverse();
        return this.ok({
          messages: msgs.map((m) => ({ type: 'message', ts: m.ts, text: m.text, metadata: m.metadata })),
        });
      }
      case 'response_url':
        return this.ok();
      case 'conversations.open': {
        const user = String(args.users ?? '');
        if (!/^[UW][A-Z0-9]+$/.test(user)) return this.fail('user_not_found');
        return this.ok({ channel: { id: dmChannelOf(user) } });
      }
      case 'usergroups.users.list': {
        const users = this.usergroups.get(String(args.usergroup));
        return users ? this.ok({ users }) : this.fail('no_such_subteam');
      }
      case 'conversations.canvases.create': {
        if (this.refuseCanvases) return this.fail(this.refuseCanvases);
        const channel = String(args.channel_id ?? '');
        if ([...this.canvases.values()].some((c) => c.channel === channel))
          return this.fail('channel_canvas_already_exists');
        const doc = (
          typeof args.document_content === 'string'
            ? JSON.parse(args.document_content)
            : args.document_content
        ) as { markdown?: string } | undefined;
        if ((doc?.markdown ?? '').length > 1_048_576) return this.fail('canvas_creation_failed');
        const id = `F0CANVAS${this.canvases.size + 1}`;
        this.canvases.set(id, { channel, title: String(args.title ?? ''), markdown: doc?.markdown ?? '' });
        return this.ok({ canvas_id: id });
      }
      case 'conversations.info': {
        const id = String(args.channel ?? '');
        const ch = this.channels.find((c) => c.id === id);
        if (!ch) return this.fail('channel_not_found');
        const canvas = [...this.canvases.entries()].find(([, c]) => c.channel === id)?.[0];
        return this.ok({
          channel: { id, name: ch.name, ...(canvas ? { properties: { canvas: { file_id: canvas } } } : {}) },
        });
      }
      case 'canvases.edit': {
        const canvas = this.canvases.get(String(args.canvas_id));
        if (!canvas) return this.fail('canvas_not_found');
        const changes = (typeof args.changes === 'string' ? JSON.parse(args.changes) : args.changes) as {
          operation: string;
          document_content?: { markdown?: string };
        }[];
        for (const c of changes)
          if (c.operation === 'replace') canvas.markdown = c.document_content?.markdown ?? '';
        return this.ok();
      }
      case 'files.getUploadURLExternal': {
        const id = `F0FILE${this.files.length + 1}`;
        this.files.push({ id, filename: String(args.filename ?? ''), length: Number(args.length ?? 0) });
        return this.ok({ upload_url: `https://files.slack.com/upload/v1/${id}`, file_id: id });
      }
      case 'file_upload': {
        const file = this.files.find((f) => f.id === args.id);
        if (!file) return { status: 404, body: {} };
        file.content = String(args.content ?? '');
        file.bytes = args.bytes as Buffer;
        return { status: 200, body: {} };
      }
      case 'files.completeUploadExternal': {
        const list = (typeof args.files === 'string' ? JSON.parse(args.files) : args.files) as {
          id: string;
          title?: string;
        }[];
        for (const f of list) {
          const file = this.files.find((x) => x.id === f.id);
          if (!file?.content) return this.fail('file_not_found');
          Object.assign(file, {
            channel: String(args.channel_id ?? ''),
            title: f.title,
            comment: String(args.initial_comment ?? ''),
          });
        }
        return this.ok({ files: list.map((f) => ({ id: f.id, title: f.title })) });
      }
      case 'usergroups.users.update': {
        const group = String(args.usergroup);
        if (!this.usergroups.has(group)) return this.fail('no_such_subteam');
        const users = String(args.users ?? '')
          .split(',')
          .filter(Boolean);
        // Slack refuses to empty a user group.
        if (users.length === 0) return this.fail('no_users_provided');
        this.usergroups.set(group, users);
        return this.ok({ usergroup: { id: group, users } });
      }
      case 'chat.update': {
        const invalid = this.invalidMessage(args);
        if (invalid) return invalid;
        const m = this.messages.find((x) => x.channel === args.channel && x.ts === args.ts);
        if (!m) return this.fail('message_not_found');
        m.text = String(args.text ?? '');
        m.blocks = args.blocks;
        return this.ok({ channel: m.channel, ts: m.ts });
      }
      case 'conversations.members': {
        const ch = this.channels.find((c) => c.id === args.channel);
        if (!ch) return this.fail('channel_not_found');
        return this.ok({ members: [...ch.members], response_metadata: { next_cursor: '' } });
      }
      case 'pins.add': {
        if (this.pins.some((p) => p.channel === args.channel && p.ts === args.timestamp))
          return this.fail('already_pinned');
        this.pins.push({ channel: String(args.channel), ts: String(args.timestamp) });
        return this.ok();
      }
      default:
        return this.fail('unknown_method');
    }
  }
}

/** Only loopback traffic (the app under test) may leave the process; Slack is nock. */
export function isolateNetwork(): void {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
}

export function resetNetwork(): void {
  nock.cleanAll();
  nock.enableNetConnect();
}
