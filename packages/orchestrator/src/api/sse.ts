import type { ServerResponse } from 'node:http';

/**
 * One server-sent-events response. Comments every `heartbeatMs` keep proxies and idle timers from
 * cutting a quiet stream; `close` is idempotent so the job ending, the client leaving and the
 * server shutting down can race without harm.
 */
export class SseStream {
  #closed = false;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #onClose: (() => void)[] = [];

  constructor(
    private readonly response: ServerResponse,
    heartbeatMs: number,
  ) {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), heartbeatMs);
    this.#heartbeat.unref();
    response.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `listener` once when the stream closes, whoever closes it. */
  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#onClose.push(listener);
  }

  send(event: string, data: unknown, id?: number): void {
    const lines = [`event: ${event}`];
    if (id !== undefined) lines.push(`id: ${id}`);
    // JSON.stringify never emits a raw newline, so the payload is always one `data:` line.
    lines.push(`data: ${JSON.stringify(data)}`);
    this.#write(`${lines.join('\n')}\n\n`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (!this.response.writableEnded) this.response.end();
    for (const listener of this.#onClose.splice(0)) listener();
  }

  #write(chunk: string): void {
    if (!this.#closed && !this.response.writableEnded) this.response.write(chunk);
  }
}

/** The streams a server has open, so shutdown can end them instead of waiting for clients to leave. */
export class SseRegistry {
  readonly #open = new Set<SseStream>();

  constructor(private readonly heartbeatMs: number) {}

  open(response: ServerResponse): SseStream {
    const stream = new SseStream(response, this.heartbeatMs);
    this.#open.add(stream);
    stream.onClose(() => this.#open.delete(stream));
    return stream;
  }

  get size(): number {
    return this.#open.size;
  }

  closeAll(event: string, data: unknown): void {
    for (const stream of [...this.#open]) {
      stream.send(event, data);
      stream.close();
    }
  }
}
