import { type MessagePort, parentPort } from 'node:worker_threads';
import { groupByRecipient } from '../sm/fast.js';
import { type Envelope, namedChoice, SmGeneral } from '../sm/general.js';
import { OmActors, OmOutbox } from './om-actors.js';
import { type Batch, type FromWorker, hostOf, type OmSetup, type SmSetup, type ToWorker, type WorkerInit } from './protocol.js';

/**
 * A worker thread hosting some of the generals as actors. Rounds are synchronous in the sense
 * of the paper's assumption A4 (a missing message is detectable): every worker sends every
 * worker exactly one batch per round, possibly empty, so a worker knows a round is complete
 * when it holds one batch from each, without asking a coordinator.
 */
class Rounds {
  readonly #batches = new Map<number, Batch[]>();
  readonly #waiting = new Map<number, () => void>();

  constructor(
    private readonly workers: number,
    ports: readonly MessagePort[],
  ) {
    for (const port of ports) port.on('message', (batch: Batch) => this.#arrive(batch));
  }

  #arrive(batch: Batch): void {
    const list = this.#batches.get(batch.round) ?? [];
    list.push(batch);
    this.#batches.set(batch.round, list);
    if (list.length === this.workers) this.#waiting.get(batch.round)?.();
  }

  /** Every worker's batch for `round`, in worker order. */
  async collect(round: number): Promise<Batch[]> {
    if ((this.#batches.get(round)?.length ?? 0) < this.workers) {
      await new Promise<void>((resolve) => this.#waiting.set(round, resolve));
    }
    const batches = this.#batches.get(round)!;
    this.#batches.delete(round);
    this.#waiting.delete(round);
    return batches.sort((a, b) => a.from - b.from);
  }
}

async function runOm(init: WorkerInit, setup: OmSetup, rounds: Rounds): Promise<FromWorker> {
  const actors = new OmActors(setup, init.hosted);
  const outboxes = init.ports.map(() => new OmOutbox());
  const outboxFor = (general: number) => outboxes[hostOf(general, init.workers)]!;
  const flush = (round: number) => {
    init.ports.forEach((port, target) => {
      const batch = outboxes[target]!.take();
      port.postMessage({ round, from: init.worker, ...batch } satisfies Batch, [
        batch.to.buffer as ArrayBuffer,
        batch.index.buffer as ArrayBuffer,
        batch.value.buffer as ArrayBuffer,
      ]);
    });
  };
  actors.start(outboxFor);
  flush(1);
  for (let round = 1; round <= setup.rounds + 1; round++) {
    for (const batch of await rounds.collect(round)) {
      if ('to' in batch) actors.store(round, batch.to, batch.index, batch.value);
    }
    if (round <= setup.rounds) {
      actors.relay(round, outboxFor);
      flush(round + 1);
    }
  }
  return { type: 'done', decisions: actors.decide(), messages: actors.messages, discarded: 0 };
}

async function runSm(init: WorkerInit, setup: SmSetup, rounds: Rounds): Promise<FromWorker> {
  const { settings } = setup;
  const choose = namedChoice(settings);
  const generals = init.hosted.map((id) => new SmGeneral(id, settings, setup.privateKeys[id]!, setup.publicKeys, choose));
  let messages = 0;
  const send = (round: number, envelopes: readonly Envelope[]) => {
    messages += envelopes.length;
    const byWorker = init.ports.map(() => [] as Envelope[]);
    for (const envelope of envelopes) byWorker[hostOf(envelope.to, init.workers)]!.push(envelope);
    init.ports.forEach((port, target) => {
      port.postMessage({ round, from: init.worker, envelopes: byWorker[target]! } satisfies Batch);
    });
  };
  send(
    1,
    generals.flatMap((general) => general.start()),
  );
  for (let round = 1; round <= settings.rounds + 1; round++) {
    const envelopes = (await rounds.collect(round)).flatMap((batch) => ('envelopes' in batch ? batch.envelopes : []));
    const inboxes = groupByRecipient(envelopes, settings.generals);
    const next = generals.flatMap((general) => general.receive(round, inboxes[general.id]!));
    if (round <= settings.rounds) send(round + 1, next);
  }
  return {
    type: 'done',
    decisions: generals.filter((general) => general.id !== 0).map((general) => [general.id, general.decision()]),
    messages,
    discarded: generals.reduce((sum, general) => sum + general.discarded, 0),
  };
}

const parent = parentPort!;
let init: WorkerInit | undefined;
let rounds: Rounds | undefined;
parent.on('message', (message: ToWorker) => {
  if (message.type === 'init') {
    init = message.init;
    rounds = new Rounds(init.workers, init.inbound);
    parent.postMessage({ type: 'ready' } satisfies FromWorker);
    return;
  }
  const { setup } = init!;
  const work = setup.mode === 'om' ? runOm(init!, setup, rounds!) : runSm(init!, setup, rounds!);
  work.then(
    (done) => parent.postMessage(done),
    (error: unknown) =>
      parent.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies FromWorker),
  );
});
