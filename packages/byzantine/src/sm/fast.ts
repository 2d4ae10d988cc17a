import { performance } from 'node:perf_hooks';
import type { RunConfig } from '../core/config.js';
import type { EngineOutput } from '../core/result.js';
import { compareEnvelopes, type Envelope, namedChoice, SmGeneral, smSettings, type TraitorChoice } from './general.js';
import type { KeyRing } from './signatures.js';

/** A custom strategy's hook as an SM traitor choice. */
export function customChoice(config: RunConfig): TraitorChoice {
  return (sender, recipient, signers, honest) => {
    const value = config.custom!.send({ algorithm: 'sm', sender, recipient, path: signers, round: signers.length, honest });
    if (value !== undefined) config.domain.code(value);
    return value;
  };
}

/** Delivers a round's envelopes to each recipient's inbox in the canonical order. */
export function groupByRecipient(envelopes: readonly Envelope[], generals: number): Envelope[][] {
  const inboxes = Array.from({ length: generals }, () => [] as Envelope[]);
  for (const envelope of envelopes) inboxes[envelope.to]!.push(envelope);
  for (const inbox of inboxes) inbox.sort(compareEnvelopes);
  return inboxes;
}

/** SM(m) in one thread, round by round: m + 1 rounds of signed messages, with real Ed25519 signing and verification. */
export function runSmFast(config: RunConfig, keys: KeyRing): EngineOutput {
  const settings = smSettings(config);
  const choose = config.custom === undefined ? namedChoice(settings) : customChoice(config);
  const generals = Array.from(
    { length: config.generals },
    (_, id) => new SmGeneral(id, settings, keys.privateKeys[id]!, keys.publicKeys, choose),
  );
  const started = performance.now();
  let pending = generals[0]!.start();
  let messages = pending.length;
  for (let round = 1; round <= config.rounds + 1 && pending.length > 0; round++) {
    const inboxes = groupByRecipient(pending, config.generals);
    pending = generals.flatMap((general) => general.receive(round, inboxes[general.id]!));
    messages += pending.length;
  }
  const decisions = generals.map((general) => config.domain.code(general.decision()));
  return {
    decisions,
    messages,
    discarded: generals.reduce((sum, general) => sum + general.discarded, 0),
    algorithmMs: performance.now() - started,
  };
}
