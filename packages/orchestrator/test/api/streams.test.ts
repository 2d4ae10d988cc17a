import { describe, expect, it } from 'vitest';
import type { LogLineWire, TimelineEventWire } from '../../src/index.js';
import { apiPerTest, apply, call, ended, expectProblem, readEvents, submit, waitFor } from './harness.js';

const TALKER = `job_type: talker
tasks:
  - task_type: speak
    script:
      - echo one
      - echo two >&2
      - sleep {{.Pause}}
      - echo three
    on_completed: echo
  - task_type: echo
    script:
      - echo done
`;

const SLEEPER = `job_type: sleeper
tasks:
  - task_type: nap
    script:
      - echo napping
      - sleep 30
`;

describe('logs API', () => {
  const api = apiPerTest();

  it('returns stored lines in order, by task, and after a seq', async () => {
    await apply(api.current, TALKER);
    const job = await waitFor(api.current, (await submit(api.current, { job_type: 'talker', params: { Pause: 0 } })).id, ended);
    const all = await call<{ items: LogLineWire[] }>(api.current, 'GET', `/api/jobs/requests/${job.id}/logs`);
    const text = (task: string, stream: string) =>
      all.body.items.filter((l) => l.task_type === task && l.stream === stream).map((l) => l.text);
    // Each stream keeps its order; stdout and stderr are separate pipes, so their interleaving is not defined.
    expect(text('speak', 'stdout')).toEqual(['one', 'three']);
    expect(text('speak', 'stderr')).toEqual(['two']);
    expect(text('echo', 'stdout')).toEqual(['done']);
    const seqs = all.body.items.map((l) => l.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const lastSpeak = Math.max(...all.body.items.filter((l) => l.task_type === 'speak').map((l) => l.seq));
    expect(all.body.items.filter((l) => l.task_type === 'echo').every((l) => l.seq > lastSpeak)).toBe(true);
    expect(all.body.items.every((l) => l.job_id === job.id && l.attempt === 1)).toBe(true);

    const echo = await call<{ items: LogLineWire[] }>(api.current, 'GET', `/api/jobs/requests/${job.id}/logs?task=echo`);
    expect(echo.body.items.filter((l) => l.stream !== 'system').map((l) => l.text)).toEqual(['done']);

    const second = all.body.items[1]?.seq ?? 0;
    const after = await call<{ items: LogLineWire[] }>(api.current, 'GET', `/api/jobs/requests/${job.id}/logs?after=${second}&limit=1`);
    expect(after.body.items).toEqual([all.body.items[2]]);
  });

  it('follows lines live as server-sent events and ends with the final job when the job ends', async () => {
    await apply(api.current, TALKER);
    const job = await submit(api.current, { job_type: 'talker', params: { Pause: 1 } });
    const response = await fetch(`${api.current.url}/api/jobs/requests/${job.id}/logs?follow=true`);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const arrivals: number[] = [];
    const events = await readEvents(response, () => arrivals.push(Date.now()));
    const logs = events.filter((e) => e.event === 'log').map((e) => e.data as LogLineWire);
    expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['one', 'three', 'done']);
    expect(logs.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['two']);
    expect(events.filter((e) => e.event === 'log').map((e) => Number(e.id))).toEqual(logs.map((l) => l.seq));
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { id: job.id, state: 'COMPLETED' } });
    // `one` came before the 1 s sleep, `three` after it: the stream delivered them as they happened.
    const one = events.findIndex((e) => e.event === 'log' && (e.data as LogLineWire).text === 'one');
    const three = events.findIndex((e) => e.event === 'log' && (e.data as LogLineWire).text === 'three');
    expect((arrivals[three] ?? 0) - (arrivals[one] ?? 0)).toBeGreaterThanOrEqual(800);
  });

  it('resumes after Last-Event-ID and ends at once for a job that has already ended', async () => {
    await apply(api.current, TALKER);
    const job = await waitFor(api.current, (await submit(api.current, { job_type: 'talker', params: { Pause: 0 } })).id, ended);
    const all = (await call<{ items: LogLineWire[] }>(api.current, 'GET', `/api/jobs/requests/${job.id}/logs`)).body.items;
    const resumeAt = all[1]?.seq ?? 0;
    const response = await fetch(`${api.current.url}/api/jobs/requests/${job.id}/logs?follow=true`, {
      headers: { 'last-event-id': String(resumeAt) },
    });
    const events = await readEvents(response);
    expect(events.filter((e) => e.event === 'log').map((e) => (e.data as LogLineWire).seq)).toEqual(all.slice(2).map((l) => l.seq));
    expect(events.at(-1)?.event).toBe('end');
  });

  it('answers an unknown job with a 404 problem, not a stream', async () => {
    const reply = await call(api.current, 'GET', '/api/jobs/requests/ghost/logs?follow=true');
    expectProblem(reply, 404);
    expectProblem(await call(api.current, 'GET', '/api/jobs/requests/ghost/logs?follow=maybe'), 400);
  });
});

describe('timeline events API', () => {
  const api = apiPerTest();

  it('streams every transition once, in seq order, then ends with the final job', async () => {
    await apply(api.current, TALKER);
    const job = await submit(api.current, { job_type: 'talker', params: { Pause: 0.3 } });
    const events = await readEvents(await fetch(`${api.current.url}/api/jobs/requests/${job.id}/events?follow=true`));
    const transitions = events.filter((e) => e.event === 'transition').map((e) => e.data as TimelineEventWire);
    const final = await call<{ items: TimelineEventWire[]; state: string }>(api.current, 'GET', `/api/jobs/requests/${job.id}/events`);
    expect(final.body.state).toBe('COMPLETED');
    expect(transitions).toEqual(final.body.items);
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { id: job.id, state: 'COMPLETED' } });
    const taskEnds = transitions.filter((t) => t.to === 'COMPLETED').map((t) => t.task_type ?? 'job');
    expect(taskEnds).toEqual(['speak', 'echo', 'job']);
  });

  it('ends a follower when the job is cancelled, and every open stream when the server closes', async () => {
    await apply(api.current, SLEEPER);
    const cancelled = await submit(api.current, { job_type: 'sleeper' });
    const kept = await submit(api.current, { job_type: 'sleeper' });
    const first = readEvents(await fetch(`${api.current.url}/api/jobs/requests/${cancelled.id}/events?follow=true`));
    await waitFor(api.current, cancelled.id, (j) => j.state === 'EXECUTING');
    await call(api.current, 'POST', `/api/jobs/requests/${cancelled.id}/cancel`);
    const events = await first;
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { state: 'CANCELLED' } });
    expect(events.some((e) => e.event === 'transition' && (e.data as TimelineEventWire).to === 'CANCELLED')).toBe(true);

    const logs = readEvents(await fetch(`${api.current.url}/api/jobs/requests/${kept.id}/logs?follow=true`));
    const timeline = readEvents(await fetch(`${api.current.url}/api/jobs/requests/${kept.id}/events?follow=true`));
    await waitFor(api.current, kept.id, (j) => j.state === 'EXECUTING');
    const closing = Date.now();
    await api.current.app.close();
    expect(Date.now() - closing).toBeLessThan(5_000);
    for (const stream of [await logs, await timeline]) {
      expect(stream.at(-1)).toMatchObject({ event: 'close', data: { reason: 'the queen is shutting down' } });
    }
  });
});
