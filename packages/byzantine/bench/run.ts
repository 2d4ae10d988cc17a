// The byzantine benchmark without the CLI: in-process algorithm time per engine, and the
// whole-process time of a fresh `node` that imports the built package and does the same run.
// Run: npm run bench -w @myrmex/byzantine [-- --max-generals 2000 --max-rounds 4 --message-budget 5000000 --engines fast,actors]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type BenchRow,
  benchCases,
  benchRow,
  CSV_HEADER,
  csvLine,
  type EngineName,
  type ProcessCommand,
  renderBenchChart,
} from '@myrmex/byzantine';

const { values } = parseArgs({
  options: {
    'max-generals': { type: 'string', default: process.env.BYZANTINE_BENCH_MAX_GENERALS ?? '2000' },
    'max-rounds': { type: 'string', default: '4' },
    'message-budget': { type: 'string', default: '5000000' },
    engines: { type: 'string', default: 'fast,actors' },
    repeat: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/byzantine.svg' },
  },
});
const number = (flag: string, raw: string) => {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${flag} must be a positive integer, got '${raw}'`);
  return value;
};
const plan = {
  maxGenerals: number('max-generals', values['max-generals']),
  maxRounds: number('max-rounds', values['max-rounds']),
  messageBudget: number('message-budget', values['message-budget']),
};
const engines = values.engines.split(',') as EngineName[];
const built = new URL('../dist/index.js', import.meta.url).href;
const freshNode: ProcessCommand = ({ generals, rounds, engine, traitors }) => ({
  command: process.execPath,
  args: [
    '--input-type=module',
    '-e',
    `const { runByzantine } = await import(${JSON.stringify(built)}); await runByzantine(${JSON.stringify({ generals, rounds, engine, traitors, strategy: 'flip' })});`,
  ],
});

const rows: BenchRow[] = [];
console.log(CSV_HEADER);
for (const benchCase of benchCases(plan)) {
  for (const engine of engines) {
    const row = await benchRow(benchCase, engine, { repeat: number('repeat', values.repeat), processCommand: freshNode });
    rows.push(row);
    console.log(csvLine(row));
  }
}
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(values.out, renderBenchChart(rows, `Node.js ${process.version}, ${new Date().toISOString().slice(0, 10)}`));
console.error(`wrote ${values.out}`);
