import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type Readable, Transform } from 'node:stream';
import { fullJitter } from '@myrmex/backoff';
import type { ArtifactManifest } from '../../artifacts/collect.js';
import type { BlobStore } from '../../artifacts/store.js';
import type { AttemptResult } from '../../domain/types.js';
import type { Assignment } from '../protocol.js';
import { ANT_ARTIFACTS_PATH, ANT_SOCKET_PATH } from './wire.js';

type CacheSaved = NonNullable<AttemptResult['cache']>;

/** The name a cache archive is uploaded under (its part file's; it is never an artifact of the attempt). */
const CACHE_UPLOAD_PATH = 'cache.tar';

export interface ArtifactTransferOptions {
  readonly antId: string;
  readonly token: string;
  /** Queens' socket URLs, the one the ant is connected to first: any queen on the same store and blob store will do. */
  readonly servers: () => readonly string[];
  /** Where the ant keeps blobs while its attempts run (what withWorkspace collects into and restores from). */
  readonly blobs: BlobStore;
  readonly ca?: string | Buffer;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
}

/** The queen said no for good: the attempt fails with this message. */
export class TransferRefused extends Error {
  override readonly name = 'TransferRefused';
}

/** The attempt is no longer this ant's (reaped, cancelled, taken over): stop transferring, the result will be fenced. */
export class AttemptFenced extends Error {
  override readonly name = 'AttemptFenced';
}

interface Reply {
  readonly status: number;
  readonly body: IncomingMessage;
}

/** Node's codes for a certificate chain it could not verify: configuration to fix, not a network to wait for. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Why a TLS failure cannot be retried away, with what to pass instead; undefined for other errors. */
export function tlsRefusal(url: string, error: NodeJS.ErrnoException): string | undefined {
  const code = error.code ?? '';
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    return `${url}: the queen's TLS certificate is not trusted (${error.message}): pass the CA that signed it with --ca <pem> (or MYRMEX_ANT_CA)`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${url}: ${error.message}: use a host name or address the queen's certificate names`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return `${url}: the queen's TLS certificate is not valid now (${error.message})`;
  return undefined;
}

/** The queens' HTTP base for a socket URL: the same origin and path prefix, http(s) instead of ws(s). */
function httpBase(socketUrl: string): string {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  const prefix = url.pathname.endsWith(ANT_SOCKET_PATH) ? url.pathname.slice(0, -ANT_SOCKET_PATH.length) : '';
  return `${url.origin}${prefix}`;
}

async function text(body: Readable): Promise<string> {
  let out = '';
  for await (const chunk of body) if (out.length < 2000) out += String(chunk);
  return out;
}

/** The `detail` of a problem answer, or the text itself. */
async function detailOf(reply: Reply): Promise<string> {
  const raw = await text(reply.body);
  try {
    return String((JSON.parse(raw) as { detail?: unknown }).detail ?? raw);
  } catch {
    return raw.trim() || `HTTP ${reply.status}`;
  }
}

/**
 * A remote ant's side of artifact transfer, over HTTP(S) with its ant token: before an attempt
 * starts, the files of its `dependencies` are downloaded into the ant's blob store (checked against
 * their digests); after it ends, the files it collected are uploaded one by one, streamed, each
 * re-sent until a queen acknowledges it. An upload is keyed by attempt and path, so a re-send after a
 * lost acknowledgement is stored once.
 */
export class ArtifactTransfer {
  constructor(private readonly options: ArtifactTransferOptions) {}

  private async call(
    url: string,
    method: 'GET' | 'PUT',
    signal: AbortSignal,
    body?: { readonly stream: Readable; readonly digest: string; readonly offset: number; readonly size: number },
  ): Promise<Reply> {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        target,
        {
          method,
          signal,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            'x-myrmex-ant': this.options.antId,
            ...(body && {
              'content-type': 'application/octet-stream',
              'content-length': body.size - body.offset,
              'x-myrmex-digest': body.digest,
              'x-myrmex-offset': body.offset,
              'x-myrmex-size': body.size,
            }),
          },
          ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
        },
        (response) => resolve({ status: response.statusCode ?? 0, body: response }),
      );
      req.on('error', reject);
      if (body) {
        body.stream.on('error', (error) => req.destroy(error));
        body.stream.pipe(req);
      } else req.end();
    });
  }

  /**
   * Tries the queens in turn with capped, jittered backoff until `attempt` settles: network errors,
   * 429 and 5xx but 501 are retried; 409 means the attempt is no longer this ant's; the rest are refusals.
   */
  private async retrying<T>(what: string, signal: AbortSignal, attempt: (base: string) => Promise<T>): Promise<T> {
    for (let failures = 0; ; failures++) {
      signal.throwIfAborted();
      const servers = this.options.servers();
      const base = httpBase(servers[failures % servers.length]!);
      try {
        return await attempt(base);
      } catch (error) {
        if (error instanceof TransferRefused || error instanceof AttemptFenced || signal.aborted) throw error;
        // A verification failure is configuration, not weather: say so instead of retrying forever.
        const refusal = tlsRefusal(base, error as NodeJS.ErrnoException);
        if (refusal !== undefined) throw new TransferRefused(`${what}: ${refusal}`);
      }
      const delay = fullJitter(failures, this.options.backoff ?? { baseMs: 100, capMs: 5000 });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  private async settle(reply: Reply, what: string): Promise<void> {
    if (reply.status === 409) throw new AttemptFenced(`${what}: ${await detailOf(reply)}`);
    // The queen holds another amount than the ant thought (it was asked another queen, or bytes landed after): ask again.
    if (reply.status === 416) throw new Error(`${what}: ${await detailOf(reply)}`);
    // 501: the queen keeps no artifact catalog; waiting will not change that.
    if ((reply.status >= 500 && reply.status !== 501) || reply.status === 429) {
      reply.body.resume();
      throw new Error(`${what}: HTTP ${reply.status}`);
    }
    throw new TransferRefused(`${what}: the queen refused it (HTTP ${reply.status}): ${await detailOf(reply)}`);
  }

  private attemptPath(base: string, assignment: Assignment): string {
    const { jobId, taskType, attempt } = assignment;
    return `${base}${ANT_ARTIFACTS_PATH}/${encodeURIComponent(jobId)}/${encodeURIComponent(taskType)}/${attempt}`;
  }

  /** Puts the files of the attempt's dependencies into the ant's blob store (those already there are kept). */
  async download(assignment: Assignment, signal: AbortSignal, log: (text: string) => void): Promise<void> {
    for (const dependency of assignment.spec.dependencies ?? []) {
      for (const file of dependency.files) {
        if (await this.options.blobs.has(file.digest)) continue;
        await this.fetch(assignment, file.digest, `download of ${dependency.taskType}'s artifact ${file.path}`, signal);
        log(`downloaded ${dependency.taskType}'s artifact ${file.path} (${file.size} bytes)`);
      }
    }
  }

  /** Puts a saved cache of the attempt's job type into the ant's blob store (read when the workspace restores it). */
  downloadCache(assignment: Assignment, digest: string, signal: AbortSignal): Promise<void> {
    return this.fetch(assignment, digest, `download of the saved cache ${digest}`, signal);
  }

  private async fetch(assignment: Assignment, digest: string, what: string, signal: AbortSignal): Promise<void> {
    await this.retrying(what, signal, async (base) => {
      const reply = await this.call(`${this.attemptPath(base, assignment)}/blobs/${digest}`, 'GET', signal);
      if (reply.status !== 200) return this.settle(reply, what);
      const stored = await this.options.blobs.put(reply.body);
      // A body cut short or altered on the way: try again (the bad blob is swept with the rest).
      if (stored.digest !== digest) throw new Error(`${what}: got ${stored.digest}, expected ${digest}`);
    });
  }

  /**
   * Uploads every file of the manifest; resolves once a queen has acknowledged each. A try that
   * fails mid-way is resumed: the ant asks the queen how much of the file it holds and sends the
   * rest (all of it again only when that queen has none, e.g. another queen of the group).
   */
  async upload(assignment: Assignment, manifest: ArtifactManifest, signal: AbortSignal, log: (text: string) => void): Promise<void> {
    for (const file of manifest.files) {
      const resumedAt = await this.put(assignment, file, `upload of artifact ${file.path}`, signal, manifest.expiresAt);
      log(`uploaded artifact ${file.path} (${file.size} bytes${resumedAt > 0 ? `, resumed at byte ${resumedAt}` : ''}) to the queen`);
    }
  }

  /** Uploads the archive of the cache the attempt saved; the queen records it for the job type once the result comes. */
  async uploadCache(assignment: Assignment, cache: CacheSaved, signal: AbortSignal, log: (text: string) => void): Promise<void> {
    const file = { path: CACHE_UPLOAD_PATH, digest: cache.digest, size: cache.size, mode: 0o644 };
    const resumedAt = await this.put(assignment, file, `upload of cache ${cache.key}`, signal, cache.expiresAt, true);
    log(`uploaded cache ${cache.key} (${cache.size} bytes${resumedAt > 0 ? `, resumed at byte ${resumedAt}` : ''}) to the queen`);
  }

  /** Sends one file, resuming a cut try from what the queen holds; resolves with the offset the last try started at. */
  private async put(
    assignment: Assignment,
    file: ArtifactManifest['files'][number],
    what: string,
    signal: AbortSignal,
    expiresAt: number | undefined,
    cache = false,
  ): Promise<number> {
    let tries = 0;
    let resumedAt = 0;
    const marked = (query: URLSearchParams) => {
      if (cache) query.set('cache', 'true');
      return query;
    };
    await this.retrying(what, signal, async (base) => {
      const attempt = this.attemptPath(base, assignment);
      let offset = 0;
      if (tries++ > 0) {
        const reply = await this.call(
          `${attempt}/uploads?${marked(new URLSearchParams({ path: file.path, digest: file.digest }))}`,
          'GET',
          signal,
        );
        if (reply.status !== 200) return this.settle(reply, what);
        const state = JSON.parse(await text(reply.body)) as { offset: number; complete: boolean };
        if (state.complete) return;
        offset = state.offset;
      }
      const query = marked(new URLSearchParams({ path: file.path, mode: String(file.mode) }));
      if (expiresAt !== undefined) query.set('expires_at', String(expiresAt));
      const stream = skipBytes(await this.options.blobs.open(file.digest), offset);
      const reply = await this.call(`${attempt}?${query}`, 'PUT', signal, {
        stream,
        digest: file.digest,
        offset,
        size: file.size,
      }).finally(() => stream.destroy());
      if (reply.status !== 200) return this.settle(reply, what);
      reply.body.resume();
      resumedAt = offset;
    });
    return resumedAt;
  }
}

/** The stream without its first `count` bytes (a blob read from the start, for a resumed upload). */
function skipBytes(source: Readable, count: number): Readable {
  if (count === 0) return source;
  let left = count;
  const rest = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (left >= chunk.length) {
        left -= chunk.length;
        return done();
      }
      const tail = chunk.subarray(left);
      left = 0;
      done(null, tail);
    },
  });
  source.on('error', (error) => rest.destroy(error));
  rest.on('close', () => source.destroy());
  return source.pipe(rest);
}
