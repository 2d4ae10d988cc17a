import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildProgram, main } from '../src/index.js';
import { capture } from './support/capture.js';

const names = (program: { commands: readonly { name(): string }[] }) => program.commands.map((command) => command.name());

describe('start-up loads only the command families the command line needs', () => {
  it('registers a lazy family only for its own word, and every family for help or an unknown word', async () => {
    const { io } = capture();
    const context = { io, env: {}, fail: () => {} };
    const forStatus = names(await buildProgram(context, ['status', 'x']));
    expect(forStatus).toContain('status');
    expect(forStatus).not.toContain('postmortem');
    expect(forStatus).not.toContain('sim');
    const forLint = names(await buildProgram(context, ['postmortem', 'lint', 'a.md']));
    expect(forLint).toContain('postmortem');
    expect(forLint).not.toContain('byzantine');
    for (const argv of [undefined, [], ['--help'], ['help'], ['postmortm'], ['toString']]) {
      expect(names(await buildProgram(context, argv))).toEqual(
        expect.arrayContaining(['status', 'postmortem', 'byzantine', 'sim', 'saga']),
      );
    }
  });

  it('still suggests the nearest command for a typo of a lazy family', async () => {
    const { io, err } = capture();
    expect(await main(['postmortm'], io)).toBe(2);
    expect(err.join('')).toMatch(/Did you mean postmortem\?/);
  });

  it('runs a client command in a fresh process without importing the orchestrator or the heavy libraries (needs a build)', async () => {
    const cli = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const { main } = await import(${JSON.stringify(cli)});
      await main(['info', '--json'], { out() {}, err() {} });
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((path) => /node_modules\\/(fastify|dockerode|@grpc|prom-client|nats|yaml)\\//.test(path))));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
