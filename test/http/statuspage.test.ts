import { parseFeed } from '@rowanmanning/feed-parser';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIncidentConfig } from '../../src/config/index.js';
import { incidents } from '../../src/db/schema.js';
import { FakeClock } from '../helpers/clock.js';
import { useTestDatabase } from '../helpers/db.js';
import { declareView, startTestBot, type TestBot } from '../helpers/http.js';
import { isolateNetwork, resetNetwork, SlackApiMock } from '../helpers/slack-api.js';

/**
 * The status page's Statuspage-compatible JSON, fed by the liaison's customer-facing updates through the
 * real app: what a customer update publishes (title, text, components), what never appears (internal
 * updates, private and test incidents), and the final update a resolve publishes.
 */

const CONFIG = parseIncidentConfig(
  `
severities:
  - { id: SEV1, description: Critical }
  - { id: SEV2, description: Major }
  - { id: SEV3, description: Minor }
status_page:
  title: Acme status
  public_url: https://status.acme.example/
  components:
    - { id: api, name: API }
    - { id: checkout, name: Checkout, group: Payments }
    - { id: cards, name: Cards, group: Payments }
`,
  'test-config',
);
const LIAISON = 'U0LIAISON';

/** What the tests read of Statuspage's documents. */
interface Component {
  id: string;
  name: string;
  status: string;
  group: boolean;
  group_id: string | null;
  page_id: string;
  components?: string[];
}
interface Update {
  status: string;
  body: string;
  display_at: string;
  affected_components: { code: string; name: string; old_status: string; new_status: string }[] | null;
}
interface Incident {
  id: string;
  name: string;
  status: string;
  impact: string;
  shortlink: string;
  resolved_at: string | null;
  incident_updates: Update[];
}
interface Doc {
  page: { name: string; url: string };
  status: { indicator: string; description: string };
  components: Component[];
  incidents: Incident[];
}

const testDb = useTestDatabase();
let app: TestBot;
let clock: FakeClock;

beforeEach(async () => {
  isolateNetwork();
  SlackApiMock.withNock();
  clock = new FakeClock('2026-11-26T10:00:00Z');
  app = await startTestBot({ database: testDb().database, clock, incident: CONFIG });
});

afterEach(async () => {
  await app.stop();
  resetNetwork();
});

const base = () => app.url.replace(/\/slack\/events$/, '');
async function api(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base()}/api/v2/${path}`, { headers });
  return { res, body: res.status === 200 ? ((await res.json()) as Doc) : undefined };
}

async function declare(title: string, severity: string, extra: Parameters<typeof declareView>[0] = {}) {
  await app.submitView(
    declareView(
      { title, severity, commander: LIAISON, ...extra },
      `V0${title.replace(/\W/g, '').slice(0, 8)}`,
    ),
  );
  await app.bot.engine.drain();
  const [row] = await testDb().database.db.select().from(incidents).where(eq(incidents.title, title));
  return row?.id as string;
}

async function update(
  incidentId: string,
  fields: {
    message: string;
    audience: 'internal' | 'customers';
    title?: string;
    body?: string;
    components?: Record<string, string>;
    status?: string;
  },
) {
  const res = await app.submitView(
    {
      id: `V0UP${Math.random().toString(36).slice(2, 8)}`,
      callback_id: 'incident_update',
      private_metadata: JSON.stringify({ incidentId }),
      state: {
        values: {
          status: {
            status_select: {
              type: 'static_select',
              selected_option: { value: fields.status ?? 'investigating' },
            },
          },
          message: { message_input: { type: 'plain_text_input', value: fields.message } },
          audience: {
            audience_radio: { type: 'radio_buttons', selected_option: { value: fields.audience } },
          },
          public_title: { public_title_input: { type: 'plain_text_input', value: fields.title ?? null } },
          public_body: { public_body_input: { type: 'plain_text_input', value: fields.body ?? null } },
          ...Object.fromEntries(
            Object.entries(fields.components ?? {}).map(([id, state]) => [
              `component:${id}`,
              { component_state: { type: 'static_select', selected_option: { value: state } } },
            ]),
          ),
        },
      },
    },
    LIAISON,
  );
  await app.bot.engine.drain();
  return res;
}

describe('the status page API (Statuspage-compatible)', () => {
  it('publishes customer updates only, with their components, and a final update at resolve', async () => {
    const empty = await api('summary.json');
    expect(empty.body?.status).toEqual({ indicator: 'none', description: 'All Systems Operational' });
    expect(empty.body?.page).toMatchObject({ name: 'Acme status', url: 'https://status.acme.example' });
    expect(empty.body?.components.map((c) => [c.id, c.status])).toEqual([
      ['api', 'operational'],
      ['checkout', 'operational'],
      ['cards', 'operational'],
      ['group-1', 'operational'],
    ]);

    const id = await declare('Checkout down', 'SEV2');
    await update(id, {
      message: 'Looking at the gateway',
      audience: 'internal',
      components: { checkout: 'major_outage' },
    });
    expect((await api('incidents.json')).body?.incidents).toEqual([]);

    clock.advance(5 * 60_000);
    await update(id, {
      message: 'Card payments fail; we are on it.',
      audience: 'customers',
      title: 'Checkout problems',
      body: '<script>alert(1)</script> Some card payments fail.',
      components: { checkout: 'partial_outage' },
    });
    const summary = (await api('summary.json')).body as Doc;
    expect(summary.status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    const checkout = summary.components.find((c) => c.id === 'checkout');
    expect(checkout).toMatchObject({
      status: 'partial_outage',
      group_id: 'group-1',
      group: false,
      page_id: 'incident-bot',
    });
    expect(summary.components.find((c) => c.id === 'group-1')).toMatchObject({
      name: 'Payments',
      group: true,
      status: 'partial_outage',
      components: ['checkout', 'cards'],
    });
    const [incident] = summary.incidents;
    expect(incident).toMatchObject({
      id,
      name: 'Checkout problems',
      status: 'investigating',
      impact: 'major',
      shortlink: `https://status.acme.example/status/incidents/${id}`,
      resolved_at: null,
    });
    expect(incident?.incident_updates).toHaveLength(1);
    expect(incident?.incident_updates[0]).toMatchObject({
      status: 'investigating',
      body: '<script>alert(1)</script> Some card payments fail.',
      display_at: '2026-11-26T10:05:00.000Z',
      affected_components: [
        { code: 'checkout', name: 'Checkout', old_status: 'operational', new_status: 'partial_outage' },
      ],
    });

    // Private and test incidents never appear, whatever they tell customers.
    const secret = await declare('Secret thing', 'SEV1', { private: true });
    await update(secret, { message: 'x', audience: 'customers', components: { api: 'major_outage' } });
    const drill = await declare('Drill', 'SEV1', { test: true });
    await update(drill, { message: 'x', audience: 'customers', components: { api: 'major_outage' } });
    const again = (await api('summary.json')).body as Doc;
    expect(again.incidents.map((i) => i.id)).toEqual([id]);
    expect(again.components.find((c) => c.id === 'api')?.status).toBe('operational');

    // Resolving publishes the final update and returns the components to operational.
    clock.advance(30 * 60_000);
    await app.submitView(
      {
        id: 'V0RESOLVE1',
        callback_id: 'incident_resolve',
        private_metadata: JSON.stringify({ incidentId: id }),
        state: {
          values: {
            resolution: { resolution_input: { type: 'plain_text_input', value: 'Rolled back the gateway.' } },
            public_resolution: {
              public_resolution_input: { type: 'plain_text_input', value: 'Payments work again.' },
            },
          },
        },
      },
      LIAISON,
    );
    await app.bot.engine.drain();
    expect((await api('incidents/unresolved.json')).body?.incidents).toEqual([]);
    const after = (await api('incidents.json')).body as Doc;
    expect(after.incidents[0]).toMatchObject({
      id,
      status: 'resolved',
      resolved_at: '2026-11-26T10:35:00.000Z',
    });
    expect(after.incidents[0]?.incident_updates[0]).toMatchObject({
      status: 'resolved',
      body: 'Payments work again.',
      affected_components: [{ code: 'checkout', old_status: 'partial_outage', new_status: 'operational' }],
    });
    expect((await api('status.json')).body?.status).toEqual({
      indicator: 'none',
      description: 'All Systems Operational',
    });
    expect((await api('components.json')).body?.components[1]).toMatchObject({
      id: 'checkout',
      status: 'operational',
    });
  });

  it('serves the pages (escaped, with landmarks) and the Atom and RSS feeds', async () => {
    const id = await declare('Checkout down', 'SEV2');
    clock.advance(5 * 60_000);
    await update(id, {
      message: 'internal words',
      audience: 'customers',
      title: 'Checkout <b>problems</b>',
      body: '<script>alert(1)</script> Some card payments fail.',
      components: { checkout: 'partial_outage' },
    });
    const secret = await declare('Secret thing', 'SEV1', { private: true });
    await update(secret, { message: 'x', audience: 'customers' });

    const res = await fetch(`${base()}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<html lang="en">');
    for (const landmark of ['<header>', '<main>', '<footer'] as const) expect(html).toContain(landmark);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>problems');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Some card payments fail.');
    expect(html).toContain('Checkout &lt;b&gt;problems&lt;/b&gt;');
    expect(html).toContain('role="status">Partial System Outage</p>');
    expect(html).toMatch(/<span>Checkout<\/span><span class="state major">Partial outage<\/span>/);
    expect(html).toContain('<link rel="alternate" type="application/atom+xml"');
    expect(html).not.toContain('Secret thing');

    const page = await fetch(`${base()}/status/incidents/${id}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h2>Checkout &lt;b&gt;problems&lt;/b&gt;</h2>');
    expect((await fetch(`${base()}/status/incidents/${secret}`)).status).toBe(404);
    expect((await fetch(`${base()}/status/incidents/nope`)).status).toBe(404);
    expect(await (await fetch(`${base()}/status/history`)).text()).toContain('Checkout &lt;b&gt;problems');

    const atom = parseFeed(await (await fetch(`${base()}/history.atom`)).text());
    expect(atom.meta.type).toBe('atom');
    expect(atom.title).toBe('Acme status: incident history');
    expect(atom.authors.map((a) => a.name)).toEqual(['Acme status']);
    expect(atom.items.map((i) => i.title)).toEqual(['Checkout <b>problems</b>: Investigating']);
    expect(atom.items[0]?.url).toBe(`https://status.acme.example/status/incidents/${id}`);
    const rss = parseFeed(await (await fetch(`${base()}/history.rss`)).text());
    expect(rss.meta.type).toBe('rss');
    expect(rss.items).toHaveLength(1);
    expect(rss.items[0]?.description).toContain('<script>alert(1)</script>');
  });

  it('is open to every origin, cached briefly, and answers 304 to a poller that has it', async () => {
    const { res } = await api('status.json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=30');
    const etag = res.headers.get('etag') as string;
    expect(etag).toMatch(/^".+"$/);
    const again = await api('status.json', { 'if-none-match': etag });
    expect(again.res.status).toBe(304);
  });

  it('refuses a component the page does not have', async () => {
    const id = await declare('Checkout down', 'SEV2');
    const res = await update(id, {
      message: 'x',
      audience: 'customers',
      components: { billing: 'major_outage' },
    });
    expect(JSON.stringify(await res.json())).toContain('`billing` is not a component of the status page.');
  });
});
