import { connect, type NatsConnection, headers as natsHeaders } from 'nats';
import type { AttemptResult } from '../domain/types.js';
import { abortReason, type ExecutionContext, type Executor } from './executor.js';

/**
 * MESSAGING: the task is handed to an external worker over NATS JetStream and the attempt waits for
 * the worker's reply. The request is stored in a stream (so a worker that starts late still gets
 * it) with the attempt as its message id (JetStream drops a re-published duplicate); the reply comes
 * on a subject unique to the attempt, so a late reply to an earlier attempt is never taken for this one.
 *
 * Request (JSON): { jobId, taskType, attempt, script, environment, replyTo }.
 * Reply (JSON): { exitCode?: number, succeeded?: boolean, outputs?: {key: value}, logs?: string[], error?: string }.
 */

export interface MessagingExecutorOptions {
  /** NATS servers, e.g. `127.0.0.1:4222`. */
  readonly servers: string;
  /** Waited for a reply when the task sets no timeout. */
  readonly defaultTimeoutMs?: number;
}

export interface MessagingReply {
  readonly exitCode?: number;
  readonly succeeded?: boolean;
  readonly outputs?: Readonly<Record<string, string>>;
  readonly logs?: readonly string[];
  readonly error?: string;
}

/** A stream name for a subject: JetStream names cannot hold dots. */
export function streamNameFor(subject: string): string {
  return subject.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase();
}

export function createMessagingExecutor(options: MessagingExecutorOptions): Executor & { close(): Promise<void> } {
  let connection: Promise<NatsConnection> | undefined;
  const connected = () => {
    connection ??= connect({ servers: options.servers });
    return connection;
  };
  return {
    method: 'MESSAGING',
    async execute(context) {
      const messaging = context.spec.messaging;
      if (messaging === undefined) return { succeeded: false, error: 'MESSAGING task has no messaging_request_queue' };
      try {
        return await exchange(await connected(), context, messaging, options.defaultTimeoutMs ?? 60_000);
      } catch (error) {
        return { succeeded: false, error: `MESSAGING over NATS: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
    async close() {
      if (connection !== undefined) await (await connection).drain();
    },
  };
}

async function exchange(
  nc: NatsConnection,
  context: ExecutionContext,
  messaging: { readonly requestQueue: string; readonly replyQueue?: string },
  defaultTimeoutMs: number,
): Promise<AttemptResult> {
  const { spec, signal } = context;
  const manager = await nc.jetstreamManager();
  const subject = messaging.requestQueue;
  const stream = await manager.streams.find(subject).catch(() => undefined);
  if (stream === undefined) await manager.streams.add({ name: streamNameFor(subject), subjects: [subject] });
  const replyTo = `${messaging.replyQueue ?? `${subject}.reply`}.${context.jobId}.${context.taskType}.${context.attempt}`.replace(
    /[^A-Za-z0-9_.-]/g,
    '_',
  );
  const subscription = nc.subscribe(replyTo, { max: 1 });
  const timeoutMs = spec.timeoutMs ?? defaultTimeoutMs;
  try {
    const request = {
      jobId: context.jobId,
      taskType: context.taskType,
      attempt: context.attempt,
      script: spec.script,
      environment: spec.environment,
      replyTo,
    };
    const header = natsHeaders();
    header.set('Myrmex-Reply-To', replyTo);
    await nc
      .jetstream()
      .publish(subject, JSON.stringify(request), { msgID: `${context.jobId}/${context.taskType}/${context.attempt}`, headers: header });
    context.log('system', `request published on ${subject}; waiting ${timeoutMs}ms for a reply on ${replyTo}`, new Date());
    const reply = await new Promise<MessagingReply | string>((resolve) => {
      const timer = setTimeout(() => resolve(`no reply on ${replyTo} within ${timeoutMs}ms`), timeoutMs);
      const onAbort = () => resolve(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      void (async () => {
        for await (const message of subscription) {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          try {
            resolve(JSON.parse(message.string()) as MessagingReply);
          } catch {
            resolve(`the worker's reply is not JSON: ${message.string().slice(0, 200)}`);
          }
        }
      })();
      if (signal.aborted) onAbort();
    });
    if (typeof reply === 'string') return { succeeded: false, error: reply };
    const at = new Date();
    for (const line of reply.logs ?? []) context.log('stdout', String(line), at);
    for (const [key, value] of Object.entries(reply.outputs ?? {})) context.output(key, String(value));
    const exitCode = typeof reply.exitCode === 'number' ? reply.exitCode : reply.succeeded === false ? 1 : 0;
    return {
      exitCode,
      succeeded: reply.succeeded ?? exitCode === 0,
      ...(reply.error === undefined ? {} : { error: String(reply.error) }),
    };
  } finally {
    subscription.unsubscribe();
  }
}
