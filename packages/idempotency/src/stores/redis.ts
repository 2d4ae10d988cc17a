import type { Redis } from 'ioredis';
import type { ClaimRequest, ClaimResult, CompleteRequest, IdempotencyStore, KeyRecord } from '../core/types.js';

export interface RedisStoreOptions {
  /** An ioredis client; the store does not quit it. */
  readonly client: Redis;
  /** Prepended to every key. Default `idempotency:`. */
  readonly prefix?: string;
}

// Each script runs atomically inside Redis. A record is a hash; its key expires with the
// record's retention, so Redis itself purges old records.
const CLAIM = `
local cur = redis.call('HMGET', KEYS[1], 'state', 'fp', 'lease', 'exp', 'status', 'headers', 'body', 'gen')
local now = tonumber(ARGV[3])
local gen = 0
if cur[1] then
  local live = tonumber(cur[4]) > now
  local lapsed = cur[1] == 'pending' and tonumber(cur[3]) <= now and cur[2] == ARGV[1]
  if live and not lapsed then
    return {'exists', cur[1], cur[2], cur[3] or '', cur[4], cur[5] or '', cur[6] or '', cur[7] or ''}
  end
  gen = tonumber(cur[8] or '0') + 1
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'state', 'pending', 'fp', ARGV[1], 'token', ARGV[2], 'lease', ARGV[4], 'exp', ARGV[5], 'gen', gen)
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
return {'claimed', tostring(gen)}`;

const HELD = `redis.call('HGET', KEYS[1], 'state') == 'pending' and redis.call('HGET', KEYS[1], 'token') == ARGV[1]`;

const HEARTBEAT = `
if ${HELD} then redis.call('HSET', KEYS[1], 'lease', ARGV[2]) return 1 end
return 0`;

const COMPLETE = `
if ${HELD} then
  redis.call('HDEL', KEYS[1], 'token', 'lease')
  redis.call('HSET', KEYS[1], 'state', 'completed', 'exp', ARGV[2], 'status', ARGV[3], 'headers', ARGV[4], 'body', ARGV[5])
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  return 1
end
return 0`;

const RELEASE = `
if ${HELD} then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

type Commands = {
  idemClaimBuffer(key: string, fingerprint: string, token: string, now: number, lease: number, expires: number): Promise<Buffer[]>;
  idemHeartbeat(key: string, token: string, lease: number): Promise<number>;
  idemComplete(key: string, token: string, expires: number, status: number, headers: string, body: Buffer): Promise<number>;
  idemRelease(key: string, token: string): Promise<number>;
};

/**
 * Keys in Redis, shared by any number of processes. Claim, heartbeat, complete and release are
 * Lua scripts, so each is one atomic step. Use a primary with persistence (AOF) for money paths:
 * a failover to a replica that missed the latest writes can forget a claim.
 */
export class RedisStore implements IdempotencyStore {
  private readonly client: Redis & Commands;
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.client?.defineCommand !== 'function') {
      throw new TypeError('RedisStore: options.client must be an ioredis client');
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string')
      throw new TypeError('RedisStore: options.prefix must be a string');
    this.prefix = options.prefix ?? 'idempotency:';
    const client = options.client;
    client.defineCommand('idemClaim', { numberOfKeys: 1, lua: CLAIM });
    client.defineCommand('idemHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    client.defineCommand('idemComplete', { numberOfKeys: 1, lua: COMPLETE });
    client.defineCommand('idemRelease', { numberOfKeys: 1, lua: RELEASE });
    this.client = client as Redis & Commands;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const reply = await this.client.idemClaimBuffer(
      this.prefix + request.scope,
      request.fingerprint,
      request.token,
      request.now,
      request.leaseExpiresAt,
      request.expiresAt,
    );
    const [outcome, ...fields] = reply;
    if (outcome?.toString() === 'claimed') return { outcome: 'claimed', reclaimed: Number(fields[0]?.toString()) > 0 };
    return { outcome: 'exists', record: recordFromFields(fields) };
  }

  async heartbeat(scope: string, token: string, leaseExpiresAt: number): Promise<boolean> {
    return (await this.client.idemHeartbeat(this.prefix + scope, token, leaseExpiresAt)) === 1;
  }

  async complete(request: CompleteRequest): Promise<boolean> {
    const { response } = request;
    const applied = await this.client.idemComplete(
      this.prefix + request.scope,
      request.token,
      request.expiresAt,
      response.status,
      JSON.stringify(response.headers),
      response.body,
    );
    return applied === 1;
  }

  async release(scope: string, token: string): Promise<boolean> {
    return (await this.client.idemRelease(this.prefix + scope, token)) === 1;
  }

  async get(scope: string, now: number): Promise<KeyRecord | undefined> {
    const fields = await this.client.hmgetBuffer(this.prefix + scope, 'state', 'fp', 'lease', 'exp', 'status', 'headers', 'body');
    if (!fields[0]) return undefined;
    const record = recordFromFields(fields);
    return record.expiresAt > now ? record : undefined;
  }

  /** Redis purges records itself when their key expires (PEXPIREAT at the retention end). */
  async sweep(_now: number): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}

function recordFromFields(fields: readonly (Buffer | null | undefined)[]): KeyRecord {
  const [state, fingerprint, lease, expires, status, headers, body] = fields.map((field) => field ?? Buffer.alloc(0));
  const text = (buffer: Buffer | undefined) => buffer?.toString('utf8') ?? '';
  if (text(state) === 'completed') {
    return {
      state: 'completed',
      fingerprint: text(fingerprint),
      expiresAt: Number(text(expires)),
      response: {
        status: Number(text(status)),
        headers: JSON.parse(text(headers) || '{}') as Record<string, string>,
        body: body ?? Buffer.alloc(0),
      },
    };
  }
  return { state: 'pending', fingerprint: text(fingerprint), leaseExpiresAt: Number(text(lease)), expiresAt: Number(text(expires)) };
}
