// Bundles the compiled program (dist/main.js) into one file: a start then reads one module instead of
// resolving and reading some 800 files (README, Performance).
import { build } from 'esbuild';

// Loaded from node_modules when first used, never bundled: PGlite and its drizzle driver (only on
// PGlite; it reads its WebAssembly and data files from its own directory), and the chart painters
// (with the first chart; resvg is a native addon).
const external = [
  '@electric-sql/pglite',
  'drizzle-orm/pglite',
  'drizzle-orm/pglite/migrator',
  'vega',
  'vega-lite',
  '@resvg/resvg-js',
];

// Bolt requires its Socket Mode client (ws, undici, …) and Express (for ExpressReceiver, which the bot
// never builds) as it loads, whatever the mode: 17 MB of RSS and about 100 ms of every start for a bot
// on HTTP. In the bundle each is a stand-in that requires the real module from node_modules on first
// use, so Socket Mode still loads it when it builds its receiver. The same for two more that Bolt
// requires and the bot never calls: iconv-lite (552 KB of character-set tables, which raw-body uses
// only when asked to decode a body, and Bolt never asks) and @slack/oauth with jsonwebtoken and semver
// (the install flow for apps distributed to many workspaces; the bot runs on one workspace's token).
const deferred = ['@slack/socket-mode', 'express', 'iconv-lite', '@slack/oauth'];

const deferOnFirstUse = {
  name: 'defer-on-first-use',
  setup(bundle) {
    const names = new RegExp(`^(${deferred.map((name) => name.replace(/[/.]/g, '\\$&')).join('|')})$`);
    bundle.onResolve({ filter: names }, (args) => ({ path: args.path, namespace: 'deferred' }));
    bundle.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
      loader: 'js',
      contents: `
        const name = ${JSON.stringify(args.path)};
        let real;
        // A computed name: esbuild leaves this require to Node (the banner's createRequire).
        const load = () => (real ??= require(name));
        module.exports = new Proxy({}, {
          // TypeScript's import helpers ask for __esModule first: answering it loads nothing.
          get: (_, key) => key === '__esModule' ? true
            : key === 'default' ? (load().__esModule ? load().default : load())
            : load()[key],
          has: (_, key) => key in load(),
          ownKeys: () => Reflect.ownKeys(load()),
          getOwnPropertyDescriptor: (_, key) => {
            const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
            return descriptor && { ...descriptor, configurable: true };
          },
        });
      `,
    }));
  },
};

// zod's namespace re-exports all 64 of its error-message locales (`z.locales`, 366 KB of the bundle);
// the bot uses English, the default that zod imports by itself. Only English is bundled.
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(bundle) {
    bundle.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir)
        ? { path: 'zod-locales', namespace: 'english-only-zod', pluginData: args.resolveDir }
        : undefined,
    );
    bundle.onLoad({ filter: /.*/, namespace: 'english-only-zod' }, (args) => ({
      loader: 'js',
      resolveDir: args.pluginData,
      contents: "export { default as en } from '../locales/en.js';",
    }));
  },
};

await build({
  entryPoints: ['dist/main.js'],
  outfile: 'dist/main.js',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  external,
  plugins: [deferOnFirstUse, englishOnlyZod],
  // The bundle is ESM; the CommonJS modules inside it (and the deferred ones) require through this.
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});
