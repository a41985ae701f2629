import type { TopLevelSpec } from 'vega-lite';

/**
 * The MTTR chart of `/incident stats`: median time to resolve by severity per ISO week, rendered on the
 * server to PNG — Vega-Lite describes it, Vega lays it out as SVG (no browser, no canvas), resvg paints
 * the SVG (a Rust renderer shipped as a prebuilt npm package: no download, no native build). A week
 * without resolved incidents of a severity is a gap in its line, not a zero.
 */

/** One point of a severity's line: its median MTTR in one ISO week, or null for a week without any. */
export interface WeeklyPoint {
  week: string;
  severity: string;
  mttrMs: number | null;
}

export const CHART_WIDTH = 720;
export const CHART_HEIGHT = 320;

export function mttrChartSpec(points: WeeklyPoint[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    background: 'white',
    padding: 12,
    data: {
      values: points.map((p) => ({
        week: p.week,
        severity: p.severity,
        hours: p.mttrMs === null ? null : Math.round((p.mttrMs / 3_600_000) * 100) / 100,
      })),
    },
    mark: { type: 'line', point: true, invalid: 'break-paths-show-domains' },
    encoding: {
      x: { field: 'week', type: 'ordinal', title: 'ISO week (declared)', axis: { labelAngle: -45 } },
      y: { field: 'hours', type: 'quantitative', title: 'Median time to resolve (hours)' },
      color: { field: 'severity', type: 'nominal', title: 'Severity' },
    },
    config: { font: 'DejaVu Sans, sans-serif' },
  };
}

/**
 * The chart as PNG bytes. Vega, Vega-Lite and resvg are loaded on the first chart, not at startup: they
 * took about 300 ms of every start and 21 MB of RSS for a command most days never see.
 */
export async function mttrChartPng(points: WeeklyPoint[], title: string): Promise<Buffer> {
  const [vega, { compile }, { Resvg }] = await Promise.all([
    import('vega'),
    import('vega-lite'),
    import('@resvg/resvg-js'),
  ]);
  const { spec } = compile(mttrChartSpec(points, title));
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  }).render();
  return png.asPng();
}
