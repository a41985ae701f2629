// Patches postgres.js (3.4.x) so that a write scheduled for a connection that has just closed fails that
// query with CONNECTION_CLOSED instead of throwing from a setImmediate callback, which no try/catch can
// catch and which kills the whole process (porsager/postgres#1154, #1208; fix proposed in #1209).
// The fault suite reproduces it: pg_terminate_backend during a burst crashed the bot. Runs on install;
// idempotent; fails loudly if the code it patches has changed, so an upgrade gets a look.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const MARK = 'incident-bot: settle instead of crashing';
const BEFORE = `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)`;
const AFTER = `  function nextWrite(fn) {
    if (!socket) { // ${MARK} (postgres.js #1208)
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options, socket))
      return false
    }
    const x = socket.write(chunk, fn)`;

// The package exports no package.json: find its folder from its entry point.
const entry = createRequire(import.meta.url).resolve('postgres');
const root = entry.slice(
  0,
  entry.lastIndexOf(join('node_modules', 'postgres')) + join('node_modules', 'postgres').length,
);
let patched = 0;
for (const file of ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js']) {
  const path = join(root, file);
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    continue; // not every build ships every flavour
  }
  if (text.includes(MARK)) continue;
  if (!text.includes(BEFORE)) {
    console.error(`patch-postgres: ${path} does not contain the code this patch expects; check the upgrade`);
    process.exit(1);
  }
  writeFileSync(path, text.replace(BEFORE, AFTER));
  patched++;
}
console.log(`patch-postgres: ${patched ? `patched ${patched} file(s)` : 'already patched'}`);
