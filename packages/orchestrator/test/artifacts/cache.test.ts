import { describe, expect, it } from 'vitest';
import { LOCAL_IMAGE, PODMAN_SOCKET, podmanGate } from '../executors/podman.js';
import { finished, startQueen } from '../queen/helpers.js';

/**
 * `cache: { key, paths }` through a queen (issue 14): restored before a task whose key was saved,
 * saved after a success, shared by the jobs of a type. The key is resolved in the attempt's
 * directory, so `{{checksum "file"}}` names a file a dependency left there (here a lock file the
 * first task writes from the request's params, as a checkout would).
 */
type QueenOf = Awaited<ReturnType<typeof startQueen>>;
const lines = async (queen: QueenOf, jobId: string, taskType: string, stream: 'stdout' | 'system') =>
  (await queen.logs(jobId, { taskType })).filter((l) => l.stream === stream).map((l) => l.text.trim());

const definition = (jobType: string, build: string) => `
job_type: ${jobType}
tasks:
- task_type: checkout
  method: SHELL
  script: ['echo "{{.Lock}}" > lock.txt']
  artifacts: { paths: [lock.txt] }
  on_completed: build
- task_type: build
${build}
  dependencies: [checkout]
  cache:
    key: 'deps-{{checksum "lock.txt"}}'
    paths: [deps]
  script:
    - if [ -f deps/made-by ]; then echo "HIT $(cat deps/made-by)"; else mkdir -p deps && echo "{{.Run}}" > deps/made-by && echo MISS; fi
`;

async function runs(queen: QueenOf, jobType: string, budgetMs: number) {
  const run = async (Lock: string, Run: string) => {
    const { id } = await queen.submit({ jobType, params: { Lock, Run } });
    expect((await finished(queen, id, budgetMs)).state).toBe('COMPLETED');
    return { out: await lines(queen, id, 'build', 'stdout'), system: await lines(queen, id, 'build', 'system') };
  };
  const first = await run('v1', 'run-1');
  expect(first.out).toEqual(['MISS']);
  expect(first.system.some((l) => /^cache deps-[0-9a-f]{64}: none saved yet$/.test(l))).toBe(true);
  expect(first.system.some((l) => /^cache deps-[0-9a-f]{64}: saved deps \(\d+ bytes, sha256:[0-9a-f]{64}\)$/.test(l))).toBe(true);
  // Another job of the type with the same lock file: the cache of run 1 is restored.
  const second = await run('v1', 'run-2');
  expect(second.out).toEqual(['HIT run-1']);
  expect(second.system.some((l) => /^cache deps-[0-9a-f]{64}: restored deps/.test(l))).toBe(true);
  expect(second.system.some((l) => /already saved, kept$/.test(l))).toBe(true);
  // The lock file changed: a new key, a fresh build, saved under it.
  expect((await run('v2', 'run-3')).out).toEqual(['MISS']);
  expect((await run('v2', 'run-4')).out).toEqual(['HIT run-3']);
  expect((await run('v1', 'run-5')).out).toEqual(['HIT run-1']);
}

describe('caches through the queen', () => {
  it('a SHELL task restores its cache by key, saves it after a success, and shares it across jobs of its type only', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(definition('cached-shell', '  method: SHELL'));
    await runs(queen, 'cached-shell', 20_000);
    // Another job type with the same key does not see these caches.
    await queen.applyDefinition(definition('other-type', '  method: SHELL'));
    const { id } = await queen.submit({ jobType: 'other-type', params: { Lock: 'v1', Run: 'other' } });
    expect((await finished(queen, id)).state).toBe('COMPLETED');
    expect(await lines(queen, id, 'build', 'stdout')).toEqual(['MISS']);
  }, 60_000);

  it('a failed task saves no cache', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(`
job_type: cached-fail
tasks:
- task_type: build
  method: SHELL
  cache: { key: fixed, paths: [deps] }
  script: ['if [ -f deps/x ]; then echo HIT; else mkdir deps && touch deps/x && echo MISS; fi', 'exit {{.Code}}']
`);
    const failed = await queen.submit({ jobType: 'cached-fail', params: { Code: 1 } });
    expect((await finished(queen, failed.id)).state).toBe('FAILED');
    const next = await queen.submit({ jobType: 'cached-fail', params: { Code: 0 } });
    expect((await finished(queen, next.id)).state).toBe('COMPLETED');
    expect(await lines(queen, next.id, 'build', 'stdout')).toEqual(['MISS']);
  });
});

const podman = await podmanGate();

podman.describe('caches in containers', () => {
  it('a DOCKER task gets its cache copied in and its cache paths (and key file) copied out', async () => {
    const queen = await startQueen({ executorConfig: { container: { socketPath: PODMAN_SOCKET } } });
    await queen.applyDefinition(
      definition('cached-container', `  method: DOCKER\n  container: { image: "${LOCAL_IMAGE}" }\n  working_dir: /work`),
    );
    // A budget for a loaded box where several suites share one Podman service.
    await runs(queen, 'cached-container', 120_000);
  }, 400_000);
});
