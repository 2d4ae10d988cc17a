import { freshAll, mysql, uniqueName } from '@myrmex/test-utils';
import * as mysql2 from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MariaDbWaitForGraph } from '../../src/locks/index.js';

const gate = await mysql();

gate.describe('wait-for graph on MariaDB', () => {
  const db = freshAll(() => gate.freshDatabase());
  let pool: mysql2.Pool;
  beforeAll(async () => {
    pool = mysql2.createPool({ uri: db.current.url, connectionLimit: 6 });
    await pool.query('CREATE TABLE stock (id INT PRIMARY KEY, qty INT NOT NULL)');
    await pool.query('CREATE TABLE audit (id INT PRIMARY KEY)');
    await pool.query('INSERT INTO stock VALUES (1, 10)');
  });
  afterAll(() => pool.end());

  it('a cycle through a row lock and a named lock, which InnoDB cannot see, is found and its lightest transaction killed', async () => {
    const name = uniqueName('tx-lock');
    const [c1, c2] = [await pool.getConnection(), await pool.getConnection()];
    try {
      await c1.query('BEGIN');
      await c1.query('SELECT * FROM stock WHERE id = 1 FOR UPDATE');
      await c1.query('INSERT INTO audit VALUES (1), (2), (3)'); // c1 has done more work: c2 is the lighter one
      await c2.query('BEGIN');
      await c2.query('SELECT GET_LOCK(?, 60)', [name]);
      const first = c1.query(`SELECT GET_LOCK('${name}', 60) AS got`).then(
        () => 'ok',
        (e: { errno?: number }) => e.errno,
      );
      const second = c2.query('SELECT * FROM stock WHERE id = 1 FOR UPDATE').then(
        () => 'ok',
        (e: { errno?: number }) => e.errno,
      );
      const graph = new MariaDbWaitForGraph(pool);
      // Both waits take a moment to show: poll the graph until the cycle does.
      let broken = await graph.breakDeadlock();
      while (broken === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        broken = await graph.breakDeadlock();
      }
      expect(new Set(broken.cycle)).toEqual(new Set([c1.threadId, c2.threadId]));
      expect(broken.victim).toBe(c2.threadId);
      expect(await second).toBe(1317); // ER_QUERY_INTERRUPTED: the victim's statement
      // The victim's application rolls back and lets its named lock go; the other one then gets it.
      await c2.query('ROLLBACK');
      await c2.query('SELECT RELEASE_LOCK(?)', [name]);
      expect(await first).toBe('ok');
      // InnoDB refills its information_schema lock cache only after 100 ms without a reader: poll slower than that.
      while ((await graph.edges()).length > 0) await new Promise((resolve) => setTimeout(resolve, 150));
    } finally {
      for (const c of [c1, c2]) {
        await c.query('ROLLBACK').catch(() => undefined);
        await c.query('SELECT RELEASE_ALL_LOCKS()').catch(() => undefined);
        c.release();
      }
    }
  });
});
