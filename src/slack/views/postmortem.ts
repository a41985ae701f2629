import { createHash } from 'node:crypto';
import type { KnownBlock, View } from '@slack/web-api';
import {
  POSTMORTEM_PART_MAX,
  POSTMORTEM_PARTS,
  POSTMORTEM_STATUS_WORDS,
  POSTMORTEM_STATUSES,
  type PostmortemPart,
  type PostmortemStatus,
} from '../../incidents/model.js';
import type { LearnNotice } from '../../learn/chat.js';
import { escapeMrkdwn, truncate } from '../../text.js';
import { POSTMORTEM_ACTION, POSTMORTEM_MODAL } from '../ids.js';
import { mentionUser, slackDate } from '../text.js';
import { button, type SlackMessage, section, text } from './blocks.js';

/** The postmortem: where it is, its review buttons, and the form for the parts people write. */

const NEXT: Record<PostmortemStatus, PostmortemStatus | undefined> = {
  draft: 'in_review',
  in_review: 'reviewed',
  reviewed: 'closed',
  closed: undefined,
};

const STATUS_BUTTON: Record<PostmortemStatus, string> = {
  draft: 'Back to draft',
  in_review: 'Ready for review',
  reviewed: 'Mark reviewed',
  closed: 'Close',
};

/** Edit postmortem, the next review step (primary), and the way back to draft. */
export function postmortemControls(incidentId: string, status: PostmortemStatus): KnownBlock {
  const next = NEXT[status];
  const statuses = POSTMORTEM_STATUSES.filter((s) => s !== status && (s === next || s === 'draft'));
  return {
    type: 'actions',
    elements: [
      button(POSTMORTEM_ACTION.edit, 'Edit postmortem', incidentId),
      ...statuses.map((s) =>
        button(
          POSTMORTEM_ACTION.status,
          STATUS_BUTTON[s],
          `${incidentId}:${s}`,
          s === next ? 'primary' : undefined,
        ),
      ),
    ],
  };
}

const facts = (status: PostmortemStatus, owner: string | null | undefined, dueAt: Date | null | undefined) =>
  `Status: *${POSTMORTEM_STATUS_WORDS[status]}*${owner ? ` · owner ${mentionUser(owner)}` : ''}${dueAt ? ` · due ${slackDate(dueAt, '{date_short_pretty} {time}')}` : ''}`;

/** Posted in the incident channel when the canvas is made, or the file uploaded instead. */
export function postmortemReadyMessage(n: LearnNotice): SlackMessage {
  const where = n.where.canvas
    ? 'is in this channel’s canvas (the canvas icon at the top of the channel)'
    : `was uploaded as a Markdown file: Slack refused a canvas here (\`${escapeMrkdwn(n.where.refused)}\`)`;
  const line = `📝 The postmortem of incident #${n.incident.number} *${escapeMrkdwn(truncate(n.incident.title, 100))}* ${where}. It is generated from the timeline; write the human parts with *Edit postmortem*.`;
  return {
    text: line,
    blocks: [
      section(`${line}\n${facts(n.status, n.owner, n.dueAt)}`),
      postmortemControls(n.incident.id, n.status),
    ],
  };
}

/** The answer to `/incident postmortem`. */
export function postmortemAnswer(
  incidentId: string,
  status: PostmortemStatus,
  canvas: boolean,
): SlackMessage {
  const line = canvas
    ? '📝 Regenerating the postmortem in the channel canvas from the timeline; what people wrote is kept.'
    : '📝 Writing the postmortem from the timeline: it goes into the channel canvas (or, where Slack refuses canvases, a Markdown file). `/incident postmortem export` gets the file any time.';
  return {
    text: line,
    blocks: [section(`${line}\n${facts(status, null, null)}`), postmortemControls(incidentId, status)],
  };
}

const PART_LABEL: Record<PostmortemPart, string> = {
  overview: 'Overview',
  whatHappened: 'What happened',
  contributingFactors: 'Contributing factors',
  resolution: 'Resolution',
  wentWell: 'What went well',
  wentBadly: 'What didn’t go well',
  lucky: 'Where we got lucky',
};

const PART_HINT: Record<PostmortemPart, string> = {
  overview: 'A few sentences: what happened and its impact.',
  whatHappened: 'How it unfolded, from the first sign to the fix.',
  contributingFactors: 'The conditions that together allowed it. Blameless: no root cause, no culprit.',
  resolution: 'What was done to mitigate and resolve it.',
  wentWell: 'What helped.',
  wentBadly: 'What got in the way.',
  lucky: 'Where it could have been worse.',
};

/** A short fingerprint of a part's text as the form showed it. */
export const partPrint = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, 12);

/**
 * The form for the parts people write, prefilled with what is stored. Markdown is welcome. Its metadata
 * fingerprints what it showed, so saving writes only the parts this person changed: two people editing at
 * once do not overwrite each other's parts with what their form showed before.
 */
export function editPostmortemModal(
  incident: { id: string; number: number },
  parts: Record<PostmortemPart, string>,
): View {
  return {
    type: 'modal',
    callback_id: POSTMORTEM_MODAL.callbackId,
    title: text(truncate(`Postmortem #${incident.number}`, 24)),
    submit: text('Save'),
    close: text('Cancel'),
    private_metadata: JSON.stringify({
      incidentId: incident.id,
      shown: Object.fromEntries(POSTMORTEM_PARTS.map((p) => [p, partPrint(parts[p] ?? '')])),
    }),
    blocks: POSTMORTEM_PARTS.map((p) => ({
      type: 'input',
      block_id: p,
      optional: true,
      label: text(PART_LABEL[p]),
      hint: text(PART_HINT[p]),
      element: {
        type: 'plain_text_input',
        action_id: p,
        multiline: true,
        max_length: POSTMORTEM_PART_MAX,
        ...(parts[p] ? { initial_value: truncate(parts[p], POSTMORTEM_PART_MAX) } : {}),
      },
    })),
  };
}
