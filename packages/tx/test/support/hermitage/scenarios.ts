import { type Script, value } from './script.js';
import type { Rows } from './sessions.js';

/**
 * Hermitage's tests (github.com/ept/hermitage), one per anomaly, written once for every database.
 * Each returns whether the anomaly OCCURRED; how it was prevented (a wait or an abort) is read
 * from the script afterwards. Table `test` holds (1, 10) and (2, 20) at the start.
 */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(s: Script): Promise<boolean>;
}

const same = (rows: Rows, expected: Record<number, number>) =>
  rows.size === Object.keys(expected).length && Object.entries(expected).every(([id, v]) => rows.get(Number(id)) === v);

export const scenarios: readonly Scenario[] = [
  {
    id: 'G0',
    title: 'write cycles (dirty writes)',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'UPDATE test SET value = 11 WHERE id = 1');
      await s.q('T2', 'UPDATE test SET value = 12 WHERE id = 1');
      await s.q('T1', 'UPDATE test SET value = 21 WHERE id = 2');
      await s.commit('T1');
      await s.q('T2', 'UPDATE test SET value = 22 WHERE id = 2');
      await s.commit('T2');
      await s.finish();
      const rows = await s.final();
      // Interleaved winners: T1's write on one row survived next to T2's on the other.
      return same(rows, { 1: 11, 2: 22 }) || same(rows, { 1: 12, 2: 21 });
    },
  },
  {
    id: 'G1a',
    title: 'aborted reads',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'UPDATE test SET value = 101 WHERE id = 1');
      const during = await s.q('T2', 'SELECT * FROM test');
      await s.rollback('T1');
      const after = await s.q('T2', 'SELECT * FROM test');
      await s.commit('T2');
      await s.finish();
      return value(during, 1) === 101 || value(after, 1) === 101;
    },
  },
  {
    id: 'G1b',
    title: 'intermediate reads',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'UPDATE test SET value = 101 WHERE id = 1');
      const during = await s.q('T2', 'SELECT * FROM test');
      await s.q('T1', 'UPDATE test SET value = 11 WHERE id = 1');
      await s.commit('T1');
      const after = await s.q('T2', 'SELECT * FROM test');
      await s.commit('T2');
      await s.finish();
      return value(during, 1) === 101 || value(after, 1) === 101;
    },
  },
  {
    id: 'G1c',
    title: 'circular information flow',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'UPDATE test SET value = 11 WHERE id = 1');
      await s.q('T2', 'UPDATE test SET value = 22 WHERE id = 2');
      const r1 = await s.q('T1', 'SELECT * FROM test WHERE id = 2');
      const r2 = await s.q('T2', 'SELECT * FROM test WHERE id = 1');
      await s.commit('T1');
      await s.commit('T2');
      await s.finish();
      return value(r1, 2) === 22 && value(r2, 1) === 11;
    },
  },
  {
    id: 'OTV',
    title: 'observed transaction vanishes',
    async run(s) {
      await s.begin('T1', 'T2', 'T3');
      await s.q('T1', 'UPDATE test SET value = 11 WHERE id = 1');
      await s.q('T1', 'UPDATE test SET value = 19 WHERE id = 2');
      await s.q('T2', 'UPDATE test SET value = 12 WHERE id = 1');
      await s.commit('T1');
      const a = await s.q('T3', 'SELECT * FROM test');
      await s.q('T2', 'UPDATE test SET value = 18 WHERE id = 2');
      const b = await s.q('T3', 'SELECT * FROM test');
      await s.commit('T2');
      const c = await s.q('T3', 'SELECT * FROM test');
      await s.commit('T3');
      await s.finish();
      // T3 saw T2's write on row 1, then T1's value on row 2, which T2 had overwritten.
      return [a, b, c].some((r) => value(r, 1) === 12 && value(r, 2) === 19);
    },
  },
  {
    id: 'PMP',
    title: 'predicate-many-preceders (read predicate)',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'SELECT * FROM test WHERE value = 30');
      await s.q('T2', 'INSERT INTO test (id, value) VALUES (3, 30)');
      await s.commit('T2');
      const later = await s.q('T1', 'SELECT * FROM test WHERE value % 3 = 0');
      await s.commit('T1');
      await s.finish();
      return value(later, 3) === 30;
    },
  },
  {
    id: 'PMP-write',
    title: 'predicate-many-preceders (write predicate)',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'UPDATE test SET value = value + 10');
      await s.q('T2', 'SELECT * FROM test');
      await s.q('T2', 'DELETE FROM test WHERE value = 20');
      await s.commit('T1');
      const seen = await s.q('T2', 'SELECT * FROM test');
      await s.commit('T2');
      await s.finish();
      if (!s.committed('T2')) return false;
      const rows = await s.final();
      // Serial orders: T1 then T2 leaves {2: 30}; T2 then T1 leaves {1: 20}. T2's own last read must agree.
      const serial = same(rows, { 2: 30 }) || same(rows, { 1: 20 });
      return !serial || !same(seen.output?.rows ?? new Map(), Object.fromEntries(rows));
    },
  },
  {
    id: 'P4',
    title: 'lost update',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'SELECT * FROM test WHERE id = 1');
      await s.q('T2', 'SELECT * FROM test WHERE id = 1');
      await s.q('T1', 'UPDATE test SET value = 11 WHERE id = 1');
      await s.q('T2', 'UPDATE test SET value = 11 WHERE id = 1');
      await s.commit('T1');
      await s.commit('T2');
      await s.finish();
      // Both read 10 and wrote 10 + 1: if both commit, one increment is lost.
      return s.committed('T1') && s.committed('T2');
    },
  },
  {
    id: 'G-single',
    title: 'read skew',
    async run(s) {
      await s.begin('T1', 'T2');
      const first = await s.q('T1', 'SELECT * FROM test WHERE id = 1');
      await s.q('T2', 'SELECT * FROM test WHERE id = 1');
      await s.q('T2', 'SELECT * FROM test WHERE id = 2');
      await s.q('T2', 'UPDATE test SET value = 12 WHERE id = 1');
      await s.q('T2', 'UPDATE test SET value = 18 WHERE id = 2');
      await s.commit('T2');
      const second = await s.q('T1', 'SELECT * FROM test WHERE id = 2');
      await s.commit('T1');
      await s.finish();
      return s.committed('T1') && value(first, 1) === 10 && value(second, 2) === 18;
    },
  },
  {
    id: 'G-single-pred',
    title: 'read skew with predicate dependencies',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'SELECT * FROM test WHERE value % 5 = 0');
      await s.q('T2', 'UPDATE test SET value = 12 WHERE value = 10');
      await s.commit('T2');
      const later = await s.q('T1', 'SELECT * FROM test WHERE value % 3 = 0');
      await s.commit('T1');
      await s.finish();
      return s.committed('T1') && value(later, 1) === 12;
    },
  },
  {
    id: 'G-single-write',
    title: 'read skew on a write predicate',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'SELECT * FROM test WHERE id = 1');
      await s.q('T2', 'SELECT * FROM test');
      await s.q('T2', 'UPDATE test SET value = 12 WHERE id = 1');
      await s.q('T2', 'UPDATE test SET value = 18 WHERE id = 2');
      await s.commit('T2');
      const deleted = await s.q('T1', 'DELETE FROM test WHERE value = 20');
      await s.q('T1', 'SELECT * FROM test WHERE id = 2');
      await s.commit('T1');
      await s.finish();
      // T1 read row 1 before T2, yet its delete saw row 2 after T2 (and so deleted nothing).
      return s.committed('T1') && s.committed('T2') && deleted.output?.affected === 0;
    },
  },
  {
    id: 'G2-item',
    title: 'write skew',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'SELECT * FROM test WHERE id IN (1, 2)');
      await s.q('T2', 'SELECT * FROM test WHERE id IN (1, 2)');
      await s.q('T1', 'UPDATE test SET value = 11 WHERE id = 1');
      await s.q('T2', 'UPDATE test SET value = 21 WHERE id = 2');
      await s.commit('T1');
      await s.commit('T2');
      await s.finish();
      return s.committed('T1') && s.committed('T2');
    },
  },
  {
    id: 'G2',
    title: 'anti-dependency cycles (predicate write skew)',
    async run(s) {
      await s.begin('T1', 'T2');
      await s.q('T1', 'SELECT * FROM test WHERE value % 3 = 0');
      await s.q('T2', 'SELECT * FROM test WHERE value % 3 = 0');
      await s.q('T1', 'INSERT INTO test (id, value) VALUES (3, 30)');
      await s.q('T2', 'INSERT INTO test (id, value) VALUES (4, 42)');
      await s.commit('T1');
      await s.commit('T2');
      await s.finish();
      return s.committed('T1') && s.committed('T2');
    },
  },
  {
    id: 'G2-two-edges',
    title: "anti-dependency cycles, Fekete et al.'s two edges",
    async run(s) {
      await s.begin('T1');
      await s.q('T1', 'SELECT * FROM test');
      await s.begin('T2');
      await s.q('T2', 'UPDATE test SET value = value + 5 WHERE id = 2');
      await s.commit('T2');
      await s.begin('T3');
      const seen = await s.q('T3', 'SELECT * FROM test');
      await s.commit('T3');
      await s.q('T1', 'UPDATE test SET value = 0 WHERE id = 1');
      await s.commit('T1');
      await s.finish();
      // T3 saw T2 but not T1, T1 read before T2: a cycle only if all three committed.
      return s.committed('T1') && s.committed('T2') && s.committed('T3') && value(seen, 2) === 25 && value(seen, 1) === 10;
    },
  },
];
