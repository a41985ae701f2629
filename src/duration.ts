/**
 * Durations as people write them in the config file: `30s`, `5m`, `1h`, `2h30m`, `3d`, `1w`, `0m`.
 * Units must go from larger to smaller and appear once each.
 */

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
const WEEK_MS = 7 * UNIT_MS.d;
const PATTERN = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds, or undefined when the text is not a duration like `5m`. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  const m = PATTERN.exec(t);
  if (!t || !m || m.slice(1).every((g) => g === undefined)) return undefined;
  const [w, d, h, min, s] = m.slice(1).map((g) => Number(g ?? 0)) as [number, number, number, number, number];
  return w * WEEK_MS + d * UNIT_MS.d + h * UNIT_MS.h + min * UNIT_MS.m + s * UNIT_MS.s;
}

/** The shortest way to write a duration back (`2h30m`), for messages. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0m';
  let rest = Math.round(ms / 1000) * 1000;
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
