import type { ComponentState } from '../../statuspage/model.js';
import { COMPONENT_STATE_WORDS, INDICATOR_WORDS } from '../../statuspage/model.js';
import {
  componentStates,
  impactOf,
  indicatorOf,
  type PageInput,
  type PublicIncident,
  unresolved,
} from '../../statuspage/page.js';

/**
 * The status page's HTML: server-rendered, no JavaScript, every string escaped, landmarks (header, main,
 * footer) and headings in order, colours that pass WCAG AA against their background and always paired
 * with words, readable at 320 px wide. Pure: the same input gives the same page.
 */

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const DAY = 86_400_000;

const STATE_CLASS: Record<ComponentState, string> = {
  operational: 'ok',
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
  under_maintenance: 'maintenance',
};

const STATUS_WORDS: Record<string, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const title = (p: PublicIncident) =>
  p.updates.findLast((u) => u.publicTitle)?.publicTitle ?? p.incident.title;

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1a1a1a;background:#fff}
header,main,footer{max-width:46rem;margin:0 auto;padding:1rem}
header{border-bottom:1px solid #ccc}
h1{font-size:1.5rem;margin:0}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .25rem}
a{color:#0b4f9c}
.banner{padding:.75rem 1rem;border-radius:4px;font-weight:600;color:#fff}
.banner.none,.banner.ok{background:#1e6b34}.banner.minor{background:#8a5a00}.banner.major{background:#a33c00}
.banner.critical{background:#a4161a}.banner.maintenance{background:#1f4e9c}
ul.components{list-style:none;padding:0;margin:0}
ul.components li{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem;padding:.5rem 0;border-bottom:1px solid #e5e5e5}
.state{font-weight:600}.state.ok{color:#1e6b34}.state.minor{color:#8a5a00}.state.major{color:#a33c00}
.state.critical{color:#a4161a}.state.maintenance{color:#1f4e9c}
article{border-left:4px solid #a33c00;padding-left:.75rem;margin:1rem 0}
article.resolved{border-left-color:#1e6b34}
.update{margin:.5rem 0}.update p{margin:.25rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.meta{color:#555;font-size:.9rem}
`;

function layout(input: PageInput, heading: string, body: string): string {
  const t = escapeHtml(input.config.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${heading === input.config.title ? t : `${escapeHtml(heading)} · ${t}`}</title>
<link rel="alternate" type="application/atom+xml" title="${t} history (Atom)" href="/history.atom">
<link rel="alternate" type="application/rss+xml" title="${t} history (RSS)" href="/history.rss">
<style>${CSS}</style>
</head>
<body>
<header><h1><a href="/status">${t}</a></h1></header>
<main>
${body}
</main>
<footer class="meta"><p><a href="/status/history">History</a> · Subscribe: <a href="/history.atom">Atom</a>, <a href="/history.rss">RSS</a> · Times are UTC.</p></footer>
</body>
</html>
`;
}

function updatesHtml(p: PublicIncident): string {
  return [...p.updates]
    .reverse()
    .map(
      (u) =>
        `<div class="update"><p><strong>${escapeHtml(STATUS_WORDS[u.status] ?? u.status)}</strong> — ${escapeHtml(u.publicBody ?? u.message)}</p><p class="meta"><time datetime="${u.postedAt.toISOString()}">${utc(u.postedAt)}</time></p></div>`,
    )
    .join('\n');
}

function incidentArticle(p: PublicIncident, level: 'h2' | 'h3'): string {
  const resolved = p.incident.status === 'resolved';
  return `<article class="${resolved ? 'resolved' : 'open'}">
<${level}><a href="/status/incidents/${escapeHtml(p.incident.id)}">${escapeHtml(title(p))}</a></${level}>
${updatesHtml(p)}
</article>`;
}

function componentsHtml(input: PageInput): string {
  if (input.config.components.length === 0) return '';
  const states = componentStates(input);
  const item = (c: { id: string; name: string }) => {
    const state = states.get(c.id) ?? 'operational';
    return `<li><span>${escapeHtml(c.name)}</span><span class="state ${STATE_CLASS[state]}">${COMPONENT_STATE_WORDS[state]}</span></li>`;
  };
  const groups = [...new Set(input.config.components.map((c) => c.group ?? ''))];
  const sections = groups.map((g) => {
    const members = input.config.components.filter((c) => (c.group ?? '') === g);
    return `${g ? `<h3>${escapeHtml(g)}</h3>` : ''}<ul class="components">${members.map(item).join('')}</ul>`;
  });
  return `<section aria-labelledby="components"><h2 id="components">Components</h2>${sections.join('\n')}</section>`;
}

/** `GET /status`: the state now, the components, open incidents, and the last 14 days. */
export function statusPageHtml(input: PageInput): string {
  const indicator = indicatorOf(input);
  const open = unresolved(input);
  const since = input.now.getTime() - 14 * DAY;
  const recent = input.incidents.filter(
    (p) => p.incident.status === 'resolved' && (p.incident.resolvedAt?.getTime() ?? 0) >= since,
  );
  const body = `<p class="banner ${indicator}" role="status">${INDICATOR_WORDS[indicator]}</p>
${
  open.length > 0
    ? `<section aria-labelledby="active"><h2 id="active">Active incidents</h2>${open.map((p) => incidentArticle(p, 'h3')).join('\n')}</section>`
    : ''
}
${componentsHtml(input)}
<section aria-labelledby="past"><h2 id="past">Past 14 days</h2>
${recent.length > 0 ? recent.map((p) => incidentArticle(p, 'h3')).join('\n') : '<p>No incidents.</p>'}
<p><a href="/status/history">Incident history (90 days)</a></p>
</section>`;
  return layout(input, input.config.title, body);
}

/** `GET /status/incidents/<id>`. */
export function incidentPageHtml(input: PageInput, p: PublicIncident): string {
  const impact = impactOf(p.incident.severity, input.severities);
  const body = `<h2>${escapeHtml(title(p))}</h2>
<p class="meta">${escapeHtml(STATUS_WORDS[p.incident.status] ?? p.incident.status)} · impact ${impact} · started <time datetime="${p.incident.declaredAt.toISOString()}">${utc(p.incident.declaredAt)}</time></p>
<section aria-label="Updates">${updatesHtml(p)}</section>
<p><a href="/status">Current status</a></p>`;
  return layout(input, title(p), body);
}

/** `GET /status/history`: 90 days of incidents, newest first. */
export function historyPageHtml(input: PageInput): string {
  const body = `<h2>Incident history</h2>
${input.incidents.length > 0 ? input.incidents.map((p) => incidentArticle(p, 'h3')).join('\n') : '<p>No incidents in the last 90 days.</p>'}`;
  return layout(input, 'History', body);
}

/** An incident the page does not show (unknown, private, or older than 90 days). */
export function notFoundHtml(input: PageInput): string {
  return layout(
    input,
    'Not found',
    '<h2>Not found</h2><p>There is no such incident on this page.</p><p><a href="/status">Current status</a></p>',
  );
}
