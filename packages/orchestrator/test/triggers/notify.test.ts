import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PostgresStore, Queen, type QueenOptions } from '@myrmex/orchestrator';
import { postgres } from '@myrmex/test-utils';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueenEvents } from '../../src/queen/events.js';
import { finished, startQueen, until } from '../queen/helpers.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Mail {
  readonly to: readonly string[];
  readonly text: string;
}

/** A real SMTP server on loopback that keeps what it receives (no TLS, no auth: a local sink). */
async function smtpSink(): Promise<{ readonly port: number; readonly mails: Mail[] }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), text: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, mails };
}

interface Hit {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
}

/** An HTTP server on loopback; `/flaky` answers 500 to its first request, everything else 200. */
async function hookServer(): Promise<{ readonly url: string; readonly hits: Hit[] }> {
  const hits: Hit[] = [];
  let flaky = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      if (path.startsWith('/flaky') && flaky++ === 0) {
        response.writeHead(500).end('not yet');
        return;
      }
      hits.push({ path, headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

const definition = (hook: string) => `job_type: notified
notify:
  email:
    recipients: [ops@example.test, dev@example.test]
    when: always
  slack:
    recipients: [builds]
    when: onSuccess
  webhook:
    recipients: ['${hook}/flaky']
    when: onFailure
webhook:
  url: '{{.HookURL}}/job'
  headers:
    Authorization: Bearer {{.Token}}
  query:
    source: myrmex
tasks:
- task_type: work
  method: SHELL
  script: ['exit {{.Code}}']
`;

describe('notify', () => {
  it('e-mails every recipient through SMTP, posts the job webhook, retries a failing one with backoff and gives up on a channel without transport; each is in the log', async () => {
    const smtp = await smtpSink();
    const http = await hookServer();
    const queen = await startQueen({
      notify: {
        smtp: { host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true },
        from: 'queen@example.test',
        retryBaseMs: 20,
        maxAttempts: 2,
      },
    });
    await queen.applyDefinition(definition(http.url));

    const ok = await finished(
      queen,
      (await queen.submit({ jobType: 'notified', params: { Code: 0, HookURL: http.url, Token: 't0k' } })).id,
    );
    expect(ok.state).toBe('COMPLETED');
    const settled = async (id: string, count: number) =>
      until(async () => {
        const rows = await queen.notifications(id);
        return rows.length === count && rows.every((r) => r.state !== 'PENDING') ? rows : undefined;
      });
    const okRows = await settled(ok.id, 4);
    expect(okRows.map((r) => [r.channel, r.recipient, r.state])).toEqual(
      expect.arrayContaining([
        ['email', 'ops@example.test', 'SENT'],
        ['email', 'dev@example.test', 'SENT'],
        ['slack', 'builds', 'FAILED'],
        ['webhook', `${http.url}/job?source=myrmex`, 'SENT'],
      ]),
    );
    expect(okRows.find((r) => r.channel === 'slack')).toMatchObject({
      attempts: 2,
      lastError: expect.stringMatching(/no Slack transport/),
    });
    expect(smtp.mails.flatMap((m) => m.to).sort()).toEqual(['dev@example.test', 'ops@example.test']);
    // Long header lines are folded on the wire.
    expect(smtp.mails[0]!.text.replace(/\r\n\s+/g, ' ')).toContain(`Subject: Myrmex job notified ${ok.id} COMPLETED`);
    const jobHook = http.hits.filter((h) => h.path === '/job?source=myrmex');
    expect(jobHook).toHaveLength(1);
    expect(jobHook[0]!.headers.authorization).toBe('Bearer t0k');
    expect(jobHook[0]!.body).toMatchObject({ job_id: ok.id, job_type: 'notified', state: 'COMPLETED', params: { Code: 0 } });
    const log = (await queen.logs(ok.id, { taskType: '@job' })).map((l) => l.text);
    expect(log).toEqual(
      expect.arrayContaining([
        'notify email ops@example.test: sent (attempt 1)',
        expect.stringMatching(/^notify slack builds: failed \(attempt 1 of 2, retry in \d+ ms\): no Slack transport/),
        expect.stringMatching(/^notify slack builds: failed \(attempt 2 of 2, given up\): no Slack transport/),
      ]),
    );

    const failed = await finished(
      queen,
      (await queen.submit({ jobType: 'notified', params: { Code: 3, HookURL: http.url, Token: 't' } })).id,
    );
    expect(failed.state).toBe('FAILED');
    const failedRows = await settled(failed.id, 4);
    expect(failedRows.find((r) => r.channel === 'webhook' && r.recipient.endsWith('/flaky'))).toMatchObject({ state: 'SENT', attempts: 2 });
    expect(http.hits.filter((h) => h.path === '/flaky').map((h) => h.body.state)).toEqual(['FAILED']);
    expect((await queen.logs(failed.id, { taskType: '@job' })).map((l) => l.text)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^notify webhook ${http.url}/flaky: failed \\(attempt 1 of 2, retry in \\d+ ms\\): .* answered 500`),
        ),
        `notify webhook ${http.url}/flaky: sent (attempt 2)`,
      ]),
    );
  }, 60_000);
});

describe('notify on a task', () => {
  it("a task's webhook and notify go out when it ends, once, with the task's outcome; a retried task notifies on its final outcome only", async () => {
    const http = await hookServer();
    const queen = await startQueen({ notify: { retryBaseMs: 20 } });
    await queen.applyDefinition(`job_type: task-notified
tasks:
- task_type: flaky
  method: SHELL
  retry: 1
  script: ['exit {{ .Code }}']
  webhook:
    url: '${http.url}/task'
    query:
      which: '{{ .Which }}'
  notify:
    webhook:
      recipients: ['${http.url}/failed']
      when: onFailure
  variables:
    Which: flaky
`);
    const failed = await finished(queen, (await queen.submit({ jobType: 'task-notified', params: { Code: 2 } })).id);
    expect(failed.tasks[0]!.attempts).toHaveLength(2);
    const rows = await until(async () => {
      const found = await queen.notifications(failed.id);
      return found.length === 2 && found.every((r) => r.state === 'SENT') ? found : undefined;
    });
    expect(rows.map((r) => r.recipient).sort()).toEqual([`flaky: ${http.url}/failed`, `flaky: ${http.url}/task?which=flaky`]);
    const hits = http.hits.map((h) => [h.path, h.body.task_type, h.body.task_state, h.body.exit_code]).sort();
    expect(hits).toEqual([
      ['/failed', 'flaky', 'FAILED', 2],
      ['/task?which=flaky', 'flaky', 'FAILED', 2],
    ]);
  });
});

const pg = await postgres();

pg.describe('notify with several queens on PostgreSQL', () => {
  it('a job end seen by three queens files one row per recipient, and each is sent once', async () => {
    const db = await pg.freshDatabase();
    cleanups.push(() => db.dispose());
    const http = await hookServer();
    const queens: Queen[] = [];
    for (let n = 0; n < 3; n++) {
      const options: QueenOptions = {
        store: PostgresStore.open({ url: db.url }),
        ant: { capacity: n === 0 ? 2 : 0 },
        pollIntervalMs: 20,
        cron: false,
        notify: { retryBaseMs: 20 },
      };
      const queen = await Queen.open(options);
      await queen.start();
      cleanups.push(() => queen.stop());
      queens.push(queen);
    }
    await queens[0]!.applyDefinition(`job_type: pg-notified
notify:
  webhook:
    recipients: ['${http.url}/a', '${http.url}/b']
tasks:
- task_type: work
  method: SHELL
  script: ['true']
`);
    const jobs = await Promise.all(Array.from({ length: 5 }, () => queens[0]!.submit({ jobType: 'pg-notified' })));
    for (const job of jobs) {
      const ended = await finished(queens[0]!, job.id, 30_000);
      // Only the queen that committed the end hears of it; the other two are told the same, as if each had seen it.
      const end = ended.timeline.at(-1)!;
      for (const queen of queens.slice(1)) (queen as unknown as { events: QueenEvents }).events.ends.ended([end]);
    }
    for (const job of jobs) {
      await until(async () => {
        const rows = await queens[2]!.notifications(job.id);
        return rows.length === 2 && rows.every((r) => r.state === 'SENT') ? true : undefined;
      }, 30_000);
    }
    const sent = http.hits.map((h) => `${h.path} ${String(h.body.job_id)}`).sort();
    expect(sent).toEqual(jobs.flatMap((job) => [`/a ${job.id}`, `/b ${job.id}`]).sort());
  }, 60_000);
});
