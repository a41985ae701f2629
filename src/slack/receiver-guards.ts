import { HTTPModuleFunctions } from '@slack/bolt';
import { z } from 'zod';

/**
 * Guards around Bolt 5.1's HTTP receiver, found by the hostile-input suite. Each throws inside Bolt's own
 * error path, so the request is answered 401 (authenticity) or 400 (malformed body) at once:
 *
 * - a correctly signed request timestamped more than 5 minutes in the *future* was accepted (Bolt only
 *   refuses old ones); SLACK.md: refuse both;
 * - a signed body whose JSON is not an object (`payload=null`) crashed the whole process (Bolt reads
 *   `body.ssl_check` unguarded in a detached promise);
 * - bodies without the fields Bolt dereferences (a view_submission without `view`, `actions` that is not
 *   a list …) became HTTP 500s, and bodies of no known type waited out Slack's 3 seconds for a 404.
 */

const MAX_SKEW_MS = 5 * 60_000;

const user = z.looseObject({ id: z.string() });
const envelope = z.union([
  z.looseObject({ command: z.string(), user_id: z.string(), team_id: z.string(), channel_id: z.string() }),
  z.looseObject({
    type: z.literal('view_submission'),
    user,
    view: z.looseObject({
      id: z.string(),
      callback_id: z.string(),
      state: z.looseObject({ values: z.record(z.string(), z.unknown()) }),
    }),
  }),
  z.looseObject({ type: z.literal('view_closed'), user, view: z.looseObject({ callback_id: z.string() }) }),
  z.looseObject({
    type: z.literal('block_actions'),
    user,
    actions: z.array(z.looseObject({ action_id: z.string() })).min(1),
  }),
  z.looseObject({ type: z.enum(['url_verification', 'event_callback', 'app_rate_limited']) }),
  z.looseObject({
    type: z.enum(['shortcut', 'message_action', 'block_suggestion', 'interactive_message']),
    user,
  }),
  z.looseObject({ ssl_check: z.string() }),
]);

type Functions = {
  parseHTTPRequestBody: typeof HTTPModuleFunctions.parseHTTPRequestBody;
  parseAndVerifyHTTPRequest: typeof HTTPModuleFunctions.parseAndVerifyHTTPRequest;
};

let installed = false;

export function installReceiverGuards(now: () => number = Date.now): void {
  if (installed) return;
  installed = true;
  // The namespace is Bolt's CommonJS exports object, which its receiver reads at call time.
  const functions = HTTPModuleFunctions as Functions;
  const verify = functions.parseAndVerifyHTTPRequest;
  functions.parseAndVerifyHTTPRequest = async (options, req) => {
    const ts = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(ts) && ts * 1000 > now() + MAX_SKEW_MS) {
      throw new Error(
        'Failed to verify authenticity: x-slack-request-timestamp is more than 5 minutes in the future',
      );
    }
    return verify(options, req);
  };
  const parse = functions.parseHTTPRequestBody;
  functions.parseHTTPRequestBody = (req) => {
    const body: unknown = parse(req);
    const checked = envelope.safeParse(body);
    if (!checked.success) throw new Error('the request body is not a Slack request this app understands');
    return body;
  };
}
