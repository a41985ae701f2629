import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { reusable } from '../db/prepared.js';
import { incidentRoles, incidents } from '../db/schema.js';
import { type LeasedJob, newJobWith } from '../jobs/job.js';
import { codePoints, stripControl } from '../text.js';
import { eventValues, recordEvent, recordEventWith } from '../timeline/timeline.js';
import { SUMMARY_MAX, TITLE_MAX, USER_ID } from './model.js';
import { findIncidentByDeclareKey } from './queries.js';
import { planOnDeclare } from './reminders.js';
import { leasedSetupJob, setupJobValues } from './setup.js';
import type { IncidentDeps, Locked } from './unit-of-work.js';

/** The declare form's fields, validated; each message is shown under its field. */
export function declareFormSchema(severities: { id: string }[]) {
  const known = new Set(severities.map((s) => s.id));
  return z.object({
    title: z
      .string()
      .default('')
      .transform((s) => stripControl(s).replace(/\s+/g, ' ').trim())
      .refine((s) => s.length > 0, 'Give the incident a title.')
      .refine((s) => codePoints(s) <= TITLE_MAX, {
        error: (iss) =>
          `Keep the title to ${TITLE_MAX} characters or fewer (this one has ${codePoints(String(iss.input))}).`,
      }),
    severity: z.string({ error: 'Choose a severity.' }).refine((s) => known.has(s), {
      error: (iss) => `"${String(iss.input)}" is not a severity; choose one from the list.`,
    }),
    summary: z
      .string()
      .nullish()
      .transform((s) => stripControl(s ?? '').trim())
      .refine((s) => codePoints(s) <= SUMMARY_MAX, `Keep the summary to ${SUMMARY_MAX} characters or fewer.`),
    commanderId: z
      .string()
      .regex(USER_ID, 'Choose a person from the list.')
      .nullish()
      .transform((s) => s ?? undefined),
    isPrivate: z.boolean().default(false),
    isTest: z.boolean().default(false),
  });
}

export type DeclareFields = z.output<ReturnType<typeof declareFormSchema>>;
export type DeclareFieldErrors = Partial<Record<keyof DeclareFields, string>>;

/**
 * One schema per severity list (the configuration's, for as long as it runs): building a zod schema and
 * its first parse (zod compiles a fast path per schema) cost 1.5 ms of CPU a submission when it was built
 * each time, on the path that answers Slack (bench/profile.ts, one declaration at a time).
 */
const schemaFor = new WeakMap<{ id: string }[], ReturnType<typeof declareFormSchema>>();

/** Validates raw form values; returns the clean fields or one message per bad field. */
export function validateDeclareForm(
  raw: Record<string, unknown>,
  severities: { id: string }[],
): { ok: true; fields: DeclareFields } | { ok: false; errors: DeclareFieldErrors } {
  let schema = schemaFor.get(severities);
  if (!schema) {
    schema = declareFormSchema(severities);
    schemaFor.set(severities, schema);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, fields: parsed.data };
  const errors: DeclareFieldErrors = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as keyof DeclareFields;
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}

export interface DeclareRequest extends DeclareFields {
  teamId: string;
  reporterId: string;
  /** Idempotency key from Slack (the modal's view.id): the same key always means the same incident. */
  declareKey: string;
  sourceChannelId: string | undefined;
}

/**
 * The declaration's insert, its `declared` event and its setup job in one statement, built once
 * (db/prepared.ts): a repeated declare key inserts none of them. The id is chosen here, so the event and
 * the job can name it up front.
 */
const insertIncident = reusable('incidents_declare', (db) => {
  const p = sql.placeholder;
  const declared = db.$with('declared').as(
    db
      .insert(incidents)
      .values({
        id: p('id'),
        teamId: p('teamId'),
        number: 0,
        title: p('title'),
        summary: p('summary'),
        severity: p('severity'),
        isPrivate: p('isPrivate'),
        isTest: p('isTest'),
        reporterId: p('reporterId'),
        sourceChannelId: p('sourceChannelId'),
        declareKey: p('declareKey'),
        channelName: '',
        declaredAt: p('now'),
        updatedAt: p('now'),
      })
      .onConflictDoNothing({ target: [incidents.teamId, incidents.declareKey] })
      .returning(),
  );
  const setup = newJobWith(db, declared);
  return db
    .with(declared, recordEventWith(db, declared), setup)
    .select()
    .from(declared)
    .leftJoin(setup, sql`true`);
});

/**
 * Declares an incident in one transaction: the incident, its commander role, the timeline, and the
 * durable job that creates the channel, card and announcement; the next per-workspace number is taken as
 * it commits. A second call with the same declareKey (Slack retry, double click) changes nothing and
 * answers with the first incident's id.
 */
export async function declareIncident(
  deps: IncidentDeps,
  req: DeclareRequest,
  options: {
    /**
     * More work that belongs to the declaration, in its transaction (the alert hub links the group the
     * incident was declared from): it commits with the incident or neither does.
     */
    alsoInTransaction?: (l: Locked) => Promise<void>;
  } = {},
): Promise<{ incidentId: string; created: boolean }> {
  // No lookup first: a second copy (Slack retry, double click) inserts nothing at its first statement (the
  // unique declare key; a copy racing the first waits for its commit) and is answered with the first's
  // id; the common case saves a round trip, and no copy leaves an error in the server's log. Nor a read
  // back after: the number is taken as the transaction commits (a deferred trigger, drizzle/0010, so the
  // counter row's lock that serialises a workspace's declarations is held for the commit alone), and
  // whoever shows it (setup, naming the channel) reads the committed row when it runs.
  const id = randomUUID();
  // The setup job is created claimed by this process's engine, which runs it as soon as this commits.
  const lease = deps.jobs?.leaseNewJob();
  let setup: LeasedJob | undefined;
  const created = await deps.db.transaction(async (tx) => {
    const now = deps.clock.now();
    const [row] = await insertIncident(tx, {
      id,
      teamId: req.teamId,
      title: req.title,
      summary: req.summary,
      severity: req.severity,
      isPrivate: req.isPrivate,
      isTest: req.isTest,
      reporterId: req.reporterId,
      sourceChannelId: req.sourceChannelId ?? null,
      declareKey: req.declareKey,
      now,
      ...eventValues({
        incidentId: id,
        kind: 'declared',
        actorId: req.reporterId,
        at: now,
        data: { title: req.title, severity: req.severity, private: req.isPrivate, test: req.isTest },
      }),
      ...setupJobValues(id, now, lease),
    });
    const inserted = row?.declared;
    if (!inserted) return false;
    if (lease && row.new_job?.jobId) setup = leasedSetupJob(id, now, lease, row.new_job.jobId);
    if (req.commanderId) {
      await tx.insert(incidentRoles).values({
        incidentId: inserted.id,
        role: 'commander',
        userId: req.commanderId,
        assignedBy: req.reporterId,
        assignedAt: now,
      });
      await recordEvent(tx, {
        incidentId: inserted.id,
        kind: 'role_assigned',
        actorId: req.reporterId,
        at: now,
        data: { role: 'commander', userId: req.commanderId },
      });
    }
    const declared: Locked = {
      tx,
      incident: inserted,
      roles: req.commanderId ? { commander: req.commanderId } : {},
      now,
    };
    await planOnDeclare(declared, deps.config);
    await deps.escalation.declared(declared);
    await options.alsoInTransaction?.(declared);
    return true;
  });
  if (setup) deps.jobs?.runLeasedJob(setup);
  if (created) return { incidentId: id, created };
  const first = await findIncidentByDeclareKey(deps.db, req.teamId, req.declareKey);
  if (!first) throw new Error('the declaration this one repeats is gone');
  return { incidentId: first.id, created };
}
