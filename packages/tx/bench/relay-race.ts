// Racing relays, many rounds: three relays drain one outbox of 12 keys x 15 events on each server database, round
// after round, and every round must deliver each event exactly once, in order per key, with no deadlock retried.
// This is the soak that found (and now guards) the MariaDB claim that deadlocked and re-published after a retry.
// Sizes: TX_RACE_ROUNDS (default 30), TX_RACE_TARGETS (default postgres,mariadb).
import { Outbox, Relay } from '../src/outbox/index.js';
import { freshManager, inOrderPerKey, RecordingPublisher } from '../test/events/support.js';
import { serverTargets } from '../test/support/databases.js';

const ROUNDS = Number(process.env.TX_RACE_ROUNDS ?? 30);
const WANTED = (process.env.TX_RACE_TARGETS ?? 'postgres,mariadb').split(',');
const KEYS = 12;
const PER_KEY = 15;

for (const target of serverTargets.filter((t) => WANTED.includes(t.kind))) {
  let wrong = 0;
  let deadlocks = 0;
  const started = Date.now();
  for (let round = 0; round < ROUNDS; round++) {
    const logger = { warn: () => undefined };
    const { tm, dispose } = await freshManager(target);
    try {
      const outbox = new Outbox(tm);
      await outbox.install();
      for (let n = 0; n < PER_KEY; n++)
        await tm.run(() =>
          outbox.publish(Array.from({ length: KEYS }, (_, k) => ({ aggregateType: 'o', aggregateId: `k${k}`, type: 'S', payload: { n } }))),
        );
      const publisher = new RecordingPublisher();
      const relays = [0, 1, 2].map(() => new Relay(outbox, publisher, { batchSize: 7, keysPerBatch: 3, logger }));
      await Promise.all(relays.map((r) => r.drain()));
      const ids = new Set(publisher.received.map((e) => e.id));
      const ok =
        publisher.received.length === KEYS * PER_KEY &&
        ids.size === KEYS * PER_KEY &&
        inOrderPerKey(publisher.received, (e) => (e.payload as { n: number }).n);
      if (!ok) wrong += 1;
      deadlocks += tm.metrics().retries.deadlock ?? 0;
    } finally {
      await dispose();
    }
  }
  console.log(
    `${target.kind}: ${ROUNDS} rounds of 3 racing relays, ${KEYS * PER_KEY} events each: ${wrong} wrong, ${deadlocks} deadlocks retried, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (wrong > 0) process.exitCode = 1;
}
