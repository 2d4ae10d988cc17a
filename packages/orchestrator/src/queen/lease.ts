import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { assignmentId } from '../ant/protocol.js';
import type { AntRegistry } from '../ant/registry.js';
import { ANT_LOST, antOwner } from '../ant/remote/hub.js';
import type { Supervisor } from '../engine/supervisor.js';
import type { AttemptKey, JobStore } from '../store/store.js';

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

/** What this queen's reaper ends an attempt with that it owns but no ant of it runs (then the retry policy applies). */
export const NOT_RUN = 'not running';

/**
 * The attempts whose leases this queen renews, by owner (itself for its embedded ant, `ant:<id>` for
 * a remote ant connected here): what its ants run, plus what is between its claim and its assignment
 * or between its result and the record of it. Nothing else is renewed: an attempt whose claim
 * committed while the queen saw an error (the link dropped at COMMIT) is owned here but run by no
 * ant, and must lapse so a reaper ends it, instead of being kept alive by a live owner forever.
 */
export class HeldAttempts {
  /** Assignment id -> owner and holds, for attempts not (or no longer) in an ant's hands; a claim's and its result's holds may overlap. */
  private readonly inFlight = new Map<string, { readonly owner: string; holds: number }>();

  constructor(
    private readonly queenId: string,
    private readonly registry: AntRegistry,
  ) {}

  hold(id: string, owner: string): void {
    const held = this.inFlight.get(id);
    if (held) held.holds++;
    else this.inFlight.set(id, { owner, holds: 1 });
  }

  release(id: string): void {
    const held = this.inFlight.get(id);
    if (held && --held.holds === 0) this.inFlight.delete(id);
  }

  has(owner: string, key: AttemptKey): boolean {
    const id = assignmentId(key.jobId, key.taskType, key.attempt);
    return this.inFlight.get(id)?.owner === owner || this.registry.assignmentsHeldBy(this.registryOwner(owner)).includes(id);
  }

  of(owner: string): AttemptKey[] {
    const ids = new Set(this.registry.assignmentsHeldBy(this.registryOwner(owner)));
    for (const [id, held] of this.inFlight) if (held.owner === owner) ids.add(id);
    return [...ids].map(parseAssignmentId);
  }

  /** Whether `owner` is a remote ant connected to this queen. */
  connected(owner: string): boolean {
    return owner.startsWith(REMOTE_OWNER_PREFIX) && this.registry.ownerOf(owner.slice(REMOTE_OWNER_PREFIX.length)) === owner;
  }

  /** The registry knows the embedded ant's attempts as held by no owner (the queen). */
  private registryOwner(owner: string): string | undefined {
    return owner === this.queenId ? undefined : owner;
  }
}

/** The inverse of `assignmentId`: the job id and the attempt number never hold a '/'. */
function parseAssignmentId(id: string): AttemptKey {
  const first = id.indexOf('/');
  const last = id.lastIndexOf('/');
  return { jobId: id.slice(0, first), taskType: id.slice(first + 1, last), attempt: Number(id.slice(last + 1)) };
}

/**
 * The leases of the attempts this queen owns, and the reaper of everyone's expired ones. The owner
 * renews the leases of the attempts it holds every third of the lease; any queen ends an attempt whose
 * lease expired (its owner stopped renewing: crashed, hung, cut off, or never ran it) through the
 * supervisor, which applies the task's retry policy, conditionally on the lease still being expired
 * in the transaction.
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
    private readonly held: HeldAttempts,
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
      await this.store.renewLeases(this.owner, Date.now() + this.leaseMs, this.held.of(this.owner));
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
      // Held here: its renewal is late (a stalled event loop, the database away), not its ant gone.
      if (attempt.owner !== undefined && this.held.has(attempt.owner, attempt)) continue;
      const reason =
        attempt.owner === this.owner
          ? `${NOT_RUN}: no ant of ${this.owner} runs it (its claim committed but the answer was lost)`
          : attempt.owner !== undefined && this.held.connected(attempt.owner)
            ? `${NOT_RUN}: ant ${attempt.owner.slice(REMOTE_OWNER_PREFIX.length)} is connected but does not run it (its claim committed but the answer was lost)`
            : attempt.owner?.startsWith(REMOTE_OWNER_PREFIX)
              ? `${ANT_LOST}: ${attempt.owner.slice(REMOTE_OWNER_PREFIX.length)} was away past its lease`
              : `${OWNER_GONE}: ${attempt.owner ?? 'its queen'} stopped renewing the lease`;
      await this.supervisor.recoverAttempt(attempt.jobId, attempt.taskType, attempt.attempt, reason, { leaseBefore: now });
      taken++;
    }
    if (taken > 0) this.logger.warn({ attempts: taken }, 'took over attempts whose queen is gone');
  }
}
