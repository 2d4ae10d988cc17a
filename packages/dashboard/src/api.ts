import { authFetch } from './auth.js';

/** The queen's REST API as the dashboard reads it (same origin: the queen serves both). */

export interface JobSummary {
  id: string;
  job_type: string;
  version: number;
  state: string;
  priority: number;
  params: Record<string, unknown>;
  submitted_at: string;
  scheduled_at: string;
  started_at?: string;
  ended_at?: string;
  retry: number;
  reason?: string;
}
export interface Attempt {
  attempt: number;
  state: string;
  exit_code?: number;
  started_at: string;
  ended_at?: string;
  reason?: string;
  ant_id?: string;
}
export interface Task {
  task_type: string;
  state: string;
  exit_code?: number;
  outputs: Record<string, string>;
  attempts: Attempt[];
  reason?: string;
}
export interface TimelineEvent {
  seq: number;
  job_id: string;
  task_type?: string;
  from?: string;
  to: string;
  at: string;
  reason?: string;
}
export interface JobDetail extends JobSummary {
  tasks: Task[];
  timeline: TimelineEvent[];
}
export interface JobPage {
  items: JobSummary[];
  limit: number;
  /** Where the next (older) page starts; absent on the last page. */
  next_cursor?: string;
}
export interface LogLine {
  seq: number;
  task_type: string;
  attempt: number;
  stream: string;
  at: string;
  text: string;
}
export interface DefinitionVersion {
  job_type: string;
  version: number;
  description?: string;
  tasks: string[];
  source?: string;
  created_at: string;
  disabled: boolean;
}
export interface DefinitionDetail {
  job_type: string;
  disabled: boolean;
  latest: DefinitionVersion;
  versions: DefinitionVersion[];
}
export interface Ant {
  id: string;
  methods: string[];
  tags: string[];
  capacity: number;
  running: number;
  last_seen_at: string;
  labels?: Record<string, string>;
  resources?: Record<string, string>;
  version?: string;
  remote?: boolean;
  queen?: string;
  connected?: boolean;
  draining?: boolean;
  /** Running attempts, `jobId/taskType/attempt`. */
  assignments?: string[];
}
/** Why a job waits (GET …/scheduling): the scheduler's reason, who held it, and its estimated start. */
export interface WaitStatus {
  waiting: boolean;
  reason?: string;
  held_by?: string;
  ahead?: number;
  estimated_start_at?: string;
  retry_at?: string;
  tenant?: string;
}
export interface Artifact {
  task_type: string;
  attempt: number;
  path: string;
  digest: string;
  size: number;
  created_at: string;
  expires_at?: string;
}
/** A MANUAL task's approval (GET /api/jobs/requests/:id/approvals). */
export interface Approval {
  task_type: string;
  state: string;
  waiting: boolean;
  decision?: 'APPROVED' | 'REJECTED';
  reason?: string;
  due_at?: string;
  policy: {
    min_approvals: number;
    required_approvers: string[];
    required_roles: string[];
    unanimous: boolean;
    timeout_action: string;
  };
  votes: { approver: string; decision: 'APPROVED' | 'REJECTED'; comment?: string; at: string }[];
}
export interface Graph {
  nodes: { task_type: string; method: string; always_run: boolean; routes: string[] }[];
  edges: { from: string; to: string; kind: string }[];
}
export interface FieldError {
  field: string;
  message: string;
  location?: string;
  line?: number;
  column?: number;
}
export interface Problem {
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}
export interface PostmortemDraft {
  markdown: string;
  findings: { rule: string; severity: string; message: string; hint: string; line: number; column: number }[];
}

/** A quota of the organisation or of one member, with what it has used in its period (issue 17). */
export interface Quota {
  resource: 'running_jobs' | 'cpu_hours' | 'artifact_bytes';
  user?: string;
  hard?: number;
  soft?: number;
  period?: 'daily' | 'monthly';
  used: number;
  period_end?: string;
}

export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await authFetch(path, init);
  const text = await response.text();
  // JSON and problem+json are parsed; /metrics is text.
  const json = /json/.test(response.headers.get('content-type') ?? '');
  const body = text === '' ? undefined : json ? JSON.parse(text) : text;
  if (!response.ok) {
    throw new ApiProblem(
      json && body ? body : { title: response.statusText, status: response.status, detail: text || response.statusText },
    );
  }
  return body as T;
}

const post = <T>(path: string, body: unknown) =>
  request<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export const api = {
  /** A page of jobs, newest first, from `cursor` (a previous page's next_cursor) or the newest. */
  jobs: (q: { state?: string; jobType?: string; limit: number; cursor?: string; submittedAfter?: string; text?: string }) => {
    const search = new URLSearchParams({ limit: String(q.limit) });
    if (q.cursor) search.set('cursor', q.cursor);
    if (q.state) search.set('state', q.state);
    if (q.jobType) search.set('job_type', q.jobType);
    if (q.submittedAfter) search.set('submitted_after', q.submittedAfter);
    if (q.text) search.set('text', q.text);
    return request<JobPage>(`api/jobs/requests?${search}`);
  },
  job: (id: string) => request<JobDetail>(`api/jobs/requests/${encodeURIComponent(id)}`),
  logs: (id: string) => request<{ items: LogLine[] }>(`api/jobs/requests/${encodeURIComponent(id)}/logs?limit=5000`),
  action: (id: string, action: 'cancel' | 'pause' | 'resume' | 'restart') =>
    post<JobSummary>(`api/jobs/requests/${encodeURIComponent(id)}/${action}`, {}),
  definitions: () => request<{ items: DefinitionVersion[] }>('api/jobs/definitions'),
  definition: (type: string) => request<DefinitionDetail>(`api/jobs/definitions/${encodeURIComponent(type)}`),
  graph: (type: string, version: number) => request<Graph>(`api/jobs/definitions/${encodeURIComponent(type)}/versions/${version}/graph`),
  apply: (source: string) =>
    request<{ job_type: string; version: number; created: boolean }>('api/jobs/definitions?file_name=editor.yaml', {
      method: 'POST',
      headers: { 'content-type': 'text/yaml' },
      body: source,
    }),
  submit: (jobType: string, params: Record<string, unknown>) => post<JobSummary>('api/jobs/requests', { job_type: jobType, params }),
  ants: () => request<{ items: Ant[] }>('api/ants'),
  quotas: () => request<{ org: string; items: Quota[] }>('api/quotas'),
  scheduling: (id: string) => request<WaitStatus>(`api/jobs/requests/${encodeURIComponent(id)}/scheduling`),
  approvals: (id: string) => request<{ items: Approval[] }>(`api/jobs/requests/${encodeURIComponent(id)}/approvals`),
  /** A vote on a waiting MANUAL task; the queen takes the voter from the session. */
  decide: (id: string, task: string, action: 'approve' | 'reject', comment: string) =>
    post<Approval>(
      `api/jobs/requests/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}/${action}`,
      comment.trim() === '' ? {} : { comment: comment.trim() },
    ),
  artifacts: (id: string) => request<{ items: Artifact[] }>(`api/jobs/requests/${encodeURIComponent(id)}/artifacts`),
  artifactUrl: (id: string, digest: string) => `api/jobs/requests/${encodeURIComponent(id)}/artifacts/${encodeURIComponent(digest)}`,
  postmortem: (id: string) => request<PostmortemDraft>(`api/jobs/requests/${encodeURIComponent(id)}/postmortem`),
  metrics: () => request<string>('metrics', { headers: { accept: 'text/plain' } }),
};

export const JOB_STATES = ['PENDING', 'READY', 'EXECUTING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
