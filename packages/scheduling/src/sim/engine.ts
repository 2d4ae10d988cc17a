import { Cluster } from '../framework/cluster.js';
import { type PassOptions, schedulePass } from '../framework/pass.js';
import type { Plugin } from '../framework/plugin.js';
import { PendingQueue } from '../framework/queue.js';
import type { Ant, PendingJob, RunningAttempt, TaskSpec } from '../model.js';
import { fragmentation } from '../plugins/resources.js';
import { estimateWait } from '../wait-estimate.js';
import { EventQueue } from './event-queue.js';
import type { SimJob, Workload } from './workload.js';

export interface SimProfile {
  readonly name: string;
  readonly plugins: readonly Plugin[];
  readonly options: PassOptions;
}

export interface JobRecord {
  readonly id: string;
  readonly tenant: string;
  readonly arrival: number;
  readonly duration: number;
  readonly cpu: number;
  readonly deadline?: number;
  start?: number;
  end?: number;
  gaveUp?: string;
  /** What the wait estimate said at arrival. */
  estimate: number;
}

export interface AttemptRecord {
  readonly id: string;
  readonly jobId: string;
  readonly tenant: string;
  readonly antId: string;
  readonly cpu: number;
  readonly start: number;
  end: number;
  outcome: 'done' | 'preempted' | 'lost' | 'speculation-lost' | 'running';
  readonly speculative: boolean;
}

export interface SimResult {
  readonly profile: string;
  readonly jobs: readonly JobRecord[];
  readonly attempts: readonly AttemptRecord[];
  /** Starts, in order, for comparing runs. */
  readonly startOrder: readonly string[];
  readonly counters: {
    passes: number;
    decisions: number;
    preemptions: number;
    speculativeLaunches: number;
    holds: Record<string, number>;
    wastedCpuMs: number;
  };
  /** [time, fragmentation] sampled after passes. */
  readonly fragmentation: readonly (readonly [number, number])[];
  readonly totalCpu: number;
  readonly ants: number;
}

type Event =
  | { kind: 'arrive'; job: SimJob }
  | { kind: 'finish'; attemptId: string }
  | { kind: 'kill'; attemptId: string }
  | { kind: 'retry' }
  | { kind: 'watch' }
  | { kind: 'ant-down'; antId: string }
  | { kind: 'ant-up'; antId: string };

interface Live {
  readonly attempt: RunningAttempt;
  readonly record: AttemptRecord;
  readonly taskIndex: number;
}

export interface SimOptions {
  /** Called now and then with jobs finished (or given up) so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Run a pass at most once per `tick` ms, as a queen polling on an interval does; 0 (the default) runs one at
   * every instant something changed. A larger tick makes long runs faster and waits up to a tick longer.
   */
  readonly tick?: number;
  /** With a background plugin (speculation), look at running attempts at least this often, ms (default 1 s). */
  readonly watch?: number;
}

const HISTORY = 50;
const reasonKeys = new Map<string, string>();
/** A hold reason with its numbers blanked, to count holds by kind. */
const reasonKey = (reason: string) => {
  let key = reasonKeys.get(reason);
  if (key === undefined) {
    key = reason.replace(/\d+(\.\d+)?/g, 'N');
    // Reasons naming a task (a gang's) are each new: the cache stays bounded rather than keep every one.
    if (reasonKeys.size >= 10_000) reasonKeys.clear();
    reasonKeys.set(reason, key);
  }
  return key;
};

/** Replays a workload through a profile on a discrete-event clock: no processes, the very same plugins. */
export function simulate(workload: Workload, profile: SimProfile, options: SimOptions = {}): SimResult {
  const events = new EventQueue<Event>();
  for (const job of workload.jobs) events.push(job.arrival, { kind: 'arrive', job });
  for (const f of workload.failures ?? []) {
    events.push(f.at, { kind: 'ant-down', antId: f.antId });
    events.push(f.until, { kind: 'ant-up', antId: f.antId });
  }
  const ants = new Map<string, Ant>(workload.ants.map((a) => [a.id, { ...a }]));
  const totalCpu = workload.ants.reduce((sum, a) => sum + (a.capacity.cpu ?? 0), 0);
  const specs = new Map<string, SimJob>();
  const records = new Map<string, JobRecord>();
  const pending = new PendingQueue(profile.plugins);
  const live = new Map<string, Live>();
  /** The same ants and live attempts, indexed for the passes (kept as they change, not rebuilt per pass). */
  const cluster = new Cluster(profile.options.overcommit);
  for (const ant of ants.values()) cluster.setAnt(ant);
  /** Live attempt ids per job: preemption and a lost ant stop all of a job's attempts. */
  const byJob = new Map<string, Set<string>>();
  /** Live attempt ids per task: a task has two while a speculative copy runs. */
  const byTask = new Map<string, Set<string>>();
  const tried = new Set<string>();
  /** Holds per job; a job held only for room keeps its snapshot object (no copy per pass). */
  const attemptsOf = new Map<string, number>();
  const tasksLeft = new Map<string, Set<number>>();
  const polls = new Map<string, number>();
  const history: Record<string, number[]> = {};
  const attempts: AttemptRecord[] = [];
  const startOrder: string[] = [];
  const fragmentationSamples: [number, number][] = [];
  const counters: SimResult['counters'] = { passes: 0, decisions: 0, preemptions: 0, speculativeLaunches: 0, holds: {}, wastedCpuMs: 0 };
  const requests = workload.jobs.map((j) => j.resources.cpu ?? 0).sort((a, b) => a - b);
  // Fragmentation is measured against a large job (90th percentile request): small ones fit almost anywhere.
  const reference = { cpu: requests[Math.floor(requests.length * 0.9)] ?? 1 };
  const span = workload.jobs.length > 0 ? Math.max(1, workload.jobs[workload.jobs.length - 1]!.arrival - workload.jobs[0]!.arrival) : 1;
  const sampleEvery = span / 200;
  let nextSample = 0;
  let carry: Record<string, unknown> = {};
  let attemptSeq = 0;
  let finished = 0;
  let meanRuntime = 0;
  let completed = 0;

  const order = new Map(workload.jobs.map((job, i) => [job.id, i]));
  const toPending = (job: SimJob, extra: Partial<PendingJob> = {}): PendingJob => ({
    id: job.id,
    seq: order.get(job.id)!,
    jobType: job.jobType ?? 'job',
    tenant: job.tenant,
    ...(job.user !== undefined && { user: job.user }),
    ...(job.queue !== undefined && { queue: job.queue }),
    priority: job.priority ?? 0,
    submittedAt: job.arrival,
    ...(job.deadline !== undefined && { deadline: job.deadline }),
    ...(job.estimatedRuntime !== undefined && { estimatedRuntime: job.estimatedRuntime }),
    ...(job.speculativeBackup && { speculativeBackup: job.speculativeBackup }),
    ...(job.readyOnPoll !== undefined && { polls: polls.get(job.id) ?? 0, maxPolls: job.maxPolls ?? 20 }),
    gang: (job.tasks ?? 1) > 1,
    tasks: tasksOf(job),
    ...extra,
  });

  const tasksOf = (job: SimJob): TaskSpec[] => {
    const tasks: TaskSpec[] = [];
    for (let i = 0; i < (job.tasks ?? 1); i++) {
      tasks.push({ id: `${job.id}#${i}`, resources: job.resources, ...(job.preferredAnts && { preferredAnts: job.preferredAnts }) });
    }
    return tasks;
  };
  const end = (live_: Live, at: number, outcome: AttemptRecord['outcome']) => {
    live.delete(live_.attempt.id);
    cluster.end(live_.attempt.id);
    const siblings = byJob.get(live_.attempt.jobId);
    siblings?.delete(live_.attempt.id);
    if (siblings?.size === 0) byJob.delete(live_.attempt.jobId);
    const twins = byTask.get(live_.attempt.taskId);
    twins?.delete(live_.attempt.id);
    if (twins?.size === 0) byTask.delete(live_.attempt.taskId);
    live_.record.end = at;
    live_.record.outcome = outcome;
    if (outcome !== 'done') counters.wastedCpuMs += (at - live_.record.start) * live_.record.cpu;
  };
  /** Stops every attempt of a job and puts it back in the queue (preemption, a lost ant). */
  const requeue = (jobId: string, at: number, outcome: AttemptRecord['outcome']) => {
    for (const id of [...(byJob.get(jobId) ?? [])]) end(live.get(id)!, at, outcome);
    const spec = specs.get(jobId)!;
    tasksLeft.delete(jobId);
    pending.add(toPending(spec));
  };
  const start = (jobId: string, taskIndex: number, antId: string, at: number, speculative: boolean) => {
    const spec = specs.get(jobId)!;
    const id = `a${attemptSeq++}`;
    const firstTry = !speculative && !tried.has(jobId);
    tried.add(jobId);
    const duration = spec.duration * (firstTry && spec.straggle ? spec.straggle : 1);
    const attempt: RunningAttempt = {
      id,
      jobId,
      taskId: `${jobId}#${taskIndex}`,
      antId,
      jobType: spec.jobType ?? 'job',
      tenant: spec.tenant,
      ...(spec.user !== undefined && { user: spec.user }),
      ...(spec.queue !== undefined && { queue: spec.queue }),
      priority: spec.priority ?? 0,
      resources: spec.resources,
      startedAt: at,
      ...(spec.estimatedRuntime !== undefined && { estimatedRuntime: spec.estimatedRuntime }),
      ...(spec.speculativeBackup && { speculativeBackup: spec.speculativeBackup }),
      ...(speculative && { speculative: true }),
    };
    const record: AttemptRecord = {
      id,
      jobId,
      tenant: spec.tenant,
      antId,
      cpu: spec.resources.cpu ?? 0,
      start: at,
      end: at + duration,
      outcome: 'running',
      speculative,
    };
    attempts.push(record);
    live.set(id, { attempt, record, taskIndex });
    cluster.start(attempt);
    const siblings = byJob.get(jobId) ?? new Set<string>();
    byJob.set(jobId, siblings.add(id));
    const twins = byTask.get(attempt.taskId) ?? new Set<string>();
    byTask.set(attempt.taskId, twins.add(id));
    events.push(at + duration, { kind: 'finish', attemptId: id });
  };

  let now = 0;
  let dirty = false;
  const tick = options.tick ?? 0;
  let lastPass = Number.NEGATIVE_INFINITY;
  let tickQueued = false;
  const watching = profile.plugins.some((p) => p.background);
  let watchQueued = false;
  while (events.size > 0) {
    now = events.peekTime()!;
    while (events.size > 0 && events.peekTime() === now) {
      const { event } = events.pop()!;
      dirty = true;
      switch (event.kind) {
        case 'arrive': {
          const job = event.job;
          specs.set(job.id, job);
          const slots = Math.max(1, Math.floor(totalCpu / Math.max(1e-9, job.resources.cpu ?? 1)));
          const estimate = estimateWait({
            now,
            ahead: pending.size,
            running: live.size,
            slots,
            meanRuntime: completed > 0 ? meanRuntime : (job.estimatedRuntime ?? job.duration),
          });
          records.set(job.id, {
            id: job.id,
            tenant: job.tenant,
            arrival: job.arrival,
            duration: job.duration,
            cpu: (job.resources.cpu ?? 0) * (job.tasks ?? 1),
            estimate,
            ...(job.deadline !== undefined && { deadline: job.deadline }),
          });
          pending.add(toPending(job));
          break;
        }
        case 'finish': {
          const l = live.get(event.attemptId);
          if (!l) break;
          const { jobId } = l.attempt;
          end(l, now, 'done');
          // The first copy of a task to finish wins; its twin is stopped and whatever it reports later is refused.
          for (const twin of [...(byTask.get(l.attempt.taskId) ?? [])]) end(live.get(twin)!, now, 'speculation-lost');
          const left = tasksLeft.get(jobId)!;
          left.delete(l.taskIndex);
          if (left.size > 0) break;
          tasksLeft.delete(jobId);
          const spec = specs.get(jobId)!;
          const record = records.get(jobId)!;
          if (spec.readyOnPoll !== undefined && (polls.get(jobId) ?? 0) + 1 < spec.readyOnPoll) {
            // The sensor's condition does not hold yet: the EXECUTING route polls again later.
            polls.set(jobId, (polls.get(jobId) ?? 0) + 1);
            const interval = spec.pollInterval ?? 1_000;
            pending.add(toPending(spec, { notBefore: now + interval }));
            events.push(now + interval, { kind: 'retry' });
            break;
          }
          record.end = now;
          finished++;
          const runtime = now - l.record.start;
          const runs = history[spec.jobType ?? 'job'] ?? [];
          history[spec.jobType ?? 'job'] = runs;
          runs.push(runtime);
          if (runs.length > HISTORY) runs.shift();
          completed++;
          meanRuntime += (runtime - meanRuntime) / completed;
          if (finished % 1000 === 0) options.onProgress?.(finished, workload.jobs.length);
          break;
        }
        case 'kill': {
          const l = live.get(event.attemptId);
          if (!l) break;
          counters.preemptions++;
          requeue(l.attempt.jobId, now, 'preempted');
          break;
        }
        case 'ant-down':
        case 'ant-up': {
          const ant = ants.get(event.antId);
          if (!ant) break;
          ants.set(event.antId, { ...ant, schedulable: event.kind === 'ant-up' });
          cluster.setAnt(ants.get(event.antId)!);
          if (event.kind === 'ant-down') {
            const lost = new Set([...live.values()].filter((l) => l.attempt.antId === event.antId).map((l) => l.attempt.jobId));
            for (const jobId of lost) requeue(jobId, now, 'lost');
          }
          break;
        }
        case 'retry':
          break;
        case 'watch':
          watchQueued = false;
          break;
      }
    }
    if (!dirty || (pending.size === 0 && !profile.plugins.some((p) => p.background))) continue;
    if (tick > 0 && now < lastPass + tick) {
      if (!tickQueued) {
        tickQueued = true;
        events.push(lastPass + tick, { kind: 'retry' });
      }
      continue;
    }
    tickQueued = false;
    lastPass = now;
    dirty = false;
    const result = schedulePass({ now, pending: [], running: [], ants: [], history }, profile.plugins, {
      ...profile.options,
      carry,
      queue: pending,
      cluster,
    });
    carry = result.carry;
    counters.passes++;
    counters.decisions += result.decisions.length;
    for (const d of result.decisions) {
      switch (d.kind) {
        case 'admit':
          break;
        case 'place':
        case 'reserve-gang': {
          const placements = d.kind === 'place' ? [d.placement] : d.placements;
          const job = pending.get(d.jobId);
          if (!job) break;
          pending.remove(d.jobId);
          const record = records.get(d.jobId)!;
          record.start ??= now;
          startOrder.push(d.jobId);
          tasksLeft.set(d.jobId, new Set(placements.map((_, i) => i)));
          for (const [i, p] of placements.entries()) start(d.jobId, Number(p.taskId.split('#')[1] ?? i), p.antId, now, false);
          break;
        }
        case 'hold': {
          const job = pending.get(d.jobId);
          if (!job) break;
          counters.holds[reasonKey(d.reason)] = (counters.holds[reasonKey(d.reason)] ?? 0) + 1;
          // A job that found no room waits for the next change (a finish frees room); others wait for their retry time.
          const waitsForRoom = d.plugin === 'placement';
          attemptsOf.set(d.jobId, (attemptsOf.get(d.jobId) ?? 0) + 1);
          if (waitsForRoom && d.priority === undefined) break;
          pending.add({
            ...job,
            scheduleAttempts: attemptsOf.get(d.jobId)!,
            priority: d.priority ?? job.priority,
            ...(!waitsForRoom && { notBefore: d.retryAt }),
          });
          if (!waitsForRoom) events.push(d.retryAt, { kind: 'retry' });
          break;
        }
        case 'preempt': {
          const l = live.get(d.attemptId);
          if (!l) break;
          live.set(d.attemptId, { ...l, attempt: { ...l.attempt, terminating: true } });
          cluster.update(live.get(d.attemptId)!.attempt);
          events.push(now + Math.min(d.graceMs, Math.max(0, l.record.end - now)), { kind: 'kill', attemptId: d.attemptId });
          break;
        }
        case 'speculate': {
          const l = live.get(d.attemptId);
          if (!l) break;
          counters.speculativeLaunches++;
          start(l.attempt.jobId, l.taskIndex, d.antId, now, true);
          break;
        }
        case 'give-up': {
          if (!pending.remove(d.jobId)) break;
          records.get(d.jobId)!.gaveUp = d.reason;
          finished++;
          break;
        }
      }
    }
    // Stragglers become stragglers between events: a background plugin gets a look on a steady beat.
    if (watching && live.size > 0 && !watchQueued) {
      watchQueued = true;
      events.push(now + (options.watch ?? 1_000), { kind: 'watch' });
    }
    if (now >= nextSample) {
      nextSample = now + sampleEvery;
      const free = new Map([...ants.values()].map((ant) => [ant.id, { ...ant.capacity } as Record<string, number>]));
      for (const l of live.values()) {
        const left = free.get(l.attempt.antId);
        if (left) for (const k in l.attempt.resources) left[k] = (left[k] ?? 0) - (l.attempt.resources[k] ?? 0);
      }
      const states = [...ants.values()].map((ant) => ({ capacity: ant.capacity, free: free.get(ant.id)! }));
      fragmentationSamples.push([now, fragmentation(states, reference)]);
    }
  }
  for (const l of live.values()) l.record.outcome = 'running';
  options.onProgress?.(finished, workload.jobs.length);
  return {
    profile: profile.name,
    jobs: [...records.values()],
    attempts,
    startOrder,
    counters,
    fragmentation: fragmentationSamples,
    totalCpu,
    ants: ants.size,
  };
}
