import type { Resources, SpeculativeBackup } from '../model.js';

/** One job of a workload: when it arrives, how long it really runs, what it asks for. Times in ms. */
export interface SimJob {
  readonly id: string;
  readonly arrival: number;
  /** How long an attempt really takes (unknown to the scheduler, which sees `estimatedRuntime` and history). */
  readonly duration: number;
  readonly resources: Resources;
  readonly tenant: string;
  readonly user?: string;
  readonly queue?: string;
  readonly jobType?: string;
  readonly priority?: number;
  /** Absolute deadline. */
  readonly deadline?: number;
  readonly estimatedRuntime?: number;
  /** Tasks that must start together (a gang), each asking `resources`. */
  readonly tasks?: number;
  readonly preferredAnts?: readonly string[];
  /** The first attempt is a straggler: it takes `duration x straggle`. */
  readonly straggle?: number;
  readonly speculativeBackup?: SpeculativeBackup;
  /** A polling sensor: its condition holds on this poll (1-based); earlier polls route back to EXECUTING. */
  readonly readyOnPoll?: number;
  readonly pollInterval?: number;
  readonly maxPolls?: number;
}

export interface SimAnt {
  readonly id: string;
  readonly capacity: Resources;
  readonly labels?: Readonly<Record<string, string>>;
}

/** An ant that goes down at `at` (its attempts are lost) and comes back at `until`. */
export interface AntFailure {
  readonly antId: string;
  readonly at: number;
  readonly until: number;
}

export interface Workload {
  readonly jobs: readonly SimJob[];
  readonly ants: readonly SimAnt[];
  readonly failures?: readonly AntFailure[];
  /** Tenant weights, for the fairness index. */
  readonly weights?: Readonly<Record<string, number>>;
}
