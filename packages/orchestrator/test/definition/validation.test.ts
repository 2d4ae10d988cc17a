import { describe, expect, it } from 'vitest';
import { DefinitionValidationError, parseJobDefinition } from '../../src/definition/index.js';
import { errorsOf, lines } from './helpers.js';

describe('validation reports each problem at the node that causes it', () => {
  it('accepts a minimal definition', () => {
    expect(errorsOf(lines('job_type: ok', 'tasks:', '  - task_type: a', '    script: [echo a]'))).toEqual([]);
  });

  it('unknown keys, with a did-you-mean, at the key', () => {
    const source = lines(
      'job_type: typo',
      'prority: 5',
      'jobVariables: {}',
      'tasks:',
      '  - task_type: a',
      '    scirpt: [echo a]',
      '    script: [echo a]',
      '    dependencies_: []',
      '    backoff: { strategy: exponential, jiter: true }',
      '    containr: { image: x }',
    );
    expect(errorsOf(source)).toEqual([
      "job.yaml:2:1: prority: unknown key 'prority' (did you mean 'priority'?)",
      "job.yaml:3:1: jobVariables: unknown key 'jobVariables' (did you mean 'job_variables'?)",
      "job.yaml:6:5: tasks[0].scirpt: unknown key 'scirpt' (did you mean 'script'?)",
      "job.yaml:8:5: tasks[0].dependencies_: unknown key 'dependencies_' (did you mean 'dependencies'?)",
      "job.yaml:9:39: tasks[0].backoff.jiter: unknown key 'jiter' (did you mean 'jitter'?)",
      "job.yaml:10:5: tasks[0].containr: unknown key 'containr' (did you mean 'container'?)",
    ]);
  });

  it('wrong types, at the value', () => {
    const source = lines(
      'job_type: types',
      'retry: three',
      'tags: { ci: true }',
      'tasks:',
      '  - task_type: a',
      '    script:',
      '      - echo ok',
      '      - echo key: value',
      '    always_run: "yes"',
      '    environment: { PORT: 8080, BAD: [1] }',
    );
    expect(errorsOf(source)).toEqual([
      'job.yaml:2:8: retry: expected an integer, got "three"',
      'job.yaml:3:7: tags: matches none of the accepted forms',
      "job.yaml:8:9: tasks[0].script[1]: expected a string (quote a script line that contains ': ' or starts with a special character)",
      'job.yaml:9:17: tasks[0].always_run: expected true or false, got "yes"',
      'job.yaml:10:37: tasks[0].environment.BAD: expected a string, number or boolean',
    ]);
  });

  it('a key written without a value is null, reported where the value is missing', () => {
    expect(errorsOf(lines('job_type: empty', 'retry:', 'tasks:'))).toEqual([
      'job.yaml:2:7: retry: expected an integer, got null',
      'job.yaml:3:7: tasks: expected a list, got null',
    ]);
  });

  it('missing required keys, at the mapping that lacks them', () => {
    expect(errorsOf(lines('description: nothing', 'tasks:', '  - script: [echo a]'))).toEqual([
      "job.yaml:1:1: job_type: missing required key 'job_type'",
      "job.yaml:3:5: tasks[0].task_type: missing required key 'task_type'",
    ]);
  });

  it('a document that is not a mapping, an empty one, and YAML syntax errors', () => {
    expect(errorsOf('- a\n- b\n')).toEqual(['job.yaml:1:1: expected a mapping, got a list']);
    expect(errorsOf('')).toEqual(['job.yaml:1:1: empty definition: expected a mapping with job_type and tasks']);
    expect(errorsOf(lines('job_type: x', 'tasks: [', '  {task_type: a'))[0]).toMatch(/^job\.yaml:\d+:\d+: YAML syntax: /);
    expect(errorsOf(lines('job_type: x', 'job_type: y', 'tasks: []'))).toEqual(["job.yaml:2:1: duplicate key 'job_type'"]);
  });

  it('duplicate task types, at the second one', () => {
    const source = lines('job_type: dup', 'tasks:', '  - task_type: a', '    script: [echo 1]', '  - task_type: a', '    script: [echo 2]');
    expect(errorsOf(source)).toEqual(["job.yaml:5:16: tasks[1].task_type: duplicate task_type 'a': already used by tasks[0]"]);
  });

  it('references to unknown tasks in needs and every route', () => {
    const source = lines(
      'job_type: refs',
      'tasks:',
      '  - task_type: build',
      '    script: [make]',
      '  - task_type: test',
      '    script: [make test]',
      '    needs: [biuld]',
      '    on_completed: publsh',
      '    on_failed: FATAL',
      '    on_exit_code:',
      '      3: nowhere',
      '      4: EXECUTNG',
      '  - task_type: publish',
      '    script: [echo]',
      '    needs: [test]',
    );
    expect(errorsOf(source)).toEqual([
      "job.yaml:7:13: tasks[1].needs[0]: unknown task 'biuld' (did you mean 'build'?)",
      "job.yaml:8:19: tasks[1].on_completed: unknown task 'publsh' (did you mean 'publish'?)",
      "job.yaml:9:16: tasks[1].on_failed: unknown task 'FATAL' (on_failed names a task; route states belong in on_exit_code)",
      "job.yaml:11:10: tasks[1].on_exit_code.3: 'nowhere' is neither a task nor a route target (COMPLETED, FAILED, FATAL, EXECUTING, PAUSE_JOB, RESTART_JOB, RESTART_TASK, WAIT_FOR_APPROVAL, ERR_<CODE>)",
      "job.yaml:12:10: tasks[1].on_exit_code.4: 'EXECUTNG' is neither a task nor a route target (COMPLETED, FAILED, FATAL, EXECUTING, PAUSE_JOB, RESTART_JOB, RESTART_TASK, WAIT_FOR_APPROVAL, ERR_<CODE>) (did you mean 'EXECUTING'?)",
    ]);
  });

  it('dependency and route cycles, naming the cycle, at its first edge', () => {
    const source = lines(
      'job_type: cycles',
      'tasks:',
      '  - task_type: start',
      '    script: [echo]',
      '  - task_type: a',
      '    script: [echo]',
      '    needs: [start, c]',
      '  - task_type: b',
      '    script: [echo]',
      '    needs: [a]',
      '  - task_type: c',
      '    script: [echo]',
      '    needs: [b]',
      '  - task_type: self',
      '    script: [echo]',
      '    needs: [start]',
      '    on_failed: self',
    );
    expect(errorsOf(source)).toEqual([
      'job.yaml:10:13: tasks[2].needs[0]: cycle: a -> b -> c -> a',
      'job.yaml:17:16: tasks[4].on_failed: cycle: self -> self',
    ]);
  });

  it('unreachable tasks in a chain and in a DAG, but not always_run ones', () => {
    const chain = lines(
      'job_type: chain',
      'tasks:',
      '  - task_type: first',
      '    script: [echo]',
      '    on_completed: second',
      '  - task_type: second',
      '    script: [echo]',
      '  - task_type: orphan',
      '    script: [echo]',
      '  - task_type: cleanup',
      '    always_run: true',
      '    script: [echo]',
    );
    expect(errorsOf(chain)).toEqual([
      "job.yaml:8:16: tasks[2].task_type: task 'orphan' is unreachable: this definition is a chain (no needs), so it starts at 'first' and continues only by routes",
    ]);
    const dag = lines(
      'job_type: dag',
      'tasks:',
      '  - task_type: a',
      '    script: [echo]',
      '  - task_type: b',
      '    script: [echo]',
      '    needs: [a]',
      '  - task_type: c',
      '    always_run: true',
      '    script: [echo]',
      '    on_completed: d',
      '  - task_type: d',
      '    script: [echo]',
    );
    expect(errorsOf(dag)).toEqual([]);
  });

  it('no task that can start the job', () => {
    const source = lines('job_type: none', 'tasks:', '  - task_type: a', '    always_run: true', '    script: [echo]');
    expect(errorsOf(source)).toEqual([
      'job.yaml:3:3: tasks: no task can start the job: every task is always_run, has needs or is a route target',
    ]);
  });

  it('unknown methods against the queen methods, with a did-you-mean', () => {
    const source = lines('job_type: methods', 'tasks:', '  - task_type: a', '    method: SHEL', '    script: [echo]');
    expect(errorsOf(source)).toEqual([
      "job.yaml:4:13: tasks[0].method: unknown method 'SHEL' (did you mean 'SHELL'?); known: SHELL, DOCKER, KUBERNETES, HTTP_GET, HTTP_POST_FORM, HTTP_POST_JSON, HTTP_PUT_FORM, HTTP_PUT_JSON, HTTP_DELETE, WEBSOCKET, MESSAGING, FORK_JOB, AWAIT_FORKED_JOB, EXPIRE_ARTIFACTS, MANUAL",
    ]);
    const noop = lines('job_type: methods', 'tasks:', '  - task_type: a', '    method: NOOP');
    expect(errorsOf(noop, { methods: ['SHELL', 'NOOP'] })).toEqual([]);
    expect(errorsOf(noop)[0]).toContain("unknown method 'NOOP'");
  });

  it('more than 100 tasks', () => {
    const tasks = Array.from({ length: 101 }, (_, i) => [
      `  - task_type: t${i}`,
      '    script: [echo]',
      `    needs: [${i === 0 ? '' : `t${i - 1}`}]`,
    ]);
    const source = lines('job_type: big', 'tasks:', ...tasks.flat());
    expect(errorsOf(source)).toEqual(['job.yaml:3:3: tasks: too many items: 101 (at most 100)']);
  });

  it('bad durations of each kind, at the value', () => {
    const source = lines(
      'job_type: durations',
      'timeout: 0s',
      'delay_between_retries: 1.5',
      'tasks:',
      '  - task_type: a',
      '    script: [echo]',
      '    timeout: 5x',
      '    delay_between_retries: 1m1h',
      '    on_completed: b',
      '  - task_type: b',
      '    script: [echo]',
      '    timeout: 600h',
      '    delay_between_retries: -1',
      '    backoff: { strategy: exponential, max_delay: true }',
    );
    expect(errorsOf(source)).toEqual([
      'job.yaml:2:10: timeout: must be longer than zero',
      'job.yaml:3:24: delay_between_retries: expected a duration such as 30s, 5m, 1h30m, 250ms or integer seconds',
      'job.yaml:7:14: tasks[0].timeout: expected a duration such as 30s, 5m, 1h30m, 250ms or integer seconds',
      'job.yaml:8:28: tasks[0].delay_between_retries: expected a duration such as 30s, 5m, 1h30m, 250ms or integer seconds',
      'job.yaml:12:14: tasks[1].timeout: duration too long: at most 596h31m23s647ms',
      'job.yaml:13:28: tasks[1].delay_between_retries: expected a duration such as 30s, 5m, 1h30m, 250ms or integer seconds',
      'job.yaml:14:50: tasks[1].backoff.max_delay: expected a duration such as 30s, 5m, 1h30m, 250ms or integer seconds',
    ]);
  });

  it('a max_delay shorter than the delay it caps', () => {
    const source = lines(
      'job_type: backoff',
      'tasks:',
      '  - task_type: a',
      '    script: [echo]',
      '    delay_between_retries: 10s',
      '    backoff: { strategy: exponential, max_delay: 5s }',
      '    on_completed: b',
      '  - task_type: b',
      '    script: [echo]',
      '    backoff: { strategy: exponential, max_delay: 500ms }',
    );
    expect(errorsOf(source)).toEqual([
      'job.yaml:6:50: tasks[0].backoff.max_delay: max_delay is shorter than the delay between retries (10s)',
      'job.yaml:10:50: tasks[1].backoff.max_delay: max_delay is shorter than the delay between retries (1s)',
    ]);
  });

  it('priority and other numbers out of range', () => {
    const source = lines(
      'job_type: range',
      'priority: 101',
      'max_concurrency: 0',
      'tasks:',
      '  - task_type: a',
      '    script: [echo]',
      '    retry: -1',
    );
    expect(errorsOf(source)).toEqual([
      'job.yaml:2:11: priority: must be at most 100, got 101',
      'job.yaml:3:18: max_concurrency: must be at least 1, got 0',
      'job.yaml:7:12: tasks[0].retry: must be at least 0, got -1',
    ]);
  });

  it('SHELL without a script, HTTP without a url, and keys the method does not use', () => {
    const source = lines(
      'job_type: methods',
      'tasks:',
      '  - task_type: shell',
      '    url: http://127.0.0.1/',
      '  - task_type: get',
      '    method: HTTP_GET',
      '    on_completed: shell',
      '    script: [echo]',
      '    body: { a: 1 }',
      '  - task_type: post',
      '    method: HTTP_POST_JSON',
      '    needs: [get]',
      '    url: http://127.0.0.1/items',
      '    body: { a: 1 }',
    );
    expect(errorsOf(source)).toEqual([
      "job.yaml:3:5: tasks[0]: SHELL task 'shell' needs a script (a list of shell lines)",
      'job.yaml:4:5: tasks[0].url: url is not used by SHELL tasks: it belongs to HTTP methods',
      "job.yaml:5:5: tasks[1]: HTTP_GET task 'get' needs a url (or the URL as its first script line)",
      'job.yaml:9:5: tasks[1].body: body is not used by HTTP_GET tasks: only HTTP_POST_JSON, HTTP_PUT_JSON, HTTP_POST_FORM, HTTP_PUT_FORM send a body',
    ]);
  });

  it('invalid keys of on_exit_code, variables and environment, at the key', () => {
    const source = lines(
      'job_type: keys',
      'job_variables:',
      '  1st: x',
      'tasks:',
      '  - task_type: a',
      '    script: [echo]',
      '    environment: { MY-VAR: x }',
      '    on_exit_code:',
      '      OK: COMPLETED',
      '      "007": COMPLETED',
      '      007: COMPLETED',
    );
    expect(errorsOf(source)).toEqual([
      "job.yaml:3:3: job_variables.1st: invalid key '1st': variable names are letters, digits, '_', '-' and '.', starting with a letter or '_'",
      "job.yaml:7:20: tasks[0].environment.MY-VAR: invalid key 'MY-VAR': environment names are letters, digits and _, not starting with a digit",
      "job.yaml:9:7: tasks[0].on_exit_code.OK: invalid key 'OK': expected an exit code (e.g. 0, 404), COMPLETED, FAILED, APPROVED, REJECTED or ERR_<CODE>",
      "job.yaml:10:7: tasks[0].on_exit_code.007: invalid key '007': expected an exit code (e.g. 0, 404), COMPLETED, FAILED, APPROVED, REJECTED or ERR_<CODE>",
    ]);
  });

  it('reserved and malformed task names', () => {
    const source = lines('job_type: bad name', 'tasks:', '  - task_type: FATAL', '    script: [echo]');
    expect(errorsOf(source)).toEqual([
      "job.yaml:1:11: job_type: job_type must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit",
      "job.yaml:3:16: tasks[0].task_type: task_type 'FATAL' is reserved: COMPLETED, FAILED, FATAL, EXECUTING are route states",
    ]);
  });

  it('reports every problem of a document at once, in document order', () => {
    const source = lines(
      'job_type: many',
      'priority: 500',
      'tasks:',
      '  - task_type: a',
      '    method: SHEL',
      '    script: [echo]',
      '    timeout: soon',
      '    on_completed: zzz',
      '  - task_type: a',
      '    script: [echo]',
    );
    const error = (() => {
      try {
        parseJobDefinition(source, { fileName: 'many.yaml' });
      } catch (thrown) {
        return thrown;
      }
      throw new Error('expected a DefinitionValidationError');
    })();
    expect(error).toBeInstanceOf(DefinitionValidationError);
    const { errors, message } = error as DefinitionValidationError;
    expect(errors.map((e) => [e.line, e.column, e.path])).toEqual([
      [2, 11, 'priority'],
      [5, 13, 'tasks[0].method'],
      [7, 14, 'tasks[0].timeout'],
      [8, 19, 'tasks[0].on_completed'],
      [9, 16, 'tasks[1].task_type'],
    ]);
    expect(message.split('\n')).toHaveLength(5);
    expect(message.split('\n')[0]).toBe('many.yaml:2:11: priority: must be at most 100, got 500');
  });

  it('locates errors in JSON documents too', () => {
    const json = (extra: string) =>
      `{\n  "job_type": "json",\n  "tasks": [\n    { "task_type": "a", "script": ["echo"]${extra} }\n  ]\n}\n`;
    expect(errorsOf(json(''), { fileName: 'job.json' })).toEqual([]);
    expect(errorsOf(json(', "retyr": 1'), { fileName: 'job.json' })).toEqual([
      "job.json:4:45: tasks[0].retyr: unknown key 'retyr' (did you mean 'retry'?)",
    ]);
  });

  it('rejects oversized sources and non-string input', () => {
    expect(errorsOf(`job_type: x\n#${'x'.repeat(1024 * 1024)}\n`)).toEqual(['job.yaml:1:1: definition too large: more than 1048576 bytes']);
    expect(() => parseJobDefinition(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('dependencies means artifacts, needs is the join', () => {
  it('tells an old definition that used dependencies as a join to write needs', () => {
    const source = lines(
      'job_type: old',
      'tasks:',
      '  - task_type: a',
      '    script: [echo a]',
      '  - task_type: b',
      '    script: [echo b]',
      '    dependencies: [a]',
    );
    expect(errorsOf(source)).toEqual([
      "job.yaml:5:16: tasks[1].task_type: task 'b' is unreachable: this definition is a chain (no needs), so it starts at 'a' and continues only by routes; 'dependencies' only downloads artifacts (Formicary's and GitLab's meaning): to run after a, write needs: [a]",
    ]);
  });

  it('a task may download artifacts of its own earlier run or of a later task: no cycle, no join', () => {
    const source = lines(
      'job_type: artifacts',
      'tasks:',
      '  - task_type: build',
      '    script: [echo b]',
      '    artifacts: { paths: [out.txt], expires_after: 168h }',
      '    on_completed: test',
      '  - task_type: test',
      '    script: [cat out.txt]',
      '    dependencies: [test, build, report]',
      '    on_completed: report',
      '  - task_type: report',
      '    script: [echo r]',
    );
    expect(errorsOf(source)).toEqual([]);
  });
});
