import type { Publisher } from '../../src/publishers/publisher.js';

/**
 * For the crash children: wraps a publisher, prints "ACK" after each confirmed event, and never
 * returns from the publish of the event whose `<aggregateId>:<n>` is `hangOn` (a broker that stopped
 * answering). Once that event is stuck and the other publishes in flight have settled, it prints
 * "HUNG": the parent then kills the process with a batch or transaction half confirmed.
 */
export function hangingPublisher(inner: Publisher, hangOn: string | undefined, n: (payload: unknown) => number | undefined): Publisher {
  let inFlight = 0;
  let hung = false;
  return {
    name: inner.name,
    async publish(event) {
      if (`${event.aggregateId}:${n(event.payload)}` === hangOn) {
        hung = true;
        // The batch's other keys call publish in this same turn: look once they have started.
        setImmediate(() => {
          if (inFlight === 0) process.stdout.write('HUNG\n');
        });
        return new Promise(() => undefined);
      }
      inFlight += 1;
      try {
        const outcome = await inner.publish(event);
        process.stdout.write('ACK\n');
        return outcome;
      } finally {
        inFlight -= 1;
        if (hung && inFlight === 0) process.stdout.write('HUNG\n');
      }
    },
    close: () => inner.close(),
  };
}
