import { createHash } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { LOCAL_IMAGE, PODMAN_SOCKET, podmanGate } from '../executors/podman.js';
import { finished, startQueen, taskStates } from '../queen/helpers.js';

/**
 * Formicary's artifact flow through a queen: a task's `artifacts.paths` are stored as blobs after it
 * runs, indexed in the job database, listed and downloaded through the queen, and placed in the
 * working directory of every later task that names it in `dependencies`, on any method.
 */
const stdout = async (queen: Awaited<ReturnType<typeof startQueen>>, jobId: string, taskType: string) =>
  (await queen.logs(jobId, { taskType })).filter((l) => l.stream === 'stdout').map((l) => l.text);
const system = async (queen: Awaited<ReturnType<typeof startQueen>>, jobId: string, taskType: string) =>
  (await queen.logs(jobId, { taskType })).filter((l) => l.stream === 'system').map((l) => l.text);

describe('artifacts between SHELL tasks', () => {
  it('stores what a task leaves, lists and serves it, and gives it to the tasks that depend on it', async () => {
    const queen = await startQueen({ artifactSweepGraceMs: 0 });
    await queen.applyDefinition(`
job_type: artifact-chain
tasks:
- task_type: produce
  method: SHELL
  script:
    - mkdir -p out/deep
    - echo "first" > out/a.txt
    - echo "second" > out/deep/b.txt
    - echo "report" > report.txt
  artifacts:
    paths: [out, report.txt, not-made.txt]
  on_completed: consume
- task_type: consume
  method: SHELL
  dependencies: [produce]
  script:
    - cat out/a.txt out/deep/b.txt report.txt
    - test ! -e not-made.txt
`);
    const { id } = await queen.submit({ jobType: 'artifact-chain' });
    const job = await finished(queen, id);
    expect(job.state).toBe('COMPLETED');
    expect(await stdout(queen, id, 'consume')).toEqual(['first', 'second', 'report']);
    const listed = await queen.artifacts(id);
    expect(listed.map((a) => [a.taskType, a.attempt, a.path, a.size])).toEqual([
      ['produce', 1, 'out/a.txt', 6],
      ['produce', 1, 'out/deep/b.txt', 7],
      ['produce', 1, 'report.txt', 7],
    ]);
    const report = listed.find((a) => a.path === 'report.txt')!;
    expect(report.digest).toBe(`sha256:${createHash('sha256').update('report\n').digest('hex')}`);
    expect(await text((await queen.openArtifact(id, report.digest)).content)).toBe('report\n');
    await expect(queen.openArtifact(id, `sha256:${'0'.repeat(64)}`)).rejects.toThrow(/has no artifact/);
    expect(await system(queen, id, 'produce')).toContain('artifact path not-made.txt not found after the task');
    expect(await system(queen, id, 'consume')).toContain('artifacts of produce: out/a.txt, out/deep/b.txt, report.txt');
  });

  it('collects on failure only when asked, and expires artifacts (rows, then unreferenced blobs)', async () => {
    const queen = await startQueen({ artifactSweepGraceMs: 0 });
    await queen.applyDefinition(`
job_type: artifact-expiry
tasks:
- task_type: kept
  method: SHELL
  script: ['echo kept > kept.txt']
  artifacts: { paths: [kept.txt] }
  on_completed: short
- task_type: short
  method: SHELL
  script: ['echo short > short.txt']
  artifacts: { paths: [short.txt], expires_after: 1s }
  on_completed: broken
- task_type: broken
  method: SHELL
  allow_failure: true
  script: ['echo log > failure.log', 'echo never > success.txt', 'exit 4']
  artifacts: { paths: [failure.log], when: on_failure }
  on_completed: skipped-on-failure
- task_type: skipped-on-failure
  method: SHELL
  script: ['echo x > x.txt', 'exit 1']
  allow_failure: true
  artifacts: { paths: [x.txt] }
`);
    const { id } = await queen.submit({ jobType: 'artifact-expiry' });
    const job = await finished(queen, id);
    expect(taskStates(job)).toEqual({ kept: 'COMPLETED', short: 'COMPLETED', broken: 'FAILED', 'skipped-on-failure': 'FAILED' });
    const listed = await queen.artifacts(id);
    expect(listed.map((a) => a.path)).toEqual(['failure.log', 'kept.txt', 'short.txt']);
    const short = listed.find((a) => a.path === 'short.txt')!;
    expect(short.expiresAt!.getTime() - short.createdAt.getTime()).toBeGreaterThan(0);
    expect(short.expiresAt!.getTime() - short.createdAt.getTime()).toBeLessThanOrEqual(1000);
    // EXPIRE_ARTIFACTS at a time past the expiry: one row goes, and its blob with it.
    const swept = await queen.expireArtifacts(new Date(short.expiresAt!.getTime() + 1));
    expect(swept).toEqual({ rows: 1, blobs: 1 });
    expect((await queen.artifacts(id)).map((a) => a.path)).toEqual(['failure.log', 'kept.txt']);
    await expect(queen.openArtifact(id, short.digest)).rejects.toThrow(/has no artifact/);
    expect(await queen.expireArtifacts(new Date(short.expiresAt!.getTime() + 1))).toEqual({ rows: 0, blobs: 0 });
  });
});

const podman = await podmanGate();

podman.describe('artifacts between a container and the host', () => {
  it('copies artifact paths out of a DOCKER container and dependencies into the next one, and into a SHELL task', async () => {
    const queen = await startQueen({ executorConfig: { container: { socketPath: PODMAN_SOCKET } } });
    await queen.applyDefinition(`
job_type: container-artifacts
tasks:
- task_type: build
  method: DOCKER
  container: { image: "${LOCAL_IMAGE}" }
  working_dir: /work
  script:
    - mkdir -p dist
    - echo "built in a container" > dist/app.txt
  artifacts: { paths: [dist] }
  on_completed: package
- task_type: package
  method: KUBERNETES
  container: { image: "${LOCAL_IMAGE}" }
  dependencies: [build]
  script:
    - cat dist/app.txt
    - cat dist/app.txt dist/app.txt > bundle.txt
  artifacts: { paths: [bundle.txt] }
  on_completed: ship
- task_type: ship
  method: SHELL
  dependencies: [build, package]
  script: ['cat dist/app.txt', 'wc -l < bundle.txt']
`);
    const { id } = await queen.submit({ jobType: 'container-artifacts' });
    // A budget for a loaded box where several suites share one Podman service.
    const job = await finished(queen, id, 170_000);
    expect(job.state).toBe('COMPLETED');
    expect(await stdout(queen, id, 'package')).toEqual(['built in a container']);
    expect((await stdout(queen, id, 'ship')).map((l) => l.trim())).toEqual(['built in a container', '2']);
    expect((await queen.artifacts(id)).map((a) => [a.taskType, a.path])).toEqual([
      ['build', 'dist/app.txt'],
      ['package', 'bundle.txt'],
    ]);
  }, 180_000);
});

describe('EXPIRE_ARTIFACTS', () => {
  it("a job with Formicary's EXPIRE_ARTIFACTS task removes expired artifacts and their blobs", async () => {
    const queen = await startQueen({ artifactSweepGraceMs: 0 });
    await queen.applyDefinition(`
job_type: leaves-expired
tasks:
- task_type: make
  method: SHELL
  script: ['echo gone > gone.txt', 'echo kept > kept.txt']
  artifacts: { paths: [gone.txt], expires_after: 0s }
  on_completed: keep
- task_type: keep
  method: SHELL
  script: ['echo kept > kept.txt']
  artifacts: { paths: [kept.txt] }
`);
    // Formicary's own housekeeping definition, as written (its cron_trigger is not needed to submit it).
    await queen.applyDefinition(
      'job_type: artifacts-expiration\ncron_trigger: 0 * * * *\ntasks:\n- task_type: expire\n  method: EXPIRE_ARTIFACTS\n',
    );
    const made = await finished(queen, (await queen.submit({ jobType: 'leaves-expired' })).id);
    expect(made.state).toBe('COMPLETED');
    // Expired at once: already hidden from the listing, still in the catalog until the sweep.
    expect((await queen.artifacts(made.id)).map((a) => a.path)).toEqual(['kept.txt']);
    const sweep = await finished(queen, (await queen.submit({ jobType: 'artifacts-expiration' })).id);
    expect(sweep.state).toBe('COMPLETED');
    expect(await stdout(queen, sweep.id, 'expire')).toEqual(['expired 1 artifact file(s); removed 1 blob(s) no artifact names']);
    expect(sweep.tasks[0]!.outputs).toEqual({ ExpiredArtifacts: '1' });
    expect((await queen.artifacts(made.id)).map((a) => a.path)).toEqual(['kept.txt']);
  });
});

describe('report_stdout', () => {
  it("keeps the task's standard output as the artifact stdout.txt, beside the files it collects", async () => {
    const queen = await startQueen();
    await queen.applyDefinition(`
job_type: reporting
tasks:
- task_type: report
  method: SHELL
  report_stdout: true
  script: ['echo "<h1>report</h1>"', 'echo "a,b" | tee table.csv', 'echo "not stdout" >&2']
  artifacts: { paths: [table.csv] }
`);
    const job = await finished(queen, (await queen.submit({ jobType: 'reporting' })).id);
    expect(job.state).toBe('COMPLETED');
    const listed = await queen.artifacts(job.id);
    expect(listed.map((a) => a.path)).toEqual(['stdout.txt', 'table.csv']);
    const report = listed.find((a) => a.path === 'stdout.txt')!;
    expect(await text((await queen.openArtifact(job.id, report.digest)).content)).toBe('<h1>report</h1>\na,b\n');
  });
});
