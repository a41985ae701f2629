import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The dependency rules (.dependency-cruiser.cjs, run by `npm run lint`) hold for src/, and each rule bites:
 * a copy of src/ with one offending file per rule must be reported, rule by rule.
 */

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function cruise(cwd: string): Violation[] {
  const out = execFileSync(
    process.execPath,
    // --preserve-symlinks: the copy's node_modules is a link to the project's, and must look like its own.
    [CLI, '--config', '.dependency-cruiser.cjs', '--preserve-symlinks', '--output-type', 'json', 'src'],
    // depcruise exits non-zero when it finds violations; the JSON report is what we read either way.
    { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

function cruiseAllowingFailure(cwd: string): Violation[] {
  try {
    return cruise(cwd);
  } catch (err) {
    const stdout = (err as { stdout?: string }).stdout ?? '';
    return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
  }
}

/** One file (or an addition to one) per rule, and the rule that must report it. */
const PROBES: { file: string; code: string; append?: boolean; rule?: string }[] = [
  {
    file: 'src/incidents/probe-up.ts',
    code: "import type { SlackGateway } from '../slack/gateway.js';\nexport type X = SlackGateway;\n",
    rule: 'domain-never-reaches-up',
  },
  {
    file: 'src/incidents/probe-block-kit.ts',
    code: "import type { KnownBlock } from '@slack/web-api';\nexport type X = KnownBlock;\n",
    rule: 'no-slack-sdk-below-transports',
  },
  {
    file: 'src/incidents/probe-escalation.ts',
    code: "export { stepJob } from '../escalation/steps.js';\n",
    rule: 'incidents-stand-alone',
  },
  {
    file: 'src/escalation/probe-tables.ts',
    code: "export { incidents } from '../db/schema.js';\n",
    rule: 'capabilities-use-incidents-through-its-functions',
  },
  {
    file: 'src/incidents/probe-jobs-table.ts',
    code: "export { timers } from '../jobs/table.js';\n",
    rule: 'only-jobs-touch-the-jobs-table',
  },
  {
    file: 'src/incidents/probe-alert-tables.ts',
    code: "export { alerts } from '../alerts/tables.js';\n",
    rule: 'capabilities-own-their-tables',
  },
  {
    file: 'src/alerts/probe-oncall-tables.ts',
    code: "export { oncallOverrides } from '../oncall/tables.js';\n",
    rule: 'capabilities-own-their-tables',
  },
  {
    file: 'src/slack/listeners/probe-db.ts',
    code: "import type { Db } from '../../db/client.js';\nexport type X = Db;\n",
    rule: 'transports-use-the-domain-not-its-storage',
  },
  {
    file: 'src/jobs/probe-domain.ts',
    code: "export { findIncident } from '../incidents/queries.js';\n",
    rule: 'infrastructure-knows-no-domain',
  },
  {
    file: 'src/probe/model.ts',
    code: "export { findIncident } from '../incidents/queries.js';\n",
    rule: 'models-are-leaves',
  },
  {
    file: 'src/text.ts',
    code: "\nexport { findIncident } from './incidents/queries.js';\n",
    append: true,
    rule: 'kernel-knows-no-layer',
  },
  {
    file: 'src/slack/probe-http.ts',
    code: "export { startHttpServer } from '../http/server.js';\n",
    rule: 'transports-are-siblings',
  },
  {
    file: 'src/http/probe-root.ts',
    code: "export { startBot } from '../bot.js';\n",
    rule: 'composition-root-is-top',
  },
  {
    file: 'src/incidents/probe-cycle-a.ts',
    code: "import { b } from './probe-cycle-b.js';\nexport const a = () => b;\n",
    rule: 'no-cycles',
  },
  // The other half of the cycle: reported once, from one side.
  {
    file: 'src/incidents/probe-cycle-b.ts',
    code: "import { a } from './probe-cycle-a.js';\nexport const b = () => a;\n",
  },
  {
    file: 'src/incidents/probe-dev.ts',
    code: "import nock from 'nock';\nexport const n = nock;\n",
    rule: 'no-dev-dependencies-at-run-time',
  },
  {
    file: 'src/incidents/probe-missing.ts',
    code: "export { nothing } from './no-such-file.js';\n",
    rule: 'not-to-unresolvable',
  },
];

describe('the dependency rules', () => {
  let copy: string;
  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'incident-bot-architecture-'));
    for (const f of ['src', 'package.json', 'tsconfig.json', '.dependency-cruiser.cjs'])
      cpSync(join(ROOT, f), join(copy, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  });
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('hold for src/', () => {
    expect(cruise(ROOT)).toEqual([]);
  });

  it('each report the file that breaks them', () => {
    for (const probe of PROBES) {
      const path = join(copy, probe.file);
      mkdirSync(dirname(path), { recursive: true });
      if (probe.append) appendFileSync(path, probe.code);
      else writeFileSync(path, probe.code);
    }
    const found = cruiseAllowingFailure(copy).map(
      (v) => `${v.rule.name} ${v.from.replace(/-b\.ts$/, '-a.ts')}`,
    );
    for (const probe of PROBES) if (probe.rule) expect(found).toContain(`${probe.rule} ${probe.file}`);
    // Nothing but the probes is reported.
    expect(found.every((f) => f.includes('probe') || f.endsWith(' src/text.ts'))).toBe(true);
  });
});
