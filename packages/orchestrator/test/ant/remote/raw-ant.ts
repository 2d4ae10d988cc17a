import { PROTOCOL_VERSION } from '@myrmex/orchestrator';
import WebSocket from 'ws';
import { until } from './harness.js';

export type Frame = { type: string } & Record<string, unknown>;

/** A hand-written ant: raw frames, to drive the protocol where a real ant never goes. */
/** Log batch `n` of an assignment: one stdout line that says its number, so a test can count what was stored. */
export const logBatch = (assignmentId: string, n: number): Frame => ({
  type: 'logs',
  assignmentId,
  batch: n,
  lines: [{ stream: 'stdout', text: `line ${n}`, at: Date.now() }],
});

export class RawAnt {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Frame));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }
  /** Resolves with the open ant, or with the HTTP status the upgrade was refused with. */
  static open(url: string, token: string | undefined): Promise<RawAnt | number> {
    const ws = new WebSocket(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawAnt(ws)));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
    });
  }
  send(frame: Frame): void {
    this.ws.send(JSON.stringify(frame));
  }
  hello(id: string, extra: Record<string, unknown> = {}): void {
    this.send({
      type: 'hello',
      versions: [PROTOCOL_VERSION],
      ant: { id, methods: ['SHELL'], tags: [], capacity: 1 },
      running: [],
      ...extra,
    });
  }
  /** The n-th frame of a type (1-based), waiting for it. */
  nth(type: string, n = 1): Promise<Frame> {
    return until(() => this.frames.filter((f) => f.type === type)[n - 1], `frame ${type} #${n}`, 30_000);
  }
}
