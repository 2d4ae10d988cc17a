import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/definition/index.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1h', 3_600_000],
    ['2m30s', 150_000],
    ['1h2m3s4ms', 3_723_004],
    ['0s', 0],
    [0, 0],
    [45, 45_000],
  ] as const)('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '5x', '1m1h', '1.5s', '-1s', '5 m', 'm', '1s1s', '1ms1s', '30S'])('rejects %j naming it', (text) => {
    expect(() => parseDuration(text)).toThrow(
      new RangeError(`invalid duration '${text}': expected a duration such as 30s, 5m, 1h30m, 250ms or integer seconds`),
    );
  });

  it('rejects fractional and negative seconds and anything setTimeout cannot wait', () => {
    expect(() => parseDuration(1.5)).toThrow(RangeError);
    expect(() => parseDuration(-1)).toThrow(RangeError);
    expect(parseDuration(MAX_DURATION_MS + 'ms')).toBe(MAX_DURATION_MS);
    expect(() => parseDuration(`${MAX_DURATION_MS + 1}ms`)).toThrow('at most 596h31m23s647ms');
    expect(() => parseDuration(3_000_000)).toThrow(RangeError);
    expect(() => parseDuration(null as unknown as string)).toThrow(TypeError);
  });

  it('formatDuration writes the canonical spelling that parses back to the same ms', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(0)).toBe('0s');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('every spelling of hours, minutes, seconds and ms adds up', () => {
    const part = fc.option(fc.integer({ min: 0, max: 99 }), { nil: undefined });
    fc.assert(
      fc.property(part, part, part, part, (h, m, s, ms) => {
        const text = `${h === undefined ? '' : `${h}h`}${m === undefined ? '' : `${m}m`}${s === undefined ? '' : `${s}s`}${ms === undefined ? '' : `${ms}ms`}`;
        fc.pre(text !== '');
        expect(parseDuration(text)).toBe((h ?? 0) * 3_600_000 + (m ?? 0) * 60_000 + (s ?? 0) * 1000 + (ms ?? 0));
      }),
    );
  });
});
