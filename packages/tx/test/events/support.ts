import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { JetStreamManager } from 'nats';
import { decodeEvent, type EventEnvelope, type Publisher, type PublishOutcome } from '../../src/publishers/publisher.js';
import { type AnyManager, openManager, type Target } from '../support/databases.js';

/**
 * A publisher that records what it was given, for the relay's own rules (order, retries, dead
 * letters); the real brokers run the same relay in brokers.test.ts.
 */
export class RecordingPublisher implements Publisher {
  readonly name = 'recording';
  readonly received: EventEnvelope[] = [];
  /** Return an error to fail this attempt. */
  failWith: (event: EventEnvelope) => Error | undefined = () => undefined;
  inFlight = 0;
  maxInFlightPerKey = 0;
  readonly #perKey = new Map<string, number>();

  async publish(event: EventEnvelope): Promise<PublishOutcome> {
    const n = (this.#perKey.get(event.aggregateId) ?? 0) + 1;
    this.#perKey.set(event.aggregateId, n);
    this.maxInFlightPerKey = Math.max(this.maxInFlightPerKey, n);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      const error = this.failWith(event);
      if (error) throw error;
      this.received.push(event);
      return { duplicate: false };
    } finally {
      this.#perKey.set(event.aggregateId, n - 1);
    }
  }

  async close(): Promise<void> {}
}

/** Checks that each key's events arrived in the order given by `order` (e.g. the payload's counter). */
export function inOrderPerKey(events: readonly EventEnvelope[], order: (e: EventEnvelope) => number): boolean {
  const last = new Map<string, number>();
  for (const e of events) {
    const n = order(e);
    if ((last.get(e.aggregateId) ?? -Infinity) >= n) return false;
    last.set(e.aggregateId, n);
  }
  return true;
}

/** Polls `check` until it holds (tests wait for conditions, never for time). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A PostgreSQL LSN (`16/B374D848`) as a number, to compare positions. */
export function lsnValue(text: string): bigint {
  const [high, low] = text.split('/') as [string, string];
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** A new database of the target's kind and a manager over it; `dispose` closes both. */
export async function freshManager(target: Target, max = 8): Promise<{ tm: AnyManager; url: string; dispose(): Promise<void> }> {
  const db = await target.fresh();
  const opened = openManager(target.kind, db.url, { max });
  return {
    tm: opened.tm,
    url: db.url,
    dispose: async () => {
      await opened.close();
      await db.dispose();
    },
  };
}

/** Every message a JetStream stream holds, decoded, in stream order. */
export async function streamEvents(jsm: JetStreamManager, stream: string): Promise<EventEnvelope[]> {
  const info = await jsm.streams.info(stream);
  const events: EventEnvelope[] = [];
  if (info.state.messages === 0) return events;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++)
    events.push(decodeEvent((await jsm.streams.getMessage(stream, { seq })).string()));
  return events;
}

/**
 * Runs a script as a child process and collects its stdout lines: a bundle from `bundledChild` (a bare Node start),
 * or a TypeScript file of this folder through tsx.
 */
export function child(script: string, args: readonly string[]): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const here = dirname(fileURLToPath(import.meta.url));
  const loader = script.endsWith('.mjs') ? [] : ['--conditions=source', '--import', 'tsx'];
  const process_ = spawn(process.execPath, [...loader, resolve(here, script), ...args], {
    cwd: join(here, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  createInterface({ input: process_.stdout! }).on('line', (line) => lines.push(line));
  return { child: process_, lines, exited: new Promise((resolve) => process_.on('exit', (code) => resolve(code))) };
}
