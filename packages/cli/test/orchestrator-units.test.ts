import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectParam, parseInstant, parseInteger } from '../src/commands/orchestrator/common.js';
import { formatProblem } from '../src/commands/orchestrator/format.js';
import { JobProgress, LiveBlock, transitionLine } from '../src/commands/orchestrator/progress.js';
import { type SseEvent, SseParser } from '../src/commands/orchestrator/sse.js';
import { UsageError } from '../src/context.js';

function encode(events: readonly SseEvent[], newline: string): string {
  return events
    .map((event) => {
      const lines = [
        `event: ${event.event}`,
        ...(event.id === undefined ? [] : [`id: ${event.id}`]),
        ...event.data.split('\n').map((l) => `data: ${l}`),
      ];
      return `: comment${newline}${lines.join(newline)}${newline}${newline}`;
    })
    .join('');
}

const eventArbitrary = fc.record({
  event: fc.constantFrom('log', 'transition', 'end'),
  data: fc.string({ unit: 'grapheme' }).map((text) => text.replace(/\r/g, '')),
  id: fc.option(fc.nat().map(String), { nil: undefined }),
});

describe('SseParser', () => {
  it('yields the same events however the stream is cut into chunks, for LF and CRLF', () => {
    fc.assert(
      fc.property(
        fc.array(eventArbitrary, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.constantFrom('\n', '\r\n'),
        (events, cuts, newline) => {
          const text = encode(events, newline);
          const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
          const parser = new SseParser();
          const parsed: SseEvent[] = [];
          let from = 0;
          for (const point of [...points, text.length]) {
            parsed.push(...parser.push(text.slice(from, point)));
            from = point;
          }
          // An id is sticky per the spec: it stays the stream's last event id until another is sent.
          let lastId: string | undefined;
          const expected = events.map((event) => {
            lastId = event.id ?? lastId;
            return { event: event.event, data: event.data, ...(lastId === undefined ? {} : { id: lastId }) };
          });
          expect(parsed).toEqual(expected);
        },
      ),
    );
  });

  it('defaults the event name to message and ignores blocks without data', () => {
    const parser = new SseParser();
    expect(parser.push('event: nothing\n\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x' }]);
  });
});

describe('argument parsing', () => {
  it('--param k=v is a string, k:=json a typed value, and later keys win', () => {
    let params = collectParam('name=ant colony');
    params = collectParam('count:=3', params);
    params = collectParam('tags:=["a","b"]', params);
    params = collectParam('version=1.10', params);
    params = collectParam('expr=a=b', params);
    expect(params).toEqual({ name: 'ant colony', count: 3, tags: ['a', 'b'], version: '1.10', expr: 'a=b' });
    expect(collectParam('count=2', { count: 1 })).toEqual({ count: '2' });
    expect(() => collectParam('flag')).toThrow(UsageError);
    expect(() => collectParam('n:=not json')).toThrow(/needs a JSON value/);
  });

  it('integers and instants are checked with the option named', () => {
    const priority = parseInteger('--priority', 0, 100);
    expect(priority('42')).toBe(42);
    for (const bad of ['101', '-1', '4.5', 'ten', '']) expect(() => priority(bad)).toThrow('--priority must be an integer from 0 to 100');
    expect(parseInstant('2030-01-02T03:04:05+02:00')).toBe('2030-01-02T01:04:05.000Z');
    expect(() => parseInstant('soon')).toThrow('--scheduled-at must be an ISO 8601 date-time');
  });
});

describe('progress', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, seconds)).toISOString();

  it('folds transitions into one row per task, in definition order, with running time', () => {
    const progress = new JobProgress('job-1', ['build', 'test']);
    progress.apply({ seq: 1, job_id: 'job-1', from: 'PENDING', to: 'EXECUTING', at: at(0) });
    progress.apply({ seq: 2, job_id: 'job-1', task_type: 'build', from: 'READY', to: 'EXECUTING', at: at(1) });
    expect(progress.render(Date.parse(at(3)))).toEqual(['job job-1 EXECUTING', '  ▶ build  EXECUTING 2.0s', '  · test   PENDING']);
    progress.apply({ seq: 3, job_id: 'job-1', task_type: 'build', from: 'EXECUTING', to: 'FAILED', at: at(4), reason: 'exit code 2' });
    progress.apply({ seq: 4, job_id: 'job-1', task_type: 'test', from: 'PENDING', to: 'SKIPPED', at: at(4) });
    progress.apply({ seq: 5, job_id: 'job-1', from: 'EXECUTING', to: 'FAILED', at: at(4) });
    expect(progress.render(Date.parse(at(9)))).toEqual(['job job-1 FAILED', '  ✗ build  FAILED  exit code 2', '  - test   SKIPPED']);
    expect(
      transitionLine({ seq: 3, job_id: 'job-1', task_type: 'build', from: 'EXECUTING', to: 'FAILED', at: at(4), reason: 'exit code 2' }),
    ).toBe('12:00:04.000 task build EXECUTING -> FAILED (exit code 2)');
  });

  it('redraws in place by moving the cursor up over the previous block', () => {
    const written: string[] = [];
    const block = new LiveBlock((text) => written.push(text));
    block.draw(['a', 'b']);
    block.draw(['c', 'd', 'e']);
    block.draw(['f']);
    expect(written).toEqual(['a\nb', '\x1b[2A\x1b[0Jc\nd\ne', '\x1b[3A\x1b[0Jf']);
  });
});

describe('formatProblem', () => {
  it('prints the title and detail, then each position or field', () => {
    expect(
      formatProblem({
        type: 'urn:myrmex:problem:invalid-definition',
        title: 'The job definition is not valid',
        status: 422,
        detail: 'the definition has 1 problem:\njob.yaml:3:5: bad',
        instance: '/api/jobs/definitions',
        errors: [{ field: 'tasks[0]', in: 'body', message: 'bad', location: 'job.yaml:3:5' }],
      }),
    ).toBe('The job definition is not valid: the definition has 1 problem:\n  job.yaml:3:5: tasks[0]: bad');
    expect(
      formatProblem({
        type: 'urn:myrmex:problem:validation-error',
        title: 'The request is not valid',
        status: 400,
        detail: 'priority must be <= 100',
        instance: '/api/jobs/requests',
        errors: [{ field: 'priority', in: 'body', message: 'must be <= 100' }],
      }),
    ).toBe('The request is not valid: priority must be <= 100\n  body field priority: must be <= 100');
  });
});
