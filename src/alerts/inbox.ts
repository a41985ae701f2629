import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { INBOX_BOUND, inboxDepth } from './ingest.js';

/**
 * Admission for the alert endpoints: how many received notifications wait to be applied, looked up once a
 * second (not per request). Over the bound, or while the database does not answer, the endpoints say 503
 * with Retry-After — which Alertmanager retries — rather than take what they could not keep up with.
 */
export class Inbox {
  private depth = 0;
  private reachable = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly bound = INBOX_BOUND,
  ) {}

  async start(everyMs = 1000): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Why new notifications should wait, or undefined when they are welcome. */
  refusal(): string | undefined {
    if (!this.reachable) return 'the database is unavailable';
    if (this.depth >= this.bound) return `${this.depth} notifications are waiting to be applied`;
    return undefined;
  }

  private async refresh(): Promise<void> {
    try {
      this.depth = await inboxDepth(this.db);
      this.reachable = true;
    } catch (err) {
      if (this.reachable) this.logger.warn({ err }, 'alert inbox: cannot count what waits');
      this.reachable = false;
    }
  }
}
