import { describe, expect, it } from 'vitest';
import { LogBatchWindow } from '../../../src/ant/remote/log-window.js';

describe('the log batch window', () => {
  it('takes each batch of an assignment once, in order', () => {
    const window = new LogBatchWindow();
    expect(window.fresh('j/t/1', 0)).toBe(true);
    window.stored('j/t/1', 0);
    window.stored('j/t/1', 1);
    expect(window.fresh('j/t/1', 0)).toBe(false);
    expect(window.fresh('j/t/1', 1)).toBe(false);
    expect(window.fresh('j/t/1', 2)).toBe(true);
    // Another attempt of the same task is another assignment.
    expect(window.fresh('j/t/2', 0)).toBe(true);
    window.forget('j/t/1');
    expect(window.size).toBe(0);
  });

  it('holds at most `max` assignments, forgetting the one written longest ago', () => {
    const window = new LogBatchWindow(2);
    window.stored('a', 0);
    window.stored('b', 0);
    window.stored('a', 1);
    window.stored('c', 0);
    expect(window.size).toBe(2);
    expect(window.fresh('b', 0)).toBe(true);
    expect(window.fresh('a', 1)).toBe(false);
    expect(window.fresh('c', 0)).toBe(false);
    expect(() => new LogBatchWindow(0)).toThrow(/at least 1 assignment, got 0/);
  });
});
