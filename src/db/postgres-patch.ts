import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The bot runs postgres.js with a fix applied by patch-package (patches/postgres+3.4.9.patch, explained in
 * patches/README.md): without it a connection the server closes mid-burst can crash the whole process.
 * An install that skipped the patch (`npm ci --ignore-scripts`, a copied node_modules) must not start on
 * PostgreSQL and crash later, so startup checks the very file Node loads for `import 'postgres'`.
 * Delete this check with the patch, when porsager/postgres#1208 is fixed in a release.
 */

/** The comment the patch adds; its presence is the proof that the patch took. */
export const POSTGRES_PATCH_MARK = 'incident-bot: settle instead of crashing (postgres.js #1208)';

/** The postgres.js file that holds the patched code, as Node resolves it from here. */
export function postgresConnectionFile(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('postgres'))), 'connection.js');
}

/** Why postgres.js cannot be used as installed, in one line; undefined when the fix is in place. */
export function postgresPatchProblem(file = postgresConnectionFile()): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read ${file} to check the postgres.js patch (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`;
  }
  if (text.includes(POSTGRES_PATCH_MARK)) return undefined;
  return `postgres.js is not patched (${file} lacks the fix for porsager/postgres#1208); run \`npx patch-package\` in the install folder (npm ci applies it unless scripts are off)`;
}
