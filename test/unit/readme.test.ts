import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/slack/views/help.js';

const ROOT = join(import.meta.dirname, '../..');
// Table cells compared without their padding.
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/ {2,}/g, ' ');
const cell = (s: string) => s.replace(/\|/g, '\\|');

describe('README', () => {
  it('lists every command the bot answers, with the same words as /incident help', () => {
    for (const c of COMMANDS) expect(readme).toContain(`| \`${cell(c.usage)}\` | ${c.does} |`);
  });

  it('documents every environment variable the config reads', () => {
    const config = readFileSync(join(ROOT, 'src/config/env.ts'), 'utf8');
    const read = new Set([...config.matchAll(/^\s+([A-Z][A-Z_]+): z\b/gm)].map((m) => m[1]));
    expect(read.size).toBeGreaterThanOrEqual(9);
    for (const name of read) expect(readme).toContain(`| \`${name}\` |`);
  });

  it('shows the two fresh-machine commands', () => {
    expect(readme).toContain('npm ci && SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
