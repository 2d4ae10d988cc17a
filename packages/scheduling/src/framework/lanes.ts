import type { PendingJob } from '../model.js';
import { Heap, Ordered } from './heap.js';
import type { LaneGroup, PassContext, Plugin } from './plugin.js';

type Level = NonNullable<Plugin['lane']>;
export type Order = (a: PendingJob, b: PendingJob) => number;

interface Node {
  readonly key: string;
  /** Live jobs under this node. */
  waiting: number;
  readonly children?: Map<string, Node>;
  heap?: Heap<PendingJob> | Ordered<PendingJob>;
  /** Heap entries of jobs removed since (lazy deletion): purged when they reach the top, compacted when many. */
  dead: number;
}

interface Entry {
  readonly job: PendingJob;
  /** The nodes from the root's child down to the job's leaf. */
  readonly path: readonly Node[];
}

/**
 * The waiting room: one heap per leaf lane, lanes nested by the profile's lane plugins (queue, then tenant, then
 * user...). Each pick walks the levels, asking each which group goes next, so a pick costs O(lanes + log n).
 *
 * Built once from a snapshot's jobs for a single pass, or kept between passes (`PendingQueue`): then jobs are added
 * and removed one at a time (O(log n) each) and whatever a pass took is put back when it ends.
 */
export class Lanes {
  private readonly root: Node;
  /** Kept between passes only: the live jobs by id (a heap entry is live while it is the object stored here). */
  private readonly live?: Map<string, Entry>;
  /** Jobs a pass took and has not admitted; `restore` puts them back. */
  private taken: Entry[] = [];
  private context?: PassContext;

  constructor(
    private readonly levels: readonly Level[],
    private order: Order,
    jobs: readonly PendingJob[] = [],
    options: { presorted?: boolean; persistent?: boolean } = {},
  ) {
    if (options.persistent) this.live = new Map();
    this.root = { key: '', waiting: 0, dead: 0, ...(levels.length === 0 ? {} : { children: new Map() }) };
    if (this.live) {
      for (const job of jobs) this.add(job);
      return;
    }
    const queue = (items: PendingJob[]) => (options.presorted ? new Ordered(items) : new Heap(items, this.order));
    this.root.waiting = jobs.length;
    if (levels.length === 0) {
      this.root.heap = queue([...jobs]);
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
    for (const [path, bucket] of buckets) {
      const nodes = this.pathOf(single ? [path] : path.split('\u0000'));
      nodes[nodes.length - 1]!.heap = queue(bucket);
      for (const node of nodes) node.waiting += bucket.length;
    }
  }

  get waiting(): number {
    return this.root.waiting;
  }

  /** The pass's context (lane choices read shares from it) and queue order. */
  bind(context: PassContext, order: Order): void {
    this.context = context;
    this.order = order;
  }

  has(id: string): boolean {
    return this.live?.has(id) ?? false;
  }

  get(id: string): PendingJob | undefined {
    return this.live?.get(id)?.job;
  }

  jobs(): IterableIterator<PendingJob> {
    const live = this.live ?? new Map<string, Entry>();
    return (function* () {
      for (const entry of live.values()) yield entry.job;
    })();
  }

  /** Adds a job, or replaces the job with its id (a hold's new retry time or degraded priority). */
  add(job: PendingJob): void {
    const live = this.requireLive();
    this.remove(job.id);
    const path = this.pathOf(this.levels.map((level) => level.key(job)));
    const leaf = path[path.length - 1] ?? this.root;
    leaf.heap ??= new Heap<PendingJob>([], (a, b) => this.order(a, b));
    (leaf.heap as Heap<PendingJob>).push(job);
    this.root.waiting++;
    for (const node of path) node.waiting++;
    live.set(job.id, { job, path });
  }

  remove(id: string): boolean {
    const live = this.requireLive();
    const entry = live.get(id);
    if (!entry) return false;
    live.delete(id);
    this.root.waiting--;
    for (const node of entry.path) node.waiting--;
    const leaf = entry.path[entry.path.length - 1] ?? this.root;
    leaf.dead++;
    // A heap mostly of removed jobs is rebuilt, so memory follows the live queue.
    if (leaf.dead > 64 && leaf.dead > leaf.waiting) this.rebuild(leaf);
    return true;
  }

  /** Rebuilds every heap: for orders that change with time or history (aging, SJF), once per pass. O(n). */
  reorder(): void {
    const visit = (node: Node) => {
      if (node.heap) this.rebuild(node);
      for (const child of node.children?.values() ?? []) visit(child);
    };
    visit(this.root);
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
    if (this.live) this.taken.push({ job, path: [...path] });
    return job;
  }

  /** Puts back what the pass took (kept between passes): membership changes only through add and remove. */
  restore(): void {
    const taken = this.taken;
    this.taken = [];
    for (const entry of taken) {
      if (this.live?.get(entry.job.id)?.job !== entry.job) continue;
      const leaf = entry.path[entry.path.length - 1] ?? this.root;
      (leaf.heap as Heap<PendingJob>).push(entry.job);
      this.root.waiting++;
      for (const node of entry.path) node.waiting++;
    }
  }

  /** Tells each level's plugin that its group was served. */
  served(path: readonly Node[], job: PendingJob, placements: Parameters<NonNullable<Level['served']>>[2]): void {
    for (const [depth, node] of path.entries()) this.levels[depth]?.served?.(node.key, job, placements, this.context!);
  }

  private requireLive(): Map<string, Entry> {
    if (!this.live) throw new Error('lanes built for one pass take no jobs: use a PendingQueue');
    return this.live;
  }

  private isLive(job: PendingJob): boolean {
    return this.live === undefined || this.live.get(job.id)?.job === job;
  }

  private rebuild(leaf: Node): void {
    // Heapified afresh (O(n)): the old layout may follow an order that has since moved.
    const items = leaf.heap!.drain().filter((job) => this.isLive(job));
    leaf.heap = new Heap(items, (a, b) => this.order(a, b));
    leaf.dead = 0;
  }

  private pathOf(keys: readonly string[]): Node[] {
    const path: Node[] = [];
    let node = this.root;
    keys.forEach((key, depth) => {
      const children = node.children!;
      let child = children.get(key);
      if (!child) {
        child = depth === keys.length - 1 ? { key, waiting: 0, dead: 0 } : { key, waiting: 0, dead: 0, children: new Map() };
        children.set(key, child);
      }
      path.push(child);
      node = child;
    });
    return path;
  }

  private walk(node: Node, depth: number): { path: Node[]; job: PendingJob } | undefined {
    if (!node.children) {
      const heap = node.heap;
      if (!heap) return undefined;
      let job = heap.peek();
      while (job !== undefined && !this.isLive(job)) {
        heap.pop();
        node.dead--;
        job = heap.peek();
      }
      return job === undefined ? undefined : { path: [], job };
    }
    const candidates: { node: Node; next: { path: Node[]; job: PendingJob } }[] = [];
    for (const child of node.children.values()) {
      if (child.waiting === 0) continue;
      const next = this.walk(child, depth + 1);
      if (next) candidates.push({ node: child, next });
    }
    if (candidates.length === 0) return undefined;
    const groups: LaneGroup[] = candidates.map(({ node: child, next }) => ({ key: child.key, head: next.job, waiting: child.waiting }));
    const chosen = candidates.length === 1 ? 0 : this.levels[depth]!.choose(groups, this.context!);
    const pick = candidates[Math.max(0, Math.min(candidates.length - 1, chosen))]!;
    return { path: [pick.node, ...pick.next.path], job: pick.next.job };
  }
}
