import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Once per run: builds dist/ (the smoke and process suites start the built program, as `npm start` does),
 * and says loudly when the tests that need a real PostgreSQL server will not run.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '../..');
  // `npm run build`, as `npm start` runs it: compiled, then bundled into dist/main.js.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (process.env.TEST_DATABASE_URL) {
    console.log(`\n[db] integration and http tests run on PostgreSQL (TEST_DATABASE_URL is set)\n`);
    return;
  }
  const bar = '!'.repeat(100);
  console.warn(
    `\n${bar}\n!! TEST_DATABASE_URL is not set: tests run on embedded PGlite, and the tests that need several\n` +
      `!! connections to a real PostgreSQL server (concurrent declarations, SKIP LOCKED, replicas) DID NOT RUN.\n` +
      `!! They are reported as skipped. Set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run them.\n${bar}\n`,
  );
}
