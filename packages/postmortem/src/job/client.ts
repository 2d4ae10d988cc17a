import { type Job, JobFormatError, readJob } from './wire.js';

export class JobFetchError extends Error {
  override readonly name = 'JobFetchError';
}

export interface FetchJobOptions {
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** The URL of a job on an orchestrator, keeping any path prefix the server URL has. */
export function jobUrl(server: string, id: string): URL {
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new JobFetchError(`--server "${server}" is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new JobFetchError(`--server must be an http or https URL, got ${base.protocol}`);
  if (id.trim() === '') throw new JobFetchError('the job id is empty');
  const path = base.pathname.replace(/\/+$/, '');
  return new URL(`${path}/api/jobs/requests/${encodeURIComponent(id)}`, base);
}

/** Fetches and validates one job from an orchestrator's HTTP API. */
export async function fetchJob(server: string, id: string, options: FetchJobOptions = {}): Promise<Job> {
  const url = jobUrl(server, id);
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
  } catch (error) {
    throw new JobFetchError(`cannot reach ${url.origin}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const body = await response.text();
  if (!response.ok) throw new JobFetchError(`GET ${url.pathname} answered ${response.status}: ${body.slice(0, 200)}`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new JobFetchError(`GET ${url.pathname} did not answer JSON: ${body.slice(0, 80)}`);
  }
  try {
    return readJob(json);
  } catch (error) {
    if (error instanceof JobFormatError) throw new JobFetchError(`GET ${url.pathname}: ${error.message}`);
    throw error;
  }
}
