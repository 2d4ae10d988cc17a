/**
 * A queen in its own process serving remote ants (no embedded ant) on the store given in argv[2]
 * as JSON (QueenProcessOptions). Prints `ready <url> <queen id>` once it listens.
 */
import { antSocketRoutes, createApi, openStore, Queen, readTlsFiles, staticAntTokens } from '@myrmex/orchestrator';
import { LocalBlobStore } from '../../../src/artifacts/index.js';
import type { QueenProcessOptions } from './harness.js';

const {
  db,
  tokens,
  leaseMs,
  port = 0,
  host = '127.0.0.1',
  tls,
  artifactsDir,
  maxArtifactBytes,
} = JSON.parse(process.argv[2]!) as QueenProcessOptions;
const store = await openStore(db);
const queen = await Queen.open({
  store,
  ant: { capacity: 0 },
  pollIntervalMs: 50,
  attemptLeaseMs: leaseMs,
  ...(artifactsDir === undefined ? {} : { blobs: new LocalBlobStore(artifactsDir) }),
});
await queen.start();
const authenticateAnt = staticAntTokens(tokens);
const app = await createApi(queen, {
  ...(tls && { tls: readTlsFiles(tls.cert, tls.key) }),
  extend: (scope) =>
    antSocketRoutes(scope, {
      hub: queen.remoteAnts,
      authenticateAnt,
      drain: (id) => queen.drainAnt(id),
      blobs: queen.blobs,
      ...(maxArtifactBytes === undefined ? {} : { maxArtifactBytes }),
    }),
});
await app.listen({ host, port });
const address = app.server.address();
const scheme = tls ? 'https' : 'http';
process.stdout.write(`ready ${scheme}://${host}:${typeof address === 'object' && address ? address.port : port} ${queen.id}\n`);
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => queen.stop())
      .then(() => process.exit(0)),
);
