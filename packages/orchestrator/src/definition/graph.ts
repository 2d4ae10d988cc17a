import { CONTROL_TARGETS, ROUTE_STATES, type RouteState, type TaskDefinition } from './model.js';

/** The part of a task that shapes the graph: `needs` (the join) and routes; `dependencies` only move artifacts. */
export type GraphTask = Pick<TaskDefinition, 'taskType' | 'needs' | 'onCompleted' | 'onFailed' | 'onExitCode' | 'alwaysRun'>;
export interface Graph {
  readonly tasks: readonly GraphTask[];
}

export function isRouteState(value: string): value is RouteState {
  return (ROUTE_STATES as readonly string[]).includes(value);
}

/** A route target that is an action on the job (PAUSE_JOB, RESTART_TASK, ..., ERR_<CODE>) rather than a task or a state. */
export function isControlTarget(value: string): boolean {
  return (CONTROL_TARGETS as readonly string[]).includes(value) || /^ERR_[A-Z0-9_]+$/.test(value);
}

/** A route target that is not a task: a route state or a control target. */
export function isExitTarget(value: string): boolean {
  return isRouteState(value) || isControlTarget(value);
}

/** Every task a task can route to: on_completed, on_failed and the on_exit_code values that are not route states or control targets. */
export function routesOf(task: GraphTask): readonly string[] {
  const targets = [task.onCompleted, task.onFailed, ...Object.values(task.onExitCode)];
  return [...new Set(targets.filter((target): target is string => target !== undefined && !isExitTarget(target)))];
}

/** Tasks that some route leads to. */
export function routeTargets(definition: Graph): ReadonlySet<string> {
  return new Set(definition.tasks.flatMap(routesOf));
}

/** A definition without any `needs` is a Formicary chain: tasks follow only by routes. */
export function isChain(definition: Graph): boolean {
  return definition.tasks.every((task) => task.needs.length === 0);
}

/**
 * The tasks that start when a job starts. A chain starts at its first task; a DAG at every task
 * with no `needs` that no route leads to. `always_run` tasks never start a job: with
 * neither needs nor a route to them they run at its end.
 */
export function startTasks(definition: Graph): readonly string[] {
  const candidates = definition.tasks.filter((task) => !task.alwaysRun);
  if (isChain(definition)) {
    const first = candidates[0];
    return first === undefined ? [] : [first.taskType];
  }
  const targets = routeTargets(definition);
  return candidates.filter((task) => task.needs.length === 0 && !targets.has(task.taskType)).map((task) => task.taskType);
}

/** A directed edge, carrying whatever the caller needs to point at it. */
export interface Edge<T> {
  readonly from: string;
  readonly to: string;
  readonly via: T;
}

/**
 * Every cycle, one per strongly connected component, as the edges of one concrete loop through
 * it (Tarjan's algorithm, then a walk inside the component). Nodes are visited in the given order,
 * so the reported loop is stable.
 */
export function findCycles<T>(nodes: readonly string[], edges: readonly Edge<T>[]): Edge<T>[][] {
  const outgoing = new Map<string, Edge<T>[]>(nodes.map((node) => [node, []]));
  for (const edge of edges) outgoing.get(edge.from)?.push(edge);

  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, index.size);
    lowLink.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const { to } of outgoing.get(node) ?? []) {
      if (!index.has(to)) {
        connect(to);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(to)!));
      } else if (onStack.has(to)) {
        lowLink.set(node, Math.min(lowLink.get(node)!, index.get(to)!));
      }
    }
    if (lowLink.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of nodes) if (!index.has(node)) connect(node);

  const order = new Map(nodes.map((node, position) => [node, position]));
  return components
    .filter((component) => component.length > 1 || (outgoing.get(component[0]!) ?? []).some((edge) => edge.to === component[0]))
    .map((component) => loopThrough(new Set(component), outgoing, order))
    .sort((a, b) => order.get(a[0]!.from)! - order.get(b[0]!.from)!);
}

/** A loop from the component's first node back to it, by breadth-first search inside the component. */
function loopThrough<T>(
  component: ReadonlySet<string>,
  outgoing: ReadonlyMap<string, Edge<T>[]>,
  order: ReadonlyMap<string, number>,
): Edge<T>[] {
  const start = [...component].sort((a, b) => order.get(a)! - order.get(b)!)[0]!;
  const cameBy = new Map<string, Edge<T>>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const edge of outgoing.get(node) ?? []) {
      if (!component.has(edge.to)) continue;
      if (edge.to === start) {
        const loop = [edge];
        for (let at = node; at !== start; at = cameBy.get(at)!.from) loop.unshift(cameBy.get(at)!);
        return loop;
      }
      if (!cameBy.has(edge.to)) {
        cameBy.set(edge.to, edge);
        queue.push(edge.to);
      }
    }
  }
  throw new Error(`no loop through strongly connected component containing ${start}`);
}

/** Nodes reachable from `roots` along `edges`. */
export function reachable<T>(roots: Iterable<string>, edges: readonly Edge<T>[]): ReadonlySet<string> {
  const seen = new Set(roots);
  const queue = [...seen];
  for (let head = 0; head < queue.length; head++) {
    for (const edge of edges) {
      if (edge.from === queue[head] && !seen.has(edge.to)) {
        seen.add(edge.to);
        queue.push(edge.to);
      }
    }
  }
  return seen;
}
