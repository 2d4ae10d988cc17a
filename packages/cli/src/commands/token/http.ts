import type { ProblemWire } from '@myrmex/orchestrator';
import type { CliContext } from '../../context.js';
import { ApiError, DEFAULT_SERVER, UnreachableError } from '../orchestrator/client.js';
import type { ServerOptions } from '../orchestrator/common.js';

/** One JSON call to the queen's security routes, with MYRMEX_TOKEN as the bearer token. */
export async function securityCall<T>(
  options: ServerOptions,
  context: CliContext,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const server = (options.server ?? context.env.MYRMEX_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '');
  const headers: Record<string, string> = {};
  if (context.env.MYRMEX_TOKEN) headers.authorization = `Bearer ${context.env.MYRMEX_TOKEN}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${server}/api${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (error) {
    throw new UnreachableError(server, error);
  }
  const text = await response.text();
  if (!response.ok) {
    let problem: ProblemWire;
    try {
      problem = JSON.parse(text) as ProblemWire;
    } catch {
      problem = { type: 'about:blank', title: response.statusText, status: response.status, detail: text.slice(0, 500), instance: path };
    }
    throw new ApiError(problem);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}
