// Scheduling benchmark: one decision over a big snapshot, a full fair-share + bin-packing pass at 1k/10k/100k
// pending tasks, and 100,000 simulated jobs; against a naive baseline (sort everything, then first fit) in the same run.
// The built package (dist) is measured, as users run it.
// Run: npm run bench -w @myrmex/scheduling [-- --ants 1000 --max-pending 100000 --repeat 7 --sim-jobs 100000]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  BUILTIN_PROFILES,
  Cluster,
  generateWorkload,
  type PendingJob,
  PendingQueue,
  parseProfile,
  type RunningAttempt,
  type Snapshot,
  schedulePass,
  seededRandom,
  simulate,
} from '@myrmex/scheduling';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';

const { values } = parseArgs({
  options: {
    ants: { type: 'string', default: '1000' },
    'max-pending': { type: 'string', default: '100000' },
    repeat: { type: 'string', default: '7' },
    'sim-jobs': { type: 'string', default: '100000' },
    out: { type: 'string', default: 'bench/results/scheduling.svg' },
  },
});
const ANTS = Number(values.ants);
const REPEAT = Number(values.repeat);

function snapshot(pending: number, ants: number, seed = 1): Snapshot {
  const random = seededRandom(seed);
  const tenants = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
  const jobs: PendingJob[] = Array.from({ length: pending }, (_, i) => {
    const cpu = [1, 1, 2, 4][Math.floor(random() * 4)]!;
    return {
      id: `j${i}`,
      jobType: `type-${i % 20}`,
      tenant: tenants[i % tenants.length]!,
      priority: Math.floor(random() * 5),
      submittedAt: i,
      tasks: [{ id: `j${i}.t`, resources: { cpu, memory: cpu * 2 } }],
    };
  });
  const running: RunningAttempt[] = [];
  for (let a = 0; a < ants; a++) {
    // Each ant half busy, so placements have to look for room.
    for (let k = 0; k < 2; k++) {
      running.push({
        id: `r${a}.${k}`,
        jobId: `rj${a}.${k}`,
        taskId: `rt${a}.${k}`,
        antId: `ant${a}`,
        jobType: 'type-0',
        tenant: tenants[(a + k) % tenants.length]!,
        priority: 0,
        resources: { cpu: 2, memory: 4 },
        startedAt: 0,
      });
    }
  }
  return {
    now: 1_000_000,
    pending: jobs,
    running,
    ants: Array.from({ length: ants }, (_, a) => ({ id: `ant${a}`, capacity: { cpu: 8, memory: 16 } })),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
interface Timing {
  /** Median process CPU time, ms: what the work costs, little moved by other processes on a loaded machine. */
  readonly cpu: number;
  /** Median wall time, ms. */
  readonly wall: number;
}
function time(fn: () => unknown, repeat = REPEAT): Timing {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { cpu: median(cpu), wall: median(wall) };
}
const ms = (t: Timing, digits = 2) => `${t.cpu.toFixed(digits)},${t.wall.toFixed(digits)}`;

/** What a scheduler without this framework does: sort the whole queue, then first fit over the ants. */
function naivePass(s: Snapshot, maxPlacements: number): number {
  const free = new Map(s.ants.map((a) => [a.id, { ...a.capacity }]));
  for (const r of s.running) {
    const f = free.get(r.antId)!;
    for (const k in r.resources) f[k] = (f[k] ?? 0) - (r.resources[k] ?? 0);
  }
  const order = [...s.pending].sort((a, b) => b.priority - a.priority || a.submittedAt - b.submittedAt);
  let placed = 0;
  for (const job of order) {
    if (placed >= maxPlacements) break;
    const want = job.tasks[0]!.resources;
    for (const f of free.values()) {
      if (Object.keys(want).every((k) => (f[k] ?? 0) >= (want[k] ?? 0))) {
        for (const k in want) f[k] = (f[k] ?? 0) - (want[k] ?? 0);
        placed++;
        break;
      }
    }
  }
  return placed;
}

const fairPack = parseProfile(
  'name: fair-pack\nplugins:\n  - fair-share: { policy: drf }\n  - priority\n  - resources: { fit: best-fit }\n',
);
const unbounded = { budget: { maxDecisions: 10_000_000, maxExamined: 10_000_000 } };
const rows: { kind: string; pending: number; ms: number }[] = [];
const machine = `${cpus().length} x ${cpus()[0]?.model.trim()}, Node.js ${process.version}, load ${loadavg()
  .map((l) => l.toFixed(2))
  .join(' ')}, ${new Date().toISOString()}`;
console.log(`# ${machine}`);
console.log('measure,pending,ants,cpu ms,wall ms,decisions');

const big = snapshot(Number(values['max-pending']), ANTS);
let decisions = 0;
const one = time(() => {
  decisions = schedulePass(big, fairPack.plugins, { budget: { maxDecisions: 2 } }).decisions.length;
});
console.log(`one decision (fair-share + priority + best fit),${big.pending.length},${ANTS},${ms(one)},${decisions}`);
// A store hands pending work over in queue order (ORDER BY priority, submitted): the pass then keeps it.
const ordered = { ...big, pending: [...big.pending].sort((a, b) => b.priority - a.priority || a.submittedAt - b.submittedAt) };
const sortedOne = time(() => schedulePass(ordered, fairPack.plugins, { budget: { maxDecisions: 2 }, presorted: true }));
console.log(`one decision (presorted snapshot),${big.pending.length},${ANTS},${ms(sortedOne)},2`);
// The queen and the simulator keep pending work indexed between passes (PendingQueue): a decision then reads the
// heads of the tenants' heaps, not the snapshot. Built once here, as a long-running scheduler builds it.
const builtAt = performance.now();
const bigQueue = new PendingQueue(fairPack.plugins);
for (const job of big.pending) bigQueue.add(job);
const buildMs = performance.now() - builtAt;
const empty = { ...big, pending: [] };
schedulePass(empty, fairPack.plugins, { budget: { maxDecisions: 2 }, queue: bigQueue });
const queued = time(() => schedulePass(empty, fairPack.plugins, { budget: { maxDecisions: 2 }, queue: bigQueue }), REPEAT * 15);
console.log(`one decision (PendingQueue kept between passes),${big.pending.length},${ANTS},${ms(queued)},2`);
// And the ants with their running attempts kept too (Cluster): the pass no longer walks the 2,000 attempts.
const bigCluster = new Cluster();
for (const ant of big.ants) bigCluster.setAnt(ant);
for (const attempt of big.running) bigCluster.start(attempt);
const bare = { ...big, pending: [], running: [], ants: [] };
const clustered = time(
  () => schedulePass(bare, fairPack.plugins, { budget: { maxDecisions: 2 }, queue: bigQueue, cluster: bigCluster }),
  REPEAT * 15,
);
console.log(`one decision (PendingQueue + Cluster kept between passes),${big.pending.length},${ANTS},${ms(clustered)},2`);
// Overload, with both kept: each ant also runs a filler attempt. `full`: every ant has nothing left (cpu 8/8): even
// the least pending request fits nowhere. `nearly`: each keeps 1 cpu and 2 memory, what the least request asks,
// so a pass looks at every job and holds those that fit nowhere (3 in 4 here), up to its default budget.
function overloaded(filler: { cpu: number; memory: number }): Cluster {
  const cluster = new Cluster();
  for (const ant of big.ants) cluster.setAnt(ant);
  for (const attempt of big.running) cluster.start(attempt);
  for (const ant of big.ants) {
    const id = `fill-${ant.id}`;
    cluster.start({
      id,
      jobId: id,
      taskId: id,
      antId: ant.id,
      jobType: 'type-0',
      tenant: 'acme',
      priority: 0,
      resources: filler,
      startedAt: 0,
    });
  }
  return cluster;
}
for (const [name, filler] of [
  ['every ant full', { cpu: 4, memory: 8 }],
  ['each ant 1 cpu free', { cpu: 3, memory: 6 }],
] as const) {
  const cluster = overloaded(filler);
  let outcome = '';
  const pass = time(() => {
    const result = schedulePass(bare, fairPack.plugins, { queue: bigQueue, cluster });
    outcome = `${result.decisions.length} decisions (${result.decisions.filter((d) => d.kind === 'place').length} placed; stopped by ${result.stoppedBy})`;
  }, REPEAT);
  console.log(`a pass when ${name} (PendingQueue + Cluster),${big.pending.length},${ANTS},${ms(pass)},${outcome}`);
}
// What keeping the index costs: one job in and out, as a submission and an admission do.
const churn = time(() => {
  for (let i = 0; i < 1_000; i++) {
    const job = big.pending[i]!;
    bigQueue.remove(job.id);
    bigQueue.add(job);
  }
});
console.log(`queue: build ${big.pending.length} jobs,${big.pending.length},-,-,${buildMs.toFixed(1)},-`);
console.log(
  `queue: remove + add one job (mean of 1000),${big.pending.length},-,${(churn.cpu / 1000).toFixed(4)},${(churn.wall / 1000).toFixed(4)},-`,
);
// SJF and least laxity on past runtimes, kept in a PendingQueue with the ants in a Cluster: each pass is at a new
// time. 'every pass' is the order as it was kept before (rebuilt per new time, volatileSort: true); 'kept' is
// history unchanged between passes (a queen reuses ended attempts for 5 s); 'a mean moved' changes one job
// type's history before each pass (the simulator, where a pass follows each finish).
const ranked = big.pending.map((job, i) => ({ ...job, deadline: big.now + ((i * 7919) % 100_000) }));
const history = Object.fromEntries(Array.from({ length: 20 }, (_, t) => [`type-${t}`, [1_000 + 37 * t, 2_000 + 11 * t]]));
for (const text of ['name: sjf\nplugins: [sjf]\n', 'name: laxity\nplugins:\n  - edf: { by: laxity }\n']) {
  const profile = parseProfile(text);
  const everyPass = profile.plugins.map((p) => (p.volatileSort ? { ...p, volatileSort: true } : p));
  for (const [mode, plugins] of [
    ['every pass', everyPass],
    ['kept', profile.plugins],
    ['a mean moved', profile.plugins],
  ] as const) {
    const queue = new PendingQueue(plugins);
    for (const job of ranked) queue.add(job);
    const runs = { ...history };
    let now = big.now;
    const pass = () => {
      now += 1;
      if (mode === 'a mean moved') runs['type-3'] = [...runs['type-3']!.slice(-49), now % 5_000];
      schedulePass({ ...bare, now, history: runs }, plugins, { budget: { maxDecisions: 2 }, queue, cluster: bigCluster });
    };
    pass();
    const t = time(pass, REPEAT * 3);
    console.log(`one decision (${profile.name}, PendingQueue + Cluster, re-heap: ${mode}),${ranked.length},${ANTS},${ms(t)},2`);
  }
}
const naiveOne = time(() => naivePass(big, 1));
console.log(`one decision (naive: sort all + first fit),${big.pending.length},${ANTS},${ms(naiveOne)},1`);

for (const pending of [1_000, 10_000, 100_000].filter((n) => n <= Number(values['max-pending']))) {
  const s = snapshot(pending, ANTS, 2);
  let made = 0;
  const full = time(() => {
    made = schedulePass(s, fairPack.plugins, unbounded).decisions.length;
  });
  rows.push({ kind: 'full pass: fair share + bin packing', pending, ms: full.cpu });
  console.log(`full pass,${pending},${ANTS},${ms(full)},${made}`);
  const naive = time(() => naivePass(s, Number.POSITIVE_INFINITY));
  rows.push({ kind: 'naive: sort all + first fit', pending, ms: naive.cpu });
  console.log(`naive full pass,${pending},${ANTS},${ms(naive)},-`);
  const single = time(() => schedulePass(s, fairPack.plugins, { budget: { maxDecisions: 2 } }));
  rows.push({ kind: 'one decision', pending, ms: single.cpu });
  console.log(`one decision,${pending},${ANTS},${ms(single)},2`);
  const sorted = { ...s, pending: [...s.pending].sort((a, b) => b.priority - a.priority || a.submittedAt - b.submittedAt) };
  const presorted = time(() => schedulePass(sorted, fairPack.plugins, { budget: { maxDecisions: 2 }, presorted: true }));
  rows.push({ kind: 'one decision, presorted snapshot', pending, ms: presorted.cpu });
  console.log(`one decision (presorted),${pending},${ANTS},${ms(presorted)},2`);
  const queue = new PendingQueue(fairPack.plugins);
  for (const job of s.pending) queue.add(job);
  const kept = time(() => schedulePass({ ...s, pending: [] }, fairPack.plugins, { budget: { maxDecisions: 2 }, queue }), REPEAT * 15);
  rows.push({ kind: 'one decision, PendingQueue', pending, ms: kept.cpu });
  console.log(`one decision (PendingQueue),${pending},${ANTS},${ms(kept)},2`);
}

const simJobs = Number(values['sim-jobs']);
if (simJobs > 0) {
  const workload = generateWorkload({ jobs: simJobs, ants: 50, seed: 1 });
  for (const name of ['fcfs', 'fair-drf']) {
    for (const tick of [0, 1_000]) {
      const profile = parseProfile(BUILTIN_PROFILES[name]!);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const result = simulate(workload, profile, { tick });
      const cpu = process.cpuUsage(cpu0);
      console.log(
        `simulate ${name} tick ${tick} ms,${simJobs} jobs,50,${((cpu.user + cpu.system) / 1000).toFixed(0)},${(performance.now() - t0).toFixed(0)},${result.counters.passes} passes`,
      );
    }
  }
}

const spec = compile({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: 'One scheduling pass over a snapshot with 1,000 ants', subtitle: machine },
  width: 560,
  height: 320,
  data: { values: rows },
  mark: { type: 'line', point: true },
  encoding: {
    x: { field: 'pending', type: 'quantitative', scale: { type: 'log' }, title: 'pending tasks' },
    y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'CPU ms (median)' },
    color: { field: 'kind', type: 'nominal', title: null, legend: { orient: 'bottom' } },
  },
}).spec;
const view = new View(parse(spec), { renderer: 'none' });
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(values.out, await view.toSVG());
view.finalize();
console.error(`wrote ${values.out}`);
