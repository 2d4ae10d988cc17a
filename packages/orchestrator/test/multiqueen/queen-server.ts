/**
 * A queen in its own process on the PostgreSQL database given as argv[2], with an embedded ant:
 * what the multi-queen test starts three of, and kills with -9. Prints `ready` once it schedules.
 */
import { PostgresStore, Queen } from '@myrmex/orchestrator';

const store = PostgresStore.open({ url: process.argv[2]!, poolSize: 4 });
const queen = await Queen.open({ store, ant: { capacity: 4, id: `ant-${process.pid}` }, pollIntervalMs: 50, attemptLeaseMs: 1500 });
await queen.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void queen.stop().then(() => process.exit(0)));
