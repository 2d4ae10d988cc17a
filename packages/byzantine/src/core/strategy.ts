import { STRATEGY_CODE } from './config.js';
import { ATTACK_CODE, oppositeCode, RETREAT_CODE } from './values.js';

/** Sentinel for "sends nothing". */
export const SILENT = -1;

/** MurmurHash3's finaliser: a cheap, well-mixed 32-bit hash step. */
function fmix(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The `random` strategy's coin for one message. It depends only on the seed and the message's
 * identity (tree level, path index, recipient), never on the order in which an engine happens
 * to produce messages, so every engine draws the same coins.
 */
export function coin(seed: number, level: number, index: number, recipient: number): number {
  const high = Math.floor(index / 0x100000000);
  let h = fmix(seed ^ 0x9e3779b9);
  h = fmix(h ^ Math.imul(level + 1, 0x27d4eb2d));
  h = fmix(h ^ (index >>> 0));
  h = fmix(h ^ high);
  h = fmix(h ^ recipient);
  return h & 1;
}

/**
 * What a traitor with a named strategy sends one recipient, as a value code or SILENT. `level`
 * and `index` identify the path the message travels (ending in the sender).
 */
export function namedTraitorSend(strategy: number, seed: number, level: number, index: number, recipient: number, honest: number): number {
  switch (strategy) {
    case STRATEGY_CODE.honest:
      return honest;
    case STRATEGY_CODE.silent:
      return SILENT;
    case STRATEGY_CODE.flip:
      return oppositeCode(honest);
    case STRATEGY_CODE.random:
      return coin(seed, level, index, recipient) === 1 ? ATTACK_CODE : RETREAT_CODE;
    case STRATEGY_CODE.parity:
      return recipient % 2 === 1 ? honest : oppositeCode(honest);
    default:
      throw new RangeError(`strategy code ${strategy} is not a named strategy`);
  }
}
