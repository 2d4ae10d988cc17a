import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP server on loopback that answers with whatever the test routes say, and records the requests. */
export async function jobServer(route: (url: string) => { status: number; body: string }) {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '');
    const { status, body } = route(req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** A failed job as the orchestrator's API writes it (snake_case wire format). */
export const failedJobWire = {
  id: 'job-7f3a',
  job_type: 'nightly-billing',
  version: 3,
  state: 'FAILED',
  priority: 5,
  params: {},
  submitted_at: '2026-11-20T02:00:00.000Z',
  scheduled_at: '2026-11-20T02:00:00.000Z',
  started_at: '2026-11-20T02:00:05.000Z',
  ended_at: '2026-11-20T02:41:35.000Z',
  retry: 0,
  reason: 'task charge-cards failed',
  tasks: [
    {
      task_type: 'export-usage',
      state: 'COMPLETED',
      exit_code: 0,
      outputs: {},
      attempts: [
        { attempt: 1, state: 'COMPLETED', exit_code: 0, started_at: '2026-11-20T02:00:05.000Z', ended_at: '2026-11-20T02:12:05.000Z' },
      ],
    },
    {
      task_type: 'charge-cards',
      state: 'FAILED',
      exit_code: 3,
      outputs: {},
      reason: 'payment gateway timed out',
      attempts: [
        {
          attempt: 1,
          state: 'FAILED',
          exit_code: 3,
          started_at: '2026-11-20T02:12:10.000Z',
          ended_at: '2026-11-20T02:25:10.000Z',
          reason: 'timeout',
        },
        {
          attempt: 2,
          state: 'FAILED',
          exit_code: 3,
          started_at: '2026-11-20T02:26:10.000Z',
          ended_at: '2026-11-20T02:41:30.000Z',
          reason: 'timeout',
        },
      ],
    },
    { task_type: 'send-invoices', state: 'SKIPPED', outputs: {}, attempts: [] },
  ],
  timeline: [
    { seq: 1, job_id: 'job-7f3a', to: 'PENDING', at: '2026-11-20T02:00:00.000Z' },
    { seq: 2, job_id: 'job-7f3a', from: 'PENDING', to: 'EXECUTING', at: '2026-11-20T02:00:05.000Z' },
    { seq: 3, job_id: 'job-7f3a', task_type: 'export-usage', from: 'READY', to: 'EXECUTING', at: '2026-11-20T02:00:05.000Z' },
    { seq: 4, job_id: 'job-7f3a', task_type: 'export-usage', from: 'EXECUTING', to: 'COMPLETED', at: '2026-11-20T02:12:05.000Z' },
    { seq: 5, job_id: 'job-7f3a', task_type: 'charge-cards', from: 'READY', to: 'EXECUTING', at: '2026-11-20T02:12:10.000Z' },
    {
      seq: 6,
      job_id: 'job-7f3a',
      task_type: 'charge-cards',
      from: 'EXECUTING',
      to: 'FAILED',
      at: '2026-11-20T02:41:30.000Z',
      reason: 'payment gateway timed out',
    },
    { seq: 7, job_id: 'job-7f3a', task_type: 'send-invoices', from: 'PENDING', to: 'SKIPPED', at: '2026-11-20T02:41:31.000Z' },
    { seq: 8, job_id: 'job-7f3a', from: 'EXECUTING', to: 'FAILED', at: '2026-11-20T02:41:35.000Z', reason: 'task charge-cards failed' },
  ],
};
