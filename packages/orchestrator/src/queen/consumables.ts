import type { JobDefinition } from '../definition/model.js';
import { type AcquireResult, type ConsumableRequest, type ConsumableStore, consumableWait } from '../store/consumables.js';
import type { ReadyTask } from '../store/store.js';

/** The units a task needs: its job's Formicary `resources` (held by the job) and its own (held by the attempt). */
export function consumableRequests(definition: JobDefinition, taskType: string): ConsumableRequest[] {
  const task = definition.tasks.find((t) => t.taskType === taskType);
  const requests: ConsumableRequest[] = [];
  if (definition.resources) requests.push({ name: definition.resources.resource_type, units: definition.resources.value, scope: 'job' });
  if (task?.resources) requests.push({ name: task.resources.resource_type, units: task.resources.value, scope: 'task' });
  return requests;
}

/**
 * MYRMEX_CONSUMABLES: `License=2,NetworkBandwidth=100`, each pool's capacity. A bad entry is refused
 * naming it, so a typo does not leave tasks waiting on a pool nobody declared.
 */
export function parseConsumables(text: string): Record<string, number> {
  const pools: Record<string, number> = {};
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z][\w.\-/]*)=(\d+)$/.exec(entry);
    if (!match) throw new RangeError(`MYRMEX_CONSUMABLES: '${entry}' is not name=capacity (e.g. License=2)`);
    pools[match[1]!] = Number(match[2]);
  }
  return pools;
}

/**
 * The queen's side of consumable resources: before a page of placements is claimed, each task that
 * needs units takes them in the store (one transaction per task, counted across every queen); those
 * refused stay READY and are paged past, and the units of a claim another queen won go back.
 */
export class QueenConsumables {
  /** The latest refusal per job, for the scheduling status ("waiting: resource License 2/2 in use"). */
  private readonly waits = new Map<string, { reason: string; at: number }>();

  constructor(
    private readonly store: ConsumableStore,
    private readonly definition: (jobType: string, version: number) => Promise<JobDefinition>,
  ) {}

  /** The placements whose units are held now, and a function to give back those of placements left unclaimed. */
  async take<P extends { readonly task: ReadyTask }>(
    placements: readonly P[],
  ): Promise<{
    readonly allowed: readonly P[];
    readonly settle: (claimed: readonly { jobId: string; taskType: string }[]) => Promise<void>;
  }> {
    const now = Date.now();
    const tokens = new Map<P, string>();
    const allowed: P[] = [];
    // Pools found with no unit free (or never declared) in this page: the tasks after the first waiting one do not
    // each open a transaction to hear the same answer. Not for a job's units: its job may already hold them.
    const exhausted = new Map<string, Extract<AcquireResult, { acquired: false }>>();
    for (const placement of placements) {
      const { task } = placement;
      const requests = consumableRequests(await this.definition(task.jobType, task.version), task.taskType);
      if (requests.length === 0) {
        allowed.push(placement);
        continue;
      }
      const known = requests.find((r) => r.scope === 'task' && exhausted.has(r.name));
      const result = known === undefined ? await this.store.acquire(task.jobId, task.taskType, requests, now) : exhausted.get(known.name)!;
      if (!result.acquired && (result.capacity === undefined || result.inUse >= result.capacity)) exhausted.set(result.name, result);
      if (result.acquired) {
        this.waits.delete(task.jobId);
        tokens.set(placement, result.token);
        allowed.push(placement);
      } else {
        const units = requests.filter((r) => r.name === result.name).reduce((sum, r) => sum + r.units, 0);
        this.waits.set(task.jobId, { reason: consumableWait(result, units), at: now });
        if (this.waits.size > 10_000) this.waits.delete(this.waits.keys().next().value!);
      }
    }
    const settle = async (claimed: readonly { jobId: string; taskType: string }[]) => {
      for (const [placement, token] of tokens) {
        if (!claimed.some((c) => c.jobId === placement.task.jobId && c.taskType === placement.task.taskType))
          await this.store.release(token);
      }
    };
    return { allowed, settle };
  }

  /** Why the job's ready task could not start at this queen's last try, if it was for want of units. */
  waitReason(jobId: string): string | undefined {
    return this.waits.get(jobId)?.reason;
  }
}
