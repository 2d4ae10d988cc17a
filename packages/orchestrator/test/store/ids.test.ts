import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeOrderedId } from '../../src/domain/ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId (UUIDv7 job ids)', () => {
  it('sorts in the order the ids were made, whatever the clock does, and is a valid version 7 UUID', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_050 }), { minLength: 2, maxLength: 6000 }), (clock) => {
        const ids = clock.map((now) => timeOrderedId(now));
        for (const id of ids) expect(id).toMatch(UUID_V7);
        expect([...ids].sort()).toEqual(ids);
        expect(new Set(ids).size).toBe(ids.length);
      }),
      { numRuns: 30 },
    );
  });

  it('starts with the millisecond it was made in', () => {
    const id = timeOrderedId(Date.UTC(2030, 0, 1));
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(Date.UTC(2030, 0, 1));
  });
});
