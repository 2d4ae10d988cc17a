import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { EngineName } from '../core/config.js';
import { omMessageCount } from '../core/paths.js';
import { runByzantine } from '../run.js';

/** The article's sizes (10 to 2000 generals, one round). */
export const ARTICLE_GENERALS = [10, 50, 100, 200, 1000, 2000] as const;

export interface BenchCase {
  readonly generals: number;
  readonly rounds: number;
}

export interface BenchPlan {
  readonly maxGenerals: number;
  readonly maxRounds: number;
  /** Cases whose OM message count exceeds this are left out ("where feasible"). */
  readonly messageBudget: number;
}

/** Sizes tried beyond the article for m >= 2, after the smallest safe one (3m + 1). */
export const FURTHER_GENERALS = [10, 20, 30, 50, 100, 200, 500, 1000, 2000] as const;

/**
 * The article's experiment (m = 1 with its six sizes, plus maxGenerals if it is another) and
 * beyond it: for m = 2..maxRounds, 3m + 1 generals and then growing sizes, as long as a run
 * stays within the message budget.
 */
export function benchCases({ maxGenerals, maxRounds, messageBudget }: BenchPlan): BenchCase[] {
  const cases: BenchCase[] = [];
  for (let rounds = 1; rounds <= maxRounds; rounds++) {
    const candidates = rounds === 1 ? [...ARTICLE_GENERALS, maxGenerals] : [3 * rounds + 1, ...FURTHER_GENERALS, maxGenerals];
    const sizes = [...new Set(candidates)].filter((n) => n > 3 * rounds && n <= maxGenerals).sort((a, b) => a - b);
    for (const generals of sizes) if (omMessageCount(generals, rounds) <= messageBudget) cases.push({ generals, rounds });
  }
  return cases;
}

export interface BenchRow {
  readonly engine: EngineName;
  readonly generals: number;
  readonly rounds: number;
  readonly traitors: number;
  readonly messages: number;
  readonly algorithmMs: number;
  readonly messagesPerSecond: number;
  /** Wall-clock time of a fresh process doing the same run (runtime start-up included), if measured. */
  readonly processMs: number | undefined;
  readonly ic1: boolean;
  readonly ic2: boolean;
}

/** A command that performs one run in a new process, for the whole-process column. */
export type ProcessCommand = (run: BenchCase & { engine: EngineName; traitors: readonly number[] }) => { command: string; args: string[] };

/** The last m generals are traitors flipping every value: the worst case OM(m) is built for. */
export const benchTraitors = ({ generals, rounds }: BenchCase): number[] => Array.from({ length: rounds }, (_, i) => generals - 1 - i);

/** Runs one bench case in-process (best of `repeat`) and, if a command is given, once as a child process. */
export async function benchRow(
  benchCase: BenchCase,
  engine: EngineName,
  options: { readonly repeat: number; readonly processCommand?: ProcessCommand | undefined },
): Promise<BenchRow> {
  const traitors = benchTraitors(benchCase);
  let best: Awaited<ReturnType<typeof runByzantine>> | undefined;
  for (let i = 0; i < options.repeat; i++) {
    const result = await runByzantine({ ...benchCase, traitors, strategy: 'flip', engine });
    if (best === undefined || result.algorithmMs < best.algorithmMs) best = result;
  }
  const processMs =
    options.processCommand === undefined ? undefined : await wholeProcessMs(options.processCommand({ ...benchCase, engine, traitors }));
  return {
    engine,
    generals: benchCase.generals,
    rounds: benchCase.rounds,
    traitors: traitors.length,
    messages: best!.messages,
    algorithmMs: best!.algorithmMs,
    messagesPerSecond: best!.messages / (best!.algorithmMs / 1000),
    processMs,
    ic1: best!.ic1,
    ic2: best!.ic2,
  };
}

/** Wall-clock milliseconds from spawning `command` to its exit; a failing command is an error. */
export function wholeProcessMs({ command, args }: { command: string; args: string[] }): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || code === 1) resolve(performance.now() - started);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim().split('\n')[0] ?? ''}`));
    });
  });
}

export const CSV_HEADER = 'algorithm,engine,generals,rounds,traitors,messages,algorithm_ms,messages_per_s,process_ms,ic1,ic2';

export function csvLine(row: BenchRow): string {
  return [
    'om',
    row.engine,
    row.generals,
    row.rounds,
    row.traitors,
    row.messages,
    row.algorithmMs.toFixed(3),
    Math.round(row.messagesPerSecond),
    row.processMs === undefined ? '' : row.processMs.toFixed(1),
    row.ic1,
    row.ic2,
  ].join(',');
}
