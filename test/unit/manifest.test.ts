import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AppsManifestValidateArguments } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { type ManifestBotScope, METHOD_SCOPES } from '../../src/slack/gateway.js';

type Manifest = AppsManifestValidateArguments['manifest'];

const ROOT = join(import.meta.dirname, '../..');
const eventsUrl = z.url().regex(/^https:\/\/[^/]+\/slack\/events$/, 'must be https://<host>/slack/events');

/** The shape of Slack's app manifest (the parts this app uses), strict so that typos are caught. */
const manifestSchema = z.strictObject({
  display_information: z.strictObject({
    name: z.string().min(1).max(35),
    description: z.string().max(140).optional(),
    background_color: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/)
      .optional(),
  }),
  features: z.strictObject({
    app_home: z
      .strictObject({
        home_tab_enabled: z.boolean().optional(),
        messages_tab_enabled: z.boolean().optional(),
        messages_tab_read_only_enabled: z.boolean().optional(),
      })
      .optional(),
    bot_user: z.strictObject({
      display_name: z.string().min(1).max(80),
      always_online: z.boolean().optional(),
    }),
    slash_commands: z
      .array(
        z.strictObject({
          command: z.string().regex(/^\/[a-z0-9_-]{1,31}$/),
          url: eventsUrl,
          description: z.string().min(1).max(2000),
          usage_hint: z.string().max(1000).optional(),
          should_escape: z.boolean(),
        }),
      )
      .max(50),
    shortcuts: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(24),
          type: z.enum(['message', 'global']),
          callback_id: z.string().min(1).max(255),
          description: z.string().min(1).max(150),
        }),
      )
      .max(10)
      .optional(),
  }),
  oauth_config: z.strictObject({
    // Each scope is checked at run time against METHOD_SCOPES, whose entries are typed as Slack's bot scopes
    // (plus canvases:write, which the SDK's manifest type does not list yet).
    scopes: z.strictObject({ bot: z.array(z.string()).transform((s) => s as ManifestBotScope[]) }),
  }),
  settings: z.strictObject({
    event_subscriptions: z
      .strictObject({ request_url: eventsUrl, bot_events: z.array(z.enum(['app_home_opened'])).max(100) })
      .optional(),
    interactivity: z.strictObject({ is_enabled: z.literal(true), request_url: eventsUrl }),
    org_deploy_enabled: z.boolean().optional(),
    socket_mode_enabled: z.boolean(),
    token_rotation_enabled: z.boolean().optional(),
  }),
});

// Compile-time: what the schema accepts is a manifest as @slack/web-api types it.
const _assignable: (m: z.infer<typeof manifestSchema>) => Manifest = (m) => m;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Web API methods called anywhere in src/: through the gateway, or through a client (`client.<group>.<method>(`). */
function methodsCalled(): Set<string> {
  const methods = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    // The gateway's calls name their method first: this.call<…>('chat.postMessage', …).
    const text = readFileSync(file, 'utf8');
    const viaGateway = /\bthis\.(?:call|tolerate)(?:<[^(]*>)?\(\s*'((?:[a-z]+\.)+[a-zA-Z]+)'/g;
    const viaClient = /\bclient\.((?:[a-z]+\.)+[a-zA-Z]+)\(/g;
    for (const m of [...text.matchAll(viaGateway), ...text.matchAll(viaClient)]) methods.add(m[1] as string);
  }
  return methods;
}

describe('manifest.yml', () => {
  const manifest = manifestSchema.parse(parse(readFileSync(join(ROOT, 'manifest.yml'), 'utf8')));

  it('matches the shape of a Slack app manifest', () => {
    expect(_assignable(manifest).display_information.name).toBe('Incident Bot');
  });

  it('enables the Home tab and the app_home_opened event, and declares the shortcuts the code handles', () => {
    expect(manifest.features.app_home?.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions?.bot_events).toEqual(['app_home_opened']);
    const code = readFileSync(join(ROOT, 'src/slack/ids.ts'), 'utf8');
    for (const s of manifest.features.shortcuts ?? [])
      expect(code).toContain(`callbackId: '${s.callback_id}'`);
  });

  it('declares /incident with escaping, and interactivity at /slack/events', () => {
    expect(manifest.features.slash_commands).toEqual([
      expect.objectContaining({ command: '/incident', should_escape: true }),
    ]);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });

  it('asks for exactly the bot scopes the code needs', () => {
    const called = methodsCalled();
    expect(called.size).toBeGreaterThan(5);
    for (const method of called) expect(METHOD_SCOPES, `scopes of ${method}`).toHaveProperty([method]);
    for (const method of Object.keys(METHOD_SCOPES))
      expect(called, `${method} is listed but never called`).toContain(method);
    const needed = new Set(['commands', ...[...called].flatMap((m) => METHOD_SCOPES[m] ?? [])]);
    expect(new Set(manifest.oauth_config.scopes.bot)).toEqual(needed);
  });
});
