import { homedir } from 'node:os';
import { join } from 'node:path';
import { fullJitter } from '@myrmex/backoff';
import { type Logger, pino } from 'pino';
import WebSocket from 'ws';
import { LocalBlobStore } from '../../artifacts/local-store.js';
import type { BlobStore } from '../../artifacts/store.js';
import type { AttemptResult } from '../../domain/types.js';
import { type ConfiguredExecutors, configuredExecutors, type ExecutorConfig } from '../../executors/configured.js';
import type { Executor } from '../../executors/executor.js';
import { builtInExecutors, type ShellExecutorOptions } from '../../executors/index.js';
import { withStdoutReport } from '../../executors/stdout-report.js';
import { withWorkspace } from '../../executors/workspace.js';
import { PidLedger } from '../pid-ledger.js';
import { type Assignment, type ProgressLog, stopReason } from '../protocol.js';
import { type AttemptOutcome, runAttempt } from '../run-attempt.js';
import { ArtifactTransfer, AttemptFenced, tlsRefusal } from './transfer.js';
import {
  ANT_SOCKET_PATH,
  type AntFrame,
  CLOSE,
  PROTOCOL_VERSIONS,
  parseFrame,
  type QueenFrame,
  QueenFrameSchema,
  TLS_REQUIRED_HEADER,
  type WireLogLine,
} from './wire.js';

export interface RemoteAntOptions {
  /** Queen URLs (http(s):// or ws(s)://, the socket path is added); tried in turn, with backoff, until one answers. */
  readonly servers: readonly string[];
  readonly token: string;
  readonly id: string;
  readonly capacity: number;
  /** Default: every executor this ant has. */
  readonly methods?: readonly string[];
  readonly tags?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: Readonly<Record<string, string>>;
  /** Taints (`gpu=true:NoSchedule`): only tasks that tolerate them are placed here. */
  readonly taints?: readonly string[];
  /** Extra executors (a method given here replaces the built-in one). */
  readonly executors?: readonly Executor[];
  readonly shell?: ShellExecutorOptions;
  /** Containers and MESSAGING, as for the embedded ant. */
  readonly executorConfig?: ExecutorConfig;
  /** This ant's own state (its tasks' process groups, artifacts in transit): default ~/.myrmex/ants/<id>. */
  readonly stateDir?: string;
  /** How long a drain lets running tasks finish before cancelling them (default 30 s). */
  readonly drainGraceMs?: number;
  /** TLS: a CA to trust (PEM), for queens with a private certificate; an untrusted certificate stops the ant (see AntExit). */
  readonly ca?: string | Buffer;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** Log lines kept per attempt while the queen has not acknowledged them; beyond, lines are dropped and counted (default 10,000). */
  readonly maxBufferedLines?: number;
  readonly version?: string;
  readonly logger?: Logger;
  /** Told the queen's id on each welcome, and undefined on each disconnect. */
  readonly onConnection?: (queen: string | undefined) => void;
}

/** Why the ant stopped: a drain, a stop, or a refusal that retrying cannot fix (bad token, unspoken version). */
export interface AntExit {
  readonly refused?: string;
}

const BATCH_LINES = 500;
/** Log batches an attempt may have unacknowledged: what bounds the queen's work per ant. */
const WINDOW = 4;

interface Work {
  readonly assignment: Assignment;
  readonly startedAt: number;
  /** Blobs the attempt reads or wrote, kept in the ant's store until its result is acknowledged. */
  readonly digests: Set<string>;
  readonly controller: AbortController;
  lines: WireLogLine[];
  dropped: number;
  nextBatch: number;
  readonly batches: Map<number, AntFrame>;
  result?: AntFrame;
}

function socketUrl(server: string): string {
  const url = new URL(server);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = ANT_SOCKET_PATH;
  return url.toString();
}

/**
 * An ant on another machine: connects to a queen over WebSocket, registers, runs what it is
 * assigned on its own executors and reports back, every report re-sent until acknowledged. It keeps
 * running its tasks while disconnected and resumes them with whichever queen it reaches next.
 */
export class RemoteAnt {
  readonly id: string;
  private readonly logger: Logger;
  private readonly executors: ReadonlyMap<string, Executor>;
  private readonly configured: ConfiguredExecutors;
  private readonly ledger: PidLedger;
  /** Artifacts in transit: collected here before upload, downloaded here before the attempt that needs them. */
  private readonly blobs: LocalBlobStore;
  private readonly transfer: ArtifactTransfer;
  private readonly urls: string[];
  /** The URL of the queen it is connected to, or last was: artifact transfers go there first. */
  private connectedUrl?: string;
  private readonly work = new Map<string, Work>();
  private socket?: WebSocket;
  private welcomed = false;
  private heartbeatMs = 5000;
  private lastHeard = 0;
  private beatAt = Date.now();
  private next = 0;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;
  private stopped = false;
  private draining?: Promise<void>;
  private settleExit: (exit: AntExit) => void = () => {};
  private readonly watchers = new Set<() => void>();
  /** Resolves when the ant has stopped for good. */
  readonly exited: Promise<AntExit>;
  /** The queen it is connected to now, if any. */
  queen?: string;

  constructor(private readonly options: RemoteAntOptions) {
    if (options.servers.length === 0) throw new RangeError('remote ant: at least one server URL is required');
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError('remote ant: capacity must be an integer >= 1');
    this.id = options.id;
    this.urls = options.servers.map((server, index) => {
      try {
        return socketUrl(server);
      } catch {
        throw new RangeError(`remote ant: server ${index + 1} '${server}' is not a URL`);
      }
    });
    this.logger = options.logger ?? pino({ name: 'myrmex-ant', level: process.env.MYRMEX_LOG_LEVEL ?? 'info' });
    this.configured = configuredExecutors(this.id, options.executorConfig ?? {});
    const stateDir = options.stateDir ?? join(homedir(), '.myrmex', 'ants', this.id);
    this.blobs = new LocalBlobStore(join(stateDir, 'blobs'));
    // The same artifact flow as the embedded ant (dependencies in, artifacts out), on the ant's own store.
    const executors = new Map<string, Executor>();
    for (const e of [...builtInExecutors({ shell: options.shell }), ...this.configured.executors, ...(options.executors ?? [])])
      executors.set(e.method, withStdoutReport(withWorkspace(e, { blobs: this.cacheFetching() }), this.blobs));
    this.executors = executors;
    this.transfer = new ArtifactTransfer({
      antId: this.id,
      token: options.token,
      servers: () =>
        this.connectedUrl === undefined ? this.urls : [this.connectedUrl, ...this.urls.filter((u) => u !== this.connectedUrl)],
      blobs: this.blobs,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    });
    const unknown = (options.methods ?? []).filter((m) => !executors.has(m));
    if (unknown.length > 0)
      throw new RangeError(
        `remote ant: methods names unknown methods: ${unknown.join(', ')} (this ant has ${[...executors.keys()].join(', ')})`,
      );
    this.ledger = new PidLedger(join(stateDir, 'pids'));
    this.exited = new Promise((resolve) => {
      this.settleExit = resolve;
    });
  }

  /** Kills what a previous run of this ant left behind (process groups, containers), then connects. */
  async start(): Promise<void> {
    const groups = this.ledger.sweep();
    const containers = await this.configured.sweep().catch((err) => {
      this.logger.warn({ err }, 'could not remove leftover containers');
      return 0;
    });
    if (groups + containers > 0) this.logger.warn({ groups, containers }, 'killed what a previous run of this ant left behind');
    this.connect();
  }

  /** Running or finished-but-unacknowledged assignment ids. */
  held(): string[] {
    return [...this.work.keys()];
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.urls[this.next++ % this.urls.length]!;
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.options.token}` },
      handshakeTimeout: 10_000,
      maxPayload: 16 * 1024 * 1024,
      ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
    });
    this.socket = socket;
    socket.on('open', () => {
      this.lastHeard = Date.now();
      this.write({
        type: 'hello',
        versions: [...PROTOCOL_VERSIONS],
        ant: {
          id: this.id,
          methods: [...(this.options.methods ?? this.executors.keys())],
          tags: [...(this.options.tags ?? [])],
          labels: { ...this.options.labels },
          resources: { ...this.options.resources },
          taints: [...(this.options.taints ?? [])],
          capacity: this.options.capacity,
          version: this.options.version ?? '0.1.0',
        },
        running: this.held(),
        draining: this.draining !== undefined,
      });
    });
    socket.on('message', (data) => {
      this.lastHeard = Date.now();
      const parsed = parseFrame(QueenFrameSchema, String(data));
      if (!parsed.ok) {
        this.logger.error({ error: parsed.error }, 'the queen sent a frame this ant does not understand');
        socket.terminate();
        return;
      }
      this.handle(parsed.frame);
    });
    socket.on('ping', () => {
      this.lastHeard = Date.now();
    });
    socket.on('unexpected-response', (_request, response) => {
      if (response.statusCode === 401 || response.statusCode === 403) {
        this.finish({ refused: `${url} refused the ant token (HTTP ${response.statusCode})` });
      } else if (response.headers[TLS_REQUIRED_HEADER] === 'required') {
        this.finish({
          refused: `${url}: the queen speaks TLS only: use a wss:// or https:// URL (with --ca <pem> when its certificate is private)`,
        });
      }
      socket.terminate();
    });
    socket.on('error', (err) => {
      const refusal = tlsRefusal(url, err as NodeJS.ErrnoException);
      if (refusal !== undefined) this.finish({ refused: refusal });
      else this.logger.debug({ err, url }, 'connection error');
    });
    socket.on('close', (code, reason) => {
      if (this.socket !== socket) return;
      const wasWelcomed = this.welcomed;
      this.welcomed = false;
      this.queen = undefined;
      clearInterval(this.timer);
      if (wasWelcomed) {
        this.logger.warn({ url, code, reason: String(reason) }, 'disconnected from the queen; running tasks go on');
        this.options.onConnection?.(undefined);
      }
      this.notify();
      if (this.stopped) return;
      const delay = code === CLOSE.goingAway ? 0 : fullJitter(this.failures++, this.options.backoff ?? { baseMs: 100, capMs: 5000 });
      this.reconnect = setTimeout(() => this.connect(), delay);
    });
  }

  private write(frame: AntFrame): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  private handle(frame: QueenFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.welcomed = true;
        this.connectedUrl = this.socket?.url;
        this.failures = 0;
        this.queen = frame.queen;
        this.heartbeatMs = frame.heartbeatMs;
        this.logger.info({ queen: frame.queen, resumed: this.work.size }, 'connected');
        clearInterval(this.timer);
        this.beatAt = Date.now();
        this.timer = setInterval(() => this.beat(), this.heartbeatMs);
        this.timer.unref();
        if (this.draining) this.write({ type: 'draining' });
        // Everything not acknowledged by the last queen goes again, logs before results.
        for (const work of this.work.values()) this.resend(work);
        this.options.onConnection?.(frame.queen);
        this.notify();
        return;
      case 'refused':
        this.logger.error({ reason: frame.reason, versions: frame.versions }, 'the queen refused this ant');
        this.finish({ refused: frame.reason });
        return;
      case 'assign':
        this.assigned(frame.assignment as Assignment);
        return;
      case 'cancel':
        this.work.get(frame.assignmentId)?.controller.abort(stopReason(frame));
        return;
      case 'logs-ack': {
        const work = this.work.get(frame.assignmentId);
        work?.batches.delete(frame.batch);
        if (work) this.pump(work);
        return;
      }
      case 'result-ack': {
        const work = this.work.get(frame.assignmentId);
        if (!work?.result) return;
        if (!frame.accepted)
          this.logger.warn({ assignment: frame.assignmentId }, 'the queen rejected this result: the attempt was no longer current');
        this.work.delete(frame.assignmentId);
        this.sweepBlobs();
        this.notify();
        return;
      }
      case 'drain':
        void this.drain(frame.reason);
        return;
    }
  }

  private beat(): void {
    const now = Date.now();
    // A late beat means this process stalled, not that the queen went quiet: give it a fresh window.
    if (now - this.beatAt > 2 * this.heartbeatMs) this.lastHeard = now;
    this.beatAt = now;
    if (now - this.lastHeard > 3 * this.heartbeatMs) {
      this.logger.warn('the queen stopped answering; reconnecting');
      this.socket?.terminate();
      return;
    }
    this.write({ type: 'heartbeat', running: this.held(), at: Date.now() });
  }

  private assigned(assignment: Assignment): void {
    const known = this.work.get(assignment.id);
    this.write({ type: 'ack', assignmentId: assignment.id });
    if (known) {
      // A re-sent assignment whose ack was lost: acknowledged again, not run twice.
      if (known.result) this.resend(known);
      return;
    }
    const work: Work = {
      assignment,
      startedAt: Date.now(),
      digests: new Set((assignment.spec.dependencies ?? []).flatMap((d) => d.files.map((f) => f.digest))),
      controller: new AbortController(),
      lines: [],
      dropped: 0,
      nextBatch: 0,
      batches: new Map(),
    };
    this.work.set(assignment.id, work);
    this.notify();
    if (this.draining) {
      // Worded as a drain's cancels are (`ant draining`), whichever side of the drain the assignment crossed.
      this.finished(work, { succeeded: false, error: `ant draining: ${this.id} takes no new work` }, {});
      return;
    }
    const max = this.options.maxBufferedLines ?? 10_000;
    let flushQueued = false;
    const log = (line: ProgressLog) => {
      let held = work.lines.length;
      for (const b of work.batches.values()) if (b.type === 'logs') held += b.lines.length;
      if (held >= max) {
        work.dropped++;
        return;
      }
      work.lines.push(line);
      if (flushQueued) return;
      flushQueued = true;
      setImmediate(() => {
        flushQueued = false;
        this.pump(work);
      });
    };
    void this.run(work, log).then(({ result, outputs }) => this.finished(work, result, outputs));
  }

  /**
   * Dependencies' artifacts down, the attempt, its artifacts up: the result is reported only once a
   * queen has acknowledged every file, so a dependent that the result makes ready finds them all.
   */
  private async run(work: Work, log: (line: ProgressLog) => void): Promise<AttemptOutcome> {
    const { assignment, controller } = work;
    const system = (text: string) => log({ stream: 'system', text, at: Date.now() });
    const failed = (error: unknown, exitCode?: number): AttemptOutcome => ({
      result: {
        succeeded: false,
        ...(exitCode === undefined ? {} : { exitCode }),
        error: `artifacts: ${error instanceof Error ? error.message : String(error)}`,
      },
      outputs: {},
    });
    try {
      await this.transfer.download(assignment, controller.signal, system);
    } catch (error) {
      return failed(error);
    }
    const outcome = await runAttempt({
      antId: this.id,
      assignment,
      executors: this.executors,
      signal: controller.signal,
      ledger: this.ledger,
      log,
    });
    const { artifacts, cache, ...rest } = outcome.result;
    for (const file of artifacts?.files ?? []) work.digests.add(file.digest);
    const saved = cache !== undefined && (await this.saveCache(work, cache, system));
    const result = saved ? { ...rest, cache } : rest;
    if (artifacts === undefined || artifacts.files.length === 0) return { result, outputs: outcome.outputs };
    try {
      await this.transfer.upload(assignment, artifacts, controller.signal, system);
    } catch (error) {
      // No longer this ant's attempt: its result goes as it is, for the queen to fence off.
      if (error instanceof AttemptFenced) system(error.message);
      else return { ...failed(error, result.exitCode), outputs: outcome.outputs };
    }
    return { result, outputs: outcome.outputs };
  }

  /** Uploads the cache the attempt saved; as on the embedded ant, a cache that cannot be saved is logged, never fatal. */
  private async saveCache(work: Work, cache: NonNullable<AttemptResult['cache']>, system: (text: string) => void): Promise<boolean> {
    work.digests.add(cache.digest);
    try {
      await this.transfer.uploadCache(work.assignment, cache, work.controller.signal, system);
      return true;
    } catch (error) {
      system(`cache ${cache.key}: could not be saved (${error instanceof Error ? error.message : String(error)})`);
      return false;
    }
  }

  /**
   * The ant's blob store as the workspace sees it: a saved cache it restores is downloaded from a
   * queen on first read (only the one its key names: an attempt is offered the newest twenty).
   */
  private cacheFetching(): BlobStore {
    const blobs = this.blobs;
    return {
      put: (content) => blobs.put(content),
      has: (digest) => blobs.has(digest),
      sweep: (keep, writtenBefore) => blobs.sweep(keep, writtenBefore),
      open: async (digest) => {
        const work = [...this.work.values()].find((w) =>
          Object.values(w.assignment.spec.cache?.saved ?? {}).some((saved) => saved.digest === digest),
        );
        if (work !== undefined) {
          work.digests.add(digest);
          if (!(await blobs.has(digest))) await this.transfer.downloadCache(work.assignment, digest, work.controller.signal);
        }
        return blobs.open(digest);
      },
    };
  }

  /** Forgets blobs no held assignment needs; blobs written since the oldest held one started stay (they may be its). */
  private sweepBlobs(): void {
    const held = [...this.work.values()];
    const keep = new Set(held.flatMap((w) => [...w.digests]));
    const since = Math.min(Date.now(), ...held.map((w) => w.startedAt));
    void this.blobs.sweep(keep, new Date(since)).catch((err) => this.logger.warn({ err }, 'could not sweep the ant blob store'));
  }

  /** Cuts pending lines into batches while the window allows (all of them once the attempt is over). */
  private pump(work: Work, all = false): void {
    while ((work.lines.length > 0 || work.dropped > 0) && (all || work.batches.size < WINDOW)) {
      const lines = work.lines.splice(0, BATCH_LINES);
      const frame: AntFrame = { type: 'logs', assignmentId: work.assignment.id, batch: work.nextBatch++, lines, dropped: work.dropped };
      work.dropped = 0;
      work.batches.set(frame.batch, frame);
      if (this.welcomed) this.write(frame);
    }
  }

  private finished(work: Work, result: AttemptResult, outputs: Readonly<Record<string, string>>): void {
    this.pump(work, true);
    // Artifacts and the cache archive travelled over HTTP already; the frame carries the verdict and the cache's name.
    const { succeeded, exitCode, error, cpuMs, cache } = result;
    work.result = {
      type: 'result',
      assignmentId: work.assignment.id,
      result: {
        succeeded,
        ...(exitCode === undefined ? {} : { exitCode }),
        ...(error === undefined ? {} : { error }),
        ...(cpuMs === undefined ? {} : { cpuMs }),
        ...(cache === undefined ? {} : { cache }),
      },
      outputs: { ...outputs },
    };
    if (this.welcomed) this.write(work.result);
    this.notify();
  }

  private resend(work: Work): void {
    for (const batch of [...work.batches.values()]) this.write(batch);
    this.pump(work, work.result !== undefined);
    if (work.result) this.write(work.result);
  }

  /**
   * Stops taking work, lets running tasks finish for `graceMs`, then cancels the rest; waits until
   * the queen has acknowledged every result (for at most as long again), then disconnects.
   */
  drain(reason = 'drain', graceMs = this.options.drainGraceMs ?? 30_000): Promise<void> {
    this.draining ??= (async () => {
      this.logger.info({ reason, running: this.work.size }, 'draining');
      this.write({ type: 'draining' });
      const running = () => [...this.work.values()].some((w) => !w.result);
      if (!(await this.until(() => !running(), graceMs))) {
        for (const work of this.work.values()) if (!work.result) work.controller.abort(`ant draining: ${reason}`);
        await this.until(() => !running(), 10_000);
      }
      await this.until(() => this.work.size === 0, Math.max(graceMs, 5000));
      this.finish({});
    })();
    return this.draining;
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  /** Resolves true once `condition` holds, false after `ms`; re-checked whenever the ant's state changes. */
  private until(condition: () => boolean, ms: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timeout);
        this.watchers.delete(watcher);
        resolve(ok);
      };
      const watcher = () => {
        if (condition()) done(true);
      };
      const timeout = setTimeout(() => done(false), ms);
      this.watchers.add(watcher);
    });
  }

  /** Stops now: running tasks are cancelled, nothing more is reported (the queen re-queues them when the ant says goodbye, else at lease expiry). */
  async stop(): Promise<void> {
    for (const work of this.work.values()) work.controller.abort('ant stopped');
    this.finish({});
  }

  private finish(exit: AntExit): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnect);
    void this.configured.close().catch(() => undefined);
    const socket = this.socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) {
      this.settleExit(exit);
      return;
    }
    // The goodbye (CLOSE.stopping) is what lets the queen re-queue at once what this ant still holds:
    // exit only once it is through (a process exiting at once may never send it), or after a second.
    const bound = setTimeout(() => {
      socket.terminate();
      this.settleExit(exit);
    }, 1000);
    socket.once('close', () => {
      clearTimeout(bound);
      this.settleExit(exit);
    });
    socket.close(CLOSE.stopping, 'ant stopping');
  }
}
