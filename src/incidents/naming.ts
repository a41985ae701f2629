/**
 * Incident channel names: `<prefix>-<number>-<slug of title>`, within Slack's rules (lowercase letters,
 * digits, `-` and `_`, at most 80 characters). The slug is ASCII-folded; a title with nothing usable
 * (only emoji or symbols) gives `<prefix>-<number>`. A collision adds `-2`, `-3` … and still fits.
 */

export const MAX_CHANNEL_NAME = 80;

/** Letters that Unicode decomposition does not reduce to ASCII. */
const FOLD: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ł: 'l',
  ı: 'i',
  ħ: 'h',
};

export function slugify(title: string): string {
  return title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[ßæœøđðþłıħ]/g, (c) => FOLD[c] ?? '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function channelName(prefix: string, number: number, title: string, attempt = 1): string {
  const base = `${prefix}-${number}`;
  const suffix = attempt > 1 ? `-${attempt}` : '';
  const room = MAX_CHANNEL_NAME - base.length - suffix.length - 1;
  let slug = slugify(title);
  if (slug.length > room) {
    slug = slug.slice(0, room);
    // Prefer to cut at a word boundary when one is reasonably close.
    const lastDash = slug.lastIndexOf('-');
    if (lastDash > room / 2) slug = slug.slice(0, lastDash);
    slug = slug.replace(/-+$/, '');
  }
  return slug && room > 0 ? `${base}-${slug}${suffix}` : `${base}${suffix}`;
}
