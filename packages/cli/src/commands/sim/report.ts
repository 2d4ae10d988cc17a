import type { Series, Summary } from '@myrmex/scheduling';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders one vega-lite spec to an SVG string in Node (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 640, height: 260 } as const;

/** The charts of a simulation report, as vega-lite specs. */
export function chartSpecs(series: Series): { title: string; spec: TopLevelSpec }[] {
  return [
    {
      title: 'Wait time CDF',
      spec: {
        ...base,
        data: { values: series.waitCdf },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'wait', type: 'quantitative', title: 'wait (s, log)', scale: { type: 'symlog' } },
          y: { field: 'fraction', type: 'quantitative', title: 'fraction of jobs started', scale: { domain: [0, 1] } },
          color: { field: 'profile', type: 'nominal' },
        },
      },
    },
    {
      title: 'Utilisation over time',
      spec: {
        ...base,
        data: { values: series.utilisation },
        mark: 'line',
        encoding: {
          x: { field: 'time', type: 'quantitative', title: 'time (s)' },
          y: { field: 'utilisation', type: 'quantitative', title: 'busy cpu / total cpu', axis: { format: '%' } },
          color: { field: 'profile', type: 'nominal' },
        },
      },
    },
    {
      title: 'Share of busy cpu per tenant over time',
      spec: {
        $schema: base.$schema,
        data: { values: series.tenantShare },
        facet: { row: { field: 'profile', type: 'nominal', title: null } },
        spec: {
          width: 640,
          height: 120,
          mark: 'area',
          encoding: {
            x: { field: 'time', type: 'quantitative', title: 'time (s)' },
            y: { field: 'share', type: 'quantitative', stack: 'normalize', title: 'share', axis: { format: '%' } },
            color: { field: 'tenant', type: 'nominal' },
          },
        },
      },
    },
    {
      title: 'Ants over time (Gantt, first attempts)',
      spec: {
        $schema: base.$schema,
        data: { values: series.gantt },
        facet: { row: { field: 'profile', type: 'nominal', title: null } },
        spec: {
          width: 640,
          height: 160,
          mark: { type: 'bar', height: 6 },
          encoding: {
            x: { field: 'start', type: 'quantitative', title: 'time (s)' },
            x2: { field: 'end' },
            y: { field: 'ant', type: 'nominal', title: null },
            color: { field: 'tenant', type: 'nominal' },
            opacity: { condition: { test: "datum.outcome === 'done' || datum.outcome === 'running'", value: 1 }, value: 0.35 },
          },
        },
        resolve: { scale: { y: 'independent' } },
      },
    },
  ];
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A self-contained HTML page: the metrics table and every chart inline. */
export async function renderReport(title: string, table: string, summaries: readonly Summary[], series: Series): Promise<string> {
  const charts = await Promise.all(
    chartSpecs(series).map(async ({ title: t, spec }) => `<h2>${escapeHtml(t)}</h2>\n${await renderSvg(spec)}`),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:900px}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<pre>${escapeHtml(table)}</pre>
${charts.join('\n')}
<script type="application/json" id="summaries">${escapeHtml(JSON.stringify(summaries))}</script>
</body></html>
`;
}
