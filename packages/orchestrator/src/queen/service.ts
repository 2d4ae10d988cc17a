import type { Readable } from 'node:stream';
import type { ArtifactRecord } from '../artifacts/catalog.js';
import type { ApprovalStatus, TaskVote } from '../domain/approvals.js';
import type {
  AntInfo,
  ApplyResult,
  DefinitionVersion,
  JobDetail,
  JobQuery,
  JobSummary,
  LogLine,
  Page,
  SubmitRequest,
  TimelineEvent,
} from '../domain/types.js';

/**
 * The queen's public face: what the REST API and embedding applications call.
 * The engine implements it; the API layer only translates HTTP to these calls.
 */

export * from '../domain/approvals.js';
export * from '../domain/states.js';
export * from '../domain/types.js';

export interface QueenService {
  /** Validates and stores a definition (YAML or JSON text); a changed definition becomes a new version. */
  /**
   * `org` owns a new job type (issue 17); default `default`. The definition's `job_type` is a name in
   * `org`'s namespace (domain/job-type-names.ts): the result names the type as the queen knows it.
   */
  applyDefinition(source: string, fileName?: string, org?: string): Promise<ApplyResult>;
  listDefinitions(): Promise<readonly DefinitionVersion[]>;
  /** Every version of one job type, newest first; empty when unknown. */
  definitionVersions(jobType: string): Promise<readonly DefinitionVersion[]>;
  /** Disabled types accept no new requests; running ones finish. */
  disableDefinition(jobType: string): Promise<void>;

  submit(request: SubmitRequest): Promise<JobSummary>;
  /** Many requests in one transaction: all are checked first (errors name `requests[i].field`), then all are created or none. */
  submitMany(requests: readonly SubmitRequest[]): Promise<readonly JobSummary[]>;
  listJobs(query: JobQuery): Promise<Page<JobSummary>>;
  getJob(id: string): Promise<JobDetail | undefined>;
  cancel(id: string, reason?: string): Promise<JobSummary>;
  restart(id: string, options?: { readonly hard?: boolean }): Promise<JobSummary>;
  /** READY or EXECUTING -> PAUSED: nothing new starts; running tasks finish. The job timeout keeps counting. */
  pause(id: string, reason?: string): Promise<JobSummary>;
  /** PAUSED -> READY or EXECUTING (the state it was paused in): its tasks start again. */
  resume(id: string): Promise<JobSummary>;

  /**
   * A vote on a MANUAL task waiting for a decision; decides it when the task's approval policy is
   * met. Absent on a queen whose store keeps no votes.
   */
  decideTask?(jobId: string, taskType: string, vote: TaskVote): Promise<ApprovalStatus>;
  /** The approvals of the job's MANUAL tasks: policy, state, current votes. */
  approvals?(jobId: string): Promise<readonly ApprovalStatus[]>;

  /** Log lines after `afterSeq`, oldest first. */
  logs(
    jobId: string,
    options?: { readonly taskType?: string; readonly afterSeq?: number; readonly limit?: number },
  ): Promise<readonly LogLine[]>;
  /** Calls `onLine` for each new line until the returned function is called or the job ends (then `onEnd`). */
  followLogs(
    jobId: string,
    options: { readonly taskType?: string; readonly afterSeq?: number },
    onLine: (line: LogLine) => void,
    onEnd: () => void,
  ): () => void;
  /** Every job and task transition as it is committed. */
  onTransition(listener: (event: TimelineEvent) => void): () => void;

  ants(): Promise<readonly AntInfo[]>;
  health(): Promise<{ readonly ok: boolean; readonly store: string; readonly uptimeMs: number }>;

  /** The job's unexpired artifacts; absent on a queen whose store keeps none. */
  artifacts?(jobId: string): Promise<readonly ArtifactRecord[]>;
  /** One artifact's bytes by digest; rejects with not_found when the job has no such unexpired artifact. */
  openArtifact?(jobId: string, digest: string): Promise<{ readonly record: ArtifactRecord; readonly content: Readable }>;
}
