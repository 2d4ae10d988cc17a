import { z } from 'zod';

/** The orchestrator writes snake_case on the wire; accept camelCase too so either side can move first. */
function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), camelKeys(v)]),
  );
}

const At = z.iso.datetime({ offset: true });

const AttemptSchema = z.object({
  attempt: z.number().int().optional(),
  state: z.string(),
  exitCode: z.number().int().optional(),
  startedAt: At.optional(),
  endedAt: At.optional(),
  reason: z.string().optional(),
});

const TaskSchema = z.object({
  taskType: z.string().min(1),
  state: z.string(),
  exitCode: z.number().int().optional(),
  attempts: z.array(AttemptSchema).default([]),
  reason: z.string().optional(),
});

const EventSchema = z.object({
  seq: z.number().int(),
  taskType: z.string().optional(),
  from: z.string().optional(),
  to: z.string(),
  at: At,
  reason: z.string().optional(),
});

/** What `GET /api/jobs/requests/{id}` answers, as far as a post-mortem needs it. */
export const JobSchema = z.object({
  id: z.string().min(1),
  jobType: z.string().min(1),
  state: z.string(),
  submittedAt: At,
  startedAt: At.optional(),
  endedAt: At.optional(),
  reason: z.string().optional(),
  tasks: z.array(TaskSchema).default([]),
  timeline: z.array(EventSchema).default([]),
});
export type Job = z.infer<typeof JobSchema>;
export type JobTask = Job['tasks'][number];

export class JobFormatError extends Error {
  override readonly name = 'JobFormatError';
}

/** Validates an orchestrator job; the error names the first bad field (`tasks.0.exitCode: ...`). */
export function readJob(json: unknown): Job {
  const parsed = JobSchema.safeParse(camelKeys(json));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new JobFormatError(`job ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
}
