import type { ChildProcess } from 'node:child_process';
import { nats, postgres, uniqueName } from '@myrmex/test-utils';
import { connect } from 'nats';
import { expect, it } from 'vitest';
import { Capture } from '../../src/cdc/index.js';
import { bundledChild } from '../support/child.js';
import { openManager } from '../support/databases.js';
import { child, inOrderPerKey, lsnValue, streamEvents, until } from './support.js';

// Bundled once: each start is then a bare Node start, not a TypeScript loader's.
const captureProcess = bundledChild(new URL('./capture-process.ts', import.meta.url));

const pg = await postgres();
const natsGate = await nats();

natsGate.describe('CDC crash', () => {
  pg.describe('kill -9 of the capture with a transaction half published', () => {
    it('resumes from the last acknowledged LSN: nothing lost, nothing stored twice, order per row kept', async () => {
      const db = await pg.freshDatabase();
      const fresh = await natsGate.freshPrefix();
      const { tm, close } = openManager('postgres', db.url);
      const connection = await connect({ servers: new URL(fresh.url).host });
      const stream = fresh.prefix.replaceAll('.', '_').toUpperCase();
      const slot = uniqueName('cdc');
      const publication = uniqueName('pub');
      // Installs, reports lag and uninstalls; the capturing is done by the child processes.
      const unused = { name: 'unused', publish: () => Promise.reject(new Error('unused')), close: async () => undefined };
      const admin = new Capture({ connectionString: db.url, slot, publication, tables: ['items'], publisher: unused });
      const args = [db.url, fresh.url, `${fresh.prefix}.`, slot, publication];
      let running: ChildProcess | undefined;
      try {
        const jsm = await connection.jetstreamManager();
        await jsm.streams.add({ name: stream, subjects: [`${fresh.prefix}.>`] });
        await tm.execute('CREATE TABLE items (id integer PRIMARY KEY, n integer NOT NULL)');
        await admin.install();
        const rows = 6;
        const rounds = 40;
        await tm.execute(`INSERT INTO items SELECT g, 0 FROM generate_series(1, ${rows}) g`);
        for (let n = 1; n < rounds; n++) await tm.execute(`UPDATE items SET n = ${n}`); // one transaction of 6 changes per round
        const total = rows * rounds;

        const first = child(captureProcess, [...args, '1:17']);
        running = first.child;
        await until(() => first.lines.includes('HUNG'), 'the capture to stop mid-transaction', 60_000);
        first.child.kill('SIGKILL');
        await first.exited;
        const firstAcks = first.lines.filter((l) => l === 'ACK').length;

        const second = child(captureProcess, args);
        running = second.child;
        await until(async () => (await jsm.streams.info(stream)).state.messages >= total, `${total} changes in the stream`, 60_000);
        const { rows: end } = await tm.execute<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
        await until(async () => {
          const lag = await admin.lag();
          return lsnValue(lag.confirmedFlushLsn ?? '0/0') >= lsnValue(end[0]!.lsn);
        }, 'the slot to be acknowledged past the last change');
        const secondAcks = second.lines.filter((l) => l === 'ACK').length;
        // The half-published transaction was decoded and published again after the restart...
        expect(firstAcks + secondAcks).toBeGreaterThan(total);
        // ...and the stream stored each change once, in order per row.
        const events = await streamEvents(jsm, stream);
        expect(events).toHaveLength(total);
        expect(new Set(events.map((e) => e.id)).size).toBe(total);
        expect(inOrderPerKey(events, (e) => (e.payload as { after: { n: number } }).after.n)).toBe(true);
      } finally {
        running?.kill('SIGKILL');
        await until(async () => !(await admin.lag().catch(() => ({ active: false }))).active, 'the slot to be released');
        await admin.uninstall();
        await connection.close();
        await close();
        await fresh.dispose();
        await db.dispose();
      }
    }, 120_000);
  });
});
