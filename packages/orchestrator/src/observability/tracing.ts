import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { getStringFromEnv, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TaskSpec } from '../executors/executor.js';
import type { QueenService, TimelineEvent } from '../queen/service.js';

const propagator = new W3CTraceContextPropagator();
const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** The `traceparent` of the request being handled, so the job it submits joins the caller's trace. */
const submitting = new AsyncLocalStorage<string>();

/** Runs the rest of this request's handling with its W3C `traceparent` (call from an onRequest hook). */
export function enterTraceparent(traceparent: string | undefined): void {
  if (traceparent && /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/.test(traceparent)) submitting.enterWith(traceparent);
}

/** The trace id of the request being handled, when it sent a `traceparent`. */
export function submittedTraceId(): string | undefined {
  return submitting.getStore()?.split('-')[1];
}

/**
 * Tracing is on when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER=otlp, and off with OTEL_SDK_DISABLED=true
 * or OTEL_TRACES_EXPORTER=none: a queen with no collector sends nothing.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER === 'otlp');
}

export interface JobTracingOptions {
  /** Default: OTLP/HTTP (JSON) configured by the standard OTEL_EXPORTER_OTLP_* variables. */
  readonly exporter?: SpanExporter;
}

/** The attempt a spec is prepared for, and the ant it goes to. */
export interface AttemptRef {
  readonly jobId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly antId: string;
}

interface JobTrace {
  readonly span: Span;
  readonly context: Context;
  /** The caller's traceparent, kept so a restarted job's new span joins the same trace. */
  readonly parent: Context;
}

/**
 * A trace per job and a span per task attempt. The job's span starts when it is submitted (as a child
 * of the submitter's `traceparent`, when one came with the request) and ends when the job ends; each
 * attempt's span is a child of it, carries the attempt number, the ant and the exit code, and its
 * context reaches the task as TRACEPARENT (shell environment) and the `traceparent` header (HTTP),
 * on whichever ant runs it.
 */
export class JobTracing {
  readonly provider: BasicTracerProvider;
  readonly #tracer: Tracer;
  readonly #jobs = new Map<string, JobTrace>();
  readonly #parents = new Map<string, Context>();
  /** Open attempt spans by job and task (a speculative backup can run two attempts at once). */
  readonly #attempts = new Map<string, { readonly span: Span; readonly attempt: number }[]>();
  #stop: () => void = () => {};
  #queen?: QueenService;

  /** Spans start once `attach(queen)` is called; the queen needs `prepare` before it exists. */
  constructor(options: JobTracingOptions = {}) {
    const serviceName = getStringFromEnv('OTEL_SERVICE_NAME') ?? 'myrmex-queen';
    const resource = defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ 'service.name': serviceName }));
    this.provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(options.exporter ?? new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
    });
    this.#tracer = this.provider.getTracer('@myrmex/orchestrator');
  }

  /** The W3C trace id of a job's trace while its span is open (lifecycle events carry it). */
  traceId(jobId: string): string | undefined {
    return this.#jobs.get(jobId)?.span.spanContext().traceId;
  }

  attach(queen: QueenService): void {
    this.#queen = queen;
    this.#stop = queen.onTransition((event) => this.#onTransition(event));
  }

  #onTransition(event: TimelineEvent): void {
    if (event.taskType !== undefined) {
      if (event.from === 'EXECUTING' && event.to !== 'EXECUTING') this.#endAttempts(event);
      return;
    }
    if (event.from === undefined) {
      const traceparent = submitting.getStore();
      const parent = traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
      this.#parents.set(event.jobId, parent);
      this.#open(event.jobId, parent, event.at);
      return;
    }
    if (!ENDED.has(event.to)) {
      // A restarted job gets a new span in the same trace.
      if (!this.#jobs.has(event.jobId)) this.#open(event.jobId, this.#parents.get(event.jobId) ?? ROOT_CONTEXT, event.at);
      return;
    }
    const job = this.#jobs.get(event.jobId);
    if (!job) return;
    this.#jobs.delete(event.jobId);
    job.span.setAttribute('myrmex.job.state', event.to);
    if (event.to === 'FAILED') job.span.setStatus({ code: SpanStatusCode.ERROR, ...(event.reason ? { message: event.reason } : {}) });
    job.span.end(event.at);
  }

  #open(jobId: string, parent: Context, at: Date): JobTrace {
    const span = this.#tracer.startSpan('job', { kind: SpanKind.INTERNAL, startTime: at, attributes: { 'myrmex.job.id': jobId } }, parent);
    const opened = { span, context: trace.setSpan(parent, span), parent };
    this.#jobs.set(jobId, opened);
    // The type arrives with the first read of the job; the span is renamed for it.
    void this.#queen
      ?.getJob(jobId)
      .then((job) => {
        if (!job) return;
        span.updateName(`job ${job.jobType}`);
        span.setAttributes({ 'myrmex.job.type': job.jobType, 'myrmex.job.version': job.version, 'myrmex.job.priority': job.priority });
      })
      .catch(() => {});
    return opened;
  }

  /**
   * Opens the attempt's span as the queen sends it to its ant, and returns the spec with that span's
   * context in it (TRACEPARENT for shells, the `traceparent` header for HTTP). The spec travels to the
   * ant as it is, embedded or remote (the ant protocol's assign frame), so a task on another machine
   * joins the job's trace too. The span ends when the task leaves EXECUTING.
   */
  prepare(attempt: AttemptRef, spec: TaskSpec): TaskSpec {
    const job = this.#jobs.get(attempt.jobId) ?? this.#open(attempt.jobId, this.#parents.get(attempt.jobId) ?? ROOT_CONTEXT, new Date());
    const span = this.#tracer.startSpan(
      `task ${attempt.taskType}`,
      {
        kind: spec.method === 'SHELL' ? SpanKind.INTERNAL : SpanKind.CLIENT,
        attributes: {
          'myrmex.job.id': attempt.jobId,
          'myrmex.task.type': attempt.taskType,
          'myrmex.task.attempt': attempt.attempt,
          'myrmex.task.retry': attempt.attempt > 1,
          'myrmex.task.method': spec.method,
          'myrmex.ant.id': attempt.antId,
        },
      },
      job.context,
    );
    const key = `${attempt.jobId}\u0000${attempt.taskType}`;
    this.#attempts.set(key, [...(this.#attempts.get(key) ?? []), { span, attempt: attempt.attempt }]);
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
    const traceparent = carrier.traceparent ?? '';
    return {
      ...spec,
      environment: { ...spec.environment, TRACEPARENT: traceparent },
      headers: { ...spec.headers, traceparent },
    };
  }

  /** A task left EXECUTING: its open attempts' spans end with their exit codes, read from the store. */
  #endAttempts(event: TimelineEvent): void {
    const key = `${event.jobId}\u0000${event.taskType}`;
    const open = this.#attempts.get(key);
    if (!open) return;
    this.#attempts.delete(key);
    const ended = event.at;
    const finish = (detail: Awaited<ReturnType<QueenService['getJob']>>) => {
      const attempts = detail?.tasks.find((t) => t.taskType === event.taskType)?.attempts ?? [];
      for (const { span, attempt } of open) {
        const result = attempts.find((a) => a.attempt === attempt);
        if (result?.exitCode !== undefined) span.setAttribute('myrmex.task.exit_code', result.exitCode);
        const succeeded = result?.state === 'COMPLETED';
        span.setAttribute('myrmex.task.succeeded', succeeded);
        if (!succeeded) span.setStatus({ code: SpanStatusCode.ERROR, ...(result?.reason ? { message: result.reason } : {}) });
        span.end(ended);
      }
    };
    void (this.#queen?.getJob(event.jobId) ?? Promise.resolve(undefined)).then(finish, () => finish(undefined));
  }

  /** Ends open job spans (the queen is stopping) and sends what is buffered. */
  async close(): Promise<void> {
    this.#stop();
    for (const open of this.#attempts.values()) for (const { span } of open) span.end();
    this.#attempts.clear();
    for (const job of this.#jobs.values()) job.span.end();
    this.#jobs.clear();
    await this.provider.shutdown();
  }
}
