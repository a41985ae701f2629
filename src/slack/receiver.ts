import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type App,
  type BufferedIncomingMessage,
  HTTPModuleFunctions,
  HTTPResponseAck,
  type Receiver,
  type ReceiverEvent,
  verifySlackRequest,
} from '@slack/bolt';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { boltLogger } from './bolt-logger.js';

/**
 * Slack's HTTP requests (slash commands, interactivity, events), received on the bot's own HTTP server
 * (src/http) at POST /slack/events. A Bolt `Receiver` — Bolt's documented extension point — built from
 * Bolt's exported helpers: `verifySlackRequest` for the signature, `HTTPModuleFunctions` to buffer and
 * parse the body and to answer, `HTTPResponseAck` for the acknowledgement. On top of what Bolt's own
 * HTTPReceiver does (as of Bolt 5.1, found by the hostile-input suite):
 *
 * - a correctly signed request timestamped more than 5 minutes in the *future* is refused (401): Bolt
 *   only refuses old ones, and SLACK.md says refuse both;
 * - a signed body that is not a Slack request this app understands (`payload=null`, a view_submission
 *   without `view`, `actions` that is not a list …) is answered 400 at once: Bolt crashed the process on
 *   `payload=null` (it reads `body.ssl_check` in a detached promise), answered 500 to bodies missing the
 *   fields it dereferences, and left bodies of no known type waiting out Slack's 3 seconds.
 *
 * Delete the two checks when Bolt refuses future timestamps and validates bodies itself (neither is
 * reported upstream as of bolt-js 5.1.0).
 */

const MAX_SKEW_MS = 5 * 60_000;
/** Slack sends small bodies; anything larger is refused with 413 before it is buffered. */
const BODY_LIMIT = 1024 * 1024;

const user = z.looseObject({ id: z.string() });
const withUser = z.looseObject({ user });
/**
 * The shape each kind of request must have, chosen by its `command` or `type` field: one schema checked
 * per request (a union tried its members in turn, and building the failures of the ones that did not
 * match cost more than the check itself).
 */
const command = z.looseObject({
  command: z.string(),
  user_id: z.string(),
  team_id: z.string(),
  channel_id: z.string(),
});
const byType = new Map<string, z.ZodType>(
  Object.entries({
    view_submission: z.looseObject({
      type: z.literal('view_submission'),
      user,
      view: z.looseObject({
        id: z.string(),
        callback_id: z.string(),
        state: z.looseObject({ values: z.record(z.string(), z.unknown()) }),
      }),
    }),
    view_closed: z.looseObject({ user, view: z.looseObject({ callback_id: z.string() }) }),
    block_actions: z.looseObject({
      user,
      actions: z.array(z.looseObject({ action_id: z.string() })).min(1),
    }),
    url_verification: z.looseObject({}),
    event_callback: z.looseObject({}),
    app_rate_limited: z.looseObject({}),
    shortcut: withUser,
    message_action: withUser,
    block_suggestion: withUser,
    interactive_message: withUser,
  }),
);
/** The request if it has the shape of a Slack request this app understands, else undefined. */
function understood(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as Record<string, unknown>;
  const schema =
    'command' in fields ? command : typeof fields.type === 'string' ? byType.get(fields.type) : undefined;
  return schema?.safeParse(body).success ? fields : undefined;
}

export interface SlackHttpReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Tests set true so the HTTP response waits for the listener (deterministic assertions). */
  processBeforeResponse?: boolean;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

export class SlackHttpReceiver implements Receiver {
  private app: App | undefined;
  private readonly log: Logger;
  private readonly boltLog: ReturnType<typeof boltLogger>;
  private readonly now: () => number;

  constructor(private readonly options: SlackHttpReceiverOptions) {
    this.log = options.logger;
    this.boltLog = boltLogger(options.logger);
    this.now = options.now ?? Date.now;
  }

  init(app: App): void {
    this.app = app;
  }

  /** The HTTP server is the bot's own (src/http); Bolt's start and stop have nothing to do here. */
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** POST /slack/events. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let buffered: BufferedIncomingMessage;
    try {
      buffered = await HTTPModuleFunctions.bufferIncomingMessage(req, BODY_LIMIT);
    } catch (err) {
      if (
        HTTPModuleFunctions.isRawBodyError(err) &&
        (err.type === 'entity.too.large' || err.statusCode === 413)
      ) {
        this.log.warn(`request body over the ${BODY_LIMIT}-byte limit refused`);
        return HTTPModuleFunctions.buildNoBodyResponse(res, 413);
      }
      this.log.warn({ err }, 'could not read the request body');
      return HTTPModuleFunctions.buildNoBodyResponse(res, 400);
    }
    const rawBody = buffered.rawBody.toString();
    const isForm = req.headers['content-type'] === 'application/x-www-form-urlencoded';

    // Slack's SSL check carries no signature and needs nothing but a 200 (whatever else the body says).
    if (isForm && new URLSearchParams(rawBody).get('ssl_check') === '1') {
      return HTTPModuleFunctions.buildSSLCheckResponse(res);
    }

    const refusal = this.authenticityProblem(req, rawBody);
    if (refusal) {
      this.log.warn(`refused a request: ${refusal}`);
      return HTTPModuleFunctions.buildNoBodyResponse(res, 401);
    }

    let body: unknown;
    try {
      body = HTTPModuleFunctions.parseHTTPRequestBody(buffered);
    } catch (err) {
      this.log.warn({ err }, 'malformed request body');
      return HTTPModuleFunctions.buildNoBodyResponse(res, 400);
    }
    const known = understood(body);
    if (!known) {
      this.log.warn('the request body is not a Slack request this app understands');
      return HTTPModuleFunctions.buildNoBodyResponse(res, 400);
    }
    if (known.type === 'url_verification')
      return HTTPModuleFunctions.buildUrlVerificationResponse(res, known);

    const ack = new HTTPResponseAck({
      logger: this.boltLog,
      processBeforeResponse: this.options.processBeforeResponse ?? false,
      httpRequest: buffered,
      httpRequestBody: known,
      httpResponse: res,
    });
    const event: ReceiverEvent = {
      body: known,
      ack: ack.bind(),
      retryNum: HTTPModuleFunctions.extractRetryNumFromHTTPRequest(req),
      retryReason: HTTPModuleFunctions.extractRetryReasonFromHTTPRequest(req),
    };
    try {
      await this.app?.processEvent(event);
      if (ack.storedResponse !== undefined) HTTPModuleFunctions.buildContentResponse(res, ack.storedResponse);
    } catch (error) {
      const acknowledged = await HTTPModuleFunctions.defaultProcessEventErrorHandler({
        error: error as Error,
        logger: this.boltLog,
        request: req,
        response: res,
        storedResponse: ack.storedResponse,
      });
      if (acknowledged) ack.ack();
    }
  };

  /** Why the request is not authentically Slack's, or undefined when it is. */
  private authenticityProblem(req: IncomingMessage, rawBody: string): string | undefined {
    const signature = req.headers['x-slack-signature'];
    const timestamp = req.headers['x-slack-request-timestamp'];
    if (typeof signature !== 'string' || typeof timestamp !== 'string') return 'missing signature headers';
    const ts = Number(timestamp);
    if (Number.isFinite(ts) && ts * 1000 > this.now() + MAX_SKEW_MS) {
      return 'x-slack-request-timestamp is more than 5 minutes in the future';
    }
    try {
      verifySlackRequest({
        signingSecret: this.options.signingSecret,
        body: rawBody,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
        nowMilliseconds: this.now(),
      });
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}
