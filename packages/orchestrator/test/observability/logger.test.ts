import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/index.js';

describe('createLogger', () => {
  it('pretty: pino-pretty lines with every field under the message, through a plain writer', () => {
    const written: string[] = [];
    const logger = createLogger({ format: 'pretty', write: (text) => written.push(text) });
    logger.child({ component: 'jobs' }).info({ jobId: 'j1', taskType: 'build' }, 'task build of job j1 READY -> EXECUTING');
    logger.warn('careful');
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: task build of job j1 READY -> EXECUTING\n/);
    expect(written[0]).toContain('    component: "jobs"\n');
    expect(written[0]).toContain('    jobId: "j1"\n');
    expect(written[0]).toContain('    taskType: "build"\n');
    expect(written[1]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: careful\n$/);
  });

  it('json and human keep their shapes', () => {
    const json: string[] = [];
    createLogger({ format: 'json', write: (text) => json.push(text) }).info({ jobId: 'j2' }, 'hello');
    expect(JSON.parse(json[0] as string)).toMatchObject({ level: 30, jobId: 'j2', msg: 'hello' });
    const human: string[] = [];
    createLogger({ write: (text) => human.push(text) }).error(new Error('boom'), 'failed');
    expect(human[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR failed\nError: boom/);
  });
});
