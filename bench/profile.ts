/**
 * Reads the V8 CPU profiles that `node --cpu-prof` wrote for the bot during a bench scenario and sums the
 * sampled time by where it was spent: our code, each npm package, Node's internals, the garbage
 * collector and idle. This is the profile the performance figures are explained with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's self time goes: `src`, a package name, `node:internal`, `(garbage collector)`, … */
export function bucketOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
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
  /** Busy time by bucket, largest first, in ms and as a share of busy time. */
  buckets: { bucket: string; ms: number; share: number }[];
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const bucketById = new Map(profile.nodes.map((n) => [n.id, bucketOf(n.callFrame)]));
  const totals = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const bucket = bucketById.get(id) ?? '(unknown)';
    totals.set(bucket, (totals.get(bucket) ?? 0) + us);
  });
  const idle = totals.get('(idle)') ?? 0;
  totals.delete('(idle)');
  const busy = total - idle;
  const buckets = [...totals]
    .map(([bucket, us]) => ({ bucket, ms: Math.round(us / 1000), share: +(us / busy).toFixed(3) }))
    .sort((a, b) => b.ms - a.ms);
  return { totalMs: Math.round(total / 1000), busyMs: Math.round(busy / 1000), buckets };
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
  return [head, ...rows].join('\n');
}
