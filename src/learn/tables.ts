import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { incidents } from '../db/schema.js';

/**
 * Learn's own table. Only learn/ imports this file (the dependency rules say so). The postmortem's owner,
 * status and due date are the incident's (its row; its reminder reads them); what people write is here.
 */

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** The parts of an incident's postmortem that people write; regenerating the document never touches them. */
export const postmortems = pgTable('postmortems', {
  incidentId: uuid('incident_id')
    .primaryKey()
    .references(() => incidents.id, { onDelete: 'cascade' }),
  overview: text('overview').notNull().default(''),
  whatHappened: text('what_happened').notNull().default(''),
  contributingFactors: text('contributing_factors').notNull().default(''),
  resolution: text('resolution').notNull().default(''),
  wentWell: text('went_well').notNull().default(''),
  wentBadly: text('went_badly').notNull().default(''),
  lucky: text('lucky').notNull().default(''),
  editedBy: text('edited_by').notNull(),
  editedAt: tstz('edited_at').notNull(),
});

export type PostmortemRow = typeof postmortems.$inferSelect;
