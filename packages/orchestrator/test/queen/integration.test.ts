import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../executors/http-server.js';
import { finished, startQueen, taskStates } from './helpers.js';

let server: TestServer;
let polls = 0;
beforeAll(async () => {
  server = await startServer((request, response) => {
    if (request.url.startsWith('/resource')) {
      polls++;
      if (polls < 3) {
        response.writeHead(404);
        response.end('not yet');
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"ready":true,"id":"r-7"}');
      }
    } else if (request.url === '/orders') {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ received: JSON.parse(request.body) }));
    } else {
      response.writeHead(500);
      response.end('boom');
    }
  });
});
afterAll(() => server.close());

describe('Queen with real SHELL processes and a real HTTP server', () => {
  it('polls with EXECUTING until the resource is ready, then passes status and body on', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(`
job_type: sensor
tasks:
  - task_type: wait-for-resource
    method: HTTP_GET
    url: "{{.base}}/resource/{{.JobID}}"
    retry: 5
    delay_between_retries: 50ms
    on_exit_code:
      "200": process
      "404": EXECUTING
      FAILED: FATAL
  - task_type: process
    method: SHELL
    environment:
      PAYLOAD: "{{.body}}"
    script:
      - echo "status {{.status}} payload $PAYLOAD"
      - echo "::set-output name=done::yes"
  - task_type: order
    method: HTTP_POST_JSON
    url: "{{.base}}/orders"
    needs: [process]
    body:
      item: "{{.item}}"
      from: "{{.JobType}}"
`);
    const job = await queen.submit({ jobType: 'sensor', params: { base: server.url, item: 'ants' } });
    const done = await finished(queen, job.id);
    expect(done.state).toBe('COMPLETED');
    const poll = done.tasks.find((t) => t.taskType === 'wait-for-resource')!;
    expect(poll.attempts.map((a) => a.exitCode)).toEqual([404, 404, 200]);
    expect(poll.outputs).toEqual({ status: '200', body: '{"ready":true,"id":"r-7"}' });
    expect((await queen.logs(job.id, { taskType: 'process' })).map((l) => l.text)).toEqual([
      'status 200 payload {"ready":true,"id":"r-7"}',
      '::set-output name=done::yes',
    ]);
    const order = done.tasks.find((t) => t.taskType === 'order')!;
    expect(order.exitCode).toBe(201);
    expect(JSON.parse(order.outputs.body!)).toEqual({ received: { item: 'ants', from: 'sensor' } });
    expect(server.received.some((r) => r.url === `/resource/${job.id}`)).toBe(true);
  });

  it('a 5xx routed to FATAL fails the job at once', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(`
job_type: broken
tasks:
  - task_type: call
    method: HTTP_GET
    url: "{{.base}}/explode"
    retry: 3
    on_exit_code:
      FAILED: FATAL
  - task_type: cleanup
    method: SHELL
    always_run: true
    script: ["echo cleanup ran"]
`);
    const done = await finished(queen, (await queen.submit({ jobType: 'broken', params: { base: server.url } })).id);
    expect(done).toMatchObject({ state: 'FAILED', reason: 'task call failed: exit code 500: FATAL' });
    expect(taskStates(done)).toEqual({ call: 'FAILED', cleanup: 'COMPLETED' });
    expect(done.tasks[0]!.attempts).toHaveLength(1);
  });

  it('SHELL tasks get their environment, exit codes and outputs through the whole job', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(`
job_type: shell-flow
job_variables:
  region: eu
tasks:
  - task_type: produce
    script:
      - echo "::set-output name=artifact::build-{{.JobID}}"
      - echo "region=$REGION retry={{.TaskRetry}}"
    environment:
      REGION: "{{.region}}"
  - task_type: check
    needs: [produce]
    script:
      - test "{{.artifact}}" = "build-{{.JobID}}"
      - exit 4
    on_exit_code:
      "4": report
  - task_type: report
    script: ["echo reported {{.artifact}}"]
`);
    const job = await queen.submit({ jobType: 'shell-flow' });
    const done = await finished(queen, job.id);
    expect(done.state).toBe('COMPLETED');
    expect(done.tasks.map((t) => [t.taskType, t.state, t.exitCode])).toEqual([
      ['produce', 'COMPLETED', 0],
      ['check', 'COMPLETED', 4],
      ['report', 'COMPLETED', 0],
    ]);
    expect((await queen.logs(job.id)).map((l) => l.text)).toEqual([
      `::set-output name=artifact::build-${job.id}`,
      'region=eu retry=0',
      `reported build-${job.id}`,
    ]);
  });
});
