// Facet lookup and attach/detach against a plain Map and a direct field.
// Run: npm run bench -w @myrmex/facets [-- --iterations 2000000 --rounds 5]
import { parseArgs } from 'node:util';
import { dispatch, Facet, Facets } from '@myrmex/facets';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: process.env.FACETS_BENCH_ITERATIONS ?? '2000000' },
    rounds: { type: 'string', default: '5' },
  },
});
const iterations = Number(values.iterations);
const rounds = Number(values.rounds);
if (!Number.isSafeInteger(iterations) || iterations < 1000) throw new Error('--iterations must be an integer >= 1000');
if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');

class Counter extends Facet {
  count = 0;
  bump(): number {
    return ++this.count;
  }
}

/** Median nanoseconds per operation over the rounds; `run` returns a value so the work cannot be optimised away. */
function measure(run: (n: number) => number): number {
  let sink = 0;
  const samples: number[] = [];
  run(Math.min(iterations, 100_000));
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    sink += run(iterations);
    samples.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  if (sink === Number.MIN_VALUE) console.log(sink);
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

const obj = Facets.of({ id: 'bench' });
const counter = obj.attach(Counter);
const map = new Map<unknown, Counter>([[Counter, counter]]);
const holder: { counter: Counter | undefined } = { counter };
const proxy = dispatch<{ id: string }, { bump(): number }>(obj);

const lookup = {
  field: measure((n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += holder.counter!.count;
    return s;
  }),
  map: measure((n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += map.get(Counter)!.count;
    return s;
  }),
  facets: measure((n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += obj.get(Counter)!.count;
    return s;
  }),
};

const call = {
  field: measure((n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += holder.counter!.bump();
    return s;
  }),
  proxy: measure((n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += proxy.bump();
    return s;
  }),
};

obj.detach(Counter);
const churn = {
  field: measure((n) => {
    for (let i = 0; i < n; i++) {
      holder.counter = new Counter();
      holder.counter = undefined;
    }
    return n;
  }),
  map: measure((n) => {
    for (let i = 0; i < n; i++) {
      map.set(Counter, new Counter());
      map.delete(Counter);
    }
    return n;
  }),
  facets: measure((n) => {
    for (let i = 0; i < n; i++) {
      obj.attach(Counter);
      obj.detach(Counter);
    }
    return n;
  }),
};

const ns = (value: number) => value.toFixed(1).padStart(8);
const ratio = (value: number, base: number) => `${(value / base).toFixed(1)}x`.padStart(7);
console.log(`facets bench: ${iterations} iterations x ${rounds} rounds, median ns/op (Node ${process.version})`);
console.log('operation                  ns/op   vs field  vs Map');
console.log(`lookup  direct field    ${ns(lookup.field)}   ${ratio(lookup.field, lookup.field)}`);
console.log(`lookup  Map.get         ${ns(lookup.map)}   ${ratio(lookup.map, lookup.field)}`);
console.log(`lookup  obj.get(Class)  ${ns(lookup.facets)}   ${ratio(lookup.facets, lookup.field)} ${ratio(lookup.facets, lookup.map)}`);
console.log(`call    direct field    ${ns(call.field)}   ${ratio(call.field, call.field)}`);
console.log(`call    Proxy dispatch  ${ns(call.proxy)}   ${ratio(call.proxy, call.field)}`);
console.log(`attach+detach field     ${ns(churn.field)}   ${ratio(churn.field, churn.field)}`);
console.log(`attach+detach Map       ${ns(churn.map)}   ${ratio(churn.map, churn.field)}`);
console.log(`attach+detach facets    ${ns(churn.facets)}   ${ratio(churn.facets, churn.field)} ${ratio(churn.facets, churn.map)}`);
console.log(JSON.stringify({ iterations, rounds, lookup, call, churn }));
