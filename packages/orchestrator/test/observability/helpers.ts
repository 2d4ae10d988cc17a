import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createLogger, parseExposition, type RunningServer, type Sample, type ServeOptions, serve, sumSamples } from '../../src/index.js';

/** Real queens from `serve` on temporary files, closed and deleted after each test. */
export function servers() {
  const opened: { server: RunningServer; dir: string }[] = [];
  afterEach(async () => {
    for (const { server, dir } of opened.splice(0)) {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return async (options: ServeOptions = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'myrmex-obs-'));
    const lines: string[] = [];
    const server = await serve({
      port: 0,
      handleSignals: false,
      dbPath: join(dir, 'queen.db'),
      logFormat: 'json',
      logger: createLogger({ format: 'json', write: (text) => lines.push(text) }),
      ...options,
    });
    opened.push({ server, dir });
    return { server, lines };
  };
}

export async function apply(url: string, yaml: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${url}/api/jobs/definitions`, {
    method: 'POST',
    headers: { 'content-type': 'text/yaml', ...headers },
    body: yaml,
  });
  if (!response.ok) throw new Error(`apply failed: ${response.status} ${await response.text()}`);
}

export async function submit(url: string, jobType: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/api/jobs/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ job_type: jobType, params }),
  });
  if (response.status !== 201) throw new Error(`submit failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; state: string };
}

/** Follows the job's event stream until it ends; resolves to its final state. */
export async function waitForEnd(url: string, id: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${url}/api/jobs/requests/${id}/events?follow=true`, { headers });
  const text = await response.text();
  const end = /event: end\ndata: (.*)\n/.exec(text);
  if (!end?.[1]) throw new Error(`the stream of ${id} ended without an end event:\n${text}`);
  return (JSON.parse(end[1]) as { state: string }).state;
}

/** Parses Prometheus text into samples, refusing any line that is not a sample, a comment or blank. */
export function samples(text: string): Sample[] {
  const bad = text.split('\n').find((line) => line !== '' && !line.startsWith('#') && parseExposition(line).length === 0);
  if (bad !== undefined) throw new Error(`not a Prometheus sample line: ${bad}`);
  return parseExposition(text);
}

export const value = (all: readonly Sample[], name: string, labels: Record<string, string> = {}): number => sumSamples(all, name, labels);
