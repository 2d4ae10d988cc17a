/**
 * A queen in its own process, for the kill -9 recovery test: opens the db given as argv[2],
 * applies the definitions, submits argv[3] jobs of type argv[4] with the params JSON in argv[5], and
 * prints one JSON line per submission and per transition so the test can kill it at a chosen moment.
 */
import { Queen } from '@myrmex/orchestrator';

const [dbPath, count, jobType, paramsJson] = process.argv.slice(2);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

const CRASHY = `
job_type: crashy
tasks:
  - task_type: prepare
    script: ["echo prepared"]
  - task_type: long-retry
    needs: [prepare]
    retry: 1
    script:
      - echo $$ >> {{.pids}}
      - test -f {{.flag}} || sleep 300
  - task_type: long-once
    needs: [prepare]
    on_failed: report
    script:
      - echo $$ >> {{.pids}}
      - test -f {{.flag}} || { sleep 300 & echo $! >> {{.pids}}; wait; }
  - task_type: after
    needs: [long-retry]
    script: ["echo after"]
  - task_type: report
    script: ["echo long-once failed"]
  - task_type: cleanup
    always_run: true
    script: ["echo cleanup"]
`;

const QUICK = `
job_type: quick
tasks:
  - task_type: a
    script: ["echo a", "sleep 0.05"]
  - task_type: b
    needs: [a]
    retry: 2
    script: ["echo b", "sleep 0.05"]
  - task_type: c
    needs: [a]
    script: ["echo c"]
`;

// A job fan-out whose children wait for a flag file: the test kills the queen while they run.
const FAN_CHILD = `
job_type: fan-child
tasks:
  - task_type: work
    retry: 1
    script:
      - echo working on {{.item}}
      - test -f {{.flag}} || sleep 300
`;

const FANNED = `
job_type: fanned
tasks:
  - task_type: fan
    method: FORK_JOB
    retry: 1
    fan_out: { items: [a, b, c], fork_job_type: fan-child, max_parallel: 2 }
    sub_workflow:
      input_params:
        - { name: flag, value: "{{.flag}}" }
`;

const queen = await Queen.open({ dbPath: dbPath!, ant: { capacity: 4 }, pollIntervalMs: 50 });
queen.onTransition((event) => print({ event: 'transition', ...event }));
await queen.start();
await queen.applyDefinition(CRASHY, 'crashy.yaml');
await queen.applyDefinition(QUICK, 'quick.yaml');
await queen.applyDefinition(FAN_CHILD, 'fan-child.yaml');
await queen.applyDefinition(FANNED, 'fanned.yaml');
for (let i = 0; i < Number(count); i++) {
  const job = await queen.submit({ jobType: jobType!, params: JSON.parse(paramsJson!) as Record<string, unknown> });
  print({ event: 'submitted', id: job.id });
}
print({ event: 'ready' });
