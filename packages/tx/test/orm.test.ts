import { freshAll } from '@myrmex/test-utils';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { int as myInt, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { integer as pgInt, pgTable, text } from 'drizzle-orm/pg-core';
import { integer as sqliteInt, sqliteTable, text as sqliteText } from 'drizzle-orm/sqlite-core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { drizzleClient } from '../src/adapters/drizzle.js';
import { createKysely } from '../src/adapters/kysely.js';
import { type AnyManager, type Kind, type Opened, openManager, targets } from './support/databases.js';

interface DB {
  notes: { id: number; body: string };
}

/** Drizzle's insert and select for the dialect; each ORM brings its own table types. */
function drizzleFor(kind: Kind, tm: AnyManager) {
  if (kind === 'postgres') {
    const notes = pgTable('notes', { id: pgInt('id').primaryKey(), body: text('body').notNull() });
    const db = drizzlePg({ client: drizzleClient(tm) as never });
    return {
      insert: (id: number, body: string) => db.insert(notes).values({ id, body }),
      all: () => db.select().from(notes).orderBy(notes.id),
    };
  }
  if (kind === 'mariadb') {
    const notes = mysqlTable('notes', { id: myInt('id').primaryKey(), body: varchar('body', { length: 40 }).notNull() });
    const db = drizzleMysql({ client: drizzleClient(tm) as never });
    return {
      insert: (id: number, body: string) => db.insert(notes).values({ id, body }),
      all: () => db.select().from(notes).orderBy(notes.id),
    };
  }
  const notes = sqliteTable('notes', { id: sqliteInt('id').primaryKey(), body: sqliteText('body').notNull() });
  const db = drizzleSqlite({ client: drizzleClient(tm) as never });
  return {
    insert: async (id: number, body: string) => db.insert(notes).values({ id, body }).run(),
    all: async () => db.select().from(notes).orderBy(notes.id).all(),
  };
}

for (const target of targets) {
  const { kind } = target;
  target.describe(`Kysely and Drizzle take part in tm.run on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    let tm: AnyManager;
    beforeAll(() => {
      opened = openManager(kind, db.current.url, { max: 4 });
      tm = opened.tm;
    });
    afterAll(() => opened.close());
    beforeEach(async () => {
      await tm.execute('DROP TABLE IF EXISTS notes');
      await tm.execute('CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(40) NOT NULL)');
    });

    it('Kysely: queries join the running transaction, roll back with it, and NESTED undoes only its part', async () => {
      const k = createKysely<DB>(tm);
      const ids = async () => (await k.selectFrom('notes').select('id').orderBy('id').execute()).map((r) => Number(r.id));
      await expect(
        tm.run(async () => {
          await k.insertInto('notes').values({ id: 1, body: 'outer' }).execute();
          expect(await ids()).toEqual([1]);
          throw new Error('undo it');
        }),
      ).rejects.toThrow('undo it');
      expect(await ids()).toEqual([]);
      await tm.run(async () => {
        await k.insertInto('notes').values({ id: 2, body: 'kept' }).execute();
        await tm
          .run(
            async () => {
              await k.insertInto('notes').values({ id: 3, body: 'nested' }).execute();
              throw new Error('nested fails');
            },
            { propagation: 'NESTED' },
          )
          .catch(() => undefined);
        const updated = await k.updateTable('notes').set({ body: 'updated' }).where('id', '=', 2).executeTakeFirst();
        expect(updated.numUpdatedRows).toBe(1n);
      });
      expect(await ids()).toEqual([2]);
      await expect(k.transaction().execute(async () => undefined)).rejects.toThrow(/tm.run/);
    });

    it('Drizzle: queries join the running transaction and roll back with it', async () => {
      const d = drizzleFor(kind, tm);
      await expect(
        tm.run(async () => {
          await d.insert(1, 'outer');
          expect((await d.all()).map((r) => r.id)).toEqual([1]);
          throw new Error('undo it');
        }),
      ).rejects.toThrow('undo it');
      expect(await d.all()).toEqual([]);
      await tm.run(async () => {
        await d.insert(2, 'kept');
        await tm
          .run(
            async () => {
              await d.insert(3, 'nested');
              throw new Error('nested fails');
            },
            { propagation: 'NESTED' },
          )
          .catch(() => undefined);
      });
      expect(await d.all()).toEqual([{ id: 2, body: 'kept' }]);
    });
  });
}
