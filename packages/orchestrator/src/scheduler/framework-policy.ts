import type { Decision, PendingJob, Profile, RunningAttempt, Snapshot } from '@myrmex/scheduling';
import { Cluster, schedulePass, subtract } from '@myrmex/scheduling';
import type { JobRow, ReadyTask } from '../store/store.js';
import { antLabels } from './placement.js';
import type { AntSlot, Backup, HeldReason, Placement, SchedulingPolicy, Victim } from './policy.js';
import { type ClusterView, definitionFields, definitionKey, taskResources, tenantOf } from './view.js';

/** An ant wide enough for anything: admission and ordering are decided here, placement by `placeTask`. */
const EVERYWHERE = [{ id: 'queue', capacity: { slots: Number.MAX_SAFE_INTEGER } }];

/** Holds kept for `explain`, at most this many (the oldest reasons go first). */
const MAX_HOLDS = 10_000;

/**
 * The queen's scheduling policy as a thin loop over a @myrmex/scheduling profile: the profile orders (and may
 * hold back) due jobs and ready tasks, and chooses among the ants able to take a task (resource `slots`, ant
 * labels from its tags). What runs on every queen, runtime history and usage per tenant and queue come from the
 * store through `observe`, so fair share, DRF and capacity see real usage. The queen's store still applies every
 * admission and start atomically; the reasons of the last holds are kept for `explain`.
 */
export function frameworkPolicy(profile: Profile): SchedulingPolicy {
  let view: ClusterView | undefined;
  /**
   * What runs on every queen, kept between passes (as the simulator keeps it) so that ordering does not rebuild
   * every tenant's and queue's ledger from each running attempt per call: `observe` reports starts and ends.
   */
  const cluster = new Cluster(profile.options.overcommit);
  for (const ant of EVERYWHERE) cluster.setAnt(ant);
  const holds = new Map<string, HeldReason>();
  /** Attempts this queen gave a backup copy, until they no longer run (one backup per attempt). */
  const backedUp = new Set<string>();
  /** Attempts this queen asked to stop, seen as terminating until they no longer run (no victim is chosen twice). */
  const preempted = new Set<string>();

  const definitionOf = (jobType: string, version: number) => view?.definitions.get(definitionKey(jobType, version));
  const jobToPending = (job: JobRow): PendingJob => {
    const definition = definitionOf(job.jobType, job.version);
    const submittedAt = job.submittedAt.getTime();
    return {
      id: job.id,
      jobType: job.jobType,
      tenant: tenantOf(job.params, definition, job.org),
      ...(job.submittedBy !== undefined && { user: job.submittedBy }),
      priority: job.priority,
      submittedAt,
      seq: job.seq,
      ...definitionFields(definition, submittedAt),
      tasks: [{ id: 'admission', resources: {} }],
    };
  };
  const taskToPending = (task: ReadyTask): PendingJob => {
    const definition = definitionOf(task.jobType, task.version);
    const submittedAt = task.submittedAt.getTime();
    return {
      id: `${task.jobId}/${task.taskType}`,
      jobType: task.jobType,
      tenant: view?.tenants.get(task.jobId) ?? 'default',
      priority: task.priority,
      submittedAt,
      seq: task.jobSeq,
      ...definitionFields(definition, submittedAt),
      tasks: [{ id: task.taskType, resources: taskResources(definition, task.taskType) }],
    };
  };
  const tally = { holds: {} as Record<string, number>, preemptions: 0, speculativeLaunches: 0 };
  /** `running` is left out when the ants' capacity is already net of it (slots free). */
  const snapshot = (now: number, pending: PendingJob[], ants: Snapshot['ants'], withRunning = true): Snapshot => ({
    now,
    pending,
    running: withRunning ? (view?.running ?? []) : [],
    ants,
    ...(view && { usage: view.usage, history: view.history }),
  });

  /** The items the framework admits, in the order it admits them; held ones stay pending, their reasons kept. */
  function admitted<T>(items: readonly T[], toPending: (item: T) => PendingJob, jobIdOf: (item: T) => string, now: number): T[] {
    const pending = items.map(toPending);
    const byId = new Map(pending.map((job, i) => [job.id, items[i]!]));
    const { decisions } = schedulePass(snapshot(now, pending, [], false), profile.plugins, { ...profile.options, cluster });
    const chosen: T[] = [];
    for (const d of decisions as Decision[]) {
      const item = d.kind === 'admit' || d.kind === 'hold' ? byId.get(d.jobId) : undefined;
      if (item === undefined) continue;
      const jobId = jobIdOf(item);
      if (d.kind === 'admit') {
        holds.delete(jobId);
        chosen.push(item);
      } else if (d.kind === 'hold') {
        tally.holds[d.plugin] = (tally.holds[d.plugin] ?? 0) + 1;
        holds.delete(jobId);
        holds.set(jobId, { reason: d.reason, plugin: d.plugin, retryAt: d.retryAt, at: now });
        if (holds.size > MAX_HOLDS) holds.delete(holds.keys().next().value!);
      }
    }
    return chosen;
  }

  return {
    name: profile.name,
    observe: (next) => {
      view = next;
      keep(cluster, next.running);
    },
    explain: (jobId) => holds.get(jobId),
    drainTally: () => {
      const drained = { holds: { ...tally.holds }, preemptions: tally.preemptions, speculativeLaunches: tally.speculativeLaunches };
      tally.holds = {};
      tally.preemptions = 0;
      tally.speculativeLaunches = 0;
      return drained;
    },
    orderJobs: (jobs, now) => admitted(jobs, jobToPending, (job) => job.id, now),
    orderTasks: (tasks, now) => admitted(tasks, taskToPending, (task) => task.jobId, now),
    preempt: (task: Placement, candidates: readonly AntSlot[]): Victim[] => {
      if (!view) return [];
      const now = Date.now();
      const on = new Set(candidates.map((slot) => slot.id));
      const running = view.running
        .filter((attempt) => on.has(attempt.antId))
        .map((attempt) => ({ ...attempt, resources: { slots: 1 }, ...(preempted.has(attempt.id) && { terminating: true }) }));
      for (const id of preempted) if (!view.running.some((attempt) => attempt.id === id)) preempted.delete(id);
      const ants = candidates.map((slot) => ({
        id: slot.id,
        capacity: { slots: slot.capacity },
        labels: antLabels(slot),
      }));
      const pending = { ...taskToPending(task), tasks: [{ id: task.taskType, resources: { slots: 1 } }] };
      const { decisions } = schedulePass({ ...snapshot(now, [pending], ants, false), running }, profile.plugins, profile.options);
      const victims: Victim[] = [];
      for (const d of decisions) {
        if (d.kind !== 'preempt') continue;
        const attempt = running.find((a) => a.id === d.attemptId);
        if (!attempt) continue;
        preempted.add(attempt.id);
        const [, taskType, number] = attempt.id.split('/');
        victims.push({ jobId: attempt.jobId, taskType: taskType!, attempt: Number(number), reason: d.reason, graceMs: d.graceMs });
      }
      tally.preemptions += victims.length;
      return victims;
    },
    speculate: (slots: readonly AntSlot[], now: number): Backup[] => {
      if (!view) return [];
      const live = new Set(view.running.map((attempt) => attempt.id));
      for (const id of backedUp) if (!live.has(id)) backedUp.delete(id);
      // Slots only: the scheduler checks the chosen ant's labels and resources against the task's needs itself.
      const ants = slots.map((slot) => ({ id: slot.id, capacity: { slots: slot.capacity }, labels: antLabels(slot) }));
      const running = view.running.map((attempt) => ({
        ...attempt,
        resources: { slots: 1 },
        ...(backedUp.has(attempt.id) && { speculative: true }),
      }));
      const { decisions } = schedulePass({ ...snapshot(now, [], ants, false), running }, profile.plugins, profile.options);
      const backups: Backup[] = [];
      for (const d of decisions) {
        if (d.kind !== 'speculate' || backedUp.has(d.attemptId)) continue;
        const attempt = view.running.find((a) => a.id === d.attemptId);
        if (!attempt) continue;
        const [, taskType, number] = attempt.id.split('/');
        const seconds = ((now - attempt.startedAt) / 1000).toFixed(1);
        backups.push({
          jobId: attempt.jobId,
          taskType: taskType!,
          attempt: Number(number),
          antId: d.antId,
          reason: `straggler: running ${seconds} s on ant ${attempt.antId}`,
        });
      }
      return backups;
    },
    launched: (backup: Backup) => {
      backedUp.add(`${backup.jobId}/${backup.taskType}/${backup.attempt}`);
      tally.speculativeLaunches++;
    },
    placeTask: (task: Placement, candidates: readonly AntSlot[]) => {
      const wanted = task.needs.resources;
      const ants = candidates.map((slot) => ({
        id: slot.id,
        // What is free now; an ant that advertises no resources is not metered, so it has what the task asks.
        capacity: {
          ...(slot.resources && Object.keys(slot.resources).length > 0 ? subtract(slot.resources, slot.used ?? {}) : wanted),
          slots: slot.capacity - slot.running,
        },
        labels: antLabels(slot),
        // NoSchedule is settled before (canRun); with the `taints` plugin PreferNoSchedule scores the ants.
        ...(slot.taints && { taints: slot.taints }),
      }));
      // Affinity is matched against the ants' labels and their tags as labels (`tag: 'true'`), e.g. { key: gpu, operator: Exists }.
      const definition = definitionOf(task.jobType, task.version);
      const affinity =
        definition?.tasks.find((t) => t.taskType === task.taskType)?.scheduling?.affinity ?? definition?.scheduling?.affinity;
      const spec = {
        id: task.taskType,
        resources: { ...wanted, slots: 1 },
        ...(affinity && { affinity }),
        ...(task.needs.tolerations && { tolerations: task.needs.tolerations }),
      };
      const pending = { ...taskToPending(task), tasks: [spec] };
      const { decisions } = schedulePass(snapshot(Date.now(), [pending], ants, false), profile.plugins, profile.options);
      const placed = decisions.find((d) => d.kind === 'place');
      if (placed?.kind === 'place') return candidates.find((slot) => slot.id === placed.placement.antId);
      const held = decisions.find((d) => d.kind === 'hold');
      if (held?.kind === 'hold') holds.set(task.jobId, { reason: held.reason, plugin: held.plugin, retryAt: held.retryAt, at: Date.now() });
      return undefined;
    },
  };
}

/** Brings `cluster` to `running`: new attempts start, gone ones end, one newly told to stop is updated. */
function keep(cluster: Cluster, running: readonly RunningAttempt[]): void {
  const now = new Set<string>();
  for (const attempt of running) {
    now.add(attempt.id);
    const known = cluster.get(attempt.id);
    if (!known) cluster.start(attempt);
    else if (known.terminating !== attempt.terminating) cluster.update(attempt);
  }
  const gone = cluster.running().filter((attempt) => !now.has(attempt.id));
  for (const attempt of gone) cluster.end(attempt.id);
}
