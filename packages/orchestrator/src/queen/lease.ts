import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ANT_LOST, antOwner } from '../ant/remote/hub.js';
import type { Supervisor } from '../engine/supervisor.js';
import type { JobStore } from '../store/store.js';

/** `host/pid/random`: names a queen as the owner of attempts, and tells whether its process still exists. */
export function newHolderId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/**
 * A holder on this host whose process no longer exists (killed with -9, say) cannot renew: its
 * attempts may be taken at once instead of after their lease expires, so a restart recovers immediately.
 */
export function holderIsGone(holder: string): boolean {
  const [host, pidText] = holder.split('/');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const REMOTE_OWNER_PREFIX = antOwner('');

/** The reason an attempt whose owner is gone fails with (then the task's retry policy applies). */
export const OWNER_GONE = 'queen restarted';

/**
 * The leases of the attempts this queen owns, and the reaper of everyone's expired ones. The owner
 * renews all its leases in one statement every third of the lease; any queen ends an attempt whose
 * lease expired (its owner stopped renewing: crashed, hung, cut off) through the supervisor, which
 * applies the task's retry policy, conditionally on the lease still being expired in the transaction.
 */
export class AttemptLeases {
  private timer?: NodeJS.Timeout;
  private reaping?: Promise<void>;
  /** When the running attempts were last scanned for owners dead on this host. */
  private scannedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly owner: string,
    private readonly store: JobStore,
    private readonly supervisor: Supervisor,
    private readonly logger: Logger,
    readonly leaseMs = 15_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    try {
      await this.store.renewLeases(this.owner, Date.now() + this.leaseMs);
    } catch (err) {
      this.logger.error({ err }, 'could not renew attempt leases');
    }
  }

  /** Ends attempts whose owner is gone; one reap at a time. */
  reap(now: number): Promise<void> {
    this.reaping ??= this.reapOnce(now).finally(() => {
      this.reaping = undefined;
    });
    return this.reaping;
  }

  private async reapOnce(now: number): Promise<void> {
    let taken = 0;
    // Reading every running attempt on every scheduler pass (each change starts one) would cost a
    // round trip per transition: owners dead on this host are looked for at most every third of a
    // lease (1 s at most), well within the lease after which any queen takes their attempts anyway.
    const scan = now - this.scannedAt >= Math.min(1000, this.leaseMs / 3);
    if (scan) this.scannedAt = now;
    for (const attempt of scan ? await this.store.executingAttempts() : []) {
      if (attempt.owner === undefined || attempt.owner === this.owner || !holderIsGone(attempt.owner)) continue;
      await this.supervisor.recoverAttempt(attempt.jobId, attempt.taskType, attempt.attempt, OWNER_GONE, { owner: attempt.owner });
      taken++;
    }
    for (const attempt of await this.store.expiredAttempts(now, 100)) {
      if (attempt.owner === this.owner) continue;
      const reason = attempt.owner?.startsWith(REMOTE_OWNER_PREFIX)
        ? `${ANT_LOST}: ${attempt.owner.slice(REMOTE_OWNER_PREFIX.length)} was away past its lease`
        : `${OWNER_GONE}: ${attempt.owner ?? 'its queen'} stopped renewing the lease`;
      await this.supervisor.recoverAttempt(attempt.jobId, attempt.taskType, attempt.attempt, reason, { leaseBefore: now });
      taken++;
    }
    if (taken > 0) this.logger.warn({ attempts: taken }, 'took over attempts whose queen is gone');
  }
}
