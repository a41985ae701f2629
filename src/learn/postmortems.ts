import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import { PermanentError, UserError } from '../errors.js';
import { followupsOf } from '../incidents/followups.js';
import {
  POSTMORTEM_PART_MAX,
  POSTMORTEM_PARTS,
  POSTMORTEM_STATUSES,
  type PostmortemPart,
  type PostmortemStatus,
} from '../incidents/model.js';
import { refreshCard } from '../incidents/notify.js';
import { findIncident, roleHistory, statusUpdatesOf, timelineOf } from '../incidents/queries.js';
import { cleanText } from '../incidents/rules.js';
import { type IncidentDeps, type Locked, updateIncident, withIncident } from '../incidents/unit-of-work.js';
import { handle, type JobBinding, jobKey, jobType, schedule, scheduleOnce } from '../jobs/job.js';
import { recordEvent } from '../timeline/timeline.js';
import { CANVAS_REFUSALS, type LearnChat } from './chat.js';
import { type PostmortemInput, type PostmortemStyle, postmortemMarkdown } from './document.js';
import { postmortems } from './tables.js';

/**
 * The postmortem at work. `/incident postmortem` (any time; the resolve prompts for it when the severity
 * has `postmortem_due`) starts it as a draft and (re)generates the document from the database into the
 * incident channel's canvas — or, where Slack refuses canvases, a Markdown file in the channel. The parts
 * people write are edited in a form and kept in their own row: regenerating reads them, never replaces
 * them. The owner (default: the commander), the review status and the due date are the incident's.
 */

export const publishJob = jobType('postmortem.publish', z.object({ incidentId: z.uuid() }));
export const exportJob = jobType(
  'postmortem.export',
  z.object({ incidentId: z.uuid(), channelId: z.string(), userId: z.string() }),
);

/** Tells the channel where the postmortem is (once per canvas, once per file uploaded). */
export const noticeJob = jobType(
  'postmortem.notice',
  z.object({ incidentId: z.uuid(), canvas: z.boolean(), refused: z.string().optional() }),
);
type NoticePayload = z.output<typeof noticeJob.payload>;

/** `postmortemCanvasId` while a publish job is making the canvas. */
const CREATING = 'creating';

export const postmortemKeys = {
  notice: (incidentId: string, what: string) => jobKey('incident', incidentId, 'postmortem', 'notice', what),
  publish: (incidentId: string) => jobKey('incident', incidentId, 'postmortem', 'publish'),
  export: (incidentId: string, at: Date, userId: string) =>
    jobKey('incident', incidentId, 'postmortem', 'export', at.getTime(), userId),
};

const EMPTY_PARTS = Object.fromEntries(POSTMORTEM_PARTS.map((p) => [p, ''])) as Record<
  PostmortemPart,
  string
>;

/** Everything the document says, read from the database. */
export async function postmortemInput(db: Db | Tx, incidentId: string): Promise<PostmortemInput | undefined> {
  const incident = await findIncident(db, incidentId);
  if (!incident) return undefined;
  const [roles, events, updates, followups, parts] = [
    await roleHistory(db, incidentId),
    await timelineOf(db as Db, incidentId),
    await statusUpdatesOf(db, incidentId),
    await followupsOf(db, incidentId),
    await writtenParts(db, incidentId),
  ];
  const commander = roles.find((r) => r.role === 'commander' && !r.relievedAt)?.userId ?? null;
  return {
    incident,
    owner: incident.postmortemOwnerId ?? commander,
    parts,
    roles,
    events,
    updates,
    followups,
  };
}

/** What people wrote into the postmortem's parts (empty ones before anything was). */
async function writtenParts(db: Db | Tx, incidentId: string): Promise<Record<PostmortemPart, string>> {
  const [parts] = await db.select().from(postmortems).where(eq(postmortems.incidentId, incidentId));
  return parts
    ? (Object.fromEntries(POSTMORTEM_PARTS.map((p) => [p, parts[p]])) as Record<PostmortemPart, string>)
    : EMPTY_PARTS;
}

/** What the Edit postmortem form shows: two small reads, so the form opens within the trigger's life. */
export async function postmortemForm(
  db: Db,
  incidentId: string,
): Promise<{ number: number; parts: Record<PostmortemPart, string> } | undefined> {
  const incident = await findIncident(db, incidentId);
  if (!incident) return undefined;
  return { number: incident.number, parts: await writtenParts(db, incidentId) };
}

/** The document, for a canvas or for a file. */
export async function postmortemDocument(
  db: Db,
  incidentId: string,
  style: PostmortemStyle,
): Promise<string> {
  const input = await postmortemInput(db, incidentId);
  if (!input) throw new UserError('not_found', 'That incident no longer exists.');
  return postmortemMarkdown(input, style);
}

/**
 * Regenerates the document soon (a publish already waiting runs once, with everything committed). After
 * an edit only a canvas follows by itself: a file is uploaded when someone asks (`/incident postmortem`),
 * not once per keystroke of the review.
 */
const republish = (l: Locked) => (l.incident.postmortemCanvasId ? publishNow(l) : Promise.resolve());

const publishNow = (l: Locked) =>
  schedule(
    l.tx,
    publishJob,
    { key: postmortemKeys.publish(l.incident.id), dueAt: l.now, payload: { incidentId: l.incident.id } },
    l.now,
  );

async function moveStatus(l: Locked, actorId: string, to: PostmortemStatus) {
  const from = l.incident.postmortemStatus;
  if (from === to) return;
  await updateIncident(l, { postmortemStatus: to });
  await refreshCard(l);
  await recordEvent(l.tx, {
    incidentId: l.incident.id,
    kind: 'postmortem_status_changed',
    actorId,
    at: l.now,
    data: { from, to },
  });
}

/** `/incident postmortem`: a draft if there was none, and the document (re)generated. */
export async function writePostmortem(deps: IncidentDeps, input: { incidentId: string; actorId: string }) {
  return withIncident(deps, input.incidentId, async (l) => {
    if (!l.incident.postmortemStatus) await moveStatus(l, input.actorId, 'draft');
    await publishNow(l);
    return {
      status: l.incident.postmortemStatus ?? 'draft',
      canvas: !!l.incident.postmortemCanvasId && l.incident.postmortemCanvasId !== CREATING,
    };
  });
}

/** The Edit postmortem form: the parts people write, kept as typed; the document follows. */
export async function editPostmortem(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; parts: Partial<Record<PostmortemPart, string>> },
) {
  const parts = Object.fromEntries(
    Object.entries(input.parts).map(([name, text]) => [
      name,
      (text ?? '').trim() === '' ? '' : cleanText(text ?? '', name, POSTMORTEM_PART_MAX),
    ]),
  ) as Partial<Record<PostmortemPart, string>>;
  return withIncident(deps, input.incidentId, async (l) => {
    const [before] = await l.tx.select().from(postmortems).where(eq(postmortems.incidentId, l.incident.id));
    const changed = POSTMORTEM_PARTS.filter(
      (p) => parts[p] !== undefined && parts[p] !== (before?.[p] ?? ''),
    );
    if (changed.length === 0) return { changed };
    const values = { ...parts, editedBy: input.actorId, editedAt: l.now };
    await l.tx
      .insert(postmortems)
      .values({ incidentId: l.incident.id, ...values })
      .onConflictDoUpdate({ target: postmortems.incidentId, set: values });
    if (!l.incident.postmortemStatus) await moveStatus(l, input.actorId, 'draft');
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'postmortem_edited',
      actorId: input.actorId,
      at: l.now,
      data: { parts: changed },
    });
    await republish(l);
    return { changed };
  });
}

/** `/incident postmortem owner @person`. */
export async function setPostmortemOwner(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; ownerId: string },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    const previous = l.incident.postmortemOwnerId;
    if (previous === input.ownerId)
      throw new UserError('unchanged', `<@${input.ownerId}> owns the postmortem already.`);
    await updateIncident(l, { postmortemOwnerId: input.ownerId });
    await refreshCard(l);
    await recordEvent(l.tx, {
      incidentId: l.incident.id,
      kind: 'postmortem_owner_set',
      actorId: input.actorId,
      at: l.now,
      data: { ownerId: input.ownerId, previous },
    });
    await republish(l);
  });
}

/** The review buttons: draft → in review → reviewed → closed (and back, if the review says so). */
export async function setPostmortemStatus(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; status: string },
) {
  const to = z.enum(POSTMORTEM_STATUSES).safeParse(input.status);
  if (!to.success) throw new UserError('bad_status', 'That is not a postmortem status.');
  return withIncident(deps, input.incidentId, async (l) => {
    if (l.incident.postmortemStatus === to.data)
      throw new UserError('unchanged', `The postmortem is ${to.data.replace('_', ' ')} already.`);
    await moveStatus(l, input.actorId, to.data);
    await republish(l);
    return { status: to.data };
  });
}

/** `/incident postmortem export`: the Markdown file, uploaded where it was asked for. */
export async function exportPostmortem(
  deps: IncidentDeps,
  input: { incidentId: string; actorId: string; channelId: string },
) {
  return withIncident(deps, input.incidentId, async (l) => {
    await schedule(
      l.tx,
      exportJob,
      {
        key: postmortemKeys.export(l.incident.id, l.now, input.actorId),
        dueAt: l.now,
        payload: { incidentId: l.incident.id, channelId: input.channelId, userId: input.actorId },
      },
      l.now,
    );
  });
}

export interface PostmortemJobDeps {
  db: Db;
  chat: LearnChat;
  clock: IncidentDeps['clock'];
}

const fileName = (number: number) => `postmortem-incident-${number}.md`;

export function postmortemJobs(deps: PostmortemJobDeps): JobBinding[] {
  const { db, chat } = deps;
  return [
    handle(publishJob, {
      async run(p, ctx) {
        const incident = await findIncident(db, p.incidentId);
        if (!incident?.channelId || !incident.postmortemStatus) return;
        const channelId = incident.channelId;
        const title = `Postmortem: incident #${incident.number}`;
        const markdown = await postmortemDocument(db, incident.id, 'canvas');
        const record = (values: { postmortemCanvasId: string | null }, notice?: NoticePayload) =>
          withIncident({ db, clock: deps.clock }, incident.id, async (l) => {
            await updateIncident(l, values);
            if (notice)
              await scheduleOnce(
                l.tx,
                noticeJob,
                {
                  key: postmortemKeys.notice(
                    incident.id,
                    notice.canvas ? `canvas:${values.postmortemCanvasId}` : `file:${ctx.id}`,
                  ),
                  dueAt: l.now,
                  payload: notice,
                },
                l.now,
              );
          });
        let existing = incident.postmortemCanvasId;
        if (existing && existing !== CREATING) {
          try {
            await chat.replaceCanvas(existing, markdown);
            return;
          } catch (err) {
            // Deleted by someone: made anew below.
            if (!(err instanceof PermanentError && err.code === 'canvas_not_found')) throw err;
            existing = null;
          }
        }
        // Say that a canvas is being made before asking Slack for it: a retry that finds the channel's
        // canvas already there then knows it is the one this job made, and adopts it.
        const retried = existing === CREATING;
        if (!retried) await record({ postmortemCanvasId: CREATING });
        let canvasId: string | undefined;
        try {
          canvasId = await chat.createChannelCanvas(channelId, title, markdown);
        } catch (err) {
          if (!(err instanceof PermanentError)) throw err;
          if (err.code === 'channel_canvas_already_exists' && retried) {
            canvasId = await chat.channelCanvas(channelId);
            if (canvasId) await chat.replaceCanvas(canvasId, markdown);
          }
          if (!canvasId) {
            if (!CANVAS_REFUSALS.has(err.code)) throw err;
            // No canvas here (or someone else's): the document as a Markdown file in the channel.
            await chat.uploadFile({
              channelId,
              filename: fileName(incident.number),
              title,
              content: await postmortemDocument(db, incident.id, 'file'),
              comment: `📝 ${title} (Slack refused a canvas: ${err.code}).`,
            });
            await record(
              { postmortemCanvasId: null },
              { incidentId: incident.id, canvas: false, refused: err.code },
            );
            return;
          }
        }
        await record({ postmortemCanvasId: canvasId }, { incidentId: incident.id, canvas: true });
      },
    }),

    handle(noticeJob, {
      async run(p) {
        const incident = await findIncident(db, p.incidentId);
        if (!incident?.channelId) return;
        await chat.post(incident.channelId, {
          kind: 'postmortem_ready',
          incident: { id: incident.id, number: incident.number, title: incident.title },
          where: p.canvas ? { canvas: true } : { canvas: false, refused: p.refused ?? 'unknown' },
          status: incident.postmortemStatus ?? 'draft',
          owner: incident.postmortemOwnerId,
          dueAt: incident.postmortemDueAt,
        });
      },
    }),

    handle(exportJob, {
      async run(p) {
        const incident = await findIncident(db, p.incidentId);
        if (!incident) return;
        await chat.uploadFile({
          channelId: p.channelId,
          filename: fileName(incident.number),
          title: `Postmortem: incident #${incident.number}`,
          content: await postmortemDocument(db, incident.id, 'file'),
          comment: `📝 The postmortem of incident #${incident.number}, as Markdown, for <@${p.userId}>.`,
        });
      },
    }),
  ];
}
