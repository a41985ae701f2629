import { z } from 'zod';

/** The `status_page:` section: the public page's title and address, and the components it shows. */

export interface StatusPageConfig {
  title: string;
  /** The page's public address (links in feeds and the JSON API), without a trailing slash. */
  publicUrl: string;
  components: { id: string; name: string; group?: string }[];
}

export const statusPageSchema = z
  .strictObject({
    title: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    public_url: z.url({
      protocol: /^https?$/,
      error: 'must be the page’s public URL, such as https://status.acme.example',
    }),
    components: z
      .array(
        z.strictObject({
          id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be 1-40 of a-z 0-9 - _ (such as api)'),
          name: z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters'),
          group: z.string().trim().min(1).max(80).optional(),
        }),
      )
      .max(40, 'must list at most 40 components')
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((c, i) => {
          if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: 'is listed twice' });
          seen.add(c.id);
        });
      }),
  })
  .optional();

export function resolveStatusPage(input: z.output<typeof statusPageSchema>): StatusPageConfig | undefined {
  if (!input) return undefined;
  return {
    title: input.title,
    publicUrl: input.public_url.replace(/\/+$/, ''),
    components: input.components.map((c) => ({
      id: c.id,
      name: c.name,
      ...(c.group ? { group: c.group } : {}),
    })),
  };
}
