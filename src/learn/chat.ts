import type { ChatMessageRef } from '../incidents/chat.js';
import type { PostmortemStatus } from '../incidents/model.js';

/**
 * What learn says in Slack and where the postmortem lives, as a port (slack/chat.ts implements it): the
 * incident channel's canvas, a Markdown file when canvases are refused, and a notice with the controls.
 */

export type LearnNotice = {
  kind: 'postmortem_ready';
  incident: { id: string; number: number; title: string };
  where: { canvas: true } | { canvas: false; refused: string };
  status: PostmortemStatus;
  owner: string | null;
  dueAt: Date | null;
};

export interface LearnChat {
  /** The channel's canvas, made with this Markdown; its id. */
  createChannelCanvas(channelId: string, title: string, markdown: string): Promise<string>;
  /** Replaces a canvas's whole content. */
  replaceCanvas(canvasId: string, markdown: string): Promise<void>;
  /** The channel's canvas, if it has one. */
  channelCanvas(channelId: string): Promise<string | undefined>;
  /** Uploads a file (text, or bytes such as a PNG) into a channel, with a comment. */
  uploadFile(input: {
    channelId: string;
    filename: string;
    title: string;
    content: string | Uint8Array;
    comment: string;
  }): Promise<void>;
  /** The direct-message channel with a person, opened if needed. */
  openDm(user: string): Promise<string>;
  post(channel: string, notice: LearnNotice): Promise<ChatMessageRef>;
}

/** Slack's answers that mean "no canvas here" (plan, admin setting, scope): the file is the fallback. */
export const CANVAS_REFUSALS = new Set([
  'canvas_disabled_user_team',
  'team_tier_cannot_create_channel_canvases',
  'free_team_canvas_tab_already_exists',
  'channel_canvas_already_exists',
  'canvas_creation_failed',
  'channel_canvas_creation_failed',
  'canvas_tab_creation_failed',
  'restricted_action',
  'missing_scope',
  'not_allowed_token_type',
  'access_denied',
]);
