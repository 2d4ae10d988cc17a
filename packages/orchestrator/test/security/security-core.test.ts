import {
  type AuditRecord,
  type ChainedRecord,
  chain,
  GENESIS_HASH,
  issueToken,
  Keyring,
  MASK,
  Masker,
  parseScopes,
  parseToken,
  SecretDecryptError,
  SecretKeyError,
  scopeAllows,
  TokenFormatError,
  verifyChain,
  verifyTokenSecret,
} from '@myrmex/orchestrator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const pepper = Buffer.alloc(32, 7);

describe('API tokens', () => {
  it('are shown once, stored as a keyed hash, and verify only with the same pepper', () => {
    const token = issueToken(pepper);
    expect(token.plaintext).toMatch(/^myx_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/);
    // Parsed by position, not split on '_': base64url ids and secrets contain '_' themselves.
    const { id, secret } = parseToken(token.plaintext);
    expect(token.hash).not.toContain(secret);
    expect(id).toBe(token.id);
    expect(verifyTokenSecret(pepper, secret, token.hash)).toBe(true);
    expect(verifyTokenSecret(Buffer.alloc(32, 8), secret, token.hash)).toBe(false);
    expect(verifyTokenSecret(pepper, `${secret.slice(0, -1)}A`, token.hash)).toBe(secret.endsWith('A'));
  });

  it("have ids a command line takes as an argument: none starts with '-' (one in 64 did: CI run b13)", () => {
    // 2,000 draws: with one in 64 starting with '-', at least one would have with probability 1 - (63/64)^2000.
    const ids = Array.from({ length: 2000 }, () => issueToken(pepper).id);
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{11}$/.test(id))).toBe(true);
  });

  it('refuses malformed tokens without echoing them', () => {
    for (const bad of ['', 'Bearer x', 'myx_short_short', 42, null]) {
      expect(() => parseToken(bad)).toThrow(TokenFormatError);
    }
    try {
      parseToken('myx_secretvalue');
    } catch (error) {
      expect((error as Error).message).not.toContain('secretvalue');
    }
  });

  it('admin implies the user scopes of its organisation but never ant', () => {
    expect(scopeAllows(['admin'], 'cancel')).toBe(true);
    expect(scopeAllows(['admin'], 'ant')).toBe(false);
    expect(scopeAllows(['ant'], 'read')).toBe(false);
    expect(scopeAllows(['read', 'submit'], 'submit')).toBe(true);
    expect(() => parseScopes(['read', 'root'])).toThrow(/scopes\[1\] is "root"/);
    expect(parseScopes(['read', 'read', 'cancel'])).toEqual(['read', 'cancel']);
  });
});

describe('secrets at rest', () => {
  const oldKey = Keyring.generateKey();
  const newKey = Keyring.generateKey();

  it('round-trip any text, bound to the secret they were sealed for', () => {
    const ring = new Keyring([['k1', oldKey]]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (plaintext, context) => {
        const sealed = ring.encrypt(plaintext, context);
        expect(ring.decrypt(sealed, context)).toBe(plaintext);
        expect(() => ring.decrypt(sealed, `${context}x`)).toThrow(SecretDecryptError);
      }),
      { numRuns: 40 },
    );
  });

  it('detect any edited byte', () => {
    const ring = new Keyring([['k1', oldKey]]);
    const sealed = ring.encrypt('hunter2-password', 'org/acme/DB');
    // Edits go to the decoded bytes: a changed base64 character may only touch padding bits.
    const parts = sealed.split('.');
    fc.assert(
      fc.property(fc.constantFrom(2, 3, 4), fc.nat(), fc.integer({ min: 1, max: 255 }), (part, at, mask) => {
        const bytes = Buffer.from(parts[part] as string, 'base64url');
        const i = at % bytes.length;
        bytes[i] = (bytes[i] as number) ^ mask;
        const edited = parts.map((p, i) => (i === part ? bytes.toString('base64url') : p)).join('.');
        expect(() => ring.decrypt(edited, 'org/acme/DB')).toThrow(SecretDecryptError);
      }),
    );
  });

  it('rotate: the new key seals, the old key still opens, re-encryption moves rows over', () => {
    const before = new Keyring([['k1', oldKey]]).encrypt('s3cr3t!', 'ctx');
    const rotated = new Keyring([
      ['k2', newKey],
      ['k1', oldKey],
    ]);
    expect(rotated.decrypt(before, 'ctx')).toBe('s3cr3t!');
    const after = rotated.reencrypt(before, 'ctx') as string;
    expect(rotated.keyIdOf(after)).toBe('k2');
    expect(rotated.reencrypt(after, 'ctx')).toBeUndefined();
    expect(new Keyring([['k2', newKey]]).decrypt(after, 'ctx')).toBe('s3cr3t!');
    expect(() => new Keyring([['k2', newKey]]).decrypt(before, 'ctx')).toThrow(/key k1/);
  });

  it('read keys from the environment with errors that name the source, never the key', () => {
    const b64 = newKey.toString('base64');
    expect(Keyring.fromEnvironment({ MYRMEX_SECRET_KEYS: `main:${b64}` })?.primaryId).toBe('main');
    expect(Keyring.fromEnvironment({})).toBeUndefined();
    expect(() => Keyring.parse('main:c2hvcnQ=', 'MYRMEX_SECRET_KEYS')).toThrow(/MYRMEX_SECRET_KEYS: key main is 5 bytes/);
    expect(() => Keyring.parse(b64, 'MYRMEX_SECRET_KEYS')).toThrow(SecretKeyError);
  });
});

describe('masking', () => {
  const printable = fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme-ascii' });

  it('hides a secret printed raw, base64 (whole or inside a longer stream), URL-encoded, hex or JSON-escaped', () => {
    fc.assert(
      fc.property(printable, fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (secret, before, after) => {
        const masker = new Masker([secret]);
        const bytes = Buffer.from(secret);
        const printed = [
          `${before}${secret}${after}`,
          Buffer.from(`${before}${secret}${after}`).toString('base64'),
          Buffer.from(`${before}${secret}${after}`).toString('base64url'),
          `${before}${encodeURIComponent(secret)}${after}`,
          `${before}${bytes.toString('hex')}${after}`,
          JSON.stringify({ before, secret, after }),
        ];
        for (const line of printed) {
          const masked = masker.mask(line);
          expect(masked).not.toContain(secret);
          expect(masked).not.toContain(bytes.toString('base64').slice(1, -4));
          expect(masked).not.toContain(bytes.toString('hex'));
        }
      }),
    );
  });

  it('leaves text without secrets alone and masks outputs deeply', () => {
    const masker = new Masker(['tok-123456', '-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----']);
    expect(masker.mask('nothing here')).toBe('nothing here');
    expect(masker.mask('line AAAABBBBCCCC')).toBe(`line ${MASK}`);
    expect(masker.maskValue({ a: ['x tok-123456'], n: 3, 'tok-123456': true })).toEqual({ a: [`x ${MASK}`], n: 3, [MASK]: true });
    expect(new Masker([]).empty).toBe(true);
  });
});

describe('tamper-evident audit log', () => {
  const rows = (n: number): ChainedRecord[] => {
    const out: ChainedRecord[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const record: AuditRecord = {
        seq,
        at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
        org: 'acme',
        actor: `user${seq % 3}`,
        action: seq % 2 ? 'job.submit' : 'job.cancel',
        target: `job/${seq}`,
        source: '127.0.0.1',
        outcome: 'ok',
      };
      const row = chain(prev, record);
      out.push(row);
      prev = row.hash;
    }
    return out;
  };

  it('verifies an untouched log', () => {
    const log = rows(20);
    expect(verifyChain(log)).toEqual({ ok: true, count: 20, head: log[19]?.hash });
  });

  it('detects any edited, deleted or swapped row', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 19 }), fc.constantFrom('edit', 'delete', 'swap'), (at, how) => {
        const log = rows(20);
        if (how === 'edit') log[at] = { ...(log[at] as ChainedRecord), actor: 'mallory' };
        if (how === 'delete') log.splice(at, 1);
        if (how === 'swap') {
          const other = at === 19 ? 18 : at + 1;
          [log[at], log[other]] = [log[other] as ChainedRecord, log[at] as ChainedRecord];
        }
        const anchor = { seq: 20, hash: rows(20)[19]?.hash as string };
        expect(verifyChain(log, anchor).ok).toBe(false);
      }),
    );
  });

  it('needs the published anchor to notice rows cut from the end', () => {
    const log = rows(10);
    const anchor = { seq: 10, hash: log[9]?.hash as string };
    const cut = log.slice(0, 8);
    expect(verifyChain(cut).ok).toBe(true);
    expect(verifyChain(cut, anchor)).toMatchObject({ ok: false, reason: expect.stringMatching(/deleted from the end/) });
  });
});
