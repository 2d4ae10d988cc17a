import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { JobStore } from '../store/store.js';
import { QueenError } from './errors.js';

const LEASE = 'queen';

/** `host/pid/random`: enough to tell whether the holder's process still exists. */
export function newHolderId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/**
 * A holder on this host whose process no longer exists (killed with -9, say) cannot renew: its
 * lease may be taken at once instead of after it expires, so a restart recovers immediately.
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

/**
 * One live queen per database: a second queen would take the first one's running attempts for
 * dead ones and recover them. The lease is renewed while the queen runs and released on stop.
 */
export class QueenLease {
  readonly holder = newHolderId();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: JobStore,
    private readonly logger: Logger,
    private readonly ttlMs = 15_000,
  ) {}

  async acquire(): Promise<void> {
    const result = await this.store.acquireLease(LEASE, this.holder, this.ttlMs, Date.now(), holderIsGone);
    if (!result.acquired) {
      throw new QueenError(
        'conflict',
        `another queen (${result.holder}) is running on this database until at least ${new Date(result.expiresAt).toISOString()}`,
      );
    }
    this.timer = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    try {
      const result = await this.store.acquireLease(LEASE, this.holder, this.ttlMs, Date.now());
      if (!result.acquired) this.logger.error({ holder: result.holder }, 'lost the queen lease to another queen');
    } catch (err) {
      this.logger.error({ err }, 'could not renew the queen lease');
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.store.releaseLease(LEASE, this.holder);
  }
}
