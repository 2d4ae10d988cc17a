import { describe, expect, it } from 'vitest';
import { ByzantineInputError, omMessageCount, runByzantine } from '../src/index.js';

// The figures of Lamport, Shostak and Pease, "The Byzantine Generals Problem" (1982).
describe('the paper: OM(1) with four generals', () => {
  it('Fig. 3: a traitor lieutenant cannot stop the loyal ones obeying a loyal commander', async () => {
    const result = await runByzantine({ generals: 4, rounds: 1, traitors: [3], order: 'ATTACK', strategy: 'flip' });
    expect(result.loyalDecisions).toEqual({ 1: 'ATTACK', 2: 'ATTACK' });
    expect(result).toMatchObject({ messages: 9, ic1: true, ic2: true, commanderLoyal: true });
  });

  it('Fig. 4: a traitor commander sending three different values leaves the lieutenants agreeing', async () => {
    const threeWays = {
      name: 'three-ways',
      values: ['x', 'y', 'z'],
      send: ({ sender, recipient, honest }: { sender: number; recipient: number; honest: string }) =>
        sender === 0 ? ['x', 'y', 'z'][recipient - 1] : honest,
    };
    const result = await runByzantine({ generals: 4, rounds: 1, traitors: [0], strategy: threeWays });
    // Each lieutenant sees x, y and z once: no strict majority, so all take the default.
    expect(result.loyalDecisions).toEqual({ 1: 'RETREAT', 2: 'RETREAT', 3: 'RETREAT' });
    expect(result).toMatchObject({ ic1: true, ic2: true, commanderLoyal: false, messages: 9 });
  });

  it('a parity commander (ATTACK to odd, RETREAT to even) still gets one decision', async () => {
    const result = await runByzantine({ generals: 4, rounds: 1, traitors: [0], strategy: 'parity' });
    expect(result.loyalDecisions).toEqual({ 1: 'ATTACK', 2: 'ATTACK', 3: 'ATTACK' });
  });
});

describe('the paper: three generals cannot tolerate one traitor (Figs. 1 and 2)', () => {
  it('is refused without unsafe', async () => {
    await expect(runByzantine({ generals: 3, rounds: 1, traitors: [2] })).rejects.toThrow(ByzantineInputError);
    await expect(runByzantine({ generals: 3, rounds: 1, traitors: [2] })).rejects.toThrow(/OM\(1\) needs more than 3m = 3 generals, got 3/);
  });

  it('Fig. 1 under unsafe: a lying lieutenant makes the loyal one disobey a loyal commander (IC2 broken)', async () => {
    const result = await runByzantine({ generals: 3, rounds: 1, traitors: [2], order: 'ATTACK', strategy: 'flip', unsafe: true });
    expect(result.loyalDecisions).toEqual({ 1: 'RETREAT' });
    expect(result.ic2).toBe(false);
  });

  it('a parity lieutenant lies only to even-numbered recipients: traitor 1 breaks IC2 for 2, traitor 2 cannot for 1', async () => {
    const liesToTwo = await runByzantine({ generals: 3, rounds: 1, traitors: [1], order: 'ATTACK', strategy: 'parity', unsafe: true });
    expect(liesToTwo.loyalDecisions).toEqual({ 2: 'RETREAT' });
    expect(liesToTwo.ic2).toBe(false);
    const honestToOne = await runByzantine({ generals: 3, rounds: 1, traitors: [2], order: 'ATTACK', strategy: 'parity', unsafe: true });
    expect(honestToOne.loyalDecisions).toEqual({ 1: 'ATTACK' });
    expect(honestToOne.ic2).toBe(true);
  });

  it('Fig. 2 under unsafe: a traitor commander; lieutenant 1 sees exactly what it saw in Fig. 1', async () => {
    const result = await runByzantine({ generals: 3, rounds: 1, traitors: [0], order: 'ATTACK', strategy: 'parity', unsafe: true });
    expect(result.decisions).toEqual({ 1: 'RETREAT', 2: 'RETREAT' });
    expect(result.commanderLoyal).toBe(false);
  });
});

describe('the paper: SM(1) with three generals (Fig. 5)', () => {
  it('a traitor commander signing different orders is exposed: both lieutenants hold both values and retreat', async () => {
    const result = await runByzantine({ algorithm: 'sm', generals: 3, rounds: 1, traitors: [0], strategy: 'parity' });
    expect(result.loyalDecisions).toEqual({ 1: 'RETREAT', 2: 'RETREAT' });
    expect(result).toMatchObject({ ic1: true, ic2: true, messages: 4, discarded: 0 });
  });

  it('a traitor lieutenant cannot alter the signed order: its forged relay is discarded and IC2 holds', async () => {
    const result = await runByzantine({ algorithm: 'sm', generals: 3, rounds: 1, traitors: [2], order: 'ATTACK', strategy: 'flip' });
    expect(result.loyalDecisions).toEqual({ 1: 'ATTACK' });
    expect(result).toMatchObject({ ic1: true, ic2: true, discarded: 1 });
  });
});

describe('exact message counts', () => {
  it.each([
    [4, 1, 9],
    [7, 2, 156],
    [10, 3, 3_609],
    [13, 4, 108_384],
  ])('OM(%i generals, m=%i) sends %i messages', async (generals, rounds, expected) => {
    expect(omMessageCount(generals, rounds)).toBe(expected);
    const result = await runByzantine({ generals, rounds, traitors: [1], strategy: 'flip' });
    expect(result.messages).toBe(expected);
  });

  it('OM(1) with 2000 generals is 3,996,001 messages', () => {
    expect(omMessageCount(2000, 1)).toBe(3_996_001);
  });
});

describe('values and defaults', () => {
  it('carries any order value, and a loyal commander is obeyed', async () => {
    const result = await runByzantine({ generals: 7, rounds: 2, traitors: [3, 6], order: 'HOLD THE LINE', strategy: 'random', seed: 42 });
    expect(new Set(Object.values(result.loyalDecisions))).toEqual(new Set(['HOLD THE LINE']));
  });

  it('a silent commander means RETREAT by default for everyone', async () => {
    const result = await runByzantine({ generals: 7, rounds: 2, traitors: [0], strategy: 'silent' });
    expect(new Set(Object.values(result.loyalDecisions))).toEqual(new Set(['RETREAT']));
  });

  it('OM(0) is the commander order as received', async () => {
    const result = await runByzantine({ generals: 5, rounds: 0, traitors: [0], strategy: 'parity', unsafe: true });
    expect(result.decisions).toEqual({ 1: 'ATTACK', 2: 'RETREAT', 3: 'ATTACK', 4: 'RETREAT' });
    expect(result.ic1).toBe(false);
    expect(result.messages).toBe(4);
  });
});
