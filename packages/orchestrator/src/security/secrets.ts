import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const VERSION = 'v1';
const IV_BYTES = 12;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** A ciphertext that cannot be opened: wrong key, edited bytes, or moved to another secret's slot. */
export class SecretDecryptError extends Error {
  override readonly name = 'SecretDecryptError';
}

/**
 * AES-256-GCM keys by id. The first key encrypts; every key decrypts, so a rotation adds a new first key,
 * re-encrypts in the background with {@link Keyring.reencrypt}, and drops the old key once nothing uses it.
 */
export class Keyring {
  private readonly keys: ReadonlyMap<string, Buffer>;
  readonly primaryId: string;

  constructor(entries: readonly (readonly [string, Buffer])[]) {
    if (entries.length === 0) throw new SecretKeyError('a keyring needs at least one key');
    const keys = new Map<string, Buffer>();
    for (const [id, key] of entries) {
      if (!KEY_ID.test(id)) throw new SecretKeyError(`key id ${JSON.stringify(id)} must be 1-32 letters, digits, _ or -`);
      if (key.length !== KEY_BYTES) throw new SecretKeyError(`key ${id} is ${key.length} bytes; AES-256 needs ${KEY_BYTES}`);
      if (keys.has(id)) throw new SecretKeyError(`key id ${id} appears twice`);
      keys.set(id, key);
    }
    this.keys = keys;
    this.primaryId = (entries[0] as readonly [string, Buffer])[0];
  }

  /**
   * Reads `id:base64key,id:base64key` (primary first), from a variable's value or a file's contents.
   * `source` names where it came from in errors, never the key material.
   */
  static parse(spec: string, source: string): Keyring {
    const entries = spec
      .split(/[,\n]/)
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part, i): [string, Buffer] => {
        const colon = part.indexOf(':');
        if (colon <= 0) throw new SecretKeyError(`${source}: entry ${i + 1} must be id:base64key`);
        const key = Buffer.from(part.slice(colon + 1), 'base64');
        return [part.slice(0, colon), key];
      });
    try {
      return new Keyring(entries);
    } catch (error) {
      throw new SecretKeyError(`${source}: ${(error as Error).message}`);
    }
  }

  /** `MYRMEX_SECRET_KEYS`, or the file named by `MYRMEX_SECRET_KEYS_FILE`; undefined when neither is set. */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
    if (env.MYRMEX_SECRET_KEYS) return Keyring.parse(env.MYRMEX_SECRET_KEYS, 'MYRMEX_SECRET_KEYS');
    const file = env.MYRMEX_SECRET_KEYS_FILE;
    if (file) return Keyring.parse(readFileSync(file, 'utf8'), `MYRMEX_SECRET_KEYS_FILE (${file})`);
    return undefined;
  }

  static generateKey(): Buffer {
    return randomBytes(KEY_BYTES);
  }

  /**
   * `context` (e.g. "org/acme/secret/DB_PASSWORD") is authenticated but not stored: a ciphertext copied
   * into another secret's row fails to open instead of revealing one secret under another's name.
   */
  encrypt(plaintext: string, context: string): string {
    const key = this.keys.get(this.primaryId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.primaryId, iv.toString('base64url'), body.toString('base64url'), tag.toString('base64url')].join('.');
  }

  decrypt(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretDecryptError('not a sealed secret of this version');
    const [, keyId, iv, body, tag] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) throw new SecretDecryptError(`sealed with key ${keyId}, which this keyring does not hold`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptError('the sealed secret does not authenticate (edited, or sealed for another secret)');
    }
  }

  keyIdOf(sealed: string): string | undefined {
    const parts = sealed.split('.');
    return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
  }

  /** The same plaintext under the primary key, or undefined when it already uses it. */
  reencrypt(sealed: string, context: string): string | undefined {
    if (this.keyIdOf(sealed) === this.primaryId) return undefined;
    return this.encrypt(this.decrypt(sealed, context), context);
  }
}
