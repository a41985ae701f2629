import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseIncidentConfig } from '../../src/config/index.js';
import { incidents } from '../../src/db/schema.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { ROOT } from '../helpers/process.js';
import { isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/**
 * The status page in a real browser: Debian's Chromium, driven by playwright-core. The page in its
 * operational, outage and maintenance states (screenshots at 1024 and 320 px wide, kept in
 * test-results/status-page/), no serious accessibility violation by axe-core, nothing wider than a
 * 320-px phone; and Atlassian's own status widget, served from another loopback origin, showing our
 * status description (the API at the origin's root, and CORS).
 *
 * Without /usr/bin/chromium (`apt-get install -y chromium`) these tests cannot run: they say so loudly
 * and are reported as skipped. CI installs it.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `\n${'!'.repeat(100)}\n!! ${CHROMIUM} is missing: the status page's browser tests DID NOT RUN (apt-get install -y chromium).\n${'!'.repeat(100)}\n`,
  );
}
const SHOTS = join(ROOT, 'test-results', 'status-page');
const require = createRequire(import.meta.url);

const CONFIG = parseIncidentConfig(
  `
severities:
  - { id: SEV1, description: Critical }
  - { id: SEV2, description: Major }
  - { id: SEV3, description: Minor }
  - { id: MAINT, description: Planned maintenance }
status_page:
  title: Acme status
  public_url: https://status.acme.example
  components:
    - { id: api, name: API }
    - { id: checkout, name: Checkout, group: Payments }
    - { id: cards, name: Cards, group: Payments }
`,
  'test-config',
);

const testDb = useTestDatabase();
let app: TestBot;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  isolateNetwork();
  SlackApiMock.withNock();
  app = await startTestBot({
    database: testDb().database,
    clock: new FakeClock(new Date()),
    incident: CONFIG,
  });
});
afterEach(async () => {
  await app.stop();
  resetNetwork();
});

const base = () => app.url.replace(/\/slack\/events$/, '');

async function publish(
  title: string,
  components: Record<string, string>,
  message: string,
  severity = 'SEV1',
) {
  await app.submitView(declareView({ title, severity, commander: 'U0LIAISON' }, `V0B${title.slice(0, 6)}`));
  await app.bot.engine.drain();
  const [row] = await testDb().database.db.select().from(incidents).where(eq(incidents.title, title));
  await app.submitView(
    {
      id: `V0BU${title.slice(0, 6)}`,
      callback_id: 'incident_update',
      private_metadata: JSON.stringify({ incidentId: row?.id }),
      state: {
        values: {
          status: { status_select: { type: 'static_select', selected_option: { value: 'identified' } } },
          message: { message_input: { type: 'plain_text_input', value: message } },
          audience: { audience_radio: { type: 'radio_buttons', selected_option: { value: 'customers' } } },
          ...Object.fromEntries(
            Object.entries(components).map(([id, state]) => [
              `component:${id}`,
              { component_state: { type: 'static_select', selected_option: { value: state } } },
            ]),
          ),
        },
      },
    },
    'U0LIAISON',
  );
  await app.bot.engine.drain();
}

/** Loads /status at two widths; screenshots, the widest element, and axe-core's serious findings. */
async function inspect(state: string) {
  const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
  await page.goto(`${base()}/status`);
  await page.screenshot({ path: join(SHOTS, `${state}-1024.png`), fullPage: true });
  await page.setViewportSize({ width: 320, height: 640 });
  await page.screenshot({ path: join(SHOTS, `${state}-320.png`), fullPage: true });
  const overflow = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations = (await page.evaluate(
    "axe.run({ runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact })))",
  )) as { id: string; impact: string }[];
  const banner = (await page.locator('.banner').textContent())?.trim();
  await page.close();
  return {
    overflow,
    serious: violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    banner,
  };
}

const pngSize = (path: string) => {
  const png = readFileSync(path);
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
};

describe('the status page in Chromium', () => {
  it.skipIf(!hasChromium)(
    'reads well and passes axe-core in the operational, outage and maintenance states',
    async () => {
      const operational = await inspect('operational');
      expect(operational.banner).toBe('All Systems Operational');
      expect(operational.serious).toEqual([]);
      expect(operational.overflow).toBeLessThanOrEqual(320);

      await publish(
        'Checkout down',
        { checkout: 'major_outage' },
        'Card payments fail; <em>we are on it</em>.',
      );
      const outage = await inspect('outage');
      expect(outage.banner).toBe('Major Service Outage');
      expect(outage.serious).toEqual([]);
      expect(outage.overflow).toBeLessThanOrEqual(320);

      // Resolved, and a maintenance (the fourth severity: no impact) with a component under maintenance.
      const [outageRow] = await testDb()
        .database.db.select()
        .from(incidents)
        .where(eq(incidents.title, 'Checkout down'));
      await app.submitView(
        {
          id: 'V0BRESOLVE',
          callback_id: 'incident_resolve',
          private_metadata: JSON.stringify({ incidentId: outageRow?.id }),
          state: {
            values: { resolution: { resolution_input: { type: 'plain_text_input', value: 'Fixed.' } } },
          },
        },
        'U0LIAISON',
      );
      await app.bot.engine.drain();
      await publish(
        'Database upgrade',
        { api: 'under_maintenance' },
        'Planned upgrade of the database.',
        'MAINT',
      );
      const maintenance = await inspect('maintenance');
      expect(maintenance.banner).toBe('Service Under Maintenance');
      expect(maintenance.serious).toEqual([]);
      expect(maintenance.overflow).toBeLessThanOrEqual(320);

      for (const state of ['operational', 'outage', 'maintenance']) {
        const [wide] = pngSize(join(SHOTS, `${state}-1024.png`));
        const [narrow] = pngSize(join(SHOTS, `${state}-320.png`));
        expect(wide).toBe(1024);
        expect(narrow).toBe(320);
      }
    },
    120_000,
  );

  it.skipIf(!hasChromium)(
    "Atlassian's status widget, on another origin, shows our status description",
    async () => {
      await publish('Checkout down', { checkout: 'partial_outage' }, 'Some card payments fail.');
      const widget = readFileSync(require.resolve('@statuspage/status-widget/dist/index.js'), 'utf8');
      const site: Server = createServer((req, res) => {
        if (req.url === '/widget.js')
          return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(widget);
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            `<!doctype html><html lang="en"><head><script src="/widget.js"></script></head><body><statuspage-widget src="${base()}"></statuspage-widget></body></html>`,
          );
      });
      await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
      try {
        const page = await browser.newPage();
        const origin = `http://localhost:${(site.address() as AddressInfo).port}`;
        await page.goto(`${origin}/`);
        // The widget renders in its shadow root; Playwright's text locators look inside it.
        const shown = page.locator('statuspage-widget').getByText('Major Service Outage');
        await expect.poll(() => shown.count(), { timeout: 15_000 }).toBe(1);
        writeFileSync(join(SHOTS, 'widget.png'), await page.screenshot());
        await page.close();
      } finally {
        await new Promise<void>((resolve) => site.close(() => resolve()));
      }
    },
    60_000,
  );
});
