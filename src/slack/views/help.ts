import { escapeMrkdwn, truncate } from '../../text.js';
import type { SlackMessage } from './blocks.js';

/** The command reference; README.md's command table lists the same commands (a test keeps them in step). */
export const COMMANDS: { usage: string; does: string }[] = [
  {
    usage: '/incident',
    does: 'Open the declare form; in an incident channel, show the incident card with its buttons',
  },
  { usage: '/incident declare [title]', does: 'Open the declare form with the title filled in' },
  { usage: '/incident role <commander|deputy|liaison|scribe> @person', does: 'Give a role to a person' },
  { usage: '/incident role', does: 'Open the roles form' },
  { usage: '/incident roles', does: 'List who holds each role' },
  { usage: '/incident severity <SEV1…>', does: 'Change the severity (sev1, SEV-1 and 1 work too)' },
  { usage: '/incident title <new title>', does: 'Rename the incident (the channel keeps its name)' },
  { usage: '/incident summary <new summary>', does: 'Change the incident’s summary' },
  { usage: '/incident update', does: 'Open the status update form (status, message, audience, next update)' },
  { usage: '/incident update <text>', does: 'Post a quick status update with the current status' },
  {
    usage: '/incident task add <text> [@person] [in <N>m]',
    does: 'Add a task, optionally assigned and time-boxed',
  },
  { usage: '/incident task done <n>', does: 'Complete task n' },
  { usage: '/incident task assign <n> @person', does: 'Give task n to a person' },
  { usage: '/incident tasks', does: 'List the tasks' },
  { usage: '/incident note <text>', does: 'Add a note to the timeline' },
  { usage: '/incident timeline', does: 'Show the timeline so far, page by page' },
  {
    usage: '/incident resolve [summary]',
    does: 'Resolve the incident (asks for a summary when none is given)',
  },
  { usage: '/incident reopen', does: 'Reopen a resolved incident' },
  {
    usage: '/incident ack',
    does: 'Acknowledge the incident: paging stops (and you are offered command if nobody has it)',
  },
  { usage: '/incident escalate [reason]', does: 'Page the next tier of the escalation policy now' },
  {
    usage: '/incident page @person [@group …] [reason]',
    does: 'Page people or user groups now, with the same DM and Acknowledge button',
  },
  { usage: '/incident list', does: 'List the open incidents of this workspace, newest first' },
  {
    usage: '/incident alerts',
    does: 'List the open alert groups, newest first, with their counts and links',
  },
  {
    usage: '/incident oncall [schedule]',
    does: 'Who is on call now for each schedule (or one), until when, and the next three handoffs',
  },
  {
    usage: '/incident oncall override <schedule> @person <duration>',
    does: 'Put a person on call for a schedule from now (such as 4h or 2d); without arguments, open the form',
  },
  { usage: '/incident oncall overrides', does: 'List current and coming overrides, each with Remove' },
  {
    usage: '/incident postmortem',
    does: 'Write (or regenerate) the postmortem from the timeline into the channel canvas, with Edit and review buttons',
  },
  { usage: '/incident postmortem export', does: 'Upload the postmortem here as a Markdown file' },
  {
    usage: '/incident postmortem owner @person',
    does: 'Name the postmortem’s owner (default: the commander)',
  },
  {
    usage: '/incident followup add <text> [@owner] [due YYYY-MM-DD | in <N>d]',
    does: 'Add a follow-up (an action item) to the incident; it outlives the incident',
  },
  { usage: '/incident followup done <n>', does: 'Complete follow-up n' },
  { usage: '/incident followup drop <n> <reason>', does: 'Drop follow-up n (not doing it), saying why' },
  {
    usage: '/incident followups',
    does: 'In an incident channel, its follow-ups; elsewhere yours, then everyone’s open ones, overdue first',
  },
  {
    usage: '/incident stats [7d|30d|90d|<N>d] [SEV…]',
    does: 'Incidents by severity, MTTA / MTTM / MTTR (median, p90, mean), follow-ups and alert numbers; the MTTR chart by DM',
  },
  {
    usage: '/incident webhooks',
    does: 'Admins: the latest webhook deliveries and failures, each failure with Redeliver',
  },
  { usage: '/incident webhooks ping', does: 'Admins: send a ping to every webhook endpoint' },
  { usage: '/incident help', does: 'Show this command reference' },
];

export function helpMessage(unknownSubcommand?: string): SlackMessage {
  const intro = unknownSubcommand
    ? `I don’t know \`${escapeMrkdwn(truncate(unknownSubcommand, 40))}\`. Here is what I can do:`
    : 'Here is what I can do:';
  const lines = COMMANDS.map((c) => `\`${c.usage}\` — ${c.does}`);
  // Sections hold 3,000 characters: the reference is cut into as many as it needs, between lines.
  const sections: string[] = [];
  for (const line of lines) {
    const last = sections.at(-1);
    if (last !== undefined && last.length + line.length + 1 <= 2900)
      sections[sections.length - 1] = `${last}\n${line}`;
    else sections.push(line);
  }
  return {
    // The notification text: short (the blocks carry the reference).
    text: `${intro} The command reference follows; \`/incident help\` shows it again.`,
    blocks: [intro, ...sections].map((t) => ({ type: 'section', text: { type: 'mrkdwn', text: t } })),
  };
}
