import type { JobRow } from './store.js';

/** How a job came to be, when something other than a plain submit made it. */
export type JobOriginKind = 'redrive' | 'trigger' | 'webhook';

export interface JobOrigin {
  readonly jobId: string;
  readonly kind: JobOriginKind;
  /** The job it was made from (redrive, a job trigger) or the webhook delivery id. */
  readonly origin: string;
  /** The trigger's name (job triggers and webhooks). */
  readonly trigger?: string;
  readonly at: Date;
}

export type NotificationChannel = 'email' | 'slack' | 'webhook';
export type NotificationState = 'PENDING' | 'SENT' | 'FAILED';

export interface NotificationKey {
  readonly jobId: string;
  readonly channel: NotificationChannel;
  readonly recipient: string;
}

export interface NewNotification extends NotificationKey {
  /** What to send: the job's end as the channel's sender needs it (JSON). */
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface NotificationRow extends NewNotification {
  readonly state: NotificationState;
  readonly attempts: number;
  readonly lastError?: string;
  readonly createdAt: Date;
  readonly sentAt?: Date;
}

export interface DeadLetter {
  readonly job: JobRow;
  /** The job a redrive made from it; absent until it is redriven. */
  readonly redrivenAs?: string;
}

/**
 * What happens around a job's end (issue 14, migration 0014): notifications claimed by one queen at a
 * time, the links from a job to what made it (redrive, trigger, webhook delivery), the dead-letter list
 * and shared event counters for webhook rate limits.
 */
export interface WorkflowEventStore {
  /** Files the rows unless present (their key: job, channel, recipient): a job's end notifies once, whichever queens see it. */
  enqueueNotifications(rows: readonly NewNotification[], at: Date): Promise<number>;
  /**
   * Takes up to `limit` PENDING rows whose wait is over and whose claim (if any) has lapsed, for `holder`
   * until `now + leaseMs`; a row is taken by one holder at a time.
   */
  claimNotifications(holder: string, now: number, leaseMs: number, limit: number): Promise<readonly NotificationRow[]>;
  /** Records the claimed row's outcome: sent, another try at `retryAt`, or given up (FAILED). False when the claim was lost. */
  settleNotification(
    key: NotificationKey,
    holder: string,
    outcome: { readonly sent: true; readonly at: Date } | { readonly sent: false; readonly error: string; readonly retryAt?: number },
  ): Promise<boolean>;
  notifications(jobId: string): Promise<readonly NotificationRow[]>;
  /** The earliest moment a PENDING row becomes due (or its claim lapses). */
  nextNotificationAt(): Promise<number | undefined>;

  /** Records where the job came from, once (a retried call keeps the first row). */
  link(origin: JobOrigin): Promise<void>;
  origin(jobId: string): Promise<JobOrigin | undefined>;

  /** FAILED jobs (their retries used up), newest first, with the job a redrive made from each. */
  deadLetters(query: { readonly org?: string; readonly limit: number; readonly beforeSeq?: number }): Promise<readonly DeadLetter[]>;

  /** The organisation that owns a job type (`default` before tenancy); undefined for an unknown type. */
  definitionOrg(jobType: string): Promise<string | undefined>;

  /** Counts one event under `key` in the fixed window starting at `windowStart`; the count so far, this one included. */
  countEvent(key: string, windowStart: number, windowEnd: number): Promise<number>;
}
