import { describe, expect, it } from 'vitest';
import { alter, countersign, generateKeyRing, signOrder, verifyChain } from '../src/sm/signatures.js';

describe('Ed25519 signature chains', () => {
  const keys = generateKeyRing(4);
  const order = signOrder('ATTACK', keys.privateKeys[0]!);
  const relayed = countersign(order, 1, keys.privateKeys[1]!);

  it('accept a valid chain in the right round from the last signer', () => {
    expect(verifyChain(order, 0, 1, 1, keys.publicKeys)).toBe(true);
    expect(verifyChain(relayed, 1, 2, 2, keys.publicKeys)).toBe(true);
    expect(countersign(relayed, 2, keys.privateKeys[2]!).signatures).toHaveLength(3);
  });

  it('reject an altered value even when the traitor countersigns it', () => {
    expect(verifyChain(alter(order, 'RETREAT', 1, keys.privateKeys[1]!), 1, 2, 2, keys.publicKeys)).toBe(false);
    expect(verifyChain({ ...relayed, value: 'RETREAT' }, 1, 2, 2, keys.publicKeys)).toBe(false);
  });

  it('reject a forged commander signature', () => {
    const forged = signOrder('RETREAT', keys.privateKeys[3]!);
    expect(verifyChain(forged, 0, 1, 1, keys.publicKeys)).toBe(false);
  });

  it('reject chains with the wrong sender, round, a repeated signer or the receiver on them', () => {
    expect(verifyChain(relayed, 3, 2, 2, keys.publicKeys)).toBe(false);
    expect(verifyChain(relayed, 1, 2, 3, keys.publicKeys)).toBe(false);
    expect(verifyChain(relayed, 1, 1, 2, keys.publicKeys)).toBe(false);
    const twice = countersign(relayed, 1, keys.privateKeys[1]!);
    expect(verifyChain(twice, 1, 2, 3, keys.publicKeys)).toBe(false);
  });

  it('reject a signature moved onto another chain', () => {
    const other = countersign(order, 2, keys.privateKeys[2]!);
    const spliced = { ...relayed, signatures: [relayed.signatures[0]!, other.signatures[1]!] };
    expect(verifyChain(spliced, 1, 3, 2, keys.publicKeys)).toBe(false);
  });
});
