import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('myrmex serve --events', () => {
  it('is offered, and refuses a broker it cannot publish to before listening, naming the option', async () => {
    const help = capture();
    await main(['serve', '--help'], help.io);
    expect([...help.out, ...help.err].join('\n')).toMatch(/--events <url>\s+publish every job and task transition/);
    dir = await mkdtemp(join(tmpdir(), 'myrmex-serve-events-'));
    const { io, err } = capture();
    expect(await main(['serve', '--port', '0', '--db', join(dir, 'q.db'), '--events', 'kafka://127.0.0.1:9092'], io)).toBe(1);
    expect(err.join('\n')).toMatch(
      /--events: 'kafka:' is not a broker this queen publishes to; use nats:\/\/, amqp:\/\/, redis:\/\/ or mqtt:\/\//,
    );
  });
});
