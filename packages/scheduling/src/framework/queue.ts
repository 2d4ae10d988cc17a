import type { PendingJob, Resources } from '../model.js';
import { Lanes } from './lanes.js';
import type { PassContext, Plugin } from './plugin.js';

interface Shape {
  readonly resources: Resources;
  count: number;
}

/**
 * Pending work kept between passes, indexed the way a profile reads it: a heap per lane (queue, tenant...) in
 * queue order. Add and remove jobs as they arrive and start (O(log n) each); a pass given the queue
 * (`schedulePass(snapshot, plugins, { queue })`) then costs O(lanes + decisions x log n) instead of reading every
 * pending job. A pass never changes membership: what it takes it puts back; the caller removes admitted jobs.
 */
export class PendingQueue {
  readonly lanes: Lanes;
  /** Distinct task requests with how many pending tasks ask for each: the least request without a scan. */
  private readonly shapes = new Map<string, Shape>();
  private least?: Record<string, number>;
  /** What the profile's order moves with: the time (aging), or only the mean runtimes of job types (SJF, laxity). */
  private readonly moves?: 'time' | 'history';
  private orderedAt?: number;
  /** Pending jobs without their own estimated runtime, per job type: whose order the type's mean decides. */
  private readonly byMean = new Map<string, number>();
  /** The mean runtime of each of those types when the heaps were last ordered. */
  private readonly orderedMeans = new Map<string, number | undefined>();

  constructor(readonly plugins: readonly Plugin[]) {
    this.lanes = new Lanes(
      plugins.flatMap((p) => (p.lane ? [p.lane] : [])),
      () => 0,
      [],
      { persistent: true },
    );
    const sorters = plugins.filter((p) => p.queueSort && p.volatileSort);
    if (sorters.some((p) => p.volatileSort === true)) this.moves = 'time';
    else if (sorters.length > 0) this.moves = 'history';
  }

  get size(): number {
    return this.lanes.waiting;
  }

  has(id: string): boolean {
    return this.lanes.has(id);
  }

  get(id: string): PendingJob | undefined {
    return this.lanes.get(id);
  }

  values(): IterableIterator<PendingJob> {
    return this.lanes.jobs();
  }

  /** Adds a job, or replaces the one with the same id (a new retry time, a degraded priority). */
  add(job: PendingJob): void {
    const old = this.lanes.get(job.id);
    if (old) this.forget(old);
    this.lanes.add(job);
    if (job.estimatedRuntime === undefined) this.byMean.set(job.jobType, (this.byMean.get(job.jobType) ?? 0) + 1);
    for (const task of job.tasks) {
      const key = shapeKey(task.resources);
      const shape = this.shapes.get(key);
      if (shape) shape.count++;
      else {
        this.shapes.set(key, { resources: task.resources, count: 1 });
        this.least = undefined;
      }
    }
  }

  remove(id: string): boolean {
    const job = this.lanes.get(id);
    if (!job) return false;
    this.forget(job);
    return this.lanes.remove(id);
  }

  /** The least any pending task asks, per resource: when even that fits nowhere, nothing does. O(distinct requests). */
  leastRequest(): Readonly<Record<string, number>> {
    if (this.least) return this.least;
    const least: Record<string, number> = {};
    let first = true;
    for (const { resources } of this.shapes.values()) {
      if (first) Object.assign(least, resources);
      else for (const key in least) least[key] = Math.min(least[key]!, resources[key] ?? 0);
      first = false;
    }
    this.least = least;
    return least;
  }

  /**
   * Called by a pass once it has bound its order: heaps are built on the first pass, and again per new time for
   * orders that move with it, or once a mean runtime they read has moved (O(job types with such jobs) to check).
   */
  prepare(now: number, context: Pick<PassContext, 'meanRuntime'>): void {
    // Until a first pass binds the profile's order, jobs are added unordered.
    const stale =
      this.orderedAt === undefined ||
      (this.moves === 'time' && this.orderedAt !== now) ||
      (this.moves === 'history' && this.meansMoved(context));
    this.orderedAt = now;
    if (!stale) return;
    if (this.moves === 'history') {
      this.orderedMeans.clear();
      for (const jobType of this.byMean.keys()) this.orderedMeans.set(jobType, context.meanRuntime(jobType));
    }
    this.lanes.reorder();
  }

  private meansMoved(context: Pick<PassContext, 'meanRuntime'>): boolean {
    for (const jobType of this.byMean.keys()) {
      // A type queued since the last ordering went in under whatever mean the pass before read: not known here.
      if (!this.orderedMeans.has(jobType) || this.orderedMeans.get(jobType) !== context.meanRuntime(jobType)) return true;
    }
    return false;
  }

  private forget(job: PendingJob): void {
    if (job.estimatedRuntime === undefined) {
      const left = (this.byMean.get(job.jobType) ?? 1) - 1;
      if (left === 0) {
        this.byMean.delete(job.jobType);
        this.orderedMeans.delete(job.jobType);
      } else this.byMean.set(job.jobType, left);
    }
    for (const task of job.tasks) {
      const key = shapeKey(task.resources);
      const shape = this.shapes.get(key);
      if (!shape) continue;
      if (--shape.count === 0) {
        this.shapes.delete(key);
        this.least = undefined;
      }
    }
  }
}

function shapeKey(resources: Resources): string {
  let key = '';
  for (const name of Object.keys(resources).sort()) key += `${name}=${resources[name]};`;
  return key;
}
