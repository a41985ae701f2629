import { capitalized, INCIDENT_STATUS_WORDS, type IncidentStatus, type Role } from '../../incidents/model.js';
import { mentionUser } from '../text.js';

/** How the domain's words read in Slack. */

export const statusLabel = (status: IncidentStatus): string => capitalized(INCIDENT_STATUS_WORDS[status]);

const ROLE_LABEL: Record<Role, string> = {
  commander: 'Commander',
  deputy: 'Deputy',
  liaison: 'Liaison',
  scribe: 'Scribe',
};

export const roleLabel = (role: Role): string => ROLE_LABEL[role];

/** `#12 Title` as plain text (for headers, which Slack does not parse as mrkdwn). */
export const incidentName = (i: { number: number; title: string }): string => `#${i.number} ${i.title}`;

/** A person's mention, or _unassigned_. */
export const personOrUnassigned = (userId: string | undefined): string =>
  userId ? mentionUser(userId) : '_unassigned_';
