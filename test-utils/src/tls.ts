import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CA and a server certificate it signed, made for one test run; nothing here is ever committed. */
export interface ThrowawayTls {
  /** PEM files in the given folder. */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate's PEM text (what an ant's `ca` option takes). */
  readonly ca: string;
}

/**
 * Generates a throwaway CA and a server certificate for `hosts` (IP addresses or DNS names) in
 * `dir` with the openssl CLI, valid for a day. The test removes `dir` afterwards.
 */
export function throwawayTls(dir: string, hosts: readonly string[] = ['127.0.0.1', 'localhost']): ThrowawayTls {
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=myrmex test CA',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
    '-subj',
    `/CN=${hosts[0] ?? 'localhost'}`,
  );
  const names = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(at('server.ext'), `subjectAltName=${names}\nextendedKeyUsage=serverAuth\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.pem'),
    '-days',
    '1',
    '-extfile',
    at('server.ext'),
  );
  return { caFile: at('ca.pem'), certFile: at('server.pem'), keyFile: at('server.key'), ca: readFileSync(at('ca.pem'), 'utf8') };
}
