import { formatDuration } from './duration.js';
import type { JobDefinition, TaskDefinition } from './model.js';
import { schedulingDocument } from './scheduling.js';

/**
 * A normalised definition back in the written form (snake_case keys, durations as text), with
 * every default spelled out and every empty list or map left out. Parsing its YAML or JSON gives
 * back an equal definition, so the API can show what a version really means.
 */
export function toDefinitionDocument(definition: JobDefinition): Record<string, unknown> {
  return compact({
    job_type: definition.jobType,
    description: definition.description,
    priority: definition.priority,
    max_concurrency: definition.maxConcurrency,
    timeout: optionalDuration(definition.timeoutMs),
    retry: definition.retry,
    delay_between_retries: formatDuration(definition.delayBetweenRetriesMs),
    job_variables: definition.jobVariables,
    tags: definition.tags,
    cron_trigger: definition.cronTrigger,
    triggers: definition.triggers,
    resources: definition.resources ?? definition.scheduling?.resources,
    ...schedulingDocument(definition.scheduling),
    notify: definition.notify,
    webhook: definition.webhook,
    skip_if: definition.skipIf,
    required_params: definition.requiredParams,
    retry_backoff_policy: definition.retryBackoffPolicy,
    circuit_breaker: definition.circuitBreaker,
    sem_version: definition.semVersion,
    tasks: definition.tasks.map(taskDocument),
  });
}

function taskDocument(task: TaskDefinition): Record<string, unknown> {
  return compact({
    task_type: task.taskType,
    method: task.method,
    description: task.description,
    script: task.script,
    environment: task.environment,
    variables: task.variables,
    timeout: optionalDuration(task.timeoutMs),
    retry: task.retry,
    delay_between_retries: formatDuration(task.delayBetweenRetriesMs),
    backoff: { strategy: task.backoff.strategy, max_delay: formatDuration(task.backoff.maxDelayMs), jitter: task.backoff.jitter },
    on_completed: task.onCompleted,
    on_failed: task.onFailed,
    on_exit_code: task.onExitCode,
    needs: task.needs,
    dependencies: task.dependencies,
    always_run: task.alwaysRun,
    allow_failure: task.allowFailure,
    tags: task.tags,
    url: task.url,
    headers: task.headers,
    query: task.query,
    body: task.body,
    container: task.container,
    working_dir: task.workingDir,
    before_script: task.beforeScript,
    after_script: task.afterScript,
    // Formicary's switches appear only when on, so a plain SHELL task's document stays as short as before.
    host_network: task.hostNetwork || undefined,
    privileged: task.privileged || undefined,
    services: task.services,
    node_selector: task.placement.nodeSelector,
    pod_labels: task.placement.podLabels,
    tolerations: task.placement.tolerations,
    affinity: task.placement.affinity,
    artifacts: task.artifacts,
    cache: task.cache,
    resources: task.resources ?? task.scheduling?.resources,
    ...schedulingDocument(task.scheduling),
    report_stdout: task.reportStdout || undefined,
    skip_if: task.skipIf,
    fork_job_type: task.forkJobType,
    fork_job_version: task.forkJobVersion,
    sub_workflow: task.subWorkflow,
    await_forked_tasks: task.awaitForkedTasks,
    fan_out: task.fanOut,
    approval_policy: task.approvalPolicy,
    messaging_request_queue: task.messaging?.requestQueue,
    messaging_reply_queue: task.messaging?.replyQueue,
    webhook: task.webhook,
    notify: task.notify,
    retry_backoff_policy: task.retryBackoffPolicy,
    circuit_breaker: task.circuitBreaker,
  });
}

const optionalDuration = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : formatDuration(ms));

/** Drops undefined values and empty lists and maps: an SHELL task must not carry `headers: {}`. */
function compact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => {
      if (value === undefined) return false;
      if (Array.isArray(value)) return value.length > 0;
      if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
      return true;
    }),
  );
}
