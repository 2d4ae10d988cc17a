/**
 * Myrmex against named peers in one command: BullMQ (Redis), graphile-worker and pg-boss
 * (PostgreSQL), Myrmex on SQLite and on PostgreSQL, and one to three Myrmex queen processes on one
 * PostgreSQL. Each measurement runs in its own process (bench/compare/measure.ts) on a fresh
 * database; the rounds are interleaved (every system once per round) so a busy machine weighs on
 * all of them alike, and the medians are reported with the ratios the issue asks for.
 * Writes bench/results/compare.json and docs/orchestrator-bench.svg; prints a Markdown table.
 * Flags: --rounds N --burst N --backlog N --large N --steady N --rate N --queens-backlog N
 *        --peers a,b --large-peers a,b (who runs the large backlog)
 *        --node-flags "…" (V8/Node flags for every system's measuring process alike, e.g. the
 *        --max-semi-space-size=64 that `npm start` gives the queen)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { postgres, redis } from '@myrmex/test-utils';
import { writeChart } from './compare/chart.js';
import type { MeasureResult, MeasureSpec } from './compare/measure.js';
import { PEERS, type PeerName } from './compare/peers.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    burst: { type: 'string', default: '2000' },
    backlog: { type: 'string', default: '1000' },
    large: { type: 'string', default: '100000' },
    steady: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '100' },
    'queens-backlog': { type: 'string', default: '5000' },
    peers: { type: 'string', default: PEERS.join(',') },
    'large-peers': { type: 'string', default: PEERS.join(',') },
    'node-flags': { type: 'string', default: '' },
    out: { type: 'string', default: new URL('../../../docs/orchestrator-bench.svg', import.meta.url).pathname },
  },
});
const n = (name: keyof typeof values) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be an integer >= 0, got '${values[name]}'`);
  return v;
};
const peerList = (text: string, flag: string): PeerName[] =>
  text
    .split(',')
    .filter(Boolean)
    .map((p) => {
      if (!(PEERS as readonly string[]).includes(p)) throw new Error(`--${flag}: unknown peer '${p}'; known: ${PEERS.join(', ')}`);
      return p as PeerName;
    });
const peers = peerList(values.peers, 'peers');
const largePeers = peerList(values['large-peers'], 'large-peers');
const rate = n('rate');
const nodeFlags = values['node-flags'].split(/\s+/).filter(Boolean);
for (const flag of nodeFlags) if (!flag.startsWith('--')) throw new Error(`--node-flags: '${flag}' is not a flag (--name or --name=value)`);

const pgGate = await postgres();
const redisGate = await redis();
for (const gate of [pgGate, redisGate]) {
  if (!gate.availability.available) throw new Error(`the comparison needs ${gate.availability.reason}`);
}

interface Row {
  readonly scenario: string;
  readonly peer: string;
  readonly spec: Omit<MeasureSpec, 'pgUrl' | 'redisUrl'>;
}
const rows: Row[] = [];
const add = (scenario: string, list: readonly PeerName[], spec: Omit<MeasureSpec, 'pgUrl' | 'redisUrl' | 'peer'>) => {
  for (const peer of list) if (peers.includes(peer) && spec.count > 0) rows.push({ scenario, peer, spec: { ...spec, peer } });
};
add(`burst of ${n('burst')}, awaited single submits`, PEERS, { scenario: 'burst', count: n('burst') });
add(`backlog of ${n('backlog')}`, PEERS, { scenario: 'backlog', count: n('backlog') });
add(`backlog of ${n('large')}`, largePeers, { scenario: 'backlog', count: n('large') });
add(`steady ${rate}/s`, PEERS, { scenario: 'steady', count: n('steady'), rate });
if (peers.includes('myrmex-pg') && n('queens-backlog') > 0) {
  for (const queens of [1, 2, 3]) {
    rows.push({
      scenario: `backlog of ${n('queens-backlog')}, queen processes`,
      peer: `myrmex-pg ×${queens}`,
      spec: { peer: 'myrmex-pg', scenario: 'backlog', count: n('queens-backlog'), queens },
    });
  }
}

const measureScript = new URL('./compare/measure.ts', import.meta.url).pathname;
async function measure(spec: MeasureSpec): Promise<MeasureResult> {
  const child = spawn(process.execPath, [...nodeFlags, '--conditions=source', '--import', 'tsx', measureScript, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) throw new Error(`${spec.peer} ${spec.scenario} ${spec.count} failed (exit ${code}): ${out.slice(-500)}`);
  return JSON.parse(line.slice('RESULT '.length)) as MeasureResult;
}

const rounds = n('rounds');
const results = new Map<Row, MeasureResult[]>(rows.map((row) => [row, []]));
const loads: number[] = [loadavg()[0]!];
const startedAt = new Date();
for (let round = 1; round <= rounds; round++) {
  for (const row of rows) {
    const db =
      row.spec.peer === 'myrmex-pg' || row.spec.peer === 'graphile-worker' || row.spec.peer === 'pg-boss'
        ? await pgGate.freshDatabase()
        : undefined;
    try {
      const result = await measure({ ...row.spec, pgUrl: db?.url ?? pgGate.url, redisUrl: redisGate.url });
      results.get(row)!.push(result);
      // Every result as it comes, so a run cut short still leaves its figures.
      mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
      writeFileSync(
        new URL('./results/compare-raw.json', import.meta.url),
        JSON.stringify(rows.map((r) => ({ scenario: r.scenario, peer: r.peer, results: results.get(r) }))),
      );
      console.error(
        `round ${round}: ${row.scenario} ${row.peer}: ${Math.round(result.jobsPerSecond)} jobs/s (load ${loadavg()[0]!.toFixed(1)})`,
      );
    } catch (error) {
      console.error(`round ${round}: ${row.scenario} ${row.peer}: ${(error as Error).message}`);
    } finally {
      await db?.dispose();
    }
    loads.push(loadavg()[0]!);
  }
}

const median = (xs: readonly number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const summary = rows.map((row) => {
  const rs = results.get(row)!;
  const pick = (f: (r: MeasureResult) => number | undefined) => median(rs.map((r) => f(r) ?? Number.NaN));
  return {
    scenario: row.scenario,
    peer: row.peer,
    runs: rs.length,
    jobsPerSecond: pick((r) => r.jobsPerSecond),
    bulkPerSecond: pick((r) => r.bulkPerSecond),
    p50Ms: pick((r) => r.p50Ms),
    p99Ms: pick((r) => r.p99Ms),
    cpuMsPerJob: pick((r) => r.cpuMsPerJob),
  };
});

const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–');
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const pgVersion = (() => {
  try {
    return execFileSync('psql', [pgGate.url, '-tAc', 'show server_version'], { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
})();
const lines = [
  `Measured ${startedAt.toISOString()} on ${machine}; PostgreSQL ${pgVersion}; ${rounds} interleaved rounds, medians;` +
    (nodeFlags.length > 0 ? ` every system's process ran with ${nodeFlags.join(' ')};` : ''),
  `load average (1 min) from ${fmt(Math.min(...loads), 1)} to ${fmt(Math.max(...loads), 1)} during the run (other work shared the machine).`,
  '',
  '| scenario | system | jobs/s | bulk enqueue jobs/s | p50 ms | p99 ms | CPU ms/job (client process) |',
  '|---|---|--:|--:|--:|--:|--:|',
  ...summary.map(
    (s) =>
      `| ${s.scenario} | ${s.peer} | ${fmt(s.jobsPerSecond)} | ${fmt(s.bulkPerSecond)} | ${fmt(s.p50Ms, 1)} | ${fmt(s.p99Ms, 1)} | ${fmt(s.cpuMsPerJob, 2)} |`,
  ),
  '',
];
const rateOf = (scenario: string, peer: string) =>
  summary.find((s) => s.scenario === scenario && s.peer === peer)?.jobsPerSecond ?? Number.NaN;
for (const scenario of [...new Set(summary.map((s) => s.scenario))]) {
  const ratios = [
    ['Myrmex SQLite / BullMQ', rateOf(scenario, 'myrmex-sqlite') / rateOf(scenario, 'bullmq')],
    ['Myrmex PostgreSQL / graphile-worker', rateOf(scenario, 'myrmex-pg') / rateOf(scenario, 'graphile-worker')],
    ['3 queens / 1 queen', rateOf(scenario, 'myrmex-pg ×3') / rateOf(scenario, 'myrmex-pg ×1')],
  ].filter(([, r]) => Number.isFinite(r as number));
  if (ratios.length > 0) lines.push(`- ${scenario}: ${ratios.map(([name, r]) => `${name} ${(r as number).toFixed(2)}×`).join('; ')}`);
}
console.log(lines.join('\n'));

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/compare.json', import.meta.url), JSON.stringify({ startedAt, machine, loads, summary }, null, 2));

await writeChart(
  summary,
  `${startedAt.toISOString().slice(0, 10)}, ${machine}, load ${fmt(Math.min(...loads), 1)}–${fmt(Math.max(...loads), 1)}`,
  values.out,
);
console.error(`wrote ${values.out}`);
