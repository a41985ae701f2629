/**
 * Reads the V8 CPU profiles that `node --cpu-prof` wrote for the bot during a bench scenario and sums the
 * sampled time by where it was spent: our code, each npm package, Node's internals, the garbage
 * collector and idle. This is the profile the performance figures are explained with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's self time goes: `src`, a package name, `node:internal`, `(garbage collector)`, … */
export function bucketOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : 'native';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.includes('/dist/') || url.includes('/src/')) return 'our code';
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

export interface ProfileSummary {
  /** Sampled wall time, idle included. */
  totalMs: number;
  /** Time the process was busy (not idle). */
  busyMs: number;
  /**
   * Busy time by bucket, largest first, in ms and as a share of busy time. Native code (JSON, RegExp,
   * crypto, buffers) counts for the JavaScript that called it, so `drizzle-orm` includes its own
   * JSON.stringify calls.
   */
  buckets: { bucket: string; ms: number; share: number }[];
  /** The functions with the most self time, native ones named with their caller's bucket. */
  functions: { name: string; ms: number }[];
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const bucketById = new Map<number, string>();
  const bucketFor = (id: number): string => {
    const known = bucketById.get(id);
    if (known) return known;
    const node = byId.get(id);
    let bucket = node ? bucketOf(node.callFrame) : '(unknown)';
    const parent = parentOf.get(id);
    if (bucket === 'native' && parent !== undefined) {
      const up = bucketFor(parent);
      if (!up.startsWith('(')) bucket = up;
    }
    bucketById.set(id, bucket);
    return bucket;
  };
  const nameOf = (id: number): string => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return '(unknown)';
    const where = frame.url
      ? ` ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${frame.lineNumber + 1}`
      : ` [${bucketFor(id)}]`;
    return `${frame.functionName || '(anonymous)'}${where}`;
  };
  const totals = new Map<string, number>();
  const selfByName = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const bucket = bucketFor(id);
    totals.set(bucket, (totals.get(bucket) ?? 0) + us);
    if (bucket !== '(idle)') selfByName.set(nameOf(id), (selfByName.get(nameOf(id)) ?? 0) + us);
  });
  const idle = totals.get('(idle)') ?? 0;
  totals.delete('(idle)');
  const busy = total - idle;
  const buckets = [...totals]
    .map(([bucket, us]) => ({ bucket, ms: Math.round(us / 1000), share: +(us / busy).toFixed(3) }))
    .sort((a, b) => b.ms - a.ms);
  const functions = [...selfByName]
    .map(([name, us]) => ({ name, ms: Math.round(us / 1000) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 10);
  return { totalMs: Math.round(total / 1000), busyMs: Math.round(busy / 1000), buckets, functions };
}

/** The newest profile in `dir` (one bot process writes one file when it exits). */
export function summarizeDir(dir: string): ProfileSummary | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const newest = files.at(-1);
  return newest ? summarizeProfile(JSON.parse(readFileSync(join(dir, newest), 'utf8'))) : undefined;
}

export function formatSummary(
  name: string,
  s: ProfileSummary,
  perUnit?: { n: number; unit: string },
): string {
  const head = `${name}: busy ${s.busyMs} ms of ${s.totalMs} ms sampled${
    perUnit ? ` (${(s.busyMs / perUnit.n).toFixed(2)} ms of CPU per ${perUnit.unit})` : ''
  }`;
  const rows = s.buckets
    .slice(0, 12)
    .map((b) => `  ${b.bucket.padEnd(28)} ${String(b.ms).padStart(7)} ms  ${(b.share * 100).toFixed(1)}%`);
  const top = s.functions.map((f) => `    ${String(f.ms).padStart(6)} ms  ${f.name}`);
  return [head, ...rows, '  most self time:', ...top].join('\n');
}
