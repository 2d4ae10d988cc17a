import { describe, expect, it } from 'vitest';
import { ByzantineInputError, configure, runByzantine, type SendContext } from '../src/index.js';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ByzantineInputError) return `${error.field} | ${error.message}`;
    throw error;
  }
  throw new Error('expected ByzantineInputError');
}

describe('input validation names the field', () => {
  it.each([
    [{ generals: 1, rounds: 0 }, 'generals | generals: must be at least 2, got 1'],
    [{ generals: 2.5, rounds: 0 }, 'generals | generals: must be an integer, got 2.5'],
    [{ generals: 4, rounds: -1 }, 'rounds | rounds: must be at least 0, got -1'],
    [{ generals: 4, rounds: 1, traitors: [4] }, 'traitors | traitors: general 4 is out of range 0..3'],
    [{ generals: 4, rounds: 1, traitors: [1, 1] }, 'traitors | traitors: lists a general twice'],
    [{ generals: 4, rounds: 1, order: '' }, 'order | order: must be a non-empty string'],
    [
      { generals: 4, rounds: 1, strategy: 'sneaky' },
      'strategy | strategy: must be one of honest, silent, flip, random, parity, got sneaky',
    ],
    [{ generals: 4, rounds: 1, algorithm: 'pbft' }, 'algorithm | algorithm: must be one of om, sm, got pbft'],
    [{ generals: 4, rounds: 1, engine: 'gpu' }, 'engine | engine: must be one of fast, actors, got gpu'],
    [{ generals: 4, rounds: 1, seed: -3 }, 'seed | seed: must be at least 0, got -3'],
    [{ generals: 6, rounds: 2 }, 'generals | generals: OM(2) needs more than 3m = 6 generals, got 6 (pass unsafe to run it anyway)'],
    [
      { generals: 3, rounds: 2, algorithm: 'sm' },
      'generals | generals: SM(2) needs at least m + 2 = 4 generals, got 3 (pass unsafe to run it anyway)',
    ],
    [
      { generals: 7, rounds: 2, traitors: [1, 2, 3] },
      'traitors | traitors: OM(2) tolerates at most m = 2 traitors, got 3 (pass unsafe to run it anyway)',
    ],
    [
      { generals: 7, rounds: 1, traitors: [1, 2], algorithm: 'sm' },
      'traitors | traitors: SM(1) tolerates at most m = 1 traitors, got 2 (pass unsafe to run it anyway)',
    ],
    [
      { generals: 2000, rounds: 3 },
      'rounds | rounds: OM(3) with 2000 generals sends more than 2000000000 messages (raise maxMessages to allow it)',
    ],
  ])('%j', (options, expected) => {
    expect(fieldOf(() => configure(options as never))).toBe(expected);
  });
});

describe('custom strategies', () => {
  it('are called for every message a traitor sends, with the path so far', async () => {
    const seen: SendContext[] = [];
    const result = await runByzantine({
      generals: 4,
      rounds: 1,
      traitors: [2],
      strategy: {
        name: 'recorder',
        send: (context) => {
          seen.push(context);
          return context.recipient === 1 ? undefined : 'RETREAT';
        },
      },
    });
    expect(seen).toEqual([
      { algorithm: 'om', sender: 2, recipient: 1, path: [0, 2], round: 2, honest: 'ATTACK' },
      { algorithm: 'om', sender: 2, recipient: 3, path: [0, 2], round: 2, honest: 'ATTACK' },
    ]);
    expect(result.messages).toBe(8);
    expect(result.loyalDecisions).toEqual({ 1: 'ATTACK', 3: 'ATTACK' });
  });

  it('must return values of the run domain or declare them', async () => {
    const strategy = { name: 'odd', send: () => 'MAYBE' };
    await expect(runByzantine({ generals: 4, rounds: 1, traitors: [1], strategy })).rejects.toThrow(
      /value 'MAYBE' is not in this run's domain/,
    );
    const declared = { name: 'odd', values: ['MAYBE'], send: () => 'MAYBE' };
    await expect(runByzantine({ generals: 4, rounds: 1, traitors: [1], strategy: declared })).resolves.toMatchObject({
      ic1: true,
      ic2: true,
    });
  });

  it('run under SM with the signer chain as the path', async () => {
    const paths: (readonly number[])[] = [];
    await runByzantine({
      algorithm: 'sm',
      generals: 4,
      rounds: 1,
      traitors: [3],
      strategy: {
        name: 'recorder',
        send: ({ path, honest }) => {
          paths.push(path);
          return honest;
        },
      },
    });
    expect(paths).toEqual([
      [0, 3],
      [0, 3],
    ]);
  });
});

describe('message-count helpers validate their input', () => {
  it('names the bad argument', async () => {
    const { omMessageCount, omMessagesSentBy } = await import('../src/index.js');
    expect(() => omMessageCount(1, 0)).toThrow('omMessageCount: n must be an integer of at least 2, got 1');
    expect(() => omMessageCount(4, -1)).toThrow('omMessageCount: m must be a non-negative integer, got -1');
    expect(() => omMessagesSentBy(4, 4, 1)).toThrow('omMessagesSentBy: general must be an id in 0..3, got 4');
  });
});
