import type { PendingJob } from '../model.js';
import { Heap, Ordered } from './heap.js';
import type { LaneGroup, PassContext, Plugin } from './plugin.js';

type Level = NonNullable<Plugin['lane']>;

interface Node {
  readonly key: string;
  waiting: number;
  readonly children?: Map<string, Node>;
  readonly heap?: Heap<PendingJob> | Ordered<PendingJob>;
}

/**
 * The waiting room: one heap per leaf lane, lanes nested by the profile's lane plugins
 * (queue, then tenant, then user...). Each pick walks the levels, asking each which group goes next.
 */
export class Lanes {
  private readonly root: Node;

  constructor(
    jobs: readonly PendingJob[],
    private readonly levels: readonly Level[],
    order: (a: PendingJob, b: PendingJob) => number,
    private readonly context: PassContext,
    /** The jobs come in queue order already: keep it instead of building heaps. */
    presorted = false,
  ) {
    const queue = (items: PendingJob[]) => (presorted ? new Ordered(items) : new Heap(items, order));
    if (levels.length === 0) {
      this.root = { key: '', waiting: jobs.length, heap: queue([...jobs]) };
      return;
    }
    const buckets = new Map<string, PendingJob[]>();
    const single = levels.length === 1 ? levels[0]! : undefined;
    for (const job of jobs) {
      // One level (the common case) needs no joined path per job.
      const path = single ? single.key(job) : levels.map((level) => level.key(job)).join('\u0000');
      const bucket = buckets.get(path);
      if (bucket) bucket.push(job);
      else buckets.set(path, [job]);
    }
    this.root = { key: '', waiting: jobs.length, children: new Map() };
    for (const [path, bucket] of buckets) {
      const keys = single ? [path] : path.split('\u0000');
      let node = this.root;
      keys.forEach((key, depth) => {
        const children = node.children!;
        let child = children.get(key);
        if (!child) {
          child = depth === keys.length - 1 ? { key, waiting: 0, heap: queue(bucket) } : { key, waiting: 0, children: new Map() };
          children.set(key, child);
        }
        child.waiting += bucket.length;
        node = child;
      });
    }
  }

  get waiting(): number {
    return this.root.waiting;
  }

  /** The path of lane keys and the job that goes next, without taking it. */
  peek(): { path: Node[]; job: PendingJob } | undefined {
    return this.walk(this.root, 0);
  }

  /** Takes the job `peek` returned. */
  take(path: readonly Node[]): PendingJob | undefined {
    const leaf = path[path.length - 1] ?? this.root;
    const job = leaf.heap?.pop();
    if (job === undefined) return undefined;
    this.root.waiting--;
    for (const node of path) node.waiting--;
    return job;
  }

  /** Tells each level's plugin that its group was served. */
  served(path: readonly Node[], job: PendingJob, placements: Parameters<NonNullable<Level['served']>>[2]): void {
    for (const [depth, node] of path.entries()) this.levels[depth]?.served?.(node.key, job, placements, this.context);
  }

  private walk(node: Node, depth: number): { path: Node[]; job: PendingJob } | undefined {
    if (node.heap) {
      const job = node.heap.peek();
      return job === undefined ? undefined : { path: [], job };
    }
    const candidates: { node: Node; next: { path: Node[]; job: PendingJob } }[] = [];
    for (const child of node.children!.values()) {
      if (child.waiting === 0) continue;
      const next = this.walk(child, depth + 1);
      if (next) candidates.push({ node: child, next });
    }
    if (candidates.length === 0) return undefined;
    const groups: LaneGroup[] = candidates.map(({ node: child, next }) => ({ key: child.key, head: next.job, waiting: child.waiting }));
    const chosen = candidates.length === 1 ? 0 : this.levels[depth]!.choose(groups, this.context);
    const pick = candidates[Math.max(0, Math.min(candidates.length - 1, chosen))]!;
    return { path: [pick.node, ...pick.next.path], job: pick.next.job };
  }
}
