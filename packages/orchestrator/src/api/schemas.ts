import { type Static, type TSchema, type TUnsafe, Type } from 'typebox';
import { JOB_STATES, type JobState, TASK_STATES, type TaskState } from '../queen/service.js';

/**
 * The API's wire shapes: snake_case like Formicary's, dates as RFC 3339 strings. The same schemas
 * validate requests, serialize responses and make up the OpenAPI document.
 */

const DateTime = Type.String({ format: 'date-time' });

/**
 * Response shapes registered once under a name (`addSchema`) and referenced by it, so the OpenAPI
 * document lists them as components that client generators can name.
 */
const names = new Map<TSchema, string>();

function named<T extends TSchema>(id: string, schema: T): T {
  names.set(schema, id);
  return schema;
}

/** A reference to a named schema, typed as that schema. */
function ref<T extends TSchema>(schema: T): TUnsafe<Static<T>> {
  const id = names.get(schema);
  if (id === undefined) throw new Error('ref() needs a schema made by named()');
  return Type.Unsafe<Static<T>>({ $ref: id });
}

/** Every named schema with its `$id`, for `app.addSchema`. */
export function namedSchemas(): TSchema[] {
  return [...names].map(([schema, id]) => ({ ...schema, $id: id }));
}
const JobId = Type.String({ minLength: 1, maxLength: 200, description: 'the job request id' });
const JobType = Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$', description: 'a job type' });
const FreeObject = Type.Record(Type.String(), Type.Unknown());

export const JobStateSchema = Type.Unsafe<JobState>({ type: 'string', enum: [...JOB_STATES], description: 'a job state' });
export const TaskStateSchema = Type.Unsafe<TaskState>({ type: 'string', enum: [...TASK_STATES], description: 'a task state' });

export const FieldErrorSchema = named(
  'FieldError',
  Type.Object({
    field: Type.String(),
    in: Type.String(),
    message: Type.String(),
    location: Type.Optional(Type.String({ description: '`file:line:col` inside a definition' })),
  }),
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    errors: Type.Optional(Type.Array(ref(FieldErrorSchema))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details, sent as application/problem+json' },
);

export const IdParams = Type.Object({ id: JobId }, { additionalProperties: false });
export const JobTypeParams = Type.Object({ type: JobType }, { additionalProperties: false });

export const ApplyQuery = Type.Object(
  { file_name: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'file name used in error positions' })) },
  { additionalProperties: false },
);

export const ApplyResultSchema = named(
  'ApplyResult',
  Type.Object({ job_type: Type.String(), version: Type.Integer(), created: Type.Boolean() }),
);

export const DefinitionVersionSchema = named(
  'DefinitionVersion',
  Type.Object({
    job_type: Type.String(),
    version: Type.Integer(),
    created_at: DateTime,
    disabled: Type.Boolean(),
    description: Type.Optional(Type.String()),
    tasks: Type.Array(Type.String(), { description: 'task types in the order written' }),
    source: Type.String({ description: 'the text as applied' }),
  }),
);

export const DefinitionListSchema = Type.Object({ items: Type.Array(ref(DefinitionVersionSchema)) });
export const DefinitionDetailSchema = Type.Object({
  job_type: Type.String(),
  disabled: Type.Boolean(),
  latest: ref(DefinitionVersionSchema),
  versions: Type.Array(ref(DefinitionVersionSchema), { description: 'newest first' }),
});

export const SubmitBody = Type.Object(
  {
    job_type: JobType,
    params: Type.Optional(FreeObject),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    scheduled_at: Type.Optional(DateTime),
  },
  { additionalProperties: false },
);
export type SubmitBody = Static<typeof SubmitBody>;

/** A bulk submit: every request is checked, then all are created in one transaction or none. */
export const BulkSubmitBody = Type.Object(
  { requests: Type.Array(SubmitBody, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export type BulkSubmitBody = Static<typeof BulkSubmitBody>;

export const SubmitHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ maxLength: 255, description: 'a client-chosen key; a retry with the same key and body replays the first answer' }),
  ),
});

export const JobQueryString = Type.Object(
  {
    state: Type.Optional(JobStateSchema),
    job_type: Type.Optional(JobType),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "a previous page's next_cursor: the page continues after it (offset must be 0)",
      }),
    ),
    submitted_after: Type.Optional(
      Type.String({ format: 'date-time', description: 'only jobs submitted at or after this instant (RFC 3339)' }),
    ),
    submitted_before: Type.Optional(
      Type.String({ format: 'date-time', description: 'only jobs submitted before this instant (RFC 3339)' }),
    ),
    text: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: '\\S',
        description:
          'only jobs whose id starts with this text (ignoring case) or whose job type is exactly this text; params are not searched',
      }),
    ),
    count: Type.Optional(
      Type.Unsafe<'exact'>({
        type: 'string',
        enum: ['exact'],
        description: 'exact: the page also carries total, a count of every matching job (it reads them all); without it no count runs',
      }),
    ),
  },
  { additionalProperties: false },
);
export type JobQueryString = Static<typeof JobQueryString>;

export const CancelBody = Type.Union([
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
  Type.Null(),
]);
/** Pausing takes an optional reason, as cancelling does. */
export const PauseBody = CancelBody;
export const ResumeBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);
export const RestartBody = Type.Union([
  Type.Object({ hard: Type.Optional(Type.Boolean({ description: 'also re-run COMPLETED tasks' })) }, { additionalProperties: false }),
  Type.Null(),
]);

export const JobSummarySchema = named(
  'JobSummary',
  Type.Object({
    id: Type.String(),
    job_type: Type.String(),
    version: Type.Integer(),
    state: JobStateSchema,
    priority: Type.Integer(),
    params: FreeObject,
    submitted_at: DateTime,
    scheduled_at: DateTime,
    started_at: Type.Optional(DateTime),
    ended_at: Type.Optional(DateTime),
    retry: Type.Integer({ description: 'how many times the whole job was retried' }),
    reason: Type.Optional(Type.String()),
  }),
);

export const TaskAttemptSchema = named(
  'TaskAttempt',
  Type.Object({
    attempt: Type.Integer(),
    state: TaskStateSchema,
    exit_code: Type.Optional(Type.Integer()),
    started_at: DateTime,
    ended_at: Type.Optional(DateTime),
    reason: Type.Optional(Type.String()),
    ant_id: Type.Optional(Type.String()),
  }),
);

export const TaskDetailSchema = named(
  'TaskDetail',
  Type.Object({
    task_type: Type.String(),
    state: TaskStateSchema,
    exit_code: Type.Optional(Type.Integer()),
    outputs: Type.Record(Type.String(), Type.String()),
    attempts: Type.Array(ref(TaskAttemptSchema)),
    reason: Type.Optional(Type.String()),
  }),
);

export const TimelineEventSchema = named(
  'TimelineEvent',
  Type.Object({
    seq: Type.Integer(),
    job_id: Type.String(),
    task_type: Type.Optional(Type.String({ description: 'absent for job-level transitions' })),
    from: Type.Optional(Type.String()),
    to: Type.String(),
    at: DateTime,
    reason: Type.Optional(Type.String()),
  }),
);

export const JobDetailSchema = named(
  'JobDetail',
  Type.Object({
    ...JobSummarySchema.properties,
    tasks: Type.Array(ref(TaskDetailSchema)),
    timeline: Type.Array(ref(TimelineEventSchema)),
  }),
);

export const JobPageSchema = Type.Object({
  items: Type.Array(ref(JobSummarySchema)),
  total: Type.Optional(Type.Integer({ description: 'how many jobs match in all; only with count=exact' })),
  limit: Type.Integer(),
  offset: Type.Integer(),
  next_cursor: Type.Optional(Type.String({ description: 'where the next page starts; absent on the last page' })),
});

export const LogLineSchema = named(
  'LogLine',
  Type.Object({
    seq: Type.Integer(),
    job_id: Type.String(),
    task_type: Type.String(),
    attempt: Type.Integer(),
    stream: Type.Unsafe<'stdout' | 'stderr' | 'system'>({ type: 'string', enum: ['stdout', 'stderr', 'system'] }),
    at: DateTime,
    text: Type.String(),
  }),
);

export const LogQuery = Type.Object(
  {
    task: Type.Optional(Type.String({ minLength: 1, description: 'only this task type' })),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'only lines after this seq' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
    follow: Type.Optional(Type.Boolean({ description: 'stream as server-sent events until the job ends' })),
  },
  { additionalProperties: false },
);
export type LogQuery = Static<typeof LogQuery>;

export const EventQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'only events after this seq' })),
    follow: Type.Optional(Type.Boolean({ description: 'stream as server-sent events until the job ends' })),
  },
  { additionalProperties: false },
);
export type EventQuery = Static<typeof EventQuery>;

export const LogPageSchema = Type.Object({ items: Type.Array(ref(LogLineSchema)) });
export const TimelineSchema = Type.Object({ items: Type.Array(ref(TimelineEventSchema)), state: JobStateSchema });

export const AntSchema = named(
  'Ant',
  Type.Object({
    id: Type.String(),
    methods: Type.Array(Type.String()),
    tags: Type.Array(Type.String()),
    capacity: Type.Integer(),
    running: Type.Integer(),
    last_seen_at: DateTime,
    org: Type.Optional(Type.String({ description: 'the organisation whose jobs alone it runs; absent for a shared ant' })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    resources: Type.Optional(Type.Record(Type.String(), Type.String())),
    version: Type.Optional(Type.String()),
    remote: Type.Optional(Type.Boolean()),
    queen: Type.Optional(Type.String({ description: 'the queen it is connected to' })),
    connected: Type.Optional(Type.Boolean()),
    draining: Type.Optional(Type.Boolean()),
    assignments: Type.Optional(Type.Array(Type.String(), { description: 'running attempts, `jobId/taskType/attempt`' })),
  }),
);
export const AntListSchema = Type.Object({ items: Type.Array(ref(AntSchema)) });

export const HealthSchema = named(
  'Health',
  Type.Object({
    ok: Type.Boolean(),
    store: Type.String(),
    uptime_ms: Type.Number(),
    version: Type.String(),
  }),
);

/** Error responses every route may give, referenced by the shared `Problem` schema. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  const problem = { description: 'problem details (RFC 9457)', content: { 'application/problem+json': { schema: Type.Ref('Problem') } } };
  return Object.fromEntries(statuses.map((status) => [status, problem]));
}

export type ProblemWire = Static<typeof ProblemSchema>;
export type ApplyResultWire = Static<typeof ApplyResultSchema>;
export type DefinitionVersionWire = Static<typeof DefinitionVersionSchema>;
export type DefinitionDetailWire = Static<typeof DefinitionDetailSchema>;
export type JobSummaryWire = Static<typeof JobSummarySchema>;
export type JobDetailWire = Static<typeof JobDetailSchema>;
export type TaskDetailWire = Static<typeof TaskDetailSchema>;
export type TimelineEventWire = Static<typeof TimelineEventSchema>;
export type JobPageWire = Static<typeof JobPageSchema>;
export type LogLineWire = Static<typeof LogLineSchema>;
export type AntWire = Static<typeof AntSchema>;
export type HealthWire = Static<typeof HealthSchema>;

/** Responses that are one named shape. */
export const ApplyResultRef = ref(ApplyResultSchema);
export const JobSummaryRef = ref(JobSummarySchema);
export const JobDetailRef = ref(JobDetailSchema);
export const HealthRef = ref(HealthSchema);

/** A vote on a MANUAL task (issue 14). */
export const DecisionBody = Type.Union([
  Type.Object(
    {
      comment: Type.Optional(Type.String({ maxLength: 2000, description: 'why; shown in the timeline with the decision' })),
      approver: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 200,
          pattern: '\\S',
          description: "who votes, only without authentication (then self-declared); with it, the caller is the token's user",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
export const TaskParams = Type.Object(
  { id: JobId, task: Type.String({ minLength: 1, maxLength: 200, description: 'the task type' }) },
  { additionalProperties: false },
);

export const ApprovalVoteSchema = named(
  'ApprovalVote',
  Type.Object({
    approver: Type.String(),
    decision: Type.Union([Type.Literal('APPROVED'), Type.Literal('REJECTED')]),
    comment: Type.Optional(Type.String()),
    roles: Type.Array(Type.String()),
    at: DateTime,
  }),
);

export const ApprovalSchema = named(
  'Approval',
  Type.Object({
    job_id: Type.String(),
    task_type: Type.String(),
    state: TaskStateSchema,
    waiting: Type.Boolean({ description: 'true while the task waits for a decision' }),
    decision: Type.Optional(Type.Union([Type.Literal('APPROVED'), Type.Literal('REJECTED')])),
    reason: Type.Optional(Type.String()),
    due_at: Type.Optional(Type.Union([DateTime], { description: 'when the SLA ends, while it waits with one' })),
    policy: Type.Object({
      min_approvals: Type.Integer(),
      required_approvers: Type.Array(Type.String()),
      required_roles: Type.Array(Type.String()),
      unanimous: Type.Boolean(),
      sla_ms: Type.Optional(Type.Number()),
      timeout_action: Type.String(),
    }),
    votes: Type.Array(ref(ApprovalVoteSchema), { description: 'the votes of the current wait' }),
  }),
);

export type ApprovalWire = Static<typeof ApprovalSchema>;
export const ApprovalRef = ref(ApprovalSchema);
export const ApprovalListSchema = Type.Object({ items: Type.Array(ref(ApprovalSchema)) });
