import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { runActors } from '../src/actors/engine.js';
import { configure } from '../src/index.js';

/** A stand-in worker thread written as CommonJS source, so a test can make it die on cue. */
const fake = (source: string) => () => new Worker(source, { eval: true });

const config = configure({ generals: 4, rounds: 1, traitors: [3], engine: 'actors', workers: 2 });

describe('the actor engine when a worker dies without an error', () => {
  it('fails the run with the exit code when a worker exits after it was ready', async () => {
    const readyThenExit = fake(`
      const { parentPort } = require('node:worker_threads');
      parentPort.on('message', (message) => {
        if (message.type === 'init') parentPort.postMessage({ type: 'ready' });
        else process.exit(0);
      });`);
    await expect(runActors(config, undefined, readyThenExit)).rejects.toThrow(
      /^actor worker \d exited with code 0 before it was done; the run cannot complete$/,
    );
  });

  it('fails the run when a worker exits before it is ready', async () => {
    await expect(runActors(config, undefined, fake('process.exit(3)'))).rejects.toThrow(
      /actor worker \d exited with code 3 before it was ready/,
    );
  });

  it('reports a worker error with its message', async () => {
    await expect(runActors(config, undefined, fake(`throw new Error('out of cheese')`))).rejects.toThrow(
      /actor worker \d failed: out of cheese/,
    );
  });
});
