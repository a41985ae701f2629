import { openDatabase } from './client.js';

/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL, or to the embedded database. */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL || undefined;
  const database = await openDatabase({ url, dataDir: process.env.DATA_DIR || './data' });
  try {
    await database.migrate();
    console.log(`migrations applied (${database.kind})`);
  } finally {
    await database.close();
  }
}

main().catch((err: unknown) => {
  console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
