import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
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
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { integerFlag } from './options.js';

interface BenchFlags {
  maxGenerals?: string;
  maxRounds?: string;
  messageBudget?: string;
  engines?: string;
  repeat?: string;
  processRuns?: boolean;
  out?: string;
}

/** Each whole-process sample is this binary run once in a new Node.js process, as the article timed its programs. */
const binary = fileURLToPath(new URL('../../../bin/myrmex.js', import.meta.url));
const selfProcess: ProcessCommand = ({ generals, rounds, engine, traitors }) => ({
  command: process.execPath,
  args: [
    binary,
    'byzantine',
    'run',
    '--generals',
    `${generals}`,
    '--rounds',
    `${rounds}`,
    '--traitors',
    traitors.join(','),
    '--engine',
    engine,
    '--json',
  ],
});

function positive(flag: string, raw: string | undefined): number {
  const value = integerFlag(flag, raw)!;
  if (value < 1) throw new UsageError(`${flag} must be at least 1, got ${value}`);
  return value;
}

export function registerBench(family: Command, { io }: CliContext): void {
  family
    .command('bench')
    .description(
      "reproduce the article's experiment (OM(1), 10 to 2000 generals) and go further (m up to 4); prints CSV, writes an SVG chart",
    )
    .option('--max-generals <n>', 'largest number of generals', '2000')
    .option('--max-rounds <m>', 'largest m', '4')
    .option('--message-budget <count>', 'skip cases that send more messages than this', '5000000')
    .option('--engines <list>', 'comma-separated engines to measure: fast, actors', 'fast,actors')
    .option('--repeat <k>', 'in-process runs per case; the fastest is reported', '3')
    .option('--no-process-runs', 'skip the whole-process column (one fresh node process per case)')
    .option('--out <file>', 'where to write the SVG chart', 'byzantine-bench.svg')
    .action(async (flags: BenchFlags) => {
      const maxGenerals = positive('--max-generals', flags.maxGenerals);
      if (maxGenerals < 4) throw new UsageError(`--max-generals must be at least 4, got ${maxGenerals}`);
      const plan = {
        maxGenerals,
        maxRounds: positive('--max-rounds', flags.maxRounds),
        messageBudget: positive('--message-budget', flags.messageBudget),
      };
      const engines = (flags.engines ?? '').split(',').map((e) => e.trim());
      for (const engine of engines)
        if (engine !== 'fast' && engine !== 'actors') throw new UsageError(`--engines must list fast and/or actors, got '${engine}'`);
      const repeat = positive('--repeat', flags.repeat);
      const rows: BenchRow[] = [];
      io.out(CSV_HEADER);
      for (const benchCase of benchCases(plan)) {
        for (const engine of engines as EngineName[]) {
          const row = await benchRow(benchCase, engine, { repeat, processCommand: flags.processRuns === false ? undefined : selfProcess });
          rows.push(row);
          io.out(csvLine(row));
        }
      }
      const out = flags.out ?? 'byzantine-bench.svg';
      await writeFile(out, renderBenchChart(rows, `Node.js ${process.version}, ${new Date().toISOString().slice(0, 10)}`));
      io.err(`wrote ${out}`);
    });
}
