/**
 * Consumable resources (issue 14): Formicary's job and task `resources` ({ resource_type, value })
 * as named counters with a declared capacity (licences, bandwidth, any unit). Not to be confused
 * with the placement quantities (`resources: { cpu: 2, memory: 4096 }`) an ant advertises: those
 * are free capacity on one ant; these are units counted across every queen and ant.
 *
 * A hold is alive while what it was taken for runs, read from the job and task rows themselves, so
 * units come back on every exit path (success, failure, cancel, timeout, a reaped lease, a queen
 * that crashed) without any code on that path: a task hold lives while its task runs the attempt it
 * was taken for (or, for a short grace, until that attempt is claimed); a job hold lives until its
 * job ends. Dead holds are deleted by the next acquire of their pool.
 */
export interface ConsumableRequest {
  /** The pool: Formicary's `resource_type`. */
  readonly name: string;
  readonly units: number;
  /** A job's `resources` are held by the job until it ends; a task's by the attempt. */
  readonly scope: 'job' | 'task';
}

export interface ConsumableHolder {
  readonly jobId: string;
  /** Absent for a job hold. */
  readonly taskType?: string;
  readonly units: number;
  readonly since: Date;
}

export interface ConsumablePool {
  readonly name: string;
  readonly capacity: number;
  readonly inUse: number;
  readonly holders: readonly ConsumableHolder[];
}

export type AcquireResult =
  | { readonly acquired: true /** Names this acquire's task holds, for `release` if the claim is lost. */; readonly token: string }
  | {
      readonly acquired: false;
      readonly name: string;
      readonly inUse: number /** Absent: no capacity is declared. */;
      readonly capacity?: number;
    };

export interface ConsumableStore {
  /** Sets a pool's capacity (0 stops new holds; units held stay held until released). */
  declare(name: string, capacity: number, at: Date): Promise<void>;
  /** Every declared pool with its live holders, by name. */
  pools(now: number): Promise<readonly ConsumablePool[]>;
  /**
   * Takes every request's units for the task's next attempt, all or none, in one transaction that
   * locks the pools (in name order) so queens acquiring at once count one after the other and a
   * pool never goes over its capacity. A job hold the job already has is not taken twice.
   */
  acquire(jobId: string, taskType: string, requests: readonly ConsumableRequest[], now: number): Promise<AcquireResult>;
  /** Gives back the task holds an acquire took (its claim went to another queen, or failed). */
  release(token: string): Promise<void>;
}

/** How long a task hold counts before its attempt is claimed: a queen that crashed between the two loses it after this. */
export const UNCLAIMED_HOLD_MS = 30_000;

/** The sentence a waiting task shows: "waiting: resource License 2/2 in use". */
export function consumableWait(refused: Extract<AcquireResult, { acquired: false }>, units: number): string {
  if (refused.capacity === undefined) {
    return `waiting: resource ${refused.name} has no declared capacity (PUT /api/consumables/${refused.name} or MYRMEX_CONSUMABLES)`;
  }
  return `waiting: resource ${refused.name} ${refused.inUse}/${refused.capacity} in use (needs ${units})`;
}
