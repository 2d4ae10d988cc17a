/**
 * A queen in its own process serving remote ants (no embedded ant) on the store given in argv[2]
 * as JSON `{ db, tokens, leaseMs, port? }`. Prints `ready <url> <queen id>` once it listens.
 */
import { antSocketRoutes, createApi, openStore, Queen, staticAntTokens } from '@myrmex/orchestrator';

const { db, tokens, leaseMs, port = 0 } = JSON.parse(process.argv[2]!) as { db: string; tokens: string; leaseMs: number; port?: number };
const store = await openStore(db);
const queen = await Queen.open({ store, ant: { capacity: 0 }, pollIntervalMs: 50, attemptLeaseMs: leaseMs });
await queen.start();
const authenticateAnt = staticAntTokens(tokens);
const app = await createApi(queen, {
  extend: (scope) => antSocketRoutes(scope, { hub: queen.remoteAnts, authenticateAnt, drain: (id) => queen.drainAnt(id) }),
});
await app.listen({ host: '127.0.0.1', port });
const address = app.server.address();
process.stdout.write(`ready http://127.0.0.1:${typeof address === 'object' && address ? address.port : port} ${queen.id}\n`);
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => queen.stop())
      .then(() => process.exit(0)),
);
