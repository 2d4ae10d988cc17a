import { describe, expect, it } from 'vitest';
import { apply, servers, submit, waitForEnd } from './helpers.js';

const ROUTED = `job_type: routed
tasks:
  - task_type: test
    script: ["exit {{.Code}}"]
    on_exit_code:
      "0": publish
      "3": notify
      "4": FAILED
    on_completed: publish
    on_failed: notify
  - task_type: publish
    script: [echo published]
  - task_type: notify
    script: [echo notified]
job_variables:
  Code: 0
`;

describe('read models for the dashboard', () => {
  const start = servers();

  it("returns a definition version's graph with typed edges, route states left out", async () => {
    const { server } = await start();
    await apply(server.url, ROUTED);
    const response = await fetch(`${server.url}/api/jobs/definitions/routed/versions/1/graph`);
    expect(response.status).toBe(200);
    const graph = (await response.json()) as { nodes: { task_type: string }[]; edges: { from: string; to: string; kind: string }[] };
    expect(graph.nodes.map((n) => n.task_type)).toEqual(['test', 'publish', 'notify']);
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { from: 'test', to: 'publish', kind: 'on_completed' },
        { from: 'test', to: 'notify', kind: 'on_failed' },
        { from: 'test', to: 'publish', kind: 'exit_code:0' },
        { from: 'test', to: 'notify', kind: 'exit_code:3' },
      ]),
    );
    expect(graph.edges.some((e) => e.to === 'FAILED')).toBe(false);
    const missing = await fetch(`${server.url}/api/jobs/definitions/routed/versions/9/graph`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { detail: string }).detail).toBe("job type 'routed' has no version 9");
  });

  it('drafts a post-mortem of a failed job with the reviewer findings beside it', async () => {
    const { server } = await start();
    await apply(server.url, `job_type: broken\ntasks:\n  - task_type: boom\n    script: ["echo it broke >&2", "exit 7"]\n`);
    const job = await submit(server.url, 'broken');
    expect(await waitForEnd(server.url, job.id)).toBe('FAILED');
    const response = await fetch(`${server.url}/api/jobs/requests/${job.id}/postmortem`);
    expect(response.status).toBe(200);
    const draft = (await response.json()) as { markdown: string; findings: { rule: string; severity: string; line: number }[] };
    expect(draft.markdown).toContain(job.id);
    expect(draft.markdown).toContain('boom');
    // A fresh draft still has its placeholders, which the reviewer reports with their lines.
    expect(draft.findings.length).toBeGreaterThan(0);
    for (const finding of draft.findings) expect(finding.line).toBeGreaterThan(0);
  });

  it('streams every transition of every job on one event stream', async () => {
    const { server } = await start();
    await apply(server.url, `job_type: quick\ntasks:\n  - task_type: a\n    script: [echo a]\n`);
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/jobs/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await submit(server.url, 'quick');
    const second = await submit(server.url, 'quick');
    let text = '';
    const decoder = new TextDecoder();
    const events = () =>
      [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as { job_id: string; task_type?: string; to: string });
    const ended = (id: string) => events().some((e) => e.job_id === id && e.task_type === undefined && e.to === 'COMPLETED');
    while (!(ended(first.id) && ended(second.id))) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    expect(text).toMatch(/event: transition\nid: \d+\ndata: \{/);
    for (const id of [first.id, second.id]) {
      expect(
        events()
          .filter((e) => e.job_id === id && e.task_type === undefined)
          .map((e) => e.to),
      ).toEqual(['PENDING', 'READY', 'EXECUTING', 'COMPLETED']);
    }
  });
});
