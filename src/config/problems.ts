import type { z } from 'zod';

/** Every setting problem becomes one line naming the variable or config path, what is wrong and what is expected. */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Formats a zod path like ['severities', 2, 'id'] as `severities[2].id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function describeValue(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}… ` : `${text} `;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

export function issuesToLines(
  prefix: string,
  error: z.ZodError,
  input: unknown,
  showValues: boolean,
): string[] {
  return error.issues.map((issue) => {
    const where = formatPath(issue.path) || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return `${prefix}${where}: unknown setting${issue.keys.length > 1 ? 's' : ''} ${keys}`;
    }
    const shown = showValues ? describeValue(valueAt(input, issue.path)) : '';
    return `${prefix}${where}: ${shown}${issue.message}`;
  });
}
