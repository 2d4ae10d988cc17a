import { readFileSync } from 'node:fs';
import type { RequestListener, Server } from 'node:http';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
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
