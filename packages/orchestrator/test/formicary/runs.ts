/**
 * The corpus files a test runs end to end through a queen (test/formicary/runs.test.ts), with what
 * each run had to change and why. The compatibility table reads this list for its "Runs" column.
 */
export interface CorpusRun {
  readonly file: string;
  /** Every change made to the file before it is applied, as a sentence; empty when it runs as written. */
  readonly adaptations: readonly string[];
}

export const IMAGE_ADAPTATION = 'images are replaced by the locally built busybox image (no registry is reachable here)';

export const TRIGGER_ADAPTATION = 'submitted directly with the params its S3 or queue trigger would give (those triggers are not built)';

export const WEBHOOK_ADAPTATION =
  'delivered through POST /api/webhooks to its on-push-dev trigger, which has no auth (the HMAC-signed on-push trigger is tested in test/triggers/webhooks.test.ts with an organisation secret)';

export const CRON_ADAPTATION = 'its cron slot is fired with the clock moved to the next slot (queen.fireCron) rather than waited for';

export const APPROVAL_ADAPTATION = 'the test approves or rejects its MANUAL tasks through the API (its SLAs are hours long)';

/** fan_out_job_fork_job.yaml forks a type no file of the corpus defines. */
export const MISSING_CHILD_TYPE = 'io.formicary.test.child-job';
export const MISSING_CHILD_ADAPTATION = `its child type ${MISSING_CHILD_TYPE} is in no corpus file: the test applies a one-task SHELL definition of it`;

export const CORPUS_RUNS: readonly CorpusRun[] = [
  { file: 'docs-examples/shell-job.yaml', adaptations: [] },
  { file: 'docs-examples/docker-job.yaml', adaptations: [IMAGE_ADAPTATION] },
  { file: 'docs-examples/iterate-job.yaml', adaptations: [IMAGE_ADAPTATION] },
  { file: 'docs-examples/optional-task.yaml', adaptations: [IMAGE_ADAPTATION] },
  { file: 'docs-examples/taco-job.yaml', adaptations: [IMAGE_ADAPTATION] },
  { file: 'docs-examples/kube-example2.yaml', adaptations: [IMAGE_ADAPTATION] },
  { file: 'docs-examples/sleep-job.yaml', adaptations: [IMAGE_ADAPTATION, 'cancelled once running (it sleeps 10000 s)'] },
  {
    file: 'docs-examples/messaging-job.yaml',
    adaptations: ['the request queue gets a per-run prefix so parallel runs do not share a JetStream stream'],
  },
  { file: 'docs-examples/sub-workflow-etl-child.yaml', adaptations: [] },
  { file: 'fixtures/sub_workflow_child_job.yaml', adaptations: [] },
  { file: 'docs-examples/versioned-job.yaml', adaptations: [] },
  { file: 'docs-examples/sub-workflow-etl.yaml', adaptations: [] },
  { file: 'fixtures/sub_workflow_job.yaml', adaptations: [] },
  { file: 'docs-examples/s3-etl-trigger.yaml', adaptations: [TRIGGER_ADAPTATION] },
  { file: 'docs-examples/webhook-ci-trigger.yaml', adaptations: [WEBHOOK_ADAPTATION] },
  { file: 'docs-examples/queue-order-trigger.yaml', adaptations: [TRIGGER_ADAPTATION] },
  { file: 'fixtures/s3_trigger_job.yaml', adaptations: [TRIGGER_ADAPTATION] },
  {
    file: 'fixtures/webhook_trigger_job.yaml',
    adaptations: [
      'submitted directly with the params its HMAC-signed on-push trigger would give (this queen keeps no organisation secrets; that delivery, racing to two queens on PostgreSQL, is tested in test/triggers/webhooks.test.ts)',
    ],
  },
  { file: 'fixtures/child_job.yaml', adaptations: ['the ant carries the builder and pulsar tags its tasks ask for'] },
  {
    file: 'fixtures/test_job.yaml',
    adaptations: [
      IMAGE_ADAPTATION,
      'the queen declares the consumable pools its resources take units from (License 2, NetworkBandwidth 10)',
    ],
  },
  { file: 'docs-examples/artifacts-expiration.yaml', adaptations: [CRON_ADAPTATION] },
  { file: 'docs-examples/hello_world_scheduled.yaml', adaptations: [IMAGE_ADAPTATION, CRON_ADAPTATION] },
  { file: 'fixtures/hello_world_scheduled.yaml', adaptations: [IMAGE_ADAPTATION, CRON_ADAPTATION] },
  { file: 'docs-examples/always-run.yaml', adaptations: [] },
  { file: 'docs-examples/hello_world.yaml', adaptations: [IMAGE_ADAPTATION] },
  {
    file: 'docs-examples/hook-job.yaml',
    adaptations: [IMAGE_ADAPTATION, 'its WebhookURL param names an HTTP server the test runs on loopback'],
  },
  { file: 'docs-examples/fan-out-task-regions.yaml', adaptations: [] },
  { file: 'docs-examples/fan-out-deploy.yaml', adaptations: [] },
  { file: 'fixtures/fan_out_job.yaml', adaptations: [] },
  { file: 'fixtures/fan_out_task_job.yaml', adaptations: [] },
  { file: 'docs-examples/fan-out-job-etl.yaml', adaptations: [] },
  { file: 'fixtures/fan_out_job_fork_job.yaml', adaptations: [MISSING_CHILD_ADAPTATION] },
  ...[
    'docs-examples/manual.yaml',
    'docs-examples/approval-auto-reject.yaml',
    'docs-examples/approval-unanimous.yaml',
    'docs-examples/approval-with-sla.yaml',
    'docs-examples/multi-party-approval.yaml',
    'docs-examples/cicd-approval-gate.yaml',
    'docs-examples/dr-playbook.yaml',
    'docs-examples/secure-go-cicd.yaml',
  ].map((file) => ({ file, adaptations: [IMAGE_ADAPTATION, APPROVAL_ADAPTATION] })),
];

export const runOf = (file: string): CorpusRun | undefined => CORPUS_RUNS.find((run) => run.file === file);
