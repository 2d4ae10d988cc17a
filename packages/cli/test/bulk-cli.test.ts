import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queen } from '@myrmex/orchestrator';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { capture } from './support/capture.js';
import { servedQueen } from './support/served-queen.js';

/** `myrmex submit-many <file>` in-process against a real queen and API on loopback. */
describe('myrmex submit-many', () => {
  const served = servedQueen('myrmex-cli-bulk-', { capacity: 0 });
  let dir: string;
  let queen: Queen;
  let url: string;

  beforeAll(async () => {
    ({ queen, url, dir } = served.current);
    await queen.applyDefinition('job_type: cli-bulk\ntasks:\n- task_type: only\n  script: [echo hi]\n');
  });

  it('submits JSON Lines and JSON arrays, all or none per call; a bad line is named by file and line', async () => {
    const lines = join(dir, 'requests.jsonl');
    writeFileSync(
      lines,
      '# three builds\n{"job_type":"cli-bulk","params":{"n":1}}\n\n{"job_type":"cli-bulk","priority":9}\n{"job_type":"cli-bulk"}\n',
    );
    const ok = capture();
    expect(await main(['submit-many', lines, '--server', url], ok.io)).toBe(0);
    expect(ok.out).toEqual(['submitted 3 job requests']);

    const array = join(dir, 'requests.json');
    writeFileSync(array, JSON.stringify([{ job_type: 'cli-bulk' }, { job_type: 'cli-bulk' }]));
    const json = capture();
    expect(await main(['submit-many', array, '--server', url, '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toHaveLength(2);
    expect((await queen.listJobs({ count: 'exact' })).total).toBe(5);

    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, '{"job_type":"cli-bulk"}\n{"job_type":\n');
    const bad = capture();
    expect(await main(['submit-many', broken, '--server', url], bad.io)).not.toBe(0);
    expect(bad.err.join('\n')).toContain(`${broken}:2`);

    const unknown = join(dir, 'unknown.jsonl');
    writeFileSync(unknown, '{"job_type":"cli-bulk"}\n{"job_type":"nope"}\n');
    const refused = capture();
    expect(await main(['submit-many', unknown, '--server', url], refused.io)).not.toBe(0);
    expect(refused.err.join('\n')).toContain('requests[1]');
    expect((await queen.listJobs({ count: 'exact' })).total).toBe(5);
  });
});
