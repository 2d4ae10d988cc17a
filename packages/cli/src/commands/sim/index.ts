import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import {
  BUILTIN_PROFILES,
  type GeneratorOptions,
  generateWorkload,
  type Profile,
  parseProfile,
  parseWorkload,
  type SimAnt,
  seriesOf,
  simulate,
  summarise,
  type Workload,
} from '@myrmex/scheduling';
import type { Command } from 'commander';
import { type CliContext, type RegisterCommands, UsageError } from '../../context.js';
import { choiceFlag, integerFlag } from '../byzantine/options.js';
import { renderReport } from './report.js';
import { formatTable } from './table.js';

interface SimFlags {
  profile: string[];
  workload?: string;
  jobs: string;
  seed: string;
  arrivals: string;
  load: string;
  ants: string;
  antCpu: string;
  antMemory: string;
  tenants: string;
  skew?: string;
  durations: string;
  meanDuration: string;
  deadlineShare: string;
  gangShare: string;
  stragglerShare: string;
  failures: string;
  maxPriority: string;
  json?: boolean;
  report?: string;
  progress: boolean;
  tick: string;
}

function fraction(flag: string, raw: string | undefined, max = 1): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > max) throw new UsageError(`${flag} must be a number from 0 to ${max}, got '${raw}'`);
  return value;
}

function positiveInteger(flag: string, raw: string): number {
  const value = integerFlag(flag, raw)!;
  if (value < 1) throw new UsageError(`${flag} must be at least 1, got ${value}`);
  return value;
}

function tenantWeights(raw: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, weight = '1'] = part.split('=');
    const value = Number(weight);
    if (!name || !Number.isFinite(value) || value <= 0)
      throw new UsageError(`--tenants takes name=weight,... with positive weights, got '${part}'`);
    weights[name] = value;
  }
  if (Object.keys(weights).length === 0) throw new UsageError('--tenants needs at least one tenant');
  return weights;
}

async function loadProfile(nameOrPath: string): Promise<Profile> {
  const builtin = BUILTIN_PROFILES[nameOrPath];
  if (builtin !== undefined && !existsSync(nameOrPath)) return parseProfile(builtin, `builtin:${nameOrPath}`);
  if (!existsSync(nameOrPath)) {
    throw new UsageError(
      `--profile '${nameOrPath}' is neither a file nor a built-in profile (${Object.keys(BUILTIN_PROFILES).join(', ')})`,
    );
  }
  return parseProfile(await readFile(nameOrPath, 'utf8'), nameOrPath);
}

/** A progress bar on stderr: redrawn in place on a terminal, a line per tenth otherwise. */
function progressBar(io: CliContext['io'], label: string): (done: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  return (done, total) => {
    const share = total === 0 ? 1 : done / total;
    const bar = `${label} [${'#'.repeat(Math.round(share * 30)).padEnd(30)}] ${(100 * share).toFixed(0).padStart(3)}% ${done}/${total} jobs`;
    if (tty) {
      process.stderr.write(`\r${bar}${done >= total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(share * 10);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      io.err(bar);
    }
  };
}

async function workloadOf(flags: SimFlags): Promise<Workload> {
  const ants = positiveInteger('--ants', flags.ants);
  const antCpu = positiveInteger('--ant-cpu', flags.antCpu);
  const antMemory = positiveInteger('--ant-memory', flags.antMemory);
  if (flags.workload !== undefined) {
    if (!existsSync(flags.workload)) throw new UsageError(`--workload '${flags.workload}' does not exist`);
    const read = parseWorkload(await readFile(flags.workload, 'utf8'), flags.workload);
    const generated: SimAnt[] = Array.from({ length: ants }, (_, i) => ({
      id: `ant-${String(i).padStart(3, '0')}`,
      capacity: { cpu: antCpu, memory: antMemory },
    }));
    return { ...read, ants: read.ants ?? generated };
  }
  const options: GeneratorOptions = {
    jobs: positiveInteger('--jobs', flags.jobs),
    seed: integerFlag('--seed', flags.seed)!,
    arrivals: choiceFlag('--arrivals', flags.arrivals, ['poisson', 'bursty'] as const)!,
    load: fraction('--load', flags.load, 10)!,
    ants,
    antCpu,
    antMemory,
    tenants: tenantWeights(flags.tenants),
    ...(flags.skew !== undefined && { skew: fraction('--skew', flags.skew)! }),
    durations: choiceFlag('--durations', flags.durations, ['exponential', 'pareto'] as const)!,
    meanDuration: positiveInteger('--mean-duration', flags.meanDuration),
    deadlineShare: fraction('--deadline-share', flags.deadlineShare)!,
    gangShare: fraction('--gang-share', flags.gangShare)!,
    stragglerShare: fraction('--straggler-share', flags.stragglerShare)!,
    failures: integerFlag('--failures', flags.failures)!,
    maxPriority: integerFlag('--max-priority', flags.maxPriority)!,
  };
  return generateWorkload(options);
}

export const registerSim: RegisterCommands = (program: Command, { io }: CliContext) => {
  program
    .command('sim')
    .description('replay a workload through scheduling profiles on a discrete-event clock and compare them side by side')
    .option(
      '--profile <file|name>',
      `a profile (YAML/JSON) or a built-in: ${Object.keys(BUILTIN_PROFILES).join(', ')}; repeat to compare`,
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option('--workload <file>', 'jobs from a CSV or JSON file instead of the generator')
    .option('--jobs <n>', 'generated jobs', '10000')
    .option('--seed <n>', 'generator seed', '1')
    .option('--arrivals <kind>', 'poisson or bursty', 'poisson')
    .option('--load <x>', 'offered load: busy cpu / total cpu', '0.85')
    .option('--ants <n>', 'ants (when the workload names none)', '20')
    .option('--ant-cpu <n>', 'cpu per ant', '8')
    .option('--ant-memory <n>', 'memory per ant', '32')
    .option('--tenants <list>', 'tenants and weights, name=weight,...', 'acme=1,globex=1,initech=1')
    .option('--skew <x>', 'share of jobs from the first tenant (a noisy neighbour)')
    .option('--durations <kind>', 'exponential or pareto (heavy tail)', 'exponential')
    .option('--mean-duration <ms>', 'mean job duration, ms', '60000')
    .option('--deadline-share <x>', 'share of jobs with a deadline (3x their duration)', '0')
    .option('--gang-share <x>', 'share of jobs that are gangs of 2-4 tasks', '0')
    .option('--straggler-share <x>', 'share of jobs whose first attempt straggles', '0')
    .option('--failures <n>', 'ant failures during the run', '0')
    .option('--max-priority <n>', 'priorities drawn from 0..n', '0')
    .option('--tick <ms>', 'run a scheduling pass at most once per tick (as a polling queen); 0: at every change', '0')
    .option('--json', 'print the metrics as JSON')
    .option('--report <file>', 'write an HTML report with charts')
    .option('--no-progress', 'no progress bar')
    .action(async (flags: SimFlags) => {
      const names = flags.profile.length > 0 ? flags.profile : ['fcfs', 'sjf', 'fair-drf'];
      const profiles = await Promise.all(names.map(loadProfile));
      const workload = await workloadOf(flags);
      const tick = integerFlag('--tick', flags.tick)!;
      if (tick < 0) throw new UsageError(`--tick must be 0 or more, got ${tick}`);
      const results = profiles.map((profile) =>
        simulate(workload, profile, { tick, ...(flags.progress && { onProgress: progressBar(io, profile.name.padEnd(12)) }) }),
      );
      const summaries = results.map((r) => summarise(r));
      const table = formatTable(summaries);
      io.out(flags.json ? JSON.stringify(summaries, null, 2) : table);
      if (flags.report !== undefined) {
        const title = `myrmex sim: ${workload.jobs.length} jobs on ${workload.ants.length} ants, profiles ${summaries.map((s) => s.profile).join(', ')}`;
        await writeFile(flags.report, await renderReport(title, table, summaries, seriesOf(results)));
        io.err(`wrote ${flags.report}`);
      }
    });
};
