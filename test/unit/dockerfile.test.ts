import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** No Docker engine runs here, so the Dockerfile is checked for what it references. */

const ROOT = join(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages = instructions
  .join('\n')
  .split(/^FROM /m)
  .slice(1);

describe('Dockerfile', () => {
  it('is multi-stage and runs the final stage as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const final = stages.at(-1) ?? '';
    expect(final).toMatch(/^USER (?!root\b)\S+/m);
    expect(final).toMatch(/npm ci --omit=dev/);
    expect(final).not.toMatch(/^RUN npm ci\s*$/m);
  });

  it('gives the runtime the fonts the chart is painted with', () => {
    const chart = readFileSync(join(ROOT, 'src/learn/chart.ts'), 'utf8');
    expect(chart).toContain("defaultFontFamily: 'DejaVu Sans'");
    expect(stages.at(-1)).toMatch(/apt-get install -y --no-install-recommends fonts-dejavu-core/);
  });

  it('copies only files that exist', () => {
    const copies = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    expect(copies.length).toBeGreaterThan(2);
    for (const line of copies) {
      const parts = line
        .split(/\s+/)
        .slice(1)
        .filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1))
        expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
    }
  });

  it('runs npm scripts that exist and starts what the build produces', () => {
    for (const m of dockerfile.matchAll(/npm run (\S+)/g))
      expect(pkg.scripts).toHaveProperty([m[1] as string]);
    // The image starts the program exactly as `npm start` does (same node flags), minus the build.
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(pkg.scripts.start?.split(' '));
    expect(pkg.scripts.start).toMatch(/^node (--\S+ )*dist\/main\.js$/);
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8'));
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(ROOT, 'src/main.ts'))).toBe(true);
    expect(existsSync(join(ROOT, 'drizzle/meta/_journal.json'))).toBe(true);
  });

  it('needs nothing at run time from the dev dependencies', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? files(p) : [p];
      });
    const imported = new Set<string>();
    for (const file of files(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*? from '([^.][^']*)';/gm)) {
        const spec = m[1] as string;
        const name = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : (spec.split('/')[0] as string);
        if (!spec.startsWith('node:') && !builtinModules.includes(name)) imported.add(name);
      }
    }
    expect(imported.size).toBeGreaterThan(3);
    for (const name of imported)
      expect(pkg.dependencies, `${name} is a production dependency`).toHaveProperty([name]);
  });
});
