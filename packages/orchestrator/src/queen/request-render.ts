import { hasActions } from '../definition/gotemplate/parse.js';
import { checkJobDefinition, formatDefinitionError } from '../definition/index.js';
import type { JobDefinition, TaskDefinition } from '../definition/model.js';
import { visibleJobType } from '../domain/job-type-names.js';
import type { DefinitionVersion } from '../domain/types.js';
import type { JobRow } from '../store/store.js';
import { QueenError } from './errors.js';

/**
 * Formicary renders the whole definition with the request's params before it parses it, so a
 * `{{if .IsWindowsPlatform}}` around script lines, or `{{if lt .JobRetry 4}}`, picks its branch per
 * request (and per retry). A definition whose source holds template actions is rendered again here:
 * at submit with the request's params, to refuse params that make it invalid (errors at the line and
 * column of the original file), and when a task starts, with the params and the built-ins of that
 * moment, to take the task as that rendering has it. The task list and routes stay the applied
 * version's: params that change them are refused at submit.
 */

/** Built-ins of a whole-definition render (JobID is a task-time built-in only: Formicary's is a number, ours is not). */
export function requestTemplateData(job: Pick<JobRow, 'params' | 'retry' | 'startedAt'>, at: Date): Record<string, unknown> {
  return {
    ...job.params,
    JobRetry: job.retry,
    JobElapsedSecs: job.startedAt === undefined ? 0 : Math.max(0, Math.floor((at.getTime() - job.startedAt.getTime()) / 1000)),
    EpochSecs: Math.floor(at.getTime() / 1000),
    DateYear: at.getUTCFullYear(),
    DateMonth: at.getUTCMonth() + 1,
    DateDay: at.getUTCDate(),
  };
}

/**
 * Text a param may hold for the whole-file rendering to be used. The rendering pastes params into the
 * YAML before it is parsed (as Formicary does), so a param from a webhook body could otherwise add
 * script lines (a newline), close a quoted or flow item (quotes, `,`, brackets), cut a line short
 * (`#`), or hold `{{.Secrets.X}}` that the task's own rendering would then expand. Params are data:
 * a job with any other text runs its tasks as applied, where params are substituted into finished
 * strings once.
 */
const PASTEABLE = /^[^\n\r'"`#,[\]{}]*$/;

function pasteable(value: unknown): boolean {
  if (typeof value === 'string') return PASTEABLE.test(value);
  if (Array.isArray(value)) return value.every(pasteable);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).every(([key, item]) => PASTEABLE.test(key) && pasteable(item));
  return true;
}

/** Built-ins that change while a job runs: a rendering that reads them is never reused. */
const TIME_VARYING = /\.(?:JobElapsedSecs|EpochSecs|Date[A-Z])/;

export interface RequestRenderingsOptions {
  /** The methods a definition may name (the queen's). */
  readonly methods: () => readonly string[];
  readonly version: (jobType: string, version: number) => Promise<DefinitionVersion | undefined>;
}

export class RequestRenderings {
  private readonly cache = new Map<string, Promise<JobDefinition | undefined>>();
  private readonly versions = new Map<string, Promise<DefinitionVersion | undefined>>();

  constructor(private readonly options: RequestRenderingsOptions) {}

  private methods(): readonly string[] {
    return this.options.methods();
  }

  /**
   * The definition rendered with `data`, or undefined when an action cannot be evaluated on it (`lt`
   * of a string and a number): such a value template, typically a one-line skip_if, is judged where
   * it is used, with the message that names it, so the applied version stands in for this rendering.
   */
  private render(found: DefinitionVersion, data: Readonly<Record<string, unknown>>): JobDefinition | undefined {
    const result = checkJobDefinition(found.source, {
      params: data,
      fileName: `${visibleJobType(found.jobType)} (version ${found.version})`,
      methods: this.methods(),
    });
    if (!result.ok && result.errors.every((error) => error.message.startsWith('template: '))) return undefined;
    if (!result.ok) {
      throw new QueenError(
        'invalid',
        `with these params the definition is not valid:\n${result.errors.map(formatDefinitionError).join('\n')}`,
        'params',
      );
    }
    const rendered = result.definition.tasks.map((t) => t.taskType);
    const applied = found.definition.tasks.map((t) => t.taskType);
    if (rendered.join('\0') !== applied.join('\0')) {
      throw new QueenError(
        'invalid',
        `with these params the definition's tasks are ${rendered.join(', ')}, but version ${found.version} was applied with ${applied.join(', ')}: params may change what tasks do, not which tasks there are`,
        'params',
      );
    }
    return result.definition;
  }

  /** At submit: throws QueenError (400) when the request's params make the definition invalid or change its tasks. */
  check(found: DefinitionVersion, params: Readonly<Record<string, unknown>>, at: Date): void {
    if (hasActions(found.source)) this.render(found, requestTemplateData({ params, retry: 0 }, at));
  }

  /** When a task starts: `applied` as the definition rendered for this job, now, has it (as applied when the source has no actions). */
  async task(applied: TaskDefinition, job: JobRow, at: Date): Promise<TaskDefinition> {
    const key0 = `${job.jobType}@${job.version}`;
    let loading = this.versions.get(key0);
    if (loading === undefined) {
      loading = this.options.version(job.jobType, job.version);
      loading.catch(() => this.versions.delete(key0));
      this.versions.set(key0, loading);
    }
    const found = await loading;
    if (found === undefined || !hasActions(found.source) || !pasteable(job.params)) return applied;
    const varying = TIME_VARYING.test(found.source);
    const key = `${job.id}\0${job.retry}`;
    let rendered = varying ? undefined : this.cache.get(key);
    if (rendered === undefined) {
      rendered = Promise.resolve().then(() => this.render(found, requestTemplateData(job, at)));
      if (!varying) {
        // Bounded: a job's tasks start close together, so recent entries are the ones asked for again.
        if (this.cache.size >= 1000) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, rendered);
        rendered.catch(() => this.cache.delete(key));
      }
    }
    return (await rendered)?.tasks.find((t) => t.taskType === applied.taskType) ?? applied;
  }
}
