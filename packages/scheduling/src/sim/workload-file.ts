import { z } from 'zod';
import { duration, resources } from '../plugins/duration.js';
import type { SimJob, Workload } from './workload.js';

/** A workload file that cannot be read; each issue names the line (CSV row or JSON field) and the column. */
export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
}

const jobSchema = z.strictObject({
  id: z.string().optional(),
  arrival: duration,
  duration: duration.refine((d) => d > 0, 'duration must be positive'),
  resources: resources.optional(),
  cpu: z.number().nonnegative().optional(),
  memory: z.number().nonnegative().optional(),
  tenant: z.string().min(1).default('default'),
  user: z.string().optional(),
  queue: z.string().optional(),
  jobType: z.string().optional(),
  priority: z.number().optional(),
  deadline: duration.optional(),
  estimatedRuntime: duration.optional(),
  tasks: z.number().int().positive().optional(),
});
const antSchema = z.strictObject({ id: z.string().min(1), capacity: resources, labels: z.record(z.string(), z.string()).optional() });
const fileSchema = z.strictObject({
  ants: z.array(antSchema).optional(),
  jobs: z.array(jobSchema),
  failures: z.array(z.strictObject({ antId: z.string(), at: duration, until: duration })).optional(),
  weights: z.record(z.string(), z.number().positive()).optional(),
});

const toJob = (row: z.output<typeof jobSchema>, index: number): SimJob => {
  const { cpu, memory, resources: given, id, deadline, ...rest } = row;
  return {
    ...rest,
    id: id ?? `j${index}`,
    resources: given ?? { cpu: cpu ?? 1, ...(memory !== undefined && { memory }) },
    // A deadline is relative to arrival in files: "must finish within".
    ...(deadline !== undefined && { deadline: row.arrival + deadline }),
  };
};

const NUMERIC = new Set(['cpu', 'memory', 'priority', 'tasks']);

/**
 * Reads a workload: JSON ({ jobs, ants?, failures?, weights? } or a bare array of jobs) or CSV with a header row
 * (arrival, duration, cpu, memory, tenant, deadline, priority, queue, user, jobType, estimatedRuntime, tasks).
 * Times are ms or durations such as 30s; a deadline is relative to arrival.
 */
export function parseWorkload(text: string, source: string): Omit<Workload, 'ants'> & { ants?: Workload['ants'] } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new WorkloadError(`${source}: not valid JSON: ${(error as Error).message}`);
    }
    const parsed = fileSchema.safeParse(Array.isArray(data) ? { jobs: data } : data);
    if (!parsed.success) {
      throw new WorkloadError(parsed.error.issues.map((i) => `${source}: ${i.path.join('.') || '(file)'}: ${i.message}`).join('\n'));
    }
    const { jobs, ants, failures, weights } = parsed.data;
    return { jobs: sortByArrival(jobs.map(toJob)), ...(ants && { ants }), ...(failures && { failures }), ...(weights && { weights }) };
  }
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const known = new Set(Object.keys(jobSchema.shape));
  const unknown = header.filter((h) => !known.has(h));
  if (unknown.length > 0) throw new WorkloadError(`${source}:1: unknown column(s) ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  const problems: string[] = [];
  const jobs: SimJob[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim());
    const row: Record<string, unknown> = {};
    header.forEach((name, c) => {
      const cell = cells[c];
      if (cell === undefined || cell === '') return;
      row[name] = NUMERIC.has(name) || /^\d+(\.\d+)?$/.test(cell) ? Number(cell) : cell;
    });
    if (typeof row.tenant === 'number') row.tenant = String(row.tenant);
    const parsed = jobSchema.safeParse(row);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const column = header.indexOf(String(issue.path[0])) + 1;
        problems.push(`${source}:${i + 2}${column > 0 ? `:${column}` : ''}: ${issue.path.join('.') || '(row)'}: ${issue.message}`);
      }
      return;
    }
    jobs.push(toJob(parsed.data, i));
  });
  if (problems.length > 0) throw new WorkloadError(problems.join('\n'));
  return { jobs: sortByArrival(jobs) };
}

const sortByArrival = (jobs: SimJob[]) => jobs.sort((a, b) => a.arrival - b.arrival);
