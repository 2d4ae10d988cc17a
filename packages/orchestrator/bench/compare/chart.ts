/**
 * The comparison's chart (vega-lite, as docs/scheduling-bench.svg): drain rates per scenario and
 * system (log scale), and the drain of one to three queen processes. Run alone it redraws a chart
 * from a saved summary: `chart.ts <summary.json> <out.svg> <subtitle>`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';

export interface ChartRow {
  readonly scenario: string;
  readonly peer: string;
  readonly jobsPerSecond: number;
}

export async function writeChart(summary: readonly ChartRow[], subtitle: string, out: string): Promise<void> {
  const drains = summary.filter((s) => !s.peer.includes('×') && Number.isFinite(s.jobsPerSecond));
  const curve = summary
    .filter((s) => s.peer.includes('×') && Number.isFinite(s.jobsPerSecond))
    .map((s) => ({ ...s, queens: Number(s.peer.split('×')[1]) }));
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Orchestrator drain rate against peers (16 no-op handlers)', subtitle },
    vconcat: [
      {
        width: 620,
        height: 260,
        data: { values: drains },
        mark: 'bar',
        encoding: {
          x: { field: 'scenario', type: 'nominal', title: null, axis: { labelAngle: 0, labelLimit: 200 } },
          xOffset: { field: 'peer' },
          y: { field: 'jobsPerSecond', type: 'quantitative', title: 'jobs/s (median)' },
          color: { field: 'peer', type: 'nominal', title: null, legend: { orient: 'bottom' } },
        },
      },
      {
        width: 300,
        height: 180,
        title: 'Myrmex queen processes on one PostgreSQL',
        data: { values: curve },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'queens', type: 'ordinal', title: 'queens', axis: { labelAngle: 0 } },
          y: { field: 'jobsPerSecond', type: 'quantitative', title: 'drain jobs/s (median)', scale: { zero: true } },
        },
      },
    ],
  }).spec;
  const view = new View(parse(spec), { renderer: 'none' });
  writeFileSync(out, await view.toSVG());
  view.finalize();
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [file, out, subtitle] = process.argv.slice(2);
  if (!file || !out) throw new Error('usage: chart.ts <summary.json> <out.svg> [subtitle]');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { summary?: ChartRow[] } | ChartRow[];
  await writeChart(Array.isArray(saved) ? saved : (saved.summary ?? []), subtitle ?? '', out);
  console.error(`wrote ${out}`);
}
