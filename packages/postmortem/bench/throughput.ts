// Throughput of the reviewer: parse, lint and render, against the bare Markdown parse they build on.
// Sizes: --docs N (BENCH_DOCS, default 200 exemplary documents per round), --large-docs N (BENCH_LARGE_DOCS,
// default 5 large documents per round), --entries N (BENCH_ENTRIES, default 400 timeline entries and action
// rows in the large document), --rounds N (BENCH_ROUNDS, default 5).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { lint, parse, render } from '@myrmex/postmortem';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmTableFromMarkdown } from 'mdast-util-gfm-table';
import { gfmTable } from 'micromark-extension-gfm-table';

const { values } = parseArgs({
  options: { docs: { type: 'string' }, 'large-docs': { type: 'string' }, entries: { type: 'string' }, rounds: { type: 'string' } },
});
const docs = Number(values.docs ?? process.env.BENCH_DOCS ?? 200);
const largeDocs = Number(values['large-docs'] ?? process.env.BENCH_LARGE_DOCS ?? 5);
const entries = Number(values.entries ?? process.env.BENCH_ENTRIES ?? 400);
const rounds = Number(values.rounds ?? process.env.BENCH_ROUNDS ?? 5);

const exemplary = readFileSync(new URL('../test/fixtures/exemplary.md', import.meta.url), 'utf8');
const two = (n: number) => String(n).padStart(2, '0');
const large = exemplary
  .replace(
    /- 09:12 - \*\*Release[^\n]*\n/,
    (first) =>
      first +
      Array.from(
        { length: entries },
        (_, i) => `- 1${Math.floor(i / 60) % 10}:${two(i % 60)} - Step ${i} of the recovery continues\n`,
      ).join(''),
  )
  .replace(
    /(\| 4 \| Let the incident commander[^\n]*\n)/,
    (row) =>
      row +
      Array.from(
        { length: entries },
        (_, i) => `| ${5 + i} | Change ${i} to the pipeline | Aiko Tanaka | 2026-12-04 | Low | 3 | open | |\n`,
      ).join(''),
  );

const bareMarkdown = (text: string) => fromMarkdown(text, { extensions: [gfmTable()], mdastExtensions: [gfmTableFromMarkdown()] });
const parsedOnce = parse(exemplary).doc;

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Microseconds per call of `work`, over `count` calls. */
function time(work: () => void, count: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) work();
  return Number(process.hrtime.bigint() - start) / 1000 / count;
}

/**
 * The operations are interleaved within each round, so a burst of load from other processes hits them
 * alike; each ratio is the median of the per-round ratios to the peer.
 */
function compare(operations: readonly (readonly [string, () => void])[], count: number): { name: string; us: number; ratio: number }[] {
  for (const [, work] of operations) time(work, Math.max(1, Math.floor(count / 4))); // warm-up
  const samples = operations.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    operations.forEach(([, work], i) => {
      samples[i]?.push(time(work, count));
    });
  }
  const peer = samples[0] ?? [];
  return operations.map(([name], i) => ({
    name,
    us: median(samples[i] ?? []),
    ratio: median((samples[i] ?? []).map((us, round) => us / (peer[round] ?? Number.NaN))),
  }));
}

const rows: { name: string; us: number; ratio?: number }[] = [];
for (const [name, text, count] of [
  [`exemplary (${exemplary.length} chars)`, exemplary, docs],
  [`large (${large.length} chars, ${entries} entries and actions)`, large, largeDocs],
] as const) {
  rows.push(
    ...compare(
      [
        [`${name}: Markdown parse only (peer)`, () => bareMarkdown(text)],
        [`${name}: parse`, () => parse(text)],
        [`${name}: parse + lint`, () => lint(text)],
      ],
      count,
    ),
  );
}
rows.push({ name: 'exemplary: render', us: median(Array.from({ length: rounds }, () => time(() => render(parsedOnce), docs))) });

console.log(
  `${docs} exemplary and ${largeDocs} large documents x ${rounds} rounds, median µs per document (operations interleaved per round), Node ${process.version}`,
);
console.log('| operation | µs/doc | docs/s | vs Markdown parse |');
console.log('| --- | ---: | ---: | ---: |');
for (const { name, us, ratio } of rows)
  console.log(`| ${name} | ${us.toFixed(0)} | ${Math.round(1e6 / us)} | ${ratio === undefined ? '' : `${ratio.toFixed(2)}x`} |`);
