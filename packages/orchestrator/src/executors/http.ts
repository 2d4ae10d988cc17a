import { serializeKey, taskKey } from '@myrmex/idempotency';
import type { AttemptResult } from '../domain/types.js';
import { abortReason, bounded, type ExecutionContext, type Executor } from './executor.js';

export const HTTP_METHODS = {
  HTTP_GET: 'GET',
  HTTP_POST_FORM: 'POST',
  HTTP_POST_JSON: 'POST',
  HTTP_PUT_FORM: 'PUT',
  HTTP_PUT_JSON: 'PUT',
  HTTP_DELETE: 'DELETE',
} as const;
export type HttpMethod = keyof typeof HTTP_METHODS;

export interface HttpExecutorOptions {
  /** The response body kept (log and `body` output); the rest is dropped and the cut noted. */
  readonly maxBodyBytes?: number;
}

/** Reads at most `max` bytes of a body, then cancels the stream so a huge response is not downloaded. */
async function readBounded(response: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      break;
    }
  }
  const kept = bounded(Buffer.concat(chunks).toString('utf8'), max);
  return kept;
}

/** A form body from a mapping: scalars as their text, structures as JSON (Formicary sends task variables this way). */
export function formBody(body: unknown): string {
  const form = new URLSearchParams();
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    for (const [key, value] of Object.entries(body))
      form.append(key, typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
  }
  return form.toString();
}

/**
 * HTTP_GET, HTTP_POST_FORM, HTTP_PUT_FORM, HTTP_POST_JSON, HTTP_PUT_JSON, HTTP_DELETE: the status code is the exit code (2xx is
 * success); the body is kept bounded and published as the outputs `status` and `body`.
 */
export function createHttpExecutor(method: HttpMethod, options: HttpExecutorOptions = {}): Executor {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const verb = HTTP_METHODS[method];
  return {
    method,
    async execute(context: ExecutionContext): Promise<AttemptResult> {
      const { spec } = context;
      if (!spec.url) return { succeeded: false, error: `${method} needs a url` };
      let url: URL;
      try {
        url = new URL(spec.url);
      } catch {
        return { succeeded: false, error: `invalid url '${spec.url}'` };
      }
      for (const [key, value] of Object.entries(spec.query)) url.searchParams.append(key, value);
      const signals = [context.signal];
      if (spec.timeoutMs !== undefined) signals.push(AbortSignal.timeout(spec.timeoutMs));
      const signal = AbortSignal.any(signals);
      const sendsBody = verb === 'POST' || verb === 'PUT';
      const form = method.endsWith('_FORM');
      const contentType = form ? 'application/x-www-form-urlencoded' : 'application/json';
      const headers: Record<string, string> = { ...(sendsBody ? { 'content-type': contentType } : {}), ...spec.headers };
      // A POST is the one verb a retry can repeat: every attempt of this task in this job sends one
      // key, so a server that honours it answers a retry with the first result (a key the task sets wins).
      if (verb === 'POST' && !Object.keys(headers).some((name) => name.toLowerCase() === 'idempotency-key')) {
        headers['idempotency-key'] = serializeKey(taskKey({ jobId: context.jobId, taskType: context.taskType }));
      }
      context.log('system', `${verb} ${url.href}`, new Date());
      try {
        const response = await fetch(url, {
          method: verb,
          headers,
          signal,
          ...(sendsBody ? { body: form ? formBody(spec.body) : JSON.stringify(spec.body ?? {}) } : {}),
        });
        const body = await readBounded(response, maxBodyBytes);
        const at = new Date();
        context.log(
          'system',
          `${response.status} ${response.statusText}${body.truncated ? ` (body truncated to ${maxBodyBytes} bytes)` : ''}`,
          at,
        );
        for (const line of body.text.split('\n')) if (line !== '') context.log('stdout', line, at);
        context.output('status', String(response.status));
        context.output('body', body.text);
        return { exitCode: response.status, succeeded: response.ok };
      } catch (error) {
        if (context.signal.aborted) return { succeeded: false, error: abortReason(context.signal) };
        if (signal.aborted) return { succeeded: false, error: `timed out after ${spec.timeoutMs}ms` };
        const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
        return { succeeded: false, error: `${verb} ${url.href} failed: ${error instanceof Error ? error.message : String(error)}${cause}` };
      }
    },
  };
}
