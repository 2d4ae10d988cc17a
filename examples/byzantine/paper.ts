// The scenarios of Lamport, Shostak and Pease (1982), run and checked.
// Run: npx tsc -b packages/byzantine && npx tsx examples/byzantine/paper.ts
import { type RunOptions, runByzantine } from '@myrmex/byzantine';

const scenarios: [string, RunOptions][] = [
  ['Fig. 3  OM(1), 4 generals, lieutenant 3 lies', { generals: 4, rounds: 1, traitors: [3], strategy: 'flip' }],
  ['Fig. 4  OM(1), 4 generals, the commander lies', { generals: 4, rounds: 1, traitors: [0], strategy: 'parity' }],
  ['Fig. 1  OM(1), 3 generals (unsafe): IC2 breaks', { generals: 3, rounds: 1, traitors: [2], strategy: 'flip', unsafe: true }],
  ['Fig. 5  SM(1), 3 generals, the commander lies', { algorithm: 'sm', generals: 3, rounds: 1, traitors: [0], strategy: 'parity' }],
  ['        SM(1), 3 generals, a lieutenant forges', { algorithm: 'sm', generals: 3, rounds: 1, traitors: [2], strategy: 'flip' }],
  ['        OM(3), 10 generals, 3 random traitors', { generals: 10, rounds: 3, traitors: [0, 4, 7], strategy: 'random', seed: 2026 }],
];

for (const [title, options] of scenarios) {
  const r = await runByzantine(options);
  const decisions = Object.entries(r.loyalDecisions)
    .map(([id, value]) => `${id}:${value}`)
    .join(' ');
  const discarded = r.algorithm === 'sm' ? `, ${r.discarded} forged discarded` : '';
  console.log(
    `${title}\n        loyal ${decisions}; ${r.messages} messages${discarded}; IC1 ${r.ic1 ? 'holds' : 'BROKEN'}, IC2 ${r.ic2 ? 'holds' : 'BROKEN'}`,
  );
}

for (const engine of ['fast', 'actors'] as const) {
  const r = await runByzantine({ generals: 2000, rounds: 1, traitors: [1999], strategy: 'flip', engine });
  console.log(
    `OM(1), 2000 generals, ${engine} engine: ${r.messages.toLocaleString('en-US')} messages in ${r.algorithmMs.toFixed(1)} ms, IC1 ${r.ic1}, IC2 ${r.ic2}`,
  );
}
