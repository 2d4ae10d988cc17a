/**
 * What one single-task NOOP job costs the SQLite queen (issue 11), in figures that do not move with
 * the machine's load: SQL statements per job (by kind), timeline rows per job, the indexes on the
 * jobs table, and the process's CPU ms per job (the database work is in it), for a bulk backlog
 * drained by the embedded ant (16 slots) and a burst of awaited single submits drained while it
 * runs. Each scenario runs `--runs` times on a fresh file; CPU is reported per run (min and median).
 * Flags: --backlog N --burst N --runs N --kinds (print the statements by kind) --profile DIR (a
 * V8 CPU profile of each drain alone, without start-up and module loading, written to DIR) --ddl SQL
 * (statements run on each fresh file before its jobs are submitted, to try a schema change).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Queen, TERMINAL_JOB_STATES } from '@myrmex/orchestrator';
import BetterSqlite3 from 'better-sqlite3';
import { noopExecutor } from './noop.js';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '3000' },
    burst: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    kinds: { type: 'boolean', default: false },
    profile: { type: 'string' },
    ddl: { type: 'string' },
  },
});
const count = (name: 'backlog' | 'burst' | 'runs') => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be an integer >= 0, got '${values[name]}'`);
  return n;
};

// Every statement the process runs goes through one of these methods of better-sqlite3's Statement.
const kinds = new Map<string, { n: number; ns: bigint; source: string; args: unknown[] }>();
let statements = 0;
const probe = new BetterSqlite3(':memory:');
const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
probe.close();
for (const method of ['run', 'get', 'all', 'iterate'] as const) {
  const original = statementProto[method] as (this: { source: string }, ...args: unknown[]) => unknown;
  statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
    statements++;
    if (!values.kinds) return original.apply(this, args);
    const began = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      const kind = this.source.replace(/\s+/g, ' ').trim().slice(0, 60);
      const seen = kinds.get(kind) ?? { n: 0, ns: 0n, source: this.source, args };
      kinds.set(kind, { n: seen.n + 1, ns: seen.ns + process.hrtime.bigint() - began, source: this.source, args });
    }
  };
}

const profiler = values.profile === undefined ? undefined : new Session();
profiler?.connect();
await profiler?.post('Profiler.enable');

// Young-generation collections: their count follows the bytes allocated, whatever the load.
let scavenges = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  }
}).observe({ entryTypes: ['gc'] });

const DEFINITION = 'job_type: bench-noop\ntasks:\n  - task_type: only\n    method: NOOP\n';

/** Bytes this process has passed to write() (`wchar`: the WAL pages the commits wrote, mostly) or read() (`rchar`: pages not in SQLite's cache) so far (Linux). */
function io(field: 'wchar' | 'rchar'): number {
  try {
    return Number(new RegExp(`^${field}: (\\d+)$`, 'm').exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

interface Run {
  readonly statementsPerJob: number;
  readonly kbWrittenPerJob: number;
  readonly kbReadPerJob: number;
  /** Load-dependent, beside the CPU: how far the drain is from being bound by this process's CPU. */
  readonly jobsPerSecond: number;
  /** The share of the drain the event loop was not waiting for I/O or timers (starved by other processes counts as busy). */
  readonly busy: number;
  readonly scavengesPer1000: number;
  readonly cpuMsPerJob: number;
  readonly eventsPerJob: number;
  readonly jobIndexes: number;
}

async function run(scenario: 'backlog' | 'burst', jobs: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'myrmex-sqlite-cost-'));
  const path = join(dir, 'bench.db');
  const queen = await Queen.open({ dbPath: path, ant: { capacity: 16 }, executors: [noopExecutor] });
  try {
    await queen.applyDefinition(DEFINITION);
    if (values.ddl) {
      const raw = new BetterSqlite3(path);
      raw.exec(values.ddl);
      raw.close();
    }
    let done = 0;
    let finish: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      finish = resolve;
    });
    queen.onTransition((event) => {
      if (event.taskType === undefined && (TERMINAL_JOB_STATES as readonly string[]).includes(event.to) && ++done === jobs) finish();
    });
    if (scenario === 'backlog') {
      for (let left = jobs; left > 0; left -= 1000) {
        await queen.submitMany(Array.from({ length: Math.min(1000, left) }, () => ({ jobType: 'bench-noop' })));
      }
    }
    kinds.clear();
    statements = 0;
    if (profiler) await profiler.post('Profiler.start');
    const cpu = process.cpuUsage();
    const began = performance.now();
    const loop = performance.eventLoopUtilization();
    const bytes = io('wchar');
    const read = io('rchar');
    const scavenged = scavenges;
    await queen.start();
    if (scenario === 'burst') for (let i = 0; i < jobs; i++) await queen.submit({ jobType: 'bench-noop' });
    await all;
    const used = process.cpuUsage(cpu);
    const jobsPerSecond = (jobs * 1000) / (performance.now() - began);
    const busy = performance.eventLoopUtilization(loop).utilization;
    // Observers are told after the fact: let the last collections' entries arrive.
    await new Promise((resolve) => setImmediate(resolve));
    const scavengesPer1000 = ((scavenges - scavenged) * 1000) / jobs;
    const kbWrittenPerJob = (io('wchar') - bytes) / 1024 / jobs;
    const kbReadPerJob = (io('rchar') - read) / 1024 / jobs;
    if (profiler && values.profile) {
      const { profile } = await profiler.post('Profiler.stop');
      mkdirSync(values.profile, { recursive: true });
      writeFileSync(join(values.profile, `${scenario}-${jobs}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    }
    const counted = statements;
    await queen.stop();
    const raw = new BetterSqlite3(path, { readonly: true });
    if (values.kinds) {
      // How SQLite runs the costliest statements, on the drained file, with the arguments of their last run.
      for (const [kind, seen] of [...kinds].sort((a, b) => Number(b[1].ns - a[1].ns)).slice(0, 12)) {
        if (!/^(SELECT|UPDATE|INSERT|DELETE|WITH)/i.test(kind)) continue;
        const plan = raw.prepare(`EXPLAIN QUERY PLAN ${seen.source}`).all(...seen.args) as { detail: string }[];
        console.log(`  plan of ${kind}: ${plan.map((row) => row.detail).join('; ')}`);
      }
    }
    const events = (raw.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const jobIndexes = (
      raw.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'").get() as { n: number }
    ).n;
    raw.close();
    return {
      statementsPerJob: counted / jobs,
      kbWrittenPerJob,
      kbReadPerJob,
      jobsPerSecond,
      busy,
      scavengesPer1000,
      cpuMsPerJob: (used.user + used.system) / 1000 / jobs,
      eventsPerJob: events / jobs,
      jobIndexes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
for (const scenario of ['backlog', 'burst'] as const) {
  const jobs = count(scenario);
  if (jobs === 0) continue;
  // A first, uncounted run warms the JIT: the first drain of a process costs up to half again as much.
  await run(scenario, Math.min(jobs, 1000));
  const runs: Run[] = [];
  for (let i = 0; i < count('runs'); i++) runs.push(await run(scenario, jobs));
  const cpu = runs.map((r) => r.cpuMsPerJob);
  console.log(
    `${scenario} of ${jobs}: statements/job ${runs.map((r) => r.statementsPerJob.toFixed(2)).join(' ')}; ` +
      `KB written/job ${runs.map((r) => r.kbWrittenPerJob.toFixed(1)).join(' ')}; ` +
      `KB read/job ${runs.map((r) => r.kbReadPerJob.toFixed(1)).join(' ')}; ` +
      `CPU ms/job ${cpu.map((c) => c.toFixed(3)).join(' ')} (min ${Math.min(...cpu).toFixed(3)}, median ${median(cpu).toFixed(3)}); ` +
      `young GCs per 1,000 jobs ${runs.map((r) => r.scavengesPer1000.toFixed(1)).join(' ')}; ` +
      `jobs/s ${runs.map((r) => Math.round(r.jobsPerSecond)).join(' ')}; ` +
      `event loop busy ${runs.map((r) => r.busy.toFixed(2)).join(' ')}; ` +
      `timeline rows/job ${runs[0]?.eventsPerJob.toFixed(2)}; jobs indexes ${runs[0]?.jobIndexes}`,
  );
  if (values.kinds) {
    console.log('  per job: statements, microseconds in SQLite, statement');
    for (const [kind, { n, ns }] of [...kinds].sort((a, b) => Number(b[1].ns - a[1].ns)).slice(0, 25)) {
      console.log(`  ${(n / jobs).toFixed(3)}  ${(Number(ns) / 1000 / jobs).toFixed(1).padStart(6)}  ${kind}`);
    }
  }
}
