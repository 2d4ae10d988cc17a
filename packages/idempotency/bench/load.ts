import { Agent, request } from 'node:http';

export interface LoadOptions {
  readonly url: string;
  readonly body: string;
  /** Requests in flight at once (closed loop: each connection sends its next request on reply). */
  readonly connections: number;
  readonly durationMs: number;
  /** Stops early after this many requests. */
  readonly maxRequests: number;
  /** Headers of request number `n`; a fresh Idempotency-Key per request, or a fixed one. */
  readonly headers: (n: number) => Record<string, string>;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly statuses: Record<number, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly perSecond: number;
  /** CPU time of this process (load generator and server together) per request, in microseconds. */
  readonly cpuUsPerRequest: number;
}

/** A closed-loop load generator on keep-alive loopback connections, timing each request with hrtime. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const target = new URL(options.url);
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let errors = 0;
  let sent = 0;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(options.durationMs) * 1_000_000n;
  const one = (n: number) =>
    new Promise<void>((resolve) => {
      const begin = process.hrtime.bigint();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers(n) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - begin) / 1e6);
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(options.body);
    });
  const worker = async () => {
    while (process.hrtime.bigint() < deadline && sent < options.maxRequests) await one(sent++);
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    requests: latencies.length,
    errors,
    statuses,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    perSecond: latencies.length / elapsedS,
    cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, latencies.length),
  };
}
