import type { JobDefinition } from '../definition/model.js';
import type { ReadyTask, TaskKind } from '../store/store.js';
import { placementNeeds } from './placement.js';
import { type AntSlot, canRun, type Placement } from './policy.js';

/** What the scheduler does with a kind of task on one ant. */
export type KindVerdict =
  /** The store may pick and claim it for the ant as it comes (no resources to meter, no consumable units). */
  | 'take'
  /** The ant could run it, but the scheduler must place it (resources, consumable units). */
  | 'place'
  /** The ant can never run it (method, tags, labels, taints, size). */
  | 'never';

interface Known {
  readonly kind: TaskKind;
  /** Undefined when its definition or task is gone: no ant runs it. */
  readonly placement?: Omit<Placement, keyof ReadyTask>;
  readonly plain: boolean;
  /** The job's timeout, which a claim of this kind starts. */
  readonly jobTimeoutMs?: number;
}

/** Kinds remembered at most; past it the oldest is forgotten (and learnt again when it comes back). */
const MAX_KINDS = 1_000;

const keyOf = (k: TaskKind) => `${k.jobType}@${k.version}\u0000${k.taskType}`;

/**
 * The kinds of task (job type, version, task type) this queen has seen ready, with what their definition says
 * about placement, so a pass can tell the store which kinds each ant takes as they come and which to pass over
 * (issue 11: the pick is part of the claim). A definition version never changes, so what is learnt stays true.
 */
export class TaskKinds {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly definition: (jobType: string, version: number) => Promise<JobDefinition>,
    /** False when a task of this definition needs consumable units (taken before its claim, by the scheduler's path). */
    private readonly plain: (definition: JobDefinition, taskType: string) => boolean = () => true,
  ) {}

  /** Learns the kinds of `tasks` not known yet; true when any was new. */
  async learn(tasks: readonly ReadyTask[]): Promise<boolean> {
    let learnt = false;
    for (const task of tasks) {
      const key = keyOf(task);
      if (this.known.has(key)) continue;
      const kind = { jobType: task.jobType, version: task.version, taskType: task.taskType };
      const definition = await this.definition(task.jobType, task.version).catch(() => undefined);
      const taskDefinition = definition?.tasks.find((t) => t.taskType === task.taskType);
      this.known.set(
        key,
        definition && taskDefinition
          ? {
              kind,
              placement: {
                method: taskDefinition.method,
                tags: [...new Set([...definition.tags, ...taskDefinition.tags])],
                needs: placementNeeds(definition, taskDefinition),
              },
              plain: this.plain(definition, task.taskType),
              ...(definition.timeoutMs === undefined ? {} : { jobTimeoutMs: definition.timeoutMs }),
            }
          : { kind, plain: false },
      );
      if (this.known.size > MAX_KINDS) this.known.delete(this.known.keys().next().value!);
      learnt = true;
    }
    return learnt;
  }

  verdict(ant: AntSlot, known: Known): KindVerdict {
    const { placement } = known;
    // The organisation is the job's, not the kind's: the store looks only at the ant's organisation's jobs.
    if (!placement || !canRun(ant, { ...placement, org: ant.org ?? '' })) return 'never';
    return known.plain && Object.keys(placement.needs.resources).length === 0 ? 'take' : 'place';
  }

  /** For one ant: the kinds it takes as they come (with the job's timeout), those it never runs, and whether any must be placed. */
  forAnt(ant: AntSlot): { take: (TaskKind & { jobTimeoutMs?: number })[]; skip: TaskKind[]; placed: boolean } {
    const take: (TaskKind & { jobTimeoutMs?: number })[] = [];
    const skip: TaskKind[] = [];
    let placed = false;
    for (const known of this.known.values()) {
      const verdict = this.verdict(ant, known);
      if (verdict === 'never') skip.push(known.kind);
      else if (verdict === 'place') placed = true;
      else take.push(known.jobTimeoutMs === undefined ? known.kind : { ...known.kind, jobTimeoutMs: known.jobTimeoutMs });
    }
    return { take, skip, placed };
  }

  /** Whether `task`'s kind must be placed by the scheduler on some of `ants` (it is known, and not 'take' or 'never' everywhere). */
  mustPlace(task: TaskKind, ants: readonly AntSlot[]): boolean {
    const known = this.known.get(keyOf(task));
    return known !== undefined && ants.some((ant) => this.verdict(ant, known) === 'place');
  }
}
