import { z } from 'zod';
import { parseDuration } from '../duration.js';

/** Values that several sections of the config file share. */

export const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel ID such as C0123ABCD');

/** A duration like `30s`, `5m`, `1h`, `2h30m` or `3d`, as milliseconds. */
export const duration = z
  .union([z.string(), z.number()], { error: 'is not a duration like 5m' })
  .transform((v, ctx) => {
    const ms = parseDuration(String(v));
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is not a duration like 5m' });
      return z.NEVER;
    }
    return ms;
  });

export const notifyId = z
  .string()
  .regex(
    /^([UWS][A-Z0-9]{2,}|schedule:[A-Za-z0-9_-]{1,40})$/,
    'must be a user ID (U…, W…), a user-group ID (S…) or schedule:<name>',
  );

export const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a user ID such as U0123ABCD');
