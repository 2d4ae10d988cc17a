import { createIdempotentFetch } from '@myrmex/idempotency/client';
import type {
  ApplyResultWire,
  ApprovalWire,
  DefinitionDetailWire,
  HealthWire,
  JobDetailWire,
  JobPageWire,
  JobSummaryWire,
  LogLineWire,
  ProblemWire,
  TimelineEventWire,
} from '@myrmex/orchestrator';
import { type SseEvent, SseParser } from './sse.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

/** GET /api/jobs/requests/:id/scheduling. */
export interface WaitStatusWire {
  readonly job_id: string;
  readonly state: string;
  readonly waiting: boolean;
  readonly reason?: string;
  readonly held_by?: string;
  readonly ahead?: number;
  readonly estimated_start_at?: string;
  readonly retry_at?: string;
}

/** GET /api/circuit-breakers: one HTTP target host's breaker. */
export interface CircuitBreakerWire {
  readonly host: string;
  readonly state: 'closed' | 'open' | 'half_open';
  readonly failures: number;
  readonly opened_at?: string;
  readonly probe_until?: string;
  readonly last_error?: string;
  readonly updated_at: string;
}

/** GET /api/consumables: one pool of Formicary's consumable resources. */
export interface ConsumableWire {
  readonly name: string;
  readonly capacity: number;
  readonly in_use: number;
  readonly holders: readonly { readonly job_id: string; readonly task_type?: string; readonly units: number; readonly since: string }[];
}

/** The queen answered with a problem document. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly problem: ProblemWire) {
    super(problem.detail || problem.title);
  }
}

/** Nothing answered at the server URL. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
  constructor(
    readonly server: string,
    cause: unknown,
  ) {
    super(`cannot reach the queen at ${server}: start it with \`myrmex serve\`, or point --server / MYRMEX_SERVER at it`, { cause });
  }
}

export interface JobListQuery {
  readonly state?: string;
  readonly jobType?: string;
  readonly limit?: number;
  readonly offset?: number;
  /** A previous page's next_cursor. */
  readonly cursor?: string;
  /** Job id prefix or exact job type. */
  readonly text?: string;
  /** RFC 3339 instants. */
  readonly submittedAfter?: string;
  readonly submittedBefore?: string;
  /** Also count every match (the server reads them all). */
  readonly count?: boolean;
}

export interface SubmitInput {
  readonly job_type: string;
  readonly params: Record<string, unknown>;
  readonly priority?: number;
  readonly scheduled_at?: string;
}

function queryString(entries: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(entries)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** A thin typed client of the queen's REST API (see docs/orchestrator-api.md). */
export class QueenClient {
  readonly server: string;
  /**
   * Submissions carry an Idempotency-Key (the caller's or a fresh UUID) and are retried on network
   * errors and 5xx with that same key, so a retry never creates a second job.
   */
  readonly #submitFetch = createIdempotentFetch({ maxAttempts: 3, baseDelayMs: 200 });

  readonly #token: string | undefined;

  /** `token` (MYRMEX_TOKEN) is sent as a bearer token on every request, for queens with authentication on. */
  constructor(server: string, token?: string) {
    this.server = server.replace(/\/+$/, '');
    this.#token = token;
  }

  async #fetch(path: string, init: RequestInit = {}, fetcher: typeof fetch = fetch): Promise<Response> {
    let response: Response;
    if (this.#token) init = { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.#token}` } };
    try {
      response = await fetcher(`${this.server}/api${path}`, init);
    } catch (error) {
      throw new UnreachableError(this.server, error);
    }
    if (response.ok) return response;
    const text = await response.text();
    let problem: ProblemWire;
    try {
      problem = JSON.parse(text) as ProblemWire;
    } catch {
      problem = { type: 'about:blank', title: response.statusText, status: response.status, detail: text.slice(0, 500), instance: path };
    }
    throw new ApiError(problem);
  }

  async #json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.#fetch(path, init)).json()) as T;
  }

  #post<T>(path: string, body: unknown): Promise<T> {
    return this.#json<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  health(): Promise<HealthWire> {
    return this.#json('/health');
  }

  apply(source: string, fileName: string, mediaType: string): Promise<ApplyResultWire> {
    return this.#json(`/jobs/definitions${queryString({ file_name: fileName })}`, {
      method: 'POST',
      headers: { 'content-type': mediaType },
      body: source,
    });
  }

  definition(jobType: string): Promise<DefinitionDetailWire> {
    return this.#json(`/jobs/definitions/${encodeURIComponent(jobType)}`);
  }

  async submit(input: SubmitInput, idempotencyKey?: string): Promise<JobSummaryWire> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const response = await this.#fetch('/jobs/requests', { method: 'POST', headers, body: JSON.stringify(input) }, this.#submitFetch);
    return (await response.json()) as JobSummaryWire;
  }

  /** POST /api/jobs/requests/bulk: at most 1,000 requests, created in one transaction or not at all. */
  async submitMany(requests: readonly SubmitInput[]): Promise<readonly JobSummaryWire[]> {
    return (await this.#post<{ items: JobSummaryWire[] }>('/jobs/requests/bulk', { requests })).items;
  }

  jobs(query: JobListQuery): Promise<JobPageWire> {
    return this.#json(
      `/jobs/requests${queryString({
        state: query.state,
        job_type: query.jobType,
        limit: query.limit,
        offset: query.offset,
        cursor: query.cursor,
        text: query.text,
        submitted_after: query.submittedAfter,
        submitted_before: query.submittedBefore,
        count: query.count ? 'exact' : undefined,
      })}`,
    );
  }

  job(id: string): Promise<JobDetailWire> {
    return this.#json(`/jobs/requests/${encodeURIComponent(id)}`);
  }

  /** Why a job waits and its estimated start (GET /api/jobs/requests/:id/scheduling). */
  scheduling(id: string): Promise<WaitStatusWire> {
    return this.#json(`/jobs/requests/${encodeURIComponent(id)}/scheduling`);
  }

  cancel(id: string): Promise<JobSummaryWire> {
    return this.#post(`/jobs/requests/${encodeURIComponent(id)}/cancel`, {});
  }

  pause(id: string, reason?: string): Promise<JobSummaryWire> {
    return this.#post(`/jobs/requests/${encodeURIComponent(id)}/pause`, reason === undefined ? {} : { reason });
  }

  resume(id: string): Promise<JobSummaryWire> {
    return this.#post(`/jobs/requests/${encodeURIComponent(id)}/resume`, {});
  }

  restart(id: string, hard: boolean): Promise<JobSummaryWire> {
    return this.#post(`/jobs/requests/${encodeURIComponent(id)}/restart`, { hard });
  }

  /** Asks a remote ant to drain, through whichever queen it is connected to. */
  drainAnt(id: string): Promise<{ id: string; drain: string }> {
    return this.#post(`/ants/${encodeURIComponent(id)}/drain`, {});
  }

  async logs(id: string, options: { task?: string; after?: number; limit?: number }): Promise<LogLineWire[]> {
    const page = await this.#json<{ items: LogLineWire[] }>(
      `/jobs/requests/${encodeURIComponent(id)}/logs${queryString({ task: options.task, after: options.after, limit: options.limit })}`,
    );
    return page.items;
  }

  /** The approvals of a job's MANUAL tasks (GET /api/jobs/requests/:id/approvals). */
  async approvals(id: string): Promise<ApprovalWire[]> {
    return (await this.#json<{ items: ApprovalWire[] }>(`/jobs/requests/${encodeURIComponent(id)}/approvals`)).items;
  }

  /** Every HTTP target host's circuit breaker (GET /api/circuit-breakers). */
  circuitBreakers(): Promise<CircuitBreakerWire[]> {
    return this.#json('/circuit-breakers');
  }

  /** Consumable pools with their units in use (GET /api/consumables). */
  consumables(): Promise<ConsumableWire[]> {
    return this.#json('/consumables');
  }

  /** Sets a pool's capacity (PUT /api/consumables/:name, admin). */
  async declareConsumable(name: string, capacity: number): Promise<void> {
    await this.#fetch(`/consumables/${encodeURIComponent(name)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capacity }),
    });
  }

  /** A vote on a MANUAL task; `approver` only for a queen without authentication. */
  decide(id: string, task: string, decision: 'approve' | 'reject', body: { comment?: string; approver?: string }): Promise<ApprovalWire> {
    return this.#post(`/jobs/requests/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}/${decision}`, body);
  }

  /** Jobs that failed with their retries used up, newest first (GET /api/dead-letters). */
  deadLetters(options: { limit?: number; before?: number }): Promise<DeadLetterPageWire> {
    return this.#json(`/dead-letters${queryString({ limit: options.limit, before: options.before })}`);
  }

  /** A new run of a dead letter, linked to it (POST /api/dead-letters/:id/redrive). */
  redrive(id: string): Promise<{ original: JobSummaryWire; job: JobSummaryWire }> {
    return this.#post(`/dead-letters/${encodeURIComponent(id)}/redrive`, {});
  }

  async artifacts(id: string): Promise<ArtifactWire[]> {
    return (await this.#json<{ items: ArtifactWire[] }>(`/jobs/requests/${encodeURIComponent(id)}/artifacts`)).items;
  }

  /** One artifact's bytes as a stream. */
  async artifact(id: string, digest: string): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#fetch(`/jobs/requests/${encodeURIComponent(id)}/artifacts/${encodeURIComponent(digest)}`);
    if (!response.body) throw new UnreachableError(this.server, new Error('the download has no body'));
    return response.body;
  }

  followLogs(id: string, task: string | undefined): AsyncGenerator<SseEvent> {
    return this.#stream(`/jobs/requests/${encodeURIComponent(id)}/logs${queryString({ task, follow: true })}`);
  }

  followEvents(id: string): AsyncGenerator<SseEvent> {
    return this.#stream(`/jobs/requests/${encodeURIComponent(id)}/events?follow=true`);
  }

  /** Events of a server-sent-events response, until the server ends it. */
  async *#stream(path: string): AsyncGenerator<SseEvent> {
    const response = await this.#fetch(path, { headers: { accept: 'text/event-stream' } });
    if (!response.body) return;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) yield* parser.push(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch (error) {
      throw new UnreachableError(this.server, error);
    }
  }
}

export type { ApprovalWire, JobDetailWire, JobSummaryWire, LogLineWire, TimelineEventWire };

/** A dead letter: the failed job, and the job its redrive made once it has one. */
export type DeadLetterWire = JobSummaryWire & { readonly redriven_as?: string };

export interface DeadLetterPageWire {
  readonly items: readonly DeadLetterWire[];
  /** Pass as `before` for the next (older) page. */
  readonly next_before?: number;
}

/** One entry of GET /jobs/requests/:id/artifacts. */
export interface ArtifactWire {
  readonly task_type: string;
  readonly attempt: number;
  readonly path: string;
  readonly digest: string;
  readonly size: number;
  readonly mode: number;
  readonly created_at: string;
  readonly expires_at?: string;
}
