import {
  type AntInfo,
  type AntMessage,
  AntRegistry,
  builtInExecutors,
  EmbeddedAnt,
  type Executor,
  type QueenMessage,
} from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';

/** A transport that only carries JSON text, like a socket would: nothing but data crosses it. */
function wire<T>(deliver: (message: T) => void): (message: T) => void {
  return (message) => setImmediate(() => deliver(JSON.parse(JSON.stringify(message)) as T));
}

describe('ant protocol over a JSON-only transport', () => {
  it('registers, runs an assignment with progress and result, and cancels another', async () => {
    const fromAnt: AntMessage[] = [];
    const seen: AntInfo[] = [];
    const results = new Map<string, Extract<AntMessage, { type: 'result' }>>();
    let settle: () => void = () => {};
    const bothDone = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const registry = new AntRegistry({
      seen: (info) => seen.push(info),
      message: async (message) => {
        fromAnt.push(message);
        if (message.type === 'result') results.set(message.assignmentId, message);
        if (results.size === 2) settle();
      },
    });
    const executors = new Map<string, Executor>(builtInExecutors({ shell: { killGraceMs: 200 } }).map((e) => [e.method, e]));
    const ant = new EmbeddedAnt({
      descriptor: { id: 'remote-1', methods: ['SHELL'], tags: ['eu'], capacity: 2 },
      executors,
      send: (message) => toQueen(message),
      heartbeatMs: 20,
    });
    const toQueen = wire(registry.connect(wire((message: QueenMessage) => ant.receive(message))));
    ant.register();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // No labels or resources advertised: matched by tags only, not metered.
    expect(registry.slots()).toEqual([
      { id: 'remote-1', methods: new Set(['SHELL']), tags: new Set(['eu']), capacity: 2, running: 0, labels: {}, resources: {}, used: {} },
    ]);

    const spec = { method: 'SHELL', environment: {}, headers: {}, query: {} };
    registry.assign('remote-1', {
      id: 'j/ok/1',
      jobId: 'j',
      taskType: 'ok',
      attempt: 1,
      spec: { ...spec, script: ['echo hi', 'echo "::set-output name=K::v"'] },
    });
    registry.assign('remote-1', { id: 'j/slow/1', jobId: 'j', taskType: 'slow', attempt: 1, spec: { ...spec, script: ['sleep 30'] } });
    expect(registry.freeSlots()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    registry.cancel('j/slow/1', 'job cancelled');
    await bothDone;

    expect(results.get('j/ok/1')).toMatchObject({ result: { exitCode: 0, succeeded: true }, outputs: { K: 'v' } });
    expect(results.get('j/slow/1')).toMatchObject({ result: { succeeded: false, error: 'job cancelled' } });
    const progress = fromAnt.filter(
      (m): m is Extract<AntMessage, { type: 'progress' }> => m.type === 'progress' && m.assignmentId === 'j/ok/1',
    );
    expect(progress.flatMap((p) => p.logs.map((l) => l.text))).toEqual(['hi', '::set-output name=K::v']);
    expect(progress.some((p) => typeof p.pid === 'number')).toBe(true);
    expect(registry.freeSlots()).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.length).toBeGreaterThan(1);
    await ant.drain(0, 'done');
  });
});
