import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { type ThrowawayTls, throwawayTls } from '@myrmex/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type RunningServer, serve } from '../../src/index.js';
import { until } from '../queen/helpers.js';

/**
 * `serve` with --tls-cert/--tls-key takes a renewed certificate without a restart: real PEM files
 * made by openssl at test time (a CA, then renewals it signs), put in place as a renewal tool does
 * (renamed over the files the queen was started with), checked by the certificate a new TLS
 * connection is shown.
 */
let dir: string;
let certs: ThrowawayTls;
let live: { cert: string; key: string };
let server: RunningServer | undefined;
let lines: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'myrmex-tls-reload-'));
  certs = throwawayTls(dir);
  live = { cert: join(dir, 'live.pem'), key: join(dir, 'live.key') };
  copyFileSync(certs.certFile, live.cert);
  copyFileSync(certs.keyFile, live.key);
  lines = [];
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const start = async (tlsWatchMs: number) => {
  server = await serve({
    port: 0,
    dbPath: join(dir, 'queen.db'),
    tlsCert: live.cert,
    tlsKey: live.key,
    tlsWatchMs,
    handleSignals: true,
    logger: createLogger({ write: (text) => lines.push(text) }),
  });
  return server;
};

const fingerprintOf = (pemFile: string) => new X509Certificate(readFileSync(pemFile)).fingerprint256;

/** The certificate a new connection is shown, verified against the test CA. */
function presented(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: certs.ca }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

/** Puts a pair in place the way renewal tools do: each file written aside, then renamed over the old one. */
function install(pair: { certFile: string; keyFile: string }) {
  copyFileSync(pair.keyFile, `${live.key}.new`);
  renameSync(`${live.key}.new`, live.key);
  copyFileSync(pair.certFile, `${live.cert}.new`);
  renameSync(`${live.cert}.new`, live.cert);
}

const showing = (url: string, pemFile: string) => until(async () => (await presented(url)) === fingerprintOf(pemFile) || undefined, 30_000);
const logged = (text: string) => until(async () => lines.find((l) => l.includes(text)), 30_000);

describe('a TLS queen takes a renewed certificate without a restart', () => {
  it('when the files change: a renewal is served to new connections; a broken one is refused and the certificate in use stays', async () => {
    const { url } = await start(100);
    expect(await presented(url)).toBe(fingerprintOf(certs.certFile));
    const renewed = certs.renew('renewed');
    expect(fingerprintOf(renewed.certFile)).not.toBe(fingerprintOf(certs.certFile));
    install(renewed);
    await showing(url, renewed.certFile);
    await logged('TLS certificate reloaded');

    // The key of another certificate: logged, and the renewed certificate stays in use.
    const other = certs.renew('other');
    install({ certFile: other.certFile, keyFile: renewed.keyFile });
    expect(await logged('TLS certificate not reloaded')).toMatch(/not a usable PEM certificate and key/);
    expect(await presented(url)).toBe(fingerprintOf(renewed.certFile));
    // Its own key arrives: the pair loads.
    install(other);
    await showing(url, other.certFile);
  });

  it('on SIGHUP, with the file watch off', async () => {
    const { url } = await start(0);
    const renewed = certs.renew('renewed');
    install(renewed);
    expect(await presented(url)).toBe(fingerprintOf(certs.certFile));
    // Vitest runs this file in a child process of its own; serve's handler takes the signal there.
    expect(process.listenerCount('SIGHUP')).toBeGreaterThan(0);
    process.kill(process.pid, 'SIGHUP');
    await showing(url, renewed.certFile);
    expect(lines.join('')).toMatch(/TLS certificate reloaded/);
  });
});
