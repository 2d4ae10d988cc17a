import type { Decision, PendingJob, Placement, Resources, Snapshot, TaskSpec } from '../model.js';
import { accumulate, fits, format, sameResources } from '../resources.js';
import { accountKey, type Cluster, effectiveCapacity, keepMost, mostFreeOf, type Owner, reset, totalOf } from './cluster.js';
import { Lanes } from './lanes.js';
import type { AntState, Hold, PassContext, Plugin } from './plugin.js';
import type { PendingQueue } from './queue.js';
import { seededRandom } from './random.js';

/** A pass stops after this many decisions or examined jobs, so no profile can hold the caller forever. */
export interface Budget {
  readonly maxDecisions?: number;
  readonly maxExamined?: number;
  /** Asked between jobs; true ends the pass early (the caller's clock, not ours). */
  readonly shouldYield?: () => boolean;
}

export interface PassOptions {
  readonly budget?: Budget;
  /** Default wait before a held job is retried, ms. */
  readonly retryMs?: number;
  /** Capacity multipliers per resource for burstable and best-effort work, e.g. { cpu: 1.5 }. */
  readonly overcommit?: Resources;
  readonly seed?: number;
  /**
   * The caller promises `pending` is already in the profile's queue order (as a store's ORDER BY gives it), so the
   * pass keeps that order instead of building heaps: a decision then costs O(lanes), not O(pending).
   */
  readonly presorted?: boolean;
  /** What plugins kept from the previous pass. */
  readonly carry?: Readonly<Record<string, unknown>>;
  /**
   * Pending work kept between passes (built with the same plugins): the pass reads it instead of
   * `snapshot.pending`, so a decision does not cost a walk over every pending job. Admitted jobs stay in it
   * until the caller removes them.
   */
  readonly queue?: PendingQueue;
  /**
   * Ants and running attempts kept between passes (built with the same overcommit): the pass reads ant state and
   * ledgers from it instead of `snapshot.ants` and `snapshot.running` (which must then be empty), so a pass no
   * longer costs a walk over every running attempt. What the pass books it gives back; the caller starts what it admits.
   */
  readonly cluster?: Cluster;
}

export interface PassResult {
  readonly decisions: Decision[];
  readonly examined: number;
  /** Jobs left unexamined because the budget ran out or no ant had room left. */
  readonly unexamined: number;
  readonly stoppedBy: 'queue-empty' | 'cluster-full' | 'budget' | 'yield';
  readonly carry: Record<string, unknown>;
}

const DEFAULT_BUDGET = { maxDecisions: 10_000, maxExamined: 20_000 };

/**
 * One scheduling pass: a snapshot in, decisions out. Pure (no clock, no I/O) and bounded by its budget.
 * Plugins run at the framework's extension points in profile order.
 */
export function schedulePass(snapshot: Snapshot, plugins: readonly Plugin[], options: PassOptions = {}): PassResult {
  const now = snapshot.now;
  const budget = { ...DEFAULT_BUDGET, ...options.budget };
  const retryMs = options.retryMs ?? 5_000;
  const carried: Record<string, unknown> = { ...options.carry };
  const cluster = options.cluster;
  if (cluster && (snapshot.ants.length > 0 || snapshot.running.length > 0)) {
    throw new Error('schedulePass: with a cluster, ants and running attempts come from it; the snapshot must list none');
  }
  if (cluster && !sameResources(cluster.overcommit, options.overcommit)) {
    throw new Error('schedulePass: the cluster was built for another overcommit');
  }
  /**
   * Resources and distinct jobs per account. From a snapshot: everything running, then this pass's placements.
   * With a cluster: only this pass's share, on top of the cluster's (a copy of its sum, and the jobs it lacks).
   */
  const allocated = new Map<string, Record<string, number>>();
  const counted = new Map<string, Set<string>>();
  /** Ledger kinds built so far (tenant, user, queue, type): each is built from what runs when a plugin first asks. */
  const built = new Set<string>();
  const chargeKind = (kind: string, owner: Owner, resources: Resources) => {
    const key = accountKey(kind, owner);
    if (key === undefined) return;
    let sum = allocated.get(key);
    if (!sum) {
      sum = { ...cluster?.account(kind, key)?.sum };
      allocated.set(key, sum);
    }
    accumulate(sum, resources);
    if (cluster?.account(kind, key)?.jobs.has(owner.jobId)) return;
    const jobs = counted.get(key) ?? new Set<string>();
    counted.set(key, jobs);
    jobs.add(owner.jobId);
  };

  const ants: AntState[] =
    cluster?.states ??
    snapshot.ants.map((ant, index) => {
      const capacity = effectiveCapacity(ant.capacity, options.overcommit);
      return { ant, index, capacity, free: { ...capacity }, rawFree: { ...ant.capacity }, residents: [], attempts: [] };
    });
  /** Ants of a cluster as they were before this pass booked anything on them: put back when it ends. */
  const booked = new Map<AntState, { free: Record<string, number>; rawFree: Record<string, number>; residents: number }>();
  /** The most any one schedulable ant has free, per resource: a task asking more fits nowhere, no scan needed. */
  let maxFree: Record<string, number> | undefined;
  const mostFree = () => {
    // A copy of the cluster's: the pass keeps its own up to date as it books.
    maxFree ??= cluster && booked.size === 0 ? { ...cluster.mostFree() } : mostFreeOf(ants);
    return maxFree;
  };
  const occupy = (state: AntState, resident: { jobId: string; jobType: string }, resources: Resources) => {
    if (maxFree && !keepMost(maxFree, state, resources, -1)) maxFree = undefined;
    if (cluster && !booked.has(state)) {
      booked.set(state, { free: { ...state.free }, rawFree: { ...state.rawFree }, residents: state.residents.length });
    }
    accumulate(state.free, resources, -1);
    accumulate(state.rawFree, resources, -1);
    state.residents.push(resident);
  };
  const vacate = (state: AntState, job: { id: string; jobType: string }, resources: Resources) => {
    if (maxFree && !keepMost(maxFree, state, resources, 1)) maxFree = undefined;
    accumulate(state.free, resources);
    accumulate(state.rawFree, resources);
    const at = state.residents.findLastIndex((r) => r.jobId === job.id);
    if (at >= 0) state.residents.splice(at, 1);
  };
  // What runs is charged to its accounts only when a plugin first asks for that kind (fcfs never does).
  const ledger = (key: string) => {
    const kind = key.slice(0, key.indexOf(':'));
    if (built.has(kind)) return kind;
    built.add(kind);
    if (!cluster) for (const attempt of snapshot.running) chargeKind(kind, attempt, attempt.resources);
    for (const [owner, resources] of placedThisPass) chargeKind(kind, owner, resources);
    return kind;
  };
  const placedThisPass: [Owner, Resources][] = [];
  if (!cluster) {
    const antById = new Map(ants.map((state) => [state.ant.id, state]));
    for (const attempt of snapshot.running) {
      const state = antById.get(attempt.antId);
      if (!state) continue;
      occupy(state, attempt, attempt.resources);
      state.attempts.push(attempt);
    }
  }
  const total = cluster?.total() ?? totalOf(ants);

  const meanCache = new Map<string, number | undefined>();
  const random = seededRandom((options.seed ?? 1) ^ Math.floor(now));
  const context: PassContext = {
    snapshot,
    now,
    ants,
    total,
    allocated: (key) => {
      const kind = ledger(key);
      return allocated.get(key) ?? cluster?.account(kind, key)?.sum ?? {};
    },
    count: (key) => {
      const kind = ledger(key);
      return (cluster?.account(kind, key)?.jobs.size ?? 0) + (counted.get(key)?.size ?? 0);
    },
    running: () => cluster?.running() ?? snapshot.running,
    meanRuntime: (jobType) => {
      if (!meanCache.has(jobType)) {
        const runs = snapshot.history?.[jobType];
        meanCache.set(jobType, runs && runs.length > 0 ? runs.reduce((a, b) => a + b, 0) / runs.length : undefined);
      }
      return meanCache.get(jobType);
    },
    carry: <T>(plugin: string, initial: () => T): T => {
      if (!(plugin in carried)) carried[plugin] = initial();
      return carried[plugin] as T;
    },
    victims: new Set(),
    random,
  };

  const sorters = plugins.filter((p) => p.queueSort);
  const order = (a: PendingJob, b: PendingJob) => {
    for (const plugin of sorters) {
      const verdict = plugin.queueSort!(a, b, context);
      if (verdict !== 0) return verdict;
    }
    return a.submittedAt - b.submittedAt || (a.seq ?? 0) - (b.seq ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  };
  const admitters = plugins.filter((p) => p.admit);
  const preFilters = plugins.filter((p) => p.preFilter);
  const filters = plugins.filter((p) => p.filter);
  const scorers = plugins.filter((p) => p.score);
  const permits = plugins.filter((p) => p.permit);
  const postFilters = plugins.filter((p) => p.postFilter);
  const backoffs = plugins.filter((p) => p.backoff);

  const isDue = (job: PendingJob) => job.notBefore === undefined || job.notBefore <= now;
  const queue = options.queue;
  if (queue && (queue.plugins.length !== plugins.length || queue.plugins.some((p, i) => p !== plugins[i]))) {
    throw new Error('schedulePass: the queue was built for other plugins');
  }
  const lanes =
    queue?.lanes ??
    new Lanes(
      plugins.flatMap((p) => (p.lane ? [p.lane] : [])),
      order,
      snapshot.pending,
      options.presorted ? { presorted: true } : {},
    );
  lanes.bind(context, order);
  queue?.prepare(now, context);

  /** Picks the ant for one task, or says why none. */
  const choose = (job: PendingJob, task: TaskSpec, exclude?: string): AntState | string => {
    let best: AntState | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    let resourceMisses = 0;
    let eligible = 0;
    if (!fits(task.resources, mostFree())) return `no ant has resources ${format(task.resources)}`;
    const reasons = new Map<string, number>();
    const guaranteed = task.qos === 'guaranteed';
    for (const state of ants) {
      if (state.ant.schedulable === false || state.ant.id === exclude) continue;
      eligible++;
      if (!fits(task.resources, state.free) || (guaranteed && !fits(task.resources, state.rawFree))) {
        resourceMisses++;
        continue;
      }
      let rejected: string | undefined;
      for (const plugin of filters) {
        rejected = plugin.filter!(job, task, state, context);
        if (rejected !== undefined) break;
      }
      if (rejected !== undefined) {
        reasons.set(rejected, (reasons.get(rejected) ?? 0) + 1);
        continue;
      }
      if (scorers.length === 0) return state;
      let score = 0;
      for (const plugin of scorers) score += (plugin.weight ?? 1) * plugin.score!(job, task, state, context);
      if (score > bestScore) {
        bestScore = score;
        best = state;
      }
    }
    if (best) return best;
    if (eligible === 0) return 'no schedulable ant';
    if (reasons.size === 0 || resourceMisses === eligible) return `no ant has resources ${format(task.resources)}`;
    return [...reasons.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  };

  const decisions: Decision[] = [];
  /** Requests that found no ant with room: a job asking at least as much in every resource cannot fit either. */
  const tooBig: Resources[] = [];
  const plainTask = (job: PendingJob) => {
    const task = job.tasks[0];
    return job.tasks.length === 1 && task && !task.affinity && !task.preferredAnts && task.qos !== 'guaranteed' ? task : undefined;
  };
  // The least any due task asks, per resource: when even that fits on no ant, nothing else can either.
  let leastRequest: Record<string, number> | undefined;
  const least = () => {
    // Over every pending job, due or not: a lower bound, so the pass may go on, never stop early.
    if (queue) return queue.leastRequest();
    if (leastRequest) return leastRequest;
    leastRequest = {};
    let firstTask = true;
    for (const job of snapshot.pending) {
      if (!isDue(job)) continue;
      for (const task of job.tasks) {
        if (firstTask) Object.assign(leastRequest, task.resources);
        else for (const key in leastRequest) leastRequest[key] = Math.min(leastRequest[key]!, task.resources[key] ?? 0);
        firstTask = false;
      }
    }
    return leastRequest;
  };

  const hold = (job: PendingJob, verdict: Hold, plugin: string) => {
    if (verdict.giveUp) {
      decisions.push({ kind: 'give-up', jobId: job.id, reason: verdict.reason });
      return;
    }
    let final: Hold = verdict;
    for (const p of backoffs) {
      const adjusted = p.backoff!(job, final, context);
      if (adjusted) final = { ...final, ...adjusted, reason: final.reason };
    }
    decisions.push({
      kind: 'hold',
      jobId: job.id,
      reason: final.reason,
      retryAt: final.retryAt ?? now + retryMs,
      plugin,
      ...(final.priority !== undefined && final.priority !== job.priority ? { priority: final.priority } : {}),
    });
  };

  let examined = 0;
  let stoppedBy: PassResult['stoppedBy'] = 'queue-empty';
  let unexamined = 0;
  // A queue kept between passes gets back whatever this pass took, even when a plugin throws.
  try {
    while (lanes.waiting > 0) {
      if (decisions.length >= budget.maxDecisions || examined >= budget.maxExamined) {
        stoppedBy = 'budget';
        break;
      }
      if (budget.shouldYield?.()) {
        stoppedBy = 'yield';
        break;
      }
      // A full cluster ends the pass, unless a post-filter could make room by preemption.
      // The head job is always examined, so a pass says why the queue waits.
      if (examined > 0 && postFilters.length === 0 && !fits(least(), mostFree())) {
        stoppedBy = 'cluster-full';
        break;
      }
      const next = lanes.peek();
      if (!next) break;
      const job = lanes.take(next.path)!;
      // Jobs not yet due (scheduled_at, a hold's retry time) are passed over without counting against the budget.
      if (!isDue(job)) continue;
      examined++;

      const gate = (list: readonly Plugin[], call: (p: Plugin) => Hold | undefined): boolean => {
        for (const plugin of list) {
          const verdict = call(plugin);
          if (verdict) {
            hold(job, verdict, plugin.name);
            return false;
          }
        }
        return true;
      };
      if (!gate(admitters, (p) => p.admit!(job, context))) continue;
      if (!gate(preFilters, (p) => p.preFilter!(job, context))) continue;

      const plain = plainTask(job);
      const known = plain && tooBig.find((request) => fits(request, plain.resources));
      let failure: string | undefined = known ? `no ant has resources ${format(plain.resources)}` : undefined;
      const placements: Placement[] = [];
      const placedOn: AntState[] = [];
      const resident = { jobId: job.id, jobType: job.jobType };
      if (!failure) {
        for (const task of job.tasks) {
          const chosen = choose(job, task);
          if (typeof chosen === 'string') {
            failure = job.tasks.length > 1 ? `task ${task.id}: ${chosen}` : chosen;
            if (plain && chosen.startsWith('no ant has resources') && tooBig.length < 16) tooBig.push(plain.resources);
            break;
          }
          // Reserved at once so that the job's next task sees this one (gang members, anti-affinity).
          occupy(chosen, resident, task.resources);
          placements.push({ taskId: task.id, antId: chosen.ant.id, resources: task.resources });
          placedOn.push(chosen);
        }
      }
      let verdict: Hold | undefined;
      let verdictPlugin = 'placement';
      if (failure) verdict = { reason: failure };
      else {
        for (const plugin of permits) {
          verdict = plugin.permit!(job, placements, context);
          if (verdict) {
            verdictPlugin = plugin.name;
            break;
          }
        }
      }
      if (verdict) {
        for (const [i, state] of placedOn.entries()) vacate(state, job, placements[i]!.resources);
        if (failure) {
          let preempted = false;
          for (const plugin of postFilters) {
            const outcome = plugin.postFilter!(job, context);
            if (outcome) {
              decisions.push(...outcome.decisions);
              hold(job, outcome.hold, plugin.name);
              preempted = true;
              break;
            }
          }
          if (preempted) continue;
        }
        hold(job, verdict, verdictPlugin);
        continue;
      }
      decisions.push({ kind: 'admit', jobId: job.id });
      if (job.gang && placements.length > 1) decisions.push({ kind: 'reserve-gang', jobId: job.id, placements });
      else for (const placement of placements) decisions.push({ kind: 'place', jobId: job.id, placement });
      const owner: Owner = { jobId: job.id, tenant: job.tenant, user: job.user, queue: job.queue, jobType: job.jobType };
      for (const placement of placements) {
        placedThisPass.push([owner, placement.resources]);
        for (const kind of built) chargeKind(kind, owner, placement.resources);
      }
      lanes.served(next.path, job, placements);
    }
    if (stoppedBy === 'queue-empty' && lanes.waiting > 0) stoppedBy = 'budget';
    unexamined = lanes.waiting;
    const backgroundPlace = (job: PendingJob, task: TaskSpec, exclude: string): AntState | undefined => {
      const chosen = choose(job, task, exclude);
      if (typeof chosen === 'string') return undefined;
      occupy(chosen, { jobId: job.id, jobType: job.jobType }, task.resources);
      return chosen;
    };
    for (const plugin of plugins) if (plugin.background) decisions.push(...plugin.background(context, backgroundPlace));
  } finally {
    lanes.restore();
    // Bookings go back exactly as they were (copies, not subtractions, so no rounding is left behind).
    for (const [state, before] of booked) {
      reset(state.free, before.free);
      reset(state.rawFree, before.rawFree);
      state.residents.length = before.residents;
    }
  }

  return { decisions, examined, unexamined, stoppedBy, carry: carried };
}

/** The attempts a decision list stops, for callers that apply decisions in memory (the simulator, tests). */
export function preemptedAttempts(decisions: readonly Decision[]): Set<string> {
  return new Set(decisions.flatMap((d) => (d.kind === 'preempt' ? [d.attemptId] : [])));
}
