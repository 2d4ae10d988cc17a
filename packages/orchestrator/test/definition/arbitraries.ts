import fc from 'fast-check';

// Built once: constructing string-matching arbitraries inside `chain` costs more than drawing from them.
const duration = fc.option(fc.oneof(fc.integer({ min: 1, max: 3600 }), fc.constantFrom('30s', '5m', '1h30m', '250ms')), { nil: undefined });
const script = fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 3 });
const exitRoutes = fc.dictionary(fc.constantFrom('0', '1', '404', 'FAILED'), fc.constantFrom('FATAL', 'EXECUTING', 'COMPLETED'));
const environment = fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean()));
// A literal '<<' key is YAML's merge key, so it cannot round-trip through unquoted YAML; the parser
// reports it instead (see parse.test.ts).
const variables = fc.dictionary(
  fc.stringMatching(/^[A-Za-z_]\w{0,8}$/),
  fc.jsonValue({ maxDepth: 2 }).filter((value) => !JSON.stringify(value).includes('"<<"')),
);
const jobType = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);

/**
 * Valid definitions: every edge points forward and t1 depends on t0 (a DAG whose first task always
 * starts), so there is no cycle and every task is reachable.
 */
export const validDocument = fc.integer({ min: 2, max: 12 }).chain((count) => {
  const names = Array.from({ length: count }, (_, i) => `t${i}`);
  const later = (i: number) =>
    i + 1 < count ? fc.option(fc.constantFrom(...names.slice(i + 1)), { nil: undefined }) : fc.constant(undefined);
  const earlier = (i: number) => (i === 0 ? fc.constant([]) : fc.subarray(names.slice(0, i)));
  const task = (i: number) =>
    fc.record(
      {
        task_type: fc.constant(names[i]!),
        script,
        needs: i === 1 ? fc.constant(['t0']) : earlier(i),
        on_completed: later(i),
        on_exit_code: exitRoutes,
        timeout: duration,
        retry: fc.integer({ min: 0, max: 10 }),
        delay_between_retries: duration,
        backoff: fc.option(fc.constantFrom('fixed', 'exponential'), { nil: undefined }),
        environment,
        variables,
        always_run: i === 0 ? fc.constant(false) : fc.boolean(),
        allow_failure: fc.boolean(),
        tags: fc.array(fc.constantFrom('gpu', 'linux', 'fast')),
      },
      { requiredKeys: ['task_type', 'script', 'needs'] },
    );
  return fc.record(
    {
      job_type: jobType,
      description: fc.string(),
      priority: fc.integer({ min: 0, max: 100 }),
      max_concurrency: fc.integer({ min: 1, max: 10 }),
      timeout: duration,
      retry: fc.integer({ min: 0, max: 3 }),
      job_variables: variables,
      tags: fc.array(fc.string({ minLength: 1 })),
      tasks: fc.tuple(...names.map((_, i) => task(i))),
    },
    { requiredKeys: ['job_type', 'tasks'] },
  );
});
