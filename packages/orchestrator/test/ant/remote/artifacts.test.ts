import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { ArtifactTransfer } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../../src/artifacts/index.js';
import { type Proc, type QueenProc, startAnt, startQueen, until, useFrontQueen } from './harness.js';
import { TcpProxy } from './tcp-proxy.js';

/**
 * Artifacts with remote ants in their own processes: a task's files go up to the queen over HTTP
 * with the ant token, and a dependent task on another ant gets them before it starts.
 */
const TOKEN = 'artifact-ant-test-token-0123456789';
const fx = useFrontQueen('myrmex-ant-artifacts-');
const { procs, finished } = fx;

/** `tmp`: the queen's own temp folder, as on a machine of its own (only the blob folder is shared). */
const queen = async (maxArtifactBytes?: number, tmp?: string): Promise<QueenProc> => {
  if (tmp !== undefined) mkdirSync(tmp, { recursive: true });
  const q = await startQueen(
    {
      db: fx.db,
      tokens: TOKEN,
      leaseMs: 3000,
      artifactsDir: join(fx.dir, 'artifacts'),
      ...(maxArtifactBytes === undefined ? {} : { maxArtifactBytes }),
    },
    undefined,
    tmp === undefined ? undefined : { TMPDIR: tmp },
  );
  procs.push(q);
  return q;
};
const ant = async (q: QueenProc, id: string, tags: string[]): Promise<Proc> => {
  const a = await startAnt({ servers: [q.url], token: TOKEN, id, tags, stateDir: join(fx.dir, `state-${id}`) });
  procs.push(a);
  await a.line(/^connected /);
  return a;
};
/** Files under a folder, recursively (an ant's blob store). */
const files = (folder: string): string[] => {
  try {
    return readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
};

describe('artifacts on remote ants', () => {
  it('task A on one ant leaves files, task B on another ant reads them', async () => {
    const q = await queen();
    await ant(q, 'ant-a', ['producer']);
    await ant(q, 'ant-b', ['consumer']);
    await fx.front.applyDefinition(`job_type: remote-artifacts
tasks:
- task_type: produce
  tags: [producer]
  script:
    - mkdir -p out
    - echo "made by A for {{.JobID}}" > out/greeting.txt
    - head -c 300000 /dev/urandom > out/blob.bin
    - sha256sum out/blob.bin > out/blob.sum
  artifacts: { paths: [out] }
  on_completed: consume
- task_type: consume
  tags: [consumer]
  dependencies: [produce]
  script: ['cat out/greeting.txt', 'sha256sum -c out/blob.sum']
`);
    const { id } = await fx.front.submit({ jobType: 'remote-artifacts' });
    const job = await finished(id);
    const logs = (await fx.front.logs(id)).map((l) => l.text);
    expect(job.state, logs.join('\n')).toBe('COMPLETED');
    expect(job.tasks.map((t) => [t.taskType, t.attempts[0]?.antId])).toEqual([
      ['produce', 'ant-a'],
      ['consume', 'ant-b'],
    ]);
    expect(logs).toContain(`made by A for ${id}`);
    expect(logs).toContain('out/blob.bin: OK');
    expect(logs).toContain(
      'uploaded artifact out/greeting.txt (35 bytes) to the queen'.replace('35', String(`made by A for ${id}\n`.length)),
    );
    expect(logs.some((l) => l.startsWith("downloaded produce's artifact out/blob.bin (300000 bytes)"))).toBe(true);
    const stored = await fx.front.artifacts(id);
    expect(stored.map((a) => [a.taskType, a.attempt, a.path])).toEqual([
      ['produce', 1, 'out/blob.bin'],
      ['produce', 1, 'out/blob.sum'],
      ['produce', 1, 'out/greeting.txt'],
    ]);
    // The ants keep blobs only while an attempt needs them.
    await until(() => files(join(fx.dir, 'state-ant-a', 'blobs', 'sha256')).length === 0, "ant-a's blob store to empty");
    await until(() => files(join(fx.dir, 'state-ant-b', 'blobs', 'sha256')).length === 0, "ant-b's blob store to empty");
  }, 120_000);

  it('an upload is keyed by attempt and path: a re-send is stored once; only the holding ant may upload, within the bound', async () => {
    const q = await queen(1024 * 1024);
    await ant(q, 'ant-a', []);
    const gate = join(fx.dir, 'gate');
    await fx.front.applyDefinition(`job_type: held
tasks:
- task_type: wait
  script: ['while [ ! -e ${gate} ]; do sleep 0.05; done']
`);
    const { id } = await fx.front.submit({ jobType: 'held' });
    await until(async () => (await fx.front.getJob(id))?.tasks[0]?.state === 'EXECUTING', 'the task to run');
    const content = Buffer.from('uploaded by hand\n');
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const put = (body: Buffer, options: { ant?: string; token?: string; digest?: string; path?: string } = {}) =>
      fetch(`${q.url}/api/ants/artifacts/${id}/wait/1?path=${options.path ?? 'notes/x.txt'}&mode=420`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${options.token ?? TOKEN}`,
          'x-myrmex-ant': options.ant ?? 'ant-a',
          'x-myrmex-digest': options.digest ?? digest,
          'content-type': 'application/octet-stream',
        },
        body,
      });
    const first = await put(content);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ digest, size: content.length, stored: true });
    const again = await put(content);
    expect(await again.json()).toEqual({ digest, size: content.length, stored: false });
    expect(files(join(fx.dir, 'artifacts', 'sha256'))).toHaveLength(1);
    expect((await fx.front.artifacts(id)).map((a) => a.path)).toEqual(['notes/x.txt']);
    // Another ant does not hold the attempt; a bad token never gets in; other bytes under the same path are refused.
    expect((await put(content, { ant: 'ant-b' })).status).toBe(409);
    expect((await put(content, { token: 'wrong-token-0123456789abcdef' })).status).toBe(401);
    expect((await put(Buffer.from('other'), { digest: `sha256:${'0'.repeat(64)}` })).status).toBe(409);
    const big = Buffer.alloc(1024 * 1024 + 1);
    const over = await put(big, { path: 'big.bin', digest: `sha256:${createHash('sha256').update(big).digest('hex')}` });
    expect(over.status).toBe(413);
    expect(((await over.json()) as { detail: string }).detail).toMatch(/at most 1048576/);
    const lying = await put(Buffer.from('abc'), { path: 'y.txt' });
    expect(lying.status).toBe(422);
    writeFileSync(gate, '');
    expect((await finished(id)).state).toBe('COMPLETED');
  }, 120_000);

  it("an upload whose acknowledgement is lost is asked after by the ant's transfer and stored once", async () => {
    const q = await queen();
    await ant(q, 'ant-a', []);
    const gate = join(fx.dir, 'gate');
    await fx.front.applyDefinition(`job_type: lossy
tasks:
- task_type: wait
  script: ['while [ ! -e ${gate} ]; do sleep 0.05; done']
`);
    const { id } = await fx.front.submit({ jobType: 'lossy' });
    await until(async () => (await fx.front.getJob(id))?.tasks[0]?.state === 'EXECUTING', 'the task to run');
    // Between the ant and the queen: every request reaches the queen, but the first answer is lost on the way back.
    const answers: string[] = [];
    const queenUrl = new URL(q.url);
    const lossy = createServer((incoming, outgoing) => {
      const upstream = request(
        { host: queenUrl.hostname, port: queenUrl.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
        (reply) => {
          let body = '';
          reply.on('data', (chunk) => {
            body += String(chunk);
          });
          reply.on('end', () => {
            answers.push(body);
            if (answers.length === 1) outgoing.socket?.destroy();
            else outgoing.writeHead(reply.statusCode ?? 502, reply.headers).end(body);
          });
        },
      );
      incoming.pipe(upstream);
    });
    await new Promise<void>((resolve) => lossy.listen(0, '127.0.0.1', resolve));
    const address = lossy.address();
    const lossyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const blobs = new LocalBlobStore(join(fx.dir, 'test-ant-blobs'));
    const ref = await blobs.put(Buffer.from('kept once\n'));
    const transfer = new ArtifactTransfer({
      antId: 'ant-a',
      token: TOKEN,
      servers: () => [lossyUrl],
      blobs,
      backoff: { baseMs: 10, capMs: 50 },
    });
    const logged: string[] = [];
    const assignment = {
      id: `${id}/wait/1`,
      jobId: id,
      taskType: 'wait',
      attempt: 1,
      spec: { method: 'SHELL', script: [], environment: {}, headers: {}, query: {} },
    };
    try {
      await transfer.upload(
        assignment,
        { files: [{ path: 'kept.txt', mode: 0o644, ...ref }], missing: [] },
        new AbortController().signal,
        (t) => logged.push(t),
      );
    } finally {
      lossy.close();
    }
    // The second try asks what the queen holds (the file, whole) instead of sending it again.
    expect(answers.map((a) => JSON.parse(a))).toEqual([
      { digest: ref.digest, size: 10, stored: true },
      { offset: 10, complete: true },
    ]);
    expect(logged).toEqual(['uploaded artifact kept.txt (10 bytes) to the queen']);
    expect(files(join(fx.dir, 'artifacts', 'sha256'))).toHaveLength(1);
    expect((await fx.front.artifacts(id)).map((a) => [a.path, a.digest])).toEqual([['kept.txt', ref.digest]]);
    writeFileSync(gate, '');
    expect((await finished(id)).state).toBe('COMPLETED');
  }, 120_000);

  it('an upload cut mid-way resumes from the offset the queen holds instead of starting over', async () => {
    const q = await queen();
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(q.url).port) });
    const via = await proxy.listen();
    try {
      const a = await startAnt({
        servers: [via],
        token: TOKEN,
        id: 'ant-r',
        stateDir: join(fx.dir, 'state-ant-r'),
        backoff: { baseMs: 50, capMs: 500 },
      });
      procs.push(a);
      await a.line(/^connected /);
      const size = 16 * 1024 * 1024;
      await fx.front.applyDefinition(`job_type: big-upload
tasks:
- task_type: make
  script: ['head -c ${size} /dev/urandom > big.bin', 'echo "::set-output name=SUM::$(sha256sum big.bin | cut -c1-64)"']
  artifacts: { paths: [big.bin] }
`);
      // Every connection drops once 6 MiB more have gone up: in the middle of the upload (the rest is a few KiB of frames).
      proxy.cutAfter(6 * 1024 * 1024);
      const { id } = await fx.front.submit({ jobType: 'big-upload' });
      const job = await finished(id);
      expect(job.state).toBe('COMPLETED');
      expect(job.tasks[0]!.attempts).toHaveLength(1);
      const line = (await fx.front.logs(id)).map((l) => l.text).find((t) => t.startsWith('uploaded artifact big.bin'));
      const resumedAt = Number(/resumed at byte (\d+)/.exec(line ?? '')?.[1] ?? 0);
      expect(line).toMatch(new RegExp(`^uploaded artifact big.bin \\(${size} bytes, resumed at byte \\d+\\) to the queen$`));
      expect(resumedAt).toBeGreaterThan(0);
      // Not sent twice: the bytes that went up are the file once, plus what was in flight at the cut and the frames.
      expect(proxy.sent).toBeLessThan(size + 6 * 1024 * 1024);
      const [stored] = await fx.front.artifacts(id);
      expect(stored).toMatchObject({ path: 'big.bin', size, digest: `sha256:${job.tasks[0]!.outputs.SUM}` });
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('an upload cut mid-way by a queen that then goes away resumes on another queen sharing the blob folder, from the bytes the first took', async () => {
    const [qa, qb] = await Promise.all(['tmp-a', 'tmp-b'].map((tmp) => queen(undefined, join(fx.dir, tmp))));
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(qa!.url).port) });
    const via = await proxy.listen();
    try {
      const a = await startAnt({
        servers: [via, qb!.url],
        token: TOKEN,
        id: 'ant-x',
        stateDir: join(fx.dir, 'state-ant-x'),
        backoff: { baseMs: 50, capMs: 500 },
      });
      procs.push(a);
      expect(await a.line(/^connected /)).toBe(`connected ${qa!.id}`);
      const size = 16 * 1024 * 1024;
      await fx.front.applyDefinition(`job_type: moved-upload
tasks:
- task_type: make
  script: ['head -c ${size} /dev/urandom > big.bin', 'echo "::set-output name=SUM::$(sha256sum big.bin | cut -c1-64)"']
  artifacts: { paths: [big.bin] }
`);
      // Queen A is unreachable once 6 MiB more have gone up to it: the rest can only go to queen B.
      proxy.closeAfter(6 * 1024 * 1024);
      const { id } = await fx.front.submit({ jobType: 'moved-upload' });
      const job = await finished(id);
      expect(job.state).toBe('COMPLETED');
      expect(job.tasks[0]!.attempts).toHaveLength(1);
      expect(a.lines).toContain(`connected ${qb!.id}`);
      const line = (await fx.front.logs(id)).map((l) => l.text).find((t) => t.startsWith('uploaded artifact big.bin'));
      expect(line).toMatch(new RegExp(`^uploaded artifact big.bin \\(${size} bytes, resumed at byte \\d+\\) to the queen$`));
      expect(Number(/resumed at byte (\d+)/.exec(line ?? '')?.[1] ?? 0)).toBeGreaterThan(0);
      const [stored] = await fx.front.artifacts(id);
      expect(stored).toMatchObject({ path: 'big.bin', size, digest: `sha256:${job.tasks[0]!.outputs.SUM}` });
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('an artifact over the queen’s bound fails the attempt, saying why', async () => {
    const q = await queen(64 * 1024);
    await ant(q, 'ant-a', []);
    await fx.front.applyDefinition(`job_type: too-big
tasks:
- task_type: big
  script: ['head -c 100000 /dev/zero > big.bin']
  artifacts: { paths: [big.bin] }
`);
    const { id } = await fx.front.submit({ jobType: 'too-big' });
    const job = await finished(id);
    expect(job.state).toBe('FAILED');
    const reason = job.tasks[0]!.attempts[0]!.reason ?? '';
    expect(reason).toMatch(/artifacts: upload of artifact big.bin: the queen refused it \(HTTP 413\): big.bin is 100000 bytes/);
  }, 120_000);
});
