import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgres } from '@myrmex/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArtifactCatalog, ArtifactManifest } from '../../src/artifacts/index.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** The ArtifactCatalog contract, run on every store that keeps one (SQLite file and PostgreSQL). */
interface Opened {
  readonly catalog: ArtifactCatalog;
  /** A second catalog on the same database (another queen). */
  readonly other: () => Promise<ArtifactCatalog>;
  close(): Promise<void>;
}

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const manifest = (paths: readonly string[], expiresAt?: number): ArtifactManifest => ({
  files: paths.map((path, i) => ({ path, digest: digest(i + 1), size: 10 * (i + 1), mode: 0o644 })),
  missing: [],
  ...(expiresAt === undefined ? {} : { expiresAt }),
});

function describeCatalogContract(name: string, open: () => Promise<Opened>): void {
  describe(`ArtifactCatalog on ${name}`, () => {
    it('lists what each attempt left and gives a dependent the files of one attempt', async () => {
      const store = await open();
      try {
        const at = new Date(1_000);
        await store.catalog.record('j1', 'build', 1, manifest(['out/a.txt']), at);
        await store.catalog.record('j1', 'build', 2, manifest(['out/a.txt', 'out/b.txt']), at);
        await store.catalog.record('j1', 'test', 1, manifest(['report.xml']), at);
        await store.catalog.record('j2', 'build', 1, manifest(['other']), at);
        const listed = await store.catalog.list('j1', at);
        expect(listed.map((r) => [r.taskType, r.attempt, r.path])).toEqual([
          ['build', 1, 'out/a.txt'],
          ['build', 2, 'out/a.txt'],
          ['build', 2, 'out/b.txt'],
          ['test', 1, 'report.xml'],
        ]);
        expect(listed[0]).toEqual({
          jobId: 'j1',
          taskType: 'build',
          attempt: 1,
          path: 'out/a.txt',
          digest: digest(1),
          size: 10,
          mode: 0o644,
          createdAt: at,
        });
        expect(await store.catalog.ofAttempt('j1', 'build', 2, at)).toEqual([
          { path: 'out/a.txt', digest: digest(1), size: 10, mode: 0o644 },
          { path: 'out/b.txt', digest: digest(2), size: 20, mode: 0o644 },
        ]);
        expect(await store.catalog.ofAttempt('j1', 'build', 3, at)).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it('records an attempt once even when two queens record it at the same time', async () => {
      const store = await open();
      try {
        const other = await store.other();
        const at = new Date(5);
        await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? store.catalog : other).record('j', 't', 1, manifest(['x', 'y']), at)),
        );
        expect((await store.catalog.list('j', at)).map((r) => r.path)).toEqual(['x', 'y']);
      } finally {
        await store.close();
      }
    });

    it('expires rows at their time and keeps the digests that rows still name', async () => {
      const store = await open();
      try {
        await store.catalog.record(
          'j',
          'short',
          1,
          { files: [{ path: 'a', digest: digest(7), size: 1, mode: 0o600 }], missing: [], expiresAt: 2_000 },
          new Date(1_000),
        );
        await store.catalog.record('j', 'kept', 1, manifest(['b']), new Date(1_000));
        expect((await store.catalog.list('j', new Date(1_999))).map((r) => [r.taskType, r.path])).toEqual([
          ['kept', 'b'],
          ['short', 'a'],
        ]);
        // Past its expiry a row is no longer listed even before expire() deletes it.
        expect((await store.catalog.list('j', new Date(2_000))).map((r) => r.path)).toEqual(['b']);
        expect(await store.catalog.liveDigests()).toEqual(new Set([digest(7), digest(1)]));
        expect(await store.catalog.expire(new Date(2_000))).toBe(1);
        expect(await store.catalog.expire(new Date(2_000))).toBe(0);
        expect(await store.catalog.liveDigests()).toEqual(new Set([digest(1)]));
      } finally {
        await store.close();
      }
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'myrmex-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describeCatalogContract('SQLite', async () => {
  const path = join(dir, `catalog-${++files}.db`);
  const store = SqliteStore.open({ path });
  const others: SqliteStore[] = [];
  return {
    catalog: store.artifacts(),
    other: async () => {
      const other = SqliteStore.open({ path });
      others.push(other);
      return other.artifacts();
    },
    close: async () => {
      for (const other of others) await other.close();
      await store.close();
    },
  };
});

const gate = await postgres();
if (gate.availability.available) {
  describeCatalogContract('PostgreSQL', async () => {
    const db = await gate.freshDatabase();
    const store = PostgresStore.open({ url: db.url, poolSize: 4 });
    await store.opened();
    const others: PostgresStore[] = [];
    return {
      catalog: store.artifacts(),
      other: async () => {
        const other = PostgresStore.open({ url: db.url, poolSize: 2 });
        await other.opened();
        others.push(other);
        return other.artifacts();
      },
      close: async () => {
        for (const other of others) await other.close();
        await store.close();
        await db.dispose();
      },
    };
  });
}
