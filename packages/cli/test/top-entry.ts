// The myrmex binary from source, so the pseudo-terminal test needs no build.
import { main } from '../src/index.js';

process.exitCode = await main(process.argv.slice(2));
