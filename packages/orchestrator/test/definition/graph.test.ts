import { describe, expect, it } from 'vitest';
import { isChain, parseJobDefinition, routesOf, routeTargets, startTasks } from '../../src/definition/index.js';
import { lines } from './helpers.js';

const chain = parseJobDefinition(
  lines(
    'job_type: chain',
    'tasks:',
    '  - task_type: cleanup',
    '    always_run: true',
    '    script: [echo]',
    '  - task_type: first',
    '    script: [echo]',
    '    on_completed: second',
    '    on_failed: alarm',
    '  - task_type: second',
    '    script: [echo]',
    '    on_exit_code: { 0: third, 2: EXECUTING, FAILED: FATAL, 3: alarm }',
    '  - task_type: third',
    '    script: [echo]',
    '  - task_type: alarm',
    '    script: [echo]',
  ),
);

const dag = parseJobDefinition(
  lines(
    'job_type: dag',
    'tasks:',
    '  - task_type: a',
    '    script: [echo]',
    '    on_failed: repair',
    '  - task_type: b',
    '    script: [echo]',
    '  - task_type: join',
    '    script: [echo]',
    '    needs: [a, b]',
    '  - task_type: repair',
    '    script: [echo]',
    '  - task_type: report',
    '    always_run: true',
    '    script: [echo]',
  ),
);

describe('graph of a definition', () => {
  it('a definition without needs is a chain that starts at its first task that is not always_run', () => {
    expect(isChain(chain)).toBe(true);
    expect(startTasks(chain)).toEqual(['first']);
  });

  it('a DAG starts at every task without needs that no route leads to, always_run ones excepted', () => {
    expect(isChain(dag)).toBe(false);
    expect(startTasks(dag)).toEqual(['a', 'b']);
  });

  it('route targets come from on_completed, on_failed and on_exit_code, never route states', () => {
    expect([...routeTargets(chain)].sort()).toEqual(['alarm', 'second', 'third']);
    expect(routesOf(chain.tasks[2]!)).toEqual(['third', 'alarm']);
    expect([...routeTargets(dag)]).toEqual(['repair']);
  });
});
