import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: [
    './src/db/schema.ts',
    './src/jobs/table.ts',
    './src/alerts/tables.ts',
    './src/oncall/tables.ts',
    './src/learn/tables.ts',
    './src/webhooks/tables.ts',
  ],
  out: './drizzle',
});
