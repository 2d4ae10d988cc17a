import { BUILT_IN_METHODS, type JobDefinition, parseJobDefinition } from '@myrmex/orchestrator';

/** The in-process method the queen tests register; the parser must accept it. */
export const TEST_METHODS = [...BUILT_IN_METHODS, 'TEST'] as const;

/**
 * A definition through the real parser, written as snake_case objects (JSON is YAML), so tests
 * exercise exactly what a user's file produces.
 */
export function definition(tasks: readonly Record<string, unknown>[], job: Record<string, unknown> = {}): JobDefinition {
  const source = JSON.stringify({ job_type: 'test-job', ...job, tasks: tasks.map((task) => ({ method: 'TEST', ...task })) });
  return parseJobDefinition(source, { fileName: 'test.json', methods: TEST_METHODS });
}

/**
 * The key that makes a task wait for others (the DAG join). `dependencies` is Formicary's
 * artifact download, never a join; definitions that still use it as one get a positioned message.
 */
export const JOIN_KEY = 'needs';
