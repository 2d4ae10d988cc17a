import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { nats, postgres } from '@myrmex/test-utils';
import { connect } from 'nats';
import { expect, it } from 'vitest';
import { Outbox } from '../../src/outbox/index.js';
import { bundledChild } from '../support/child.js';
import { openManager, scalar } from '../support/databases.js';
import { child, inOrderPerKey, streamEvents, until } from './support.js';

// Bundled once: each start is then a bare Node start, not a TypeScript loader's.
const relayProcess = bundledChild(new URL('./relay-process.ts', import.meta.url));

const pg = await postgres();
const natsGate = await nats();

/** A TCP hop between the relay and NATS that the test can cut, as a broken network would. */
async function proxy(target: URL): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 4222) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `nats://127.0.0.1:${port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

natsGate.describe('outbox relay crash', () => {
  pg.describe('kill -9 of the relay and a cut broker connection', () => {
    it('loses nothing, stores nothing twice in JetStream, and keeps each key in order', async () => {
      const db = await pg.freshDatabase();
      const fresh = await natsGate.freshPrefix();
      const { tm, close } = openManager('postgres', db.url);
      const hop = await proxy(new URL(fresh.url));
      const connection = await connect({ servers: new URL(fresh.url).host });
      const stream = fresh.prefix.replaceAll('.', '_').toUpperCase();
      try {
        const jsm = await connection.jetstreamManager();
        await jsm.streams.add({ name: stream, subjects: [`${fresh.prefix}.>`] });
        const outbox = new Outbox(tm);
        await outbox.install();
        const keys = 6;
        const perKey = 60;
        for (let n = 0; n < perKey; n++) {
          await tm.run(() =>
            outbox.publish(
              Array.from({ length: keys }, (_, k) => ({ aggregateType: 'order', aggregateId: `k${k}`, type: 'Step', payload: { n } })),
            ),
          );
        }
        const total = keys * perKey;

        const first = child(relayProcess, [db.url, hop.url, `${fresh.prefix}.`, 'k2:30']);
        await until(() => first.lines.length >= 60, 'the first 60 acks');
        hop.cut(); // the broker connection drops mid-batch; the client reconnects through the hop
        await until(() => first.lines.includes('HUNG'), 'the relay to stop with a batch in flight', 60_000);
        first.child.kill('SIGKILL');
        await first.exited;
        const markedBeforeRestart = await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox} WHERE published_at IS NOT NULL`);
        // The batch in flight was confirmed by the stream but never marked: the restart sends it again.
        expect(markedBeforeRestart).toBeLessThan(total);

        const second = child(relayProcess, [db.url, hop.url, `${fresh.prefix}.`]);
        expect(await second.exited).toBe(0);
        const stats = JSON.parse(second.lines.at(-1)!) as { delivered: number; duplicates: number };
        expect(stats.duplicates).toBeGreaterThan(0);

        const events = await streamEvents(jsm, stream);
        expect(events).toHaveLength(total);
        expect(new Set(events.map((e) => e.id)).size).toBe(total);
        expect(inOrderPerKey(events, (e) => (e.payload as { n: number }).n)).toBe(true);
        expect(await scalar(tm, `SELECT COUNT(*) FROM ${outbox.tables.outbox} WHERE published_at IS NULL`)).toBe(0);
      } finally {
        await connection.close();
        await hop.close();
        await close();
        await fresh.dispose();
        await db.dispose();
      }
    }, 120_000);
  });
});
