/**
 * One queen of the multi-queen measurement: opens the PostgreSQL store given as its argument,
 * says so on stdout, starts when it reads `go` (so every queen starts at once) and stops on SIGTERM.
 */
import { createInterface } from 'node:readline';
import { openStore, Queen } from '@myrmex/orchestrator';
import { noopExecutor } from '../noop.js';
import { HANDLERS } from './peers.js';

const url = process.argv[2];
if (!url) throw new Error('usage: queen-process.ts <postgres url>');
const queen = await Queen.open({ store: await openStore(url), ant: { capacity: HANDLERS }, executors: [noopExecutor] });
process.on('SIGTERM', () => void queen.stop().then(() => process.exit(0)));
const lines = createInterface({ input: process.stdin });
lines.once('line', () => void queen.start());
process.stdout.write('ready\n');
