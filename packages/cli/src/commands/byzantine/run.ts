import { ByzantineInputError, type RunResult, runByzantine, STRATEGY_NAMES } from '@myrmex/byzantine';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { formatTable } from '../info.js';
import { choiceFlag, idListFlag, integerFlag } from './options.js';

interface RunFlags {
  generals?: string;
  rounds?: string;
  traitors?: string;
  order?: string;
  strategy?: string;
  algorithm?: string;
  engine?: string;
  seed?: string;
  workers?: string;
  unsafe?: boolean;
  json?: boolean;
}

/** The `--json` object: exactly these keys, decisions of loyal lieutenants only. */
export function jsonSummary(result: RunResult): string {
  return JSON.stringify({
    algorithm: result.algorithm,
    generals: result.generals,
    rounds: result.rounds,
    traitors: result.traitors,
    order: result.order,
    decisions: result.loyalDecisions,
    messages: result.messages,
    ic1: result.ic1,
    ic2: result.ic2,
  });
}

function role(id: number, traitors: ReadonlySet<number>): string {
  const base = id === 0 ? 'commander' : 'lieutenant';
  return traitors.has(id) ? `${base} (traitor)` : base;
}

export function tableSummary(result: RunResult): string {
  const traitors = new Set(result.traitors);
  const header = `${result.algorithm.toUpperCase()}(${result.rounds}) on the ${result.engine} engine: ${result.generals} generals, traitors ${
    result.traitors.length === 0 ? 'none' : result.traitors.join(',')
  }, order ${result.order}, strategy ${result.strategy}`;
  const rows = [
    ['general', 'role', 'decision'],
    ['0', role(0, traitors), `(orders ${result.order})`],
  ];
  for (const [id, decision] of Object.entries(result.decisions)) rows.push([id, role(Number(id), traitors), decision]);
  const verdict = (holds: boolean, what: string) => (holds ? `holds (${what})` : `VIOLATED (${what})`);
  const facts = [
    ['messages', result.messages.toLocaleString('en-US')],
    ...(result.algorithm === 'sm' ? [['discarded', `${result.discarded} (signature chain did not verify)`]] : []),
    ['IC1', verdict(result.ic1, 'all loyal lieutenants decide alike')],
    [
      'IC2',
      verdict(result.ic2, result.commanderLoyal ? "loyal lieutenants obey the loyal commander's order" : 'commander is a traitor: vacuous'),
    ],
    ['algorithm time', `${result.algorithmMs.toFixed(3)} ms`],
  ];
  return [header, '', formatTable(rows), '', formatTable(facts)].join('\n');
}

export function registerRun(family: Command, { io, fail }: CliContext): void {
  family
    .command('run')
    .description('run OM(m) or SM(m) once and check IC1 and IC2; exit 0 when both hold, 1 when one is violated, 2 on a bad argument')
    .requiredOption('--generals <n>', 'number of generals, the commander (0) included')
    .option('--rounds <m>', 'number of traitors the algorithm tolerates: OM(m), SM(m)', '1')
    .option('--traitors <ids>', 'comma-separated ids of the traitors, e.g. 2,5', '')
    .option('--order <value>', "the commander's order (any word)", 'ATTACK')
    .option('--strategy <name>', `how traitors behave: ${STRATEGY_NAMES.join(', ')}`, 'flip')
    .option('--algorithm <name>', 'om (oral messages) or sm (signed messages)', 'om')
    .option('--engine <name>', 'fast (one thread) or actors (worker threads over MessagePorts)', 'fast')
    .option('--seed <s>', 'seed of the random strategy', '1')
    .option('--workers <w>', 'worker threads of the actor engine (default: one per core)')
    .option('--unsafe', 'allow n <= 3m for OM (n < m + 2 for SM) or more than m traitors, where agreement can fail')
    .option('--json', 'print one JSON object instead of the table')
    .action(async (flags: RunFlags) => {
      let result: RunResult;
      try {
        result = await runByzantine({
          generals: integerFlag('--generals', flags.generals)!,
          rounds: integerFlag('--rounds', flags.rounds)!,
          traitors: idListFlag('--traitors', flags.traitors),
          order: flags.order,
          strategy: choiceFlag('--strategy', flags.strategy, STRATEGY_NAMES),
          algorithm: choiceFlag('--algorithm', flags.algorithm, ['om', 'sm'] as const),
          engine: choiceFlag('--engine', flags.engine, ['fast', 'actors'] as const),
          seed: integerFlag('--seed', flags.seed),
          workers: integerFlag('--workers', flags.workers),
          unsafe: flags.unsafe === true,
        });
      } catch (error) {
        if (error instanceof ByzantineInputError)
          throw new UsageError(
            `--${error.field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${error.message.slice(error.field.length + 2)}`,
          );
        throw error;
      }
      io.out(flags.json ? jsonSummary(result) : tableSummary(result));
      if (!result.ic1 || !result.ic2) fail(1);
    });
}
