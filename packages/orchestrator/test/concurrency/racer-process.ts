/**
 * A racer in its own process, for the concurrency contract: argv is the PostgreSQL URL, the
 * racer's name and its delays (JSON). It races until every job has ended, then prints its claims
 * as one JSON line.
 */
import { isTerminalJob, PostgresStore } from '@myrmex/orchestrator';
import { racer } from './racer.js';

const [url, name, delays] = process.argv.slice(2);
const store = PostgresStore.open({ url: url!, poolSize: 3 });
await store.opened();
let over = false;
// A loop rather than an interval: no listJobs may still be in flight when the store closes below.
const watching = (async () => {
  while (!over) {
    const page = await store.listJobs({ limit: 1000, count: 'exact' });
    if ((page.total ?? 0) > 0 && page.items.every((job) => isTerminalJob(job.state))) over = true;
    else await new Promise((resolve) => setTimeout(resolve, 20));
  }
})();
const claims: string[] = [];
await racer(name!, store, JSON.parse(delays!) as number[], () => over, claims);
await watching;
process.stdout.write(`${JSON.stringify(claims)}\n`);
await store.close();
