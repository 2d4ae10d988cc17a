import { describe } from 'vitest';

export type Availability = { readonly available: true } | { readonly available: false; readonly reason: string };

/**
 * A service a test suite needs. `describe` runs the suite when the service answered and
 * skips it with the reason in its name when it did not; under CI the gate is never opened
 * on an absent service, because `openGate` throws instead.
 */
export interface Gate {
  readonly service: string;
  readonly url: string;
  readonly availability: Availability;
  readonly describe: (name: string, body: () => void) => void;
}

export class ServiceUnavailableError extends Error {
  constructor(service: string, url: string, reason: string) {
    super(
      `${service} is required under CI=true but did not answer at ${redact(url)}: ${reason}. ` +
        'Start it (see .ci/run) or point the matching MYRMEX_*_URL variable at it.',
    );
    this.name = 'ServiceUnavailableError';
  }
}

export interface GateOptions {
  readonly service: string;
  readonly url: string;
  readonly probe: () => Promise<void>;
  readonly ci: boolean;
  readonly timeoutMs?: number;
  readonly warn?: (message: string) => void;
}

export async function openGate(options: GateOptions): Promise<Gate> {
  const availability = await probeWithTimeout(options.probe, options.timeoutMs ?? 3000);
  if (!availability.available) {
    if (options.ci) throw new ServiceUnavailableError(options.service, options.url, availability.reason);
    const warn = options.warn ?? ((message: string) => console.warn(message));
    warn(
      `\n!!! SKIPPING tests that need ${options.service}: it did not answer at ${redact(options.url)} ` +
        `(${availability.reason}). Start it or set the MYRMEX_*_URL variable; under CI=true this fails.\n`,
    );
  }
  return {
    service: options.service,
    url: options.url,
    availability,
    describe: (name, body) => {
      if (availability.available) describe(name, body);
      else describe.skip(`${name} [skipped: ${options.service} unavailable: ${availability.reason}]`, body);
    },
  };
}

async function probeWithTimeout(probe: () => Promise<void>, timeoutMs: number): Promise<Availability> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { available: true };
  } catch (error) {
    return { available: false, reason: describeError(error) };
  } finally {
    clearTimeout(timer);
  }
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
