/**
 * A queen in its own process on the PostgreSQL database given as argv[2], with an embedded ant whose id,
 * labels and resources are argv[3] (JSON: { id, labels, resources }): several of these started with one ant id
 * model queens that share one host's resources. Prints `ready <queen id>` once it schedules.
 */
import { PostgresStore, Queen } from '@myrmex/orchestrator';

const ant = JSON.parse(process.argv[3]!) as { id: string; labels?: Record<string, string>; resources?: Record<string, string> };
const store = PostgresStore.open({ url: process.argv[2]!, poolSize: 4 });
const queen = await Queen.open({ store, ant: { capacity: 8, ...ant }, pollIntervalMs: 50 });
await queen.start();
process.stdout.write(`ready ${queen.id}\n`);
process.on('SIGTERM', () => void queen.stop().then(() => process.exit(0)));
