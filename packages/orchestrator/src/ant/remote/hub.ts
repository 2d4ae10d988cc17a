import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { quantities } from '../../domain/quantities.js';
import type { AttemptResult } from '../../domain/types.js';
import type { Supervisor } from '../../engine/supervisor.js';
import type { AttemptKey, JobStore } from '../../store/store.js';
import { ANT_LOST, assignmentId, type QueenMessage } from '../protocol.js';
import type { AntLink, AntRegistry } from '../registry.js';
import { type AntPrincipal, servedAntId } from './auth.js';
import { type AntFrame, AntFrameSchema, CLOSE, negotiate, PROTOCOL_VERSIONS, parseFrame, type QueenFrame } from './wire.js';

/** The lease owner of a remote ant's attempts: the ant, not the queen it happens to be connected to. */
export const antOwner = (antId: string): string => `ant:${antId}`;

export { ANT_LOST } from '../protocol.js';

export interface RemoteAntHubOptions {
  readonly queenId: string;
  readonly registry: AntRegistry;
  readonly store: JobStore;
  readonly supervisor: Supervisor;
  readonly logger: Logger;
  /** The attempts' lease: a remote ant away longer than this loses its attempts. */
  readonly leaseMs: number;
  /** The attempts of `owner` that really run here: only their leases are renewed. */
  readonly held: (owner: string) => readonly AttemptKey[];
  /** How long a connection may stay without a hello (default 10 s). */
  readonly helloTimeoutMs?: number;
}

/**
 * The queen's end of the remote ant protocol: one session per WebSocket, bound at its hello to the
 * ant id the token allows, so nothing later in the connection can speak for another ant.
 */
export class RemoteAntHub {
  private readonly sessions = new Set<AntSession>();
  private renewedAt = 0;
  readonly heartbeatMs: number;

  constructor(readonly options: RemoteAntHubOptions) {
    this.heartbeatMs = Math.max(50, Math.floor(options.leaseMs / 3));
  }

  /** Takes an upgraded, authenticated socket. */
  accept(socket: WebSocket, principal: AntPrincipal): void {
    const session = new AntSession(this, socket, principal);
    this.sessions.add(session);
    socket.once('close', () => this.sessions.delete(session));
  }

  /** The local session of `antId`, if this queen has it. */
  session(antId: string): AntSession | undefined {
    for (const s of this.sessions) if (s.antId === antId) return s;
    return undefined;
  }

  /**
   * Renews the leases of every ant connected here. Called before each reap: a queen whose event loop
   * stalled (a long burst) must not reap its own live ants' attempts before their queued heartbeats
   * are read. A silent ant is still caught: its session closes after three quiet heartbeat periods.
   */
  async renewConnected(): Promise<void> {
    // At most once a heartbeat period (the scheduler reaps on every pass); after a stall, at once.
    const now = Date.now();
    if (now - this.renewedAt < this.heartbeatMs) return;
    this.renewedAt = now;
    const until = now + this.options.leaseMs;
    for (const session of this.sessions) {
      if (session.antId === undefined || !session.open) continue;
      const owner = antOwner(session.antId);
      await this.options.store.renewLeases(owner, until, this.options.held(owner));
    }
  }

  /** Asks the ant to drain: directly when connected here, otherwise through the store for its queen. */
  async drain(antId: string): Promise<boolean> {
    const requested = await this.options.store.requestAntDrain(antId);
    this.session(antId)?.drain('drain requested');
    return requested;
  }

  /**
   * Closes every connection (the queen is stopping): ants reconnect to another queen and keep their
   * work. Resolves once every session has let go of the store; a peer that does not answer the
   * close within a second (a dead link) is dropped.
   */
  async close(): Promise<void> {
    const sessions = [...this.sessions];
    for (const session of sessions) session.close(CLOSE.goingAway, 'queen shutting down');
    await Promise.all(sessions.map((session) => session.gone(1000)));
  }

  replaced(antId: string, by: AntSession): void {
    for (const s of this.sessions) if (s !== by && s.antId === antId) s.close(CLOSE.replaced, 'the ant connected again');
  }
}

/** What the queen sends: its own frames, or protocol messages that are already wire-shaped (assign, cancel). */
type Outgoing = QueenFrame | QueenMessage;

interface Pending {
  readonly frame: Outgoing;
  sentAt: number;
  tries: number;
}

/** Frames a session may have queued before it refuses more: a compliant ant stays far below. */
const MAX_QUEUED_FRAMES = 2000;
const MAX_ASSIGN_TRIES = 5;

class AntSession {
  antId?: string;
  private link?: AntLink;
  private readonly unacked = new Map<string, Pending>();
  /** The hello and the frames of no attempt, one after another; every attempt's frames start after them. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The last frame being handled per assignment, for the next one of the same attempt to follow. */
  private readonly lanes = new Map<string, Promise<unknown>>();
  private queued = 0;
  private lastHeard = Date.now();
  private tickedAt = Date.now();
  private timer?: NodeJS.Timeout;
  private closeTimer?: NodeJS.Timeout;
  private closed = false;
  private draining = false;
  private hello?: Extract<AntFrame, { type: 'hello' }>;
  private readonly ending: Promise<void>;

  constructor(
    private readonly hub: RemoteAntHub,
    private readonly socket: WebSocket,
    private readonly principal: AntPrincipal,
  ) {
    const { helloTimeoutMs = 10_000 } = hub.options;
    const helloTimer = setTimeout(() => this.close(CLOSE.refused, 'no hello'), helloTimeoutMs);
    socket.on('message', (data, isBinary) => {
      this.lastHeard = Date.now();
      this.link?.touch();
      if (isBinary) return this.close(CLOSE.protocol, 'frames are JSON text');
      const parsed = parseFrame(AntFrameSchema, String(data));
      if (!parsed.ok) return this.close(CLOSE.protocol, `bad frame: ${parsed.error}`.slice(0, 120));
      const frame = parsed.frame;
      // Acks and heartbeats do not wait behind results being recorded: a slow store must not make a
      // live ant look silent (its leases lapse, its assigns count as unacknowledged).
      if (this.link && (frame.type === 'ack' || frame.type === 'heartbeat')) {
        void this.handle(frame).catch((err) => hub.options.logger.error({ err, ant: this.antId }, 'remote ant frame failed'));
        return;
      }
      if (++this.queued > MAX_QUEUED_FRAMES) return this.close(CLOSE.protocol, 'too many frames in flight');
      // In order within an attempt (its log batches are stored before its result), and after the
      // hello; different attempts are recorded concurrently, so the results of an ant's many slots
      // reach the supervisor together and are written as one batch instead of one after another.
      const lane = frame.type === 'logs' || frame.type === 'result' ? frame.assignmentId : undefined;
      const after = (lane === undefined ? undefined : this.lanes.get(lane)) ?? this.queue;
      const handled = after
        .then(() => this.handle(frame))
        .catch((err) => {
          hub.options.logger.error({ err, ant: this.antId }, 'remote ant frame failed');
          this.close(1011, 'queen error');
        })
        .finally(() => {
          this.queued--;
          if (frame.type === 'hello') clearTimeout(helloTimer);
          if (lane !== undefined && this.lanes.get(lane) === handled) this.lanes.delete(lane);
        });
      if (lane === undefined) this.queue = handled;
      else this.lanes.set(lane, handled);
    });
    socket.on('pong', () => {
      this.lastHeard = Date.now();
      this.link?.touch();
    });
    this.ending = new Promise((resolve) =>
      socket.once('close', (code) => {
        clearTimeout(helloTimer);
        clearTimeout(this.closeTimer);
        void this.ended(code === CLOSE.stopping).finally(resolve);
      }),
    );
    socket.on('error', (err) => hub.options.logger.debug({ err, ant: this.antId }, 'remote ant socket error'));
  }

  private send(frame: Outgoing): void {
    if (!this.closed && this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** Resolves once the connection has ended and the registry row is written; terminates the socket after `ms`. */
  gone(ms: number): Promise<void> {
    const timer = setTimeout(() => this.socket.terminate(), ms);
    return this.ending.finally(() => clearTimeout(timer));
  }

  /** Welcomed and not closed. */
  get open(): boolean {
    return this.link !== undefined && !this.closed;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
    // A peer that does not answer the close (a dead or black-holed link) would keep this session, and
    // the attempts its registry entry holds, for ws's 30 s close timeout: past their lease, unreaped,
    // and still offered new work. One heartbeat period is the wait a live ant gets.
    this.closeTimer = setTimeout(() => this.socket.terminate(), this.hub.heartbeatMs);
    this.closeTimer.unref();
  }

  drain(reason: string): void {
    if (this.draining) return;
    this.draining = true;
    this.link?.setDraining(true);
    this.send({ type: 'drain', reason });
  }

  private async handle(frame: AntFrame): Promise<void> {
    if (frame.type === 'hello') return this.onHello(frame);
    const link = this.link;
    if (!link) return this.close(CLOSE.protocol, 'hello first');
    const { logger } = this.hub.options;
    switch (frame.type) {
      case 'ack':
        this.unacked.delete(frame.assignmentId);
        return;
      case 'heartbeat':
        return this.beat();
      case 'draining':
        this.draining = true;
        link.setDraining(true);
        await this.save(false);
        return;
      case 'logs': {
        if (link.owns(frame.assignmentId)) {
          const lines = frame.lines.map((l) => ({ stream: l.stream, text: l.text, at: l.at }));
          if (frame.dropped > 0)
            lines.push({ stream: 'system', text: `[the ant dropped ${frame.dropped} lines: its log buffer was full]`, at: Date.now() });
          // A batch re-sent (its ack lost), here or to another queen, is stored once: the store keeps the batch numbers.
          await link.receive({ type: 'progress', antId: '', assignmentId: frame.assignmentId, logs: lines, batch: frame.batch });
        } else {
          logger.warn({ ant: this.antId, assignment: frame.assignmentId }, 'ignored logs for an assignment the ant does not hold');
        }
        this.send({ type: 'logs-ack', assignmentId: frame.assignmentId, batch: frame.batch });
        return;
      }
      case 'result': {
        let accepted = false;
        if (link.owns(frame.assignmentId)) {
          const result: AttemptResult = {
            succeeded: frame.result.succeeded,
            ...(frame.result.exitCode === undefined ? {} : { exitCode: frame.result.exitCode }),
            ...(frame.result.error === undefined ? {} : { error: frame.result.error }),
            ...(frame.result.cpuMs === undefined ? {} : { cpuMs: frame.result.cpuMs }),
            ...(frame.result.cache === undefined ? {} : { cache: frame.result.cache }),
          };
          accepted =
            (await link.receive({ type: 'result', antId: '', assignmentId: frame.assignmentId, result, outputs: frame.outputs })) === true;
        } else {
          logger.warn({ ant: this.antId, assignment: frame.assignmentId }, 'rejected a result for an assignment the ant does not hold');
        }
        this.send({ type: 'result-ack', assignmentId: frame.assignmentId, accepted });
        return;
      }
    }
  }

  private async onHello(hello: Extract<AntFrame, { type: 'hello' }>): Promise<void> {
    if (this.hello) return this.close(CLOSE.protocol, 'hello twice');
    const { registry, store, supervisor, queenId, logger, leaseMs } = this.hub.options;
    const version = negotiate(hello.versions);
    const refuse = (reason: string) => {
      this.send({ type: 'refused', reason, versions: [...PROTOCOL_VERSIONS] });
      this.close(CLOSE.refused, reason.slice(0, 120));
    };
    if (version === undefined) {
      return refuse(
        `protocol version ${hello.versions.join(', ')} is not spoken by this queen; it speaks version ${PROTOCOL_VERSIONS.join(', ')}`,
      );
    }
    if (this.principal.antId !== undefined && this.principal.antId !== hello.ant.id) {
      return refuse(`this token is for ant '${this.principal.antId}', not '${hello.ant.id}'`);
    }
    try {
      quantities(hello.ant.resources);
    } catch (error) {
      return refuse(`bad resources: ${(error as Error).message}`);
    }
    this.hello = hello;
    const id = servedAntId(this.principal, hello.ant.id);
    this.antId = id;
    const owner = antOwner(id);
    // Resume: what the ant still runs is adopted; what it should run but does not (an assignment lost
    // with the last connection, or the ant restarted) goes back to the queue now, not at lease expiry.
    const listed = new Set(hello.running);
    const adopt: string[] = [];
    for (const a of await store.executingAttempts(owner)) {
      const aid = assignmentId(a.jobId, a.taskType, a.attempt);
      if (listed.delete(aid)) adopt.push(aid);
      else
        await supervisor.recoverAttempt(a.jobId, a.taskType, a.attempt, `${ANT_LOST}: ${id} reconnected without this attempt`, {
          owner,
        });
    }
    // Listed but no longer executing: results the ant still holds (fenced when they arrive), or stale work to stop.
    const stale: string[] = [];
    for (const aid of listed) {
      const [jobId = '', taskType, attemptText] = aid.split('/');
      const row = (await store.attempts(jobId)).find((a) => a.taskType === taskType && a.attempt === Number(attemptText));
      if (row?.owner === owner) adopt.push(aid);
      stale.push(aid);
    }
    if (this.closed) return;
    this.hub.replaced(id, this);
    const descriptor = { id, methods: hello.ant.methods, tags: hello.ant.tags, capacity: hello.ant.capacity };
    const details = {
      labels: hello.ant.labels,
      resources: hello.ant.resources,
      ...(hello.ant.taints.length > 0 && { taints: hello.ant.taints }),
      version: hello.ant.version,
      ...(this.principal.org === undefined ? {} : { org: this.principal.org }),
    };
    this.link = registry.attach(descriptor, details, owner, (message) => this.fromQueen(message));
    this.link.adopt(adopt);
    if (hello.draining) {
      this.draining = true;
      this.link.setDraining(true);
    }
    await store.renewLeases(owner, Date.now() + leaseMs, this.hub.options.held(owner));
    await this.save(true);
    this.send({ type: 'welcome', version, queen: queenId, heartbeatMs: this.hub.heartbeatMs });
    for (const aid of stale) this.send({ type: 'cancel', assignmentId: aid, reason: 'attempt no longer current' });
    logger.info({ ant: id, subject: this.principal.subject, resumed: adopt.length, version }, 'remote ant connected');
    this.timer = setInterval(() => this.tick(), this.hub.heartbeatMs);
    this.timer.unref();
  }

  /** Renews the ant's leases and its registry row; passes on a drain an operator asked any queen for. */
  private async beat(): Promise<void> {
    const { store, leaseMs, held } = this.hub.options;
    const owner = antOwner(this.antId!);
    await store.renewLeases(owner, Date.now() + leaseMs, held(owner));
    const { drainRequested } = await this.save(false);
    if (drainRequested) this.drain('drain requested');
  }

  private save(fresh: boolean): Promise<{ readonly drainRequested: boolean }> {
    const { store, queenId, leaseMs } = this.hub.options;
    const now = Date.now();
    return store.saveAnt({ ...this.link!.info(), queen: queenId, expiresAt: now + leaseMs, lastSeenAt: new Date(now) }, { fresh });
  }

  private fromQueen(message: QueenMessage): void {
    if (message.type === 'cancel') {
      this.send(message);
      return;
    }
    this.unacked.set(message.assignment.id, { frame: message, sentAt: Date.now(), tries: 1 });
    this.send(message);
  }

  /** Every heartbeat period: ping, re-send unacknowledged assignments, and give up on a silent ant. */
  private tick(): void {
    const now = Date.now();
    // This tick is late: the queen itself stalled, and the ant's frames are still unread. Its silence
    // is the queen's, so it gets a fresh window instead of being dropped (and its attempts reaped).
    if (now - this.tickedAt > 2 * this.hub.heartbeatMs) this.lastHeard = now;
    this.tickedAt = now;
    if (now - this.lastHeard > 3 * this.hub.heartbeatMs) {
      this.close(CLOSE.expired, 'no heartbeat');
      return;
    }
    if (this.socket.readyState === this.socket.OPEN) this.socket.ping();
    for (const pending of this.unacked.values()) {
      if (now - pending.sentAt < this.hub.heartbeatMs) continue;
      if (pending.tries >= MAX_ASSIGN_TRIES) {
        this.close(CLOSE.expired, 'assignments not acknowledged');
        return;
      }
      pending.tries++;
      pending.sentAt = now;
      this.send(pending.frame);
    }
  }

  /**
   * The connection ended. The ant's attempts stay its own: if it comes back (here or to another
   * queen) within their lease it resumes them; otherwise the reaper ends them as "ant lost". An ant
   * that said goodbye (`stopping`: drained or stopped) reports nothing more, so what it still holds
   * (an assignment that crossed its drain, say) goes back to the queue now instead of at lease expiry.
   */
  private async ended(stopping: boolean): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (!this.link || this.antId === undefined) return;
    const left = new Set(this.link.info().assignments ?? []);
    this.link.detach();
    const { store, queenId, logger, supervisor } = this.hub.options;
    await Promise.all([this.queue, ...this.lanes.values()]).catch(() => undefined);
    if (stopping) {
      const owner = antOwner(this.antId);
      const reason = this.draining ? `ant draining: ${this.antId} left before running it` : `${ANT_LOST}: ${this.antId} stopped`;
      try {
        // Only what this connection held: a new run of the same ant may already have taken other work.
        for (const a of await store.executingAttempts(owner))
          if (left.has(assignmentId(a.jobId, a.taskType, a.attempt)))
            await supervisor.recoverAttempt(a.jobId, a.taskType, a.attempt, reason, { owner });
      } catch (err) {
        logger.warn({ err, ant: this.antId }, 'could not re-queue the attempts of a stopped ant (its leases will)');
      }
    }
    await store.antGone(this.antId, queenId, Date.now()).catch((err) => logger.warn({ err }, 'could not mark an ant gone'));
    logger.info({ ant: this.antId, stopping }, 'remote ant disconnected');
  }
}
