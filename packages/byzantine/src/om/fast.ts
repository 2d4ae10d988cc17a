import { performance } from 'node:perf_hooks';
import { type RunConfig, STRATEGY_CODE } from '../core/config.js';
import { childIndex, childRank } from '../core/paths.js';
import type { EngineOutput } from '../core/result.js';
import { namedTraitorSend, SILENT } from '../core/strategy.js';
import { majorityCode, RETREAT_CODE } from '../core/values.js';

/**
 * OM(m) in one thread, as a depth-first walk of the exponential-information-gathering tree.
 * Only the current root-to-node path is alive: per level one array of received values, one of
 * resolved values and one of vote counts, all typed arrays allocated once. A message is a write
 * into an array slot (or, for a loyal sender's last round, a vote counted directly), never an
 * object, so OM(1) with 2000 generals is four million array writes.
 */
export function runOmFast(config: RunConfig): EngineOutput {
  const { generals: n, rounds: m, seed, strategyCode, custom, domain } = config;
  const k = domain.size;
  const traitor = new Uint8Array(n);
  for (const id of config.traitors) traitor[id] = 1;
  const onPath = new Uint8Array(n);
  const lieutenants = new Int32Array(m + 1); // the path's lieutenants, in order
  const received = Array.from({ length: m + 2 }, () => new Uint16Array(n));
  const resolved = Array.from({ length: m + 2 }, () => new Uint16Array(n));
  const counts = Array.from({ length: m + 1 }, () => new Uint32Array(n * k));
  let messages = 0;

  const customSend = (sender: number, level: number, recipient: number, honest: number): number => {
    const path = [0, ...lieutenants.subarray(0, level)];
    const value = custom!.send({ algorithm: 'om', sender, recipient, path, round: level + 1, honest: domain.value(honest) });
    return value === undefined ? SILENT : domain.code(value);
  };

  /** The sender (last on the path, `level` lieutenants) sends `honest` along the path with this index; fills `out`. */
  const send = (sender: number, level: number, index: number, honest: number, out: Uint16Array): void => {
    if (traitor[sender] === 0) {
      for (let i = 1; i < n; i++) if (onPath[i] === 0) out[i] = honest;
      messages += n - 1 - level;
      return;
    }
    for (let i = 1; i < n; i++) {
      if (onPath[i] !== 0) continue;
      const value =
        strategyCode === STRATEGY_CODE.custom
          ? customSend(sender, level, i, honest)
          : namedTraitorSend(strategyCode, seed, level, index, i, honest);
      if (value === SILENT) out[i] = RETREAT_CODE;
      else {
        out[i] = value;
        messages++;
      }
    }
  };

  /** Resolves every receiver's value for the node with `level` lieutenants whose received values are in received[level]. */
  const resolve = (level: number, index: number, out: Uint16Array): void => {
    const own = received[level]!;
    const receivers = n - 1 - level;
    if (level === m) {
      for (let i = 1; i < n; i++) if (onPath[i] === 0) out[i] = own[i]!;
      return;
    }
    const votes = counts[level]!;
    votes.fill(0);
    for (let i = 1; i < n; i++) if (onPath[i] === 0) votes[i * k + own[i]!]!++;
    const childLevel = level + 1;
    const childReceived = received[childLevel]!;
    const childResolved = resolved[childLevel]!;
    for (let j = 1; j < n; j++) {
      if (onPath[j] !== 0) continue;
      const child = childIndex(n, level, index, childRank(j, lieutenants, level));
      onPath[j] = 1;
      lieutenants[level] = j;
      const relayed = own[j]!;
      if (childLevel === m && traitor[j] === 0) {
        // A loyal relay on the last round: every receiver's vote is the relayed value.
        for (let i = 1; i < n; i++) if (onPath[i] === 0) votes[i * k + relayed]!++;
        messages += receivers - 1;
      } else {
        send(j, childLevel, child, relayed, childReceived);
        resolve(childLevel, child, childResolved);
        for (let i = 1; i < n; i++) if (onPath[i] === 0) votes[i * k + childResolved[i]!]!++;
      }
      onPath[j] = 0;
    }
    for (let i = 1; i < n; i++) if (onPath[i] === 0) out[i] = majorityCode(votes, i * k, k, receivers);
  };

  const started = performance.now();
  onPath[0] = 1;
  send(0, 0, 0, domain.code(config.order), received[0]!);
  const decisions = resolved[0]!;
  resolve(0, 0, decisions);
  return { decisions, messages, discarded: 0, algorithmMs: performance.now() - started };
}
