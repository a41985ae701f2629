/**
 * The one error vocabulary of the product.
 *
 * - `UserError`: a domain refusal or bad input, with a code and a message meant for the person who
 *   asked; the Slack layer shows it ephemerally (or under a modal field) and never logs it as a fault.
 * - `RetryableError`: a side effect that may work later (Slack 5xx, rate limit, timeout); the job
 *   engine retries the job, at `retryAfterMs` when Slack said when.
 * - `PermanentError`: a side effect that will not work by retrying (`restricted_action`,
 *   `missing_scope` …); the job is parked as failed and a human is told.
 * Anything else is a bug: logged with an id the user is shown.
 */

export class UserError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** For modal submissions: the block the message belongs under. */
    readonly blockId?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermanentError';
  }
}
