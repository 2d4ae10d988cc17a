import { freshAll } from '@myrmex/test-utils';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UnexpectedRollbackError } from '../src/index.js';
import { type AnyManager, type Opened, openManager, targets } from './support/databases.js';

type Propagation = 'REQUIRED' | 'NESTED' | 'REQUIRES_NEW';
type Outcome = 'committed' | 'failed' | 'unexpected';

/** A scope that inserts its own row, runs its children (catching their errors), then maybe fails. */
interface Scope {
  readonly propagation: Propagation;
  readonly fails: boolean;
  readonly children: readonly Scope[];
}

class ScopeFailed extends Error {}

const scopeTree = (propagations: readonly Propagation[]) =>
  fc.letrec<{ scope: Scope }>((tie) => ({
    scope: fc.record({
      propagation: fc.constantFrom(...propagations),
      fails: fc.boolean(),
      children: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant([]), fc.array(tie('scope'), { maxLength: 3 })),
    }),
  })).scope;

function number(root: Scope): Map<Scope, number> {
  const ids = new Map<Scope, number>();
  const visit = (scope: Scope) => {
    ids.set(scope, ids.size + 1);
    scope.children.forEach(visit);
  };
  visit(root);
  return ids;
}

/**
 * Spring's semantics, written as plainly as possible: joined scopes share the transaction and doom
 * it when they fail; NESTED scopes that fail, or end with the transaction doomed, roll back to their
 * savepoint, which also forgets the doom their joined descendants caused (a doomed one that returned
 * normally throws UnexpectedRollbackError, which its parent catches); REQUIRES_NEW scopes are transactions of their own; a transaction
 * commits unless its scope failed or it was doomed. Parents catch their children's errors.
 */
function model(root: Scope, ids: Map<Scope, number>): { rows: number[]; outcome: Outcome } {
  const committed: number[] = [];
  const transaction = (scope: Scope): Outcome => {
    const tx = { rows: [] as number[], doomed: false };
    const run = (current: Scope): boolean => {
      tx.rows.push(ids.get(current)!);
      for (const child of current.children) {
        if (child.propagation === 'REQUIRES_NEW') {
          transaction(child);
        } else if (child.propagation === 'NESTED') {
          const mark = { length: tx.rows.length, doomed: tx.doomed };
          // A failure, or a doom (raised inside by a joined scope, or from before) at the boundary:
          // back to the savepoint, which forgets the doom raised inside; the parent catches.
          if (run(child) || tx.doomed) {
            tx.rows.length = mark.length;
            tx.doomed = mark.doomed;
          }
        } else if (run(child)) {
          tx.doomed = true;
        }
      }
      return current.fails;
    };
    if (run(scope)) return 'failed';
    if (tx.doomed) return 'unexpected';
    committed.push(...tx.rows);
    return 'committed';
  };
  const outcome = transaction(root);
  return { rows: committed.sort((a, b) => a - b), outcome };
}

async function execute(tm: AnyManager, root: Scope, ids: Map<Scope, number>): Promise<Outcome> {
  const body = (scope: Scope) => async () => {
    await tm.execute(`INSERT INTO scopes (id) VALUES (${ids.get(scope)})`);
    for (const child of scope.children) {
      await tm.run(body(child), { propagation: child.propagation }).catch((error: unknown) => {
        if (!(error instanceof ScopeFailed || error instanceof UnexpectedRollbackError)) throw error;
      });
    }
    if (scope.fails) throw new ScopeFailed();
  };
  try {
    await tm.run(body(root));
    return 'committed';
  } catch (error) {
    if (error instanceof UnexpectedRollbackError) return 'unexpected';
    if (error instanceof ScopeFailed) return 'failed';
    throw error;
  }
}

for (const target of targets) {
  const { kind } = target;
  // SQLite has one writer: a REQUIRES_NEW write inside a write transaction is refused (tested elsewhere).
  const propagations: Propagation[] = kind === 'sqlite' ? ['REQUIRED', 'NESTED'] : ['REQUIRED', 'NESTED', 'REQUIRES_NEW'];
  target.describe(`propagation model on ${kind}`, () => {
    const db = freshAll(target.fresh);
    let opened: Opened;
    beforeAll(async () => {
      opened = openManager(kind, db.current.url, { max: 12 });
      await opened.tm.execute('CREATE TABLE scopes (id INT PRIMARY KEY)');
    });
    afterAll(() => opened.close());

    it(`any tree of ${propagations.join(', ')} scopes, failing anywhere, commits exactly what Spring would`, async () => {
      await fc.assert(
        fc.asyncProperty(scopeTree(propagations), async (root) => {
          const tm = opened.tm;
          await tm.execute('DELETE FROM scopes');
          const ids = number(root);
          const expected = model(root, ids);
          const outcome = await execute(tm, root, ids);
          const { rows } = await tm.execute<{ id: number }>('SELECT id FROM scopes ORDER BY id');
          expect({ outcome, rows: rows.map((r) => Number(r.id)) }).toEqual({ outcome: expected.outcome, rows: expected.rows });
        }),
        { numRuns: kind === 'sqlite' ? 200 : 100 },
      );
    });
  });
}
