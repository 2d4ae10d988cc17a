import { readFileSync, type Stats, unwatchFile, watchFile } from 'node:fs';
import type { RequestListener, Server } from 'node:http';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { TLS_REQUIRED_HEADER } from '../ant/remote/wire.js';

/** A queen's certificate chain and private key, PEM. */
export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

const PLAIN_ANSWER = 'this queen speaks TLS only: use an https:// URL (wss:// for ants)\n';

/**
 * Reads the PEM files `serve` is given and checks that the key belongs to the certificate, so a
 * wrong pair fails at start-up naming the files, not at the first client's handshake.
 */
export function readTlsFiles(certFile: string, keyFile: string, names = { cert: 'tlsCert', key: 'tlsKey' }): TlsMaterial {
  const read = (path: string, name: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`${name}: cannot read '${path}' (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  };
  const material = { cert: read(certFile, names.cert), key: read(keyFile, names.key) };
  try {
    createSecureContext(material);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`${names.cert} '${certFile}' and ${names.key} '${keyFile}' are not a usable PEM certificate and key (${why})`);
  }
  return material;
}

/**
 * Fastify's server factory for HTTPS. A client that speaks plain HTTP to the TLS port (an ant given
 * ws://, a browser given http://) gets a 400 saying to use https:// instead of a silent reset.
 */
export function httpsServerFactory(tls: TlsMaterial): (handler: RequestListener) => Server {
  return (handler) => {
    const server = createServer({ cert: tls.cert, key: tls.key }, handler);
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      if (error.code !== 'ERR_SSL_HTTP_REQUEST') return;
      // The TLS layer gave up on the bytes; the TCP socket under it can still carry a plain answer.
      const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
      if (!raw?.writable) return;
      raw.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n${TLS_REQUIRED_HEADER}: required\r\n` +
          `Connection: close\r\nContent-Length: ${Buffer.byteLength(PLAIN_ANSWER)}\r\n\r\n${PLAIN_ANSWER}`,
      );
    });
    // Fastify drives it as an http.Server: https.Server has the same listen/close/upgrade surface.
    return server as unknown as Server;
  };
}

/** What `watchTlsFiles` needs of the server: an https.Server (or tls.Server). */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

export interface TlsReloader {
  /** Reads the files again now (SIGHUP); true when the server took the new pair. */
  reload(why: string): boolean;
  close(): void;
}

/**
 * Keeps a TLS server on the newest certificate without a restart: the files are read again on
 * `reload()` (serve calls it on SIGHUP) and when either changes. Changes are seen by polling the
 * paths' stat (every `intervalMs`; 0 turns it off), which follows what renewals do: certbot's
 * symlink swaps, Kubernetes' secret volumes (a renamed ..data directory), a copy or a rename over the
 * file. A renewal writes two files, so a change is acted on once both have been quiet for
 * `settleMs`. A pair that does not load (half written, key of another certificate) is logged and
 * the certificate in use stays; connections already open keep theirs either way.
 */
export function watchTlsFiles(
  server: SecureContextTarget,
  files: { readonly cert: string; readonly key: string; readonly names?: { cert: string; key: string } },
  options: { readonly logger: Logger; readonly intervalMs?: number; readonly settleMs?: number },
): TlsReloader {
  const { logger, intervalMs = 2000, settleMs = 200 } = options;
  let settle: NodeJS.Timeout | undefined;
  const reload = (why: string): boolean => {
    try {
      const material = readTlsFiles(files.cert, files.key, files.names);
      server.setSecureContext({ cert: material.cert, key: material.key });
      logger.info({ cert: files.cert, why }, 'TLS certificate reloaded');
      return true;
    } catch (error) {
      logger.warn({ err: error, why }, 'TLS certificate not reloaded: keeping the one in use');
      return false;
    }
  };
  const changed = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    clearTimeout(settle);
    settle = setTimeout(() => reload('the certificate or key file changed'), settleMs);
    settle.unref();
  };
  const paths = [files.cert, files.key];
  if (intervalMs > 0) for (const path of paths) watchFile(path, { interval: intervalMs, persistent: false }, changed);
  return {
    reload,
    close: () => {
      clearTimeout(settle);
      if (intervalMs > 0) for (const path of paths) unwatchFile(path, changed);
    },
  };
}
