// Outbox relay benchmark: events through each real broker, LISTEN/NOTIFY wake-ups against
// polling only. Sizes: TX_EVENTS_BURST (default 100 000 events written as fast as possible, for
// events/s), TX_EVENTS_PACED (default 2 000 events, one per transaction at TX_EVENTS_RATE/s, default
// 200, for commit-to-consumer latency), TX_EVENTS_POLL_MS (the polling-only relay's interval,
// default 100), TX_EVENTS_BROKERS (default nats,amqp,redis,mqtt).
import { cpus, loadavg } from 'node:os';
import { postgres } from '@myrmex/test-utils';
import { Outbox, Relay } from '../src/outbox/index.js';
import { decodeEvent } from '../src/publishers/publisher.js';
import { brokers } from '../test/events/brokers.js';
import { openManager } from '../test/support/databases.js';

const BURST = Number(process.env.TX_EVENTS_BURST ?? 100_000);
const PACED = Number(process.env.TX_EVENTS_PACED ?? 2_000);
const RATE = Number(process.env.TX_EVENTS_RATE ?? 200);
const POLL_MS = Number(process.env.TX_EVENTS_POLL_MS ?? 100);
const WANTED = (process.env.TX_EVENTS_BROKERS ?? 'nats,amqp,redis,mqtt').split(',');
const KEYS = 1000;
const PER_TX = 100;
const WRITERS = 4;

interface Row {
  broker: string;
  mode: string;
  burstSeconds: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function measure(broker: (typeof brokers)[number], mode: 'listen' | 'poll'): Promise<Row> {
  const pg = await postgres();
  const db = await pg.freshDatabase();
  const { tm, close } = openManager('postgres', db.url, { max: WRITERS + 4 });
  const under = await broker.open();
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  let arrived = 0;
  let lastArrival = 0;
  const seen = new Set<string>();
  await under.listen((body) => {
    const event = decodeEvent(body);
    if (seen.has(event.id)) return;
    seen.add(event.id);
    arrived += 1;
    lastArrival = performance.now();
    const at = committedAt.get(event.id);
    if (at !== undefined) latencies.push(lastArrival - at);
  });
  const wait = async (count: number) => {
    while (arrived < count) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  const outbox = new Outbox(tm);
  await outbox.install();
  const relay = new Relay(outbox, under.publisher, {
    listen: mode === 'listen',
    pollIntervalMs: mode === 'listen' ? 1000 : POLL_MS,
    batchSize: 500,
    keysPerBatch: 100,
    logger: { warn: (m, d) => console.error(m, d) },
  });
  relay.start();
  try {
    // Burst: WRITERS writers commit PER_TX events per transaction as fast as they can.
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (next < BURST) {
          const first = next;
          next += PER_TX;
          const count = Math.min(PER_TX, BURST - first);
          await tm.run(() =>
            outbox.publish(
              Array.from({ length: count }, (_, i) => ({
                aggregateType: 'order',
                aggregateId: `k${(first + i) % KEYS}`,
                type: 'Burst',
                topic: under.topic,
                payload: { n: first + i },
              })),
            ),
          );
        }
      }),
    );
    await wait(BURST);
    const burstSeconds = (lastArrival - started) / 1000;
    // Paced: one event per transaction; latency from the commit's return to the consumer's callback.
    const gap = 1000 / RATE;
    const pacedStart = performance.now();
    for (let i = 0; i < PACED; i++) {
      const due = pacedStart + i * gap;
      const now = performance.now();
      if (due > now) await new Promise((resolve) => setTimeout(resolve, due - now));
      const [event] = await tm.run(() =>
        outbox.publish({ aggregateType: 'order', aggregateId: `p${i % 50}`, type: 'Paced', topic: under.topic, payload: { n: i } }),
      );
      committedAt.set(event!.id, performance.now());
    }
    await wait(BURST + PACED);
    const sorted = [...latencies].sort((a, b) => a - b);
    const row = {
      broker: broker.name,
      mode,
      burstSeconds,
      eventsPerSecond: BURST / burstSeconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
    };
    console.error(
      `${broker.name} ${mode}: ${Math.round(row.eventsPerSecond)} events/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms`,
    );
    return row;
  } finally {
    await relay.stop();
    await under.dispose();
    await close();
    await db.dispose();
  }
}

const load = loadavg()[0]!.toFixed(1);
const rows: Row[] = [];
for (const broker of brokers.filter((b) => WANTED.includes(b.name))) {
  for (const mode of ['listen', 'poll'] as const) rows.push(await measure(broker, mode));
}
console.log(
  `\n## outbox relay: ${BURST} burst events (${WRITERS} writers, ${PER_TX} per transaction, ${KEYS} keys), ${PACED} paced at ${RATE}/s`,
);
console.log(
  `${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model}, load average ${load} at start, ${loadavg()[0]!.toFixed(1)} at end`,
);
console.log('| broker | relay wakes on | burst s | events/s | latency p50 ms | p99 ms | max ms |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.broker} | ${r.mode === 'listen' ? 'NOTIFY (+1 s poll)' : `poll every ${POLL_MS} ms`} | ${r.burstSeconds.toFixed(1)} | ${Math.round(r.eventsPerSecond)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} |`,
  );
}
for (const name of new Set(rows.map((r) => r.broker))) {
  const listen = rows.find((r) => r.broker === name && r.mode === 'listen')!;
  const poll = rows.find((r) => r.broker === name && r.mode === 'poll')!;
  console.log(
    `${name}: NOTIFY / polling events/s ${(listen.eventsPerSecond / poll.eventsPerSecond).toFixed(2)}, p50 latency polling / NOTIFY ${(poll.p50 / listen.p50).toFixed(1)}x, p99 ${(poll.p99 / listen.p99).toFixed(1)}x`,
  );
}
process.exit(0);
