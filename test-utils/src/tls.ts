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
  /** A renewed server certificate: a new key and certificate for the same hosts, signed by the same CA, in `<name>.pem` and `<name>.key`. */
  renew(name: string): { readonly certFile: string; readonly keyFile: string };
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
  // A server key and certificate signed by the CA; a new serial each time, so a renewal differs.
  const sign = (name: string) => {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.csr`),
      '-subj',
      `/CN=${hosts[0] ?? 'localhost'}`,
    );
    const names = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    writeFileSync(at(`${name}.ext`), `subjectAltName=${names}\nextendedKeyUsage=serverAuth\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      at(`${name}.csr`),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-CAserial',
      at('ca.srl'),
      '-out',
      at(`${name}.pem`),
      '-days',
      '1',
      '-extfile',
      at(`${name}.ext`),
    );
    return { certFile: at(`${name}.pem`), keyFile: at(`${name}.key`) };
  };
  return { caFile: at('ca.pem'), ...sign('server'), ca: readFileSync(at('ca.pem'), 'utf8'), renew: sign };
}
