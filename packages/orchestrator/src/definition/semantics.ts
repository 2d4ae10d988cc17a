import { cronProblem } from './cron.js';
import { formatDuration, parseDuration } from './duration.js';
import type { Finding } from './errors.js';
import { type Edge, findCycles, type GraphTask, isExitTarget, isRouteState, reachable, startTasks } from './graph.js';
import { CONTROL_TARGETS, ROUTE_STATES } from './model.js';
import { defaultBaseDelayMs, defaultMethod } from './normalize.js';
import type { Path } from './source.js';
import { suggestion } from './suggest.js';

/**
 * The rules a JSON Schema cannot state: names that must refer to tasks, a graph without cycles
 * whose every task can run, methods this queen knows, and fields that need each other. They read
 * the document leniently (whatever has the right shape), so they run even when the schema found
 * problems and every problem is reported in one pass.
 */

const HTTP_BODY_METHODS: ReadonlySet<string> = new Set(['HTTP_POST_JSON', 'HTTP_PUT_JSON', 'HTTP_POST_FORM', 'HTTP_PUT_FORM']);
const HTTP_METHODS: ReadonlySet<string> = new Set(['HTTP_GET', 'HTTP_DELETE', ...HTTP_BODY_METHODS]);
/** Methods that run script lines in a shell: on the ant, or in a container. */
const SCRIPT_METHODS: ReadonlySet<string> = new Set(['SHELL', 'DOCKER', 'KUBERNETES']);
const CONTAINER_METHODS: ReadonlySet<string> = new Set(['DOCKER', 'KUBERNETES']);
const EXIT_TARGET_LIST = [...ROUTE_STATES, ...CONTROL_TARGETS, 'ERR_<CODE>'];

type Raw = Readonly<Record<string, unknown>>;

/** A name a task refers to, and where it is written. */
interface Reference {
  readonly target: string;
  readonly path: Path;
  /** `need`: the join; `artifact`: a `dependencies` entry (artifact download); `await`: a FORK_JOB task awaited. */
  readonly kind: 'need' | 'artifact' | 'await' | 'route' | 'exit-route';
}

interface LenientTask {
  readonly index: number;
  readonly raw: Raw;
  readonly graph: GraphTask;
  readonly references: readonly Reference[];
}

export function semanticFindings(document: unknown, methods: readonly string[]): Finding[] {
  if (!isRecord(document) || !Array.isArray(document.tasks)) return [];
  const tasks = document.tasks.flatMap((raw, index) =>
    isRecord(raw) && typeof raw.task_type === 'string' ? [lenientTask(raw, index)] : [],
  );
  const findings: Finding[] = [];
  const cronIssue = typeof document.cron_trigger === 'string' ? cronProblem(document.cron_trigger) : undefined;
  if (cronIssue !== undefined) findings.push({ path: ['cron_trigger'], message: cronIssue });
  const names = new Map<string, number>();
  for (const task of tasks) {
    const name = task.graph.taskType;
    const first = names.get(name);
    if (first !== undefined) {
      findings.push({
        path: ['tasks', task.index, 'task_type'],
        message: `duplicate task_type '${name}': already used by tasks[${first}]`,
      });
    } else {
      names.set(name, task.index);
    }
    if (isRouteState(name)) {
      findings.push({
        path: ['tasks', task.index, 'task_type'],
        message: `task_type '${name}' is reserved: ${ROUTE_STATES.join(', ')} are route states`,
      });
    }
    findings.push(...methodFindings(task, methods), ...backoffFindings(task.raw, task.index));
  }
  const referenceFindings = tasks.flatMap((task) => unknownReferences(task, names));
  findings.push(...referenceFindings);
  const everyTaskNamed = tasks.length === document.tasks.length;
  findings.push(...graphFindings(tasks, everyTaskNamed && names.size === tasks.length && referenceFindings.length === 0));
  return findings;
}

function lenientTask(raw: Raw, index: number): LenientTask {
  const at = (...path: Path): Path => ['tasks', index, ...path];
  const references: Reference[] = [];
  const listed = (key: string, kind: Reference['kind']) => {
    const list = Array.isArray(raw[key]) ? (raw[key] as unknown[]) : [];
    list.forEach((target, position) => {
      if (typeof target === 'string') references.push({ target, path: at(key, position), kind });
    });
  };
  listed('needs', 'need');
  listed('dependencies', 'artifact');
  listed('await_forked_tasks', 'await');
  for (const key of ['on_completed', 'on_failed'] as const) {
    const target = raw[key];
    if (typeof target === 'string') references.push({ target, path: at(key), kind: 'route' });
  }
  const onExitCode = isRecord(raw.on_exit_code) ? raw.on_exit_code : {};
  for (const [code, target] of Object.entries(onExitCode)) {
    if (typeof target === 'string') references.push({ target, path: at('on_exit_code', code), kind: 'exit-route' });
  }
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    index,
    raw,
    references,
    graph: {
      taskType: raw.task_type as string,
      needs: references.filter((reference) => reference.kind === 'need').map((reference) => reference.target),
      onCompleted: text(raw.on_completed),
      onFailed: text(raw.on_failed),
      onExitCode: Object.fromEntries(Object.entries(onExitCode).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
      alwaysRun: raw.always_run === true,
    },
  };
}

function methodFindings(task: LenientTask, methods: readonly string[]): Finding[] {
  const { raw, index } = task;
  const method = raw.method === undefined ? defaultMethod(raw) : raw.method;
  if (typeof method !== 'string') return [];
  const findings: Finding[] = [];
  const name = task.graph.taskType;
  if (!methods.includes(method)) {
    findings.push({
      path: ['tasks', index, 'method'],
      message: `unknown method '${method}'${suggestion(method, methods)}; known: ${methods.join(', ')}`,
    });
  }
  const present = (key: string) => raw[key] !== undefined;
  const misplaced = (keys: readonly string[], why: string) =>
    keys
      .filter(present)
      .map((key): Finding => ({ path: ['tasks', index, key], at: 'key', message: `${key} is not used by ${method} tasks: ${why}` }));
  const needs = (condition: boolean, what: string) => {
    if (!condition) findings.push({ path: ['tasks', index], message: `${method} task '${name}' needs ${what}` });
  };
  const hasScript = Array.isArray(raw.script) && raw.script.length > 0;
  if (SCRIPT_METHODS.has(method)) {
    needs(hasScript, 'a script (a list of shell lines)');
    if (CONTAINER_METHODS.has(method)) needs(present('container'), 'a container with an image (container: { image: ... })');
    findings.push(...misplaced(['url', 'query'], 'it belongs to HTTP methods'), ...misplaced(['body'], 'only HTTP methods send a body'));
  } else if (HTTP_METHODS.has(method)) {
    // Formicary takes the URL from the first script line when `url` is absent.
    const first = hasScript ? (raw.script as unknown[])[0] : undefined;
    const scriptUrl = typeof first === 'string' && /^(?:https?:\/\/|\{\{)/.test(first.trim());
    needs(present('url') || scriptUrl, 'a url (or the URL as its first script line)');
    if (!HTTP_BODY_METHODS.has(method)) findings.push(...misplaced(['body'], `only ${[...HTTP_BODY_METHODS].join(', ')} send a body`));
  } else if (method === 'FORK_JOB') {
    const fanOut = isRecord(raw.fan_out) ? raw.fan_out : {};
    const subWorkflow = isRecord(raw.sub_workflow) ? raw.sub_workflow : {};
    needs(
      present('fork_job_type') || fanOut.fork_job_type !== undefined || subWorkflow.job_type !== undefined,
      'fork_job_type (the job type it starts)',
    );
  } else if (method === 'AWAIT_FORKED_JOB') {
    needs(
      Array.isArray(raw.await_forked_tasks) && raw.await_forked_tasks.length > 0,
      'await_forked_tasks (the FORK_JOB tasks it waits for)',
    );
  } else if (method === 'MESSAGING') {
    needs(present('messaging_request_queue'), 'messaging_request_queue (the subject the request goes to)');
  } else if (method === 'WEBSOCKET') {
    // A WEBSOCKET task is handed to an ant connected over the websocket protocol; it needs nothing else.
  }
  if (isRecord(raw.fan_out)) findings.push(...fanOutFindings(raw, raw.fan_out, index, method));
  if (present('approval_policy') && method !== 'MANUAL') {
    findings.push({
      path: ['tasks', index, 'approval_policy'],
      at: 'key',
      message: `approval_policy is used by MANUAL tasks only, not ${method}`,
    });
  }
  return findings;
}

/** Methods a task fan-out cannot repeat: they act once on the job, not on an item. */
const NO_FAN_OUT_METHODS: ReadonlySet<string> = new Set(['MANUAL', 'AWAIT_FORKED_JOB', 'EXPIRE_ARTIFACTS']);

/** A fan-out needs exactly one list, a method that can run per item, and forks jobs only as FORK_JOB. */
function fanOutFindings(raw: Raw, fanOut: Raw, index: number, method: string): Finding[] {
  const at = (...path: Path): Path => ['tasks', index, 'fan_out', ...path];
  const findings: Finding[] = [];
  const lists = (['source', 'items', 'matrix'] as const).filter((key) => fanOut[key] !== undefined);
  if (lists.length === 0) findings.push({ path: at(), message: 'needs the list it runs over: source, items or matrix' });
  if (lists.length > 1) findings.push({ path: at(lists[1]!), at: 'key', message: `fan_out takes one list, not ${lists.join(' and ')}` });
  if (NO_FAN_OUT_METHODS.has(method)) findings.push({ path: at(), at: 'key', message: `fan_out cannot repeat a ${method} task per item` });
  if (fanOut.fork_job_type !== undefined && method !== 'FORK_JOB') {
    findings.push({
      path: at('fork_job_type'),
      at: 'key',
      message: `fan_out.fork_job_type forks jobs: the task's method must be FORK_JOB, not ${method}`,
    });
  }
  for (const key of ['artifacts', 'report_stdout'] as const) {
    if (raw[key] !== undefined && raw[key] !== false) {
      findings.push({ path: ['tasks', index, key], at: 'key', message: `${key} is not collected from fan_out children (not built yet)` });
    }
  }
  return findings;
}

/** A cap below the base delay would silently shorten every wait. */
function backoffFindings(raw: Raw, index: number): Finding[] {
  const backoff = raw.backoff;
  if (!isRecord(backoff) || backoff.max_delay === undefined) return [];
  const maxDelay = durationOrUndefined(backoff.max_delay);
  const base =
    raw.delay_between_retries === undefined ? defaultBaseDelayMs(backoff.strategy) : durationOrUndefined(raw.delay_between_retries);
  if (maxDelay === undefined || base === undefined || maxDelay >= base) return [];
  return [
    {
      path: ['tasks', index, 'backoff', 'max_delay'],
      message: `max_delay is shorter than the delay between retries (${formatDuration(base)})`,
    },
  ];
}

function durationOrUndefined(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

function unknownReferences(task: LenientTask, names: ReadonlyMap<string, number>): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const { target, path, kind } of task.references) {
    if (kind === 'need' || kind === 'artifact' || kind === 'await') {
      const key = String(path.at(-2));
      if (seen.has(`${kind}:${target}`)) findings.push({ path, message: `'${target}' is listed twice in ${key}` });
      seen.add(`${kind}:${target}`);
    }
    if (names.has(target) || (kind === 'exit-route' && isExitTarget(target))) continue;
    if (kind === 'exit-route') {
      findings.push({
        path,
        message: `'${target}' is neither a task nor a route target (${EXIT_TARGET_LIST.join(', ')})${suggestion(target, [...names.keys(), ...ROUTE_STATES, ...CONTROL_TARGETS])}`,
      });
    } else {
      const why = kind === 'route' && isRouteState(target) ? ` (${path.at(-1)} names a task; route states belong in on_exit_code)` : '';
      findings.push({ path, message: `unknown task '${target}'${suggestion(target, names.keys())}${why}` });
    }
  }
  return findings;
}

/**
 * Cycles among the edges that resolve; then, when the graph is otherwise sound (every task named,
 * every name unique and resolved, no cycle), tasks that nothing starts: a typo'd route would make its real target
 * look unreachable, and one error for one mistake reads better.
 */
function graphFindings(tasks: readonly LenientTask[], resolved: boolean): Finding[] {
  const names = new Set(tasks.map((task) => task.graph.taskType));
  const edges: Edge<Path>[] = tasks.flatMap((task) =>
    task.references
      .filter(
        (reference) =>
          names.has(reference.target) &&
          reference.kind !== 'artifact' &&
          reference.kind !== 'await' &&
          !(reference.kind === 'exit-route' && isExitTarget(reference.target)),
      )
      .map((reference) =>
        reference.kind === 'need'
          ? { from: reference.target, to: task.graph.taskType, via: reference.path }
          : { from: task.graph.taskType, to: reference.target, via: reference.path },
      ),
  );
  const cycles = findCycles([...names], edges);
  if (cycles.length > 0 || !resolved) {
    return cycles.map((loop) => ({
      path: loop[0]!.via,
      message: `cycle: ${[...loop.map((edge) => edge.from), loop[0]!.from].join(' -> ')}`,
    }));
  }
  const graph = { tasks: tasks.map((task) => task.graph) };
  const starts = startTasks(graph);
  if (starts.length === 0) {
    return [{ path: ['tasks'], message: 'no task can start the job: every task is always_run, has needs or is a route target' }];
  }
  const roots = [...starts, ...tasks.filter((task) => task.graph.alwaysRun).map((task) => task.graph.taskType)];
  const seen = reachable(roots, edges);
  const chain = graph.tasks.every((task) => task.needs.length === 0);
  const hint = chain
    ? `this definition is a chain (no needs), so it starts at '${starts[0]}' and continues only by routes`
    : 'no start task leads to it';
  return tasks
    .filter((task) => !seen.has(task.graph.taskType))
    .map((task) => {
      const artifacts = task.references.filter((reference) => reference.kind === 'artifact').map((reference) => reference.target);
      // Definitions written for Myrmex before `needs` existed used `dependencies` as the join.
      const old =
        artifacts.length > 0 && task.graph.needs.length === 0
          ? `; 'dependencies' only downloads artifacts (Formicary's and GitLab's meaning): to run after ${artifacts.join(', ')}, write needs: [${artifacts.join(', ')}]`
          : '';
      return { path: ['tasks', task.index, 'task_type'], message: `task '${task.graph.taskType}' is unreachable: ${hint}${old}` };
    });
}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
