import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditFacet, CacheFacet, Facets, NotificationFacet, PermissionDeniedError, PermissionFacet } from '../src/index.js';

const fixedClock = () => new Date('2026-11-25T12:00:00.000Z');

describe('AuditFacet', () => {
  it('appends numbered, timestamped entries and filters by action', () => {
    const audit = new AuditFacet({ clock: fixedClock });
    audit.record('login', { ip: '127.0.0.1' });
    audit.record('withdraw', { amount: 5 });
    audit.record('withdraw', { amount: 7 });
    expect(audit.size).toBe(3);
    expect(audit.entries('withdraw').map((e) => [e.seq, e.details.amount])).toEqual([
      [2, 5],
      [3, 7],
    ]);
    expect(audit.recent(1)[0]).toEqual({ seq: 3, at: '2026-11-25T12:00:00.000Z', action: 'withdraw', details: { amount: 7 } });
    expect(audit.recent(0)).toEqual([]);
  });

  it('is append-only: entries are frozen copies that callers cannot change', () => {
    const audit = new AuditFacet();
    const details = { nested: { amount: 1 } };
    const entry = audit.record('x', details);
    details.nested.amount = 999;
    expect(entry.details).toEqual({ nested: { amount: 1 } });
    expect(() => {
      (entry.details.nested as { amount: number }).amount = 2;
    }).toThrow(TypeError);
    expect(() => (audit.entries() as unknown[]).push(1)).toThrow(TypeError);
    expect('remove' in audit || 'delete' in audit || 'clear' in audit).toBe(false);
  });

  it('validates its input', () => {
    const audit = new AuditFacet();
    expect(() => audit.record('')).toThrow(/action must be a non-empty string/);
    expect(() => audit.record('a', [] as never)).toThrow(/details must be an object/);
    expect(() => audit.recent(-1)).toThrow(/count must be a non-negative integer/);
    expect(() => new AuditFacet({ clock: 5 as never })).toThrow(/clock must be a function/);
  });

  it('round-trips through JSON and rejects a trail with a gap', () => {
    const audit = new AuditFacet({ clock: fixedClock });
    audit.record('a', { n: 1 });
    audit.record('b');
    const copy = AuditFacet.fromJSON(JSON.parse(JSON.stringify(audit)));
    expect(copy.entries()).toEqual(audit.entries());
    expect(copy.record('c').seq).toBe(3);
    const gap = { entries: [{ seq: 2, at: '2026-11-25T12:00:00.000Z', action: 'a', details: {} }] };
    expect(() => AuditFacet.fromJSON(gap)).toThrow(/data.entries\[0\].seq must be 1/);
  });
});

describe('PermissionFacet', () => {
  const grants = { teller: ['account:read', 'account:deposit'], manager: ['account:*'], root: ['*'] };

  it('denies by default', () => {
    expect(new PermissionFacet().can('anything')).toBe(false);
    expect(new PermissionFacet({ roles: ['ghost'], grants }).can('account:read')).toBe(false);
  });

  it('grants through roles, with prefix and full wildcards', () => {
    const teller = new PermissionFacet({ roles: ['teller'], grants });
    expect(teller.can('account:deposit')).toBe(true);
    expect(teller.can('account:withdraw')).toBe(false);
    expect(new PermissionFacet({ roles: ['manager'], grants }).can('account:withdraw')).toBe(true);
    expect(new PermissionFacet({ roles: ['manager'], grants }).can('accounting')).toBe(false);
    expect(new PermissionFacet({ roles: ['root'], grants }).can('user:delete')).toBe(true);
  });

  it('an explicit denial beats role grants and explicit grants; roles can change', () => {
    const p = new PermissionFacet({ roles: ['manager'], grants });
    p.deny('account:close');
    expect(p.can('account:close')).toBe(false);
    expect(p.can('account:open')).toBe(true);
    p.grant('report:view');
    expect(p.can('report:view')).toBe(true);
    p.removeRole('manager');
    expect(p.can('account:open')).toBe(false);
    p.addRole('teller');
    expect(p.roles).toEqual(['teller']);
  });

  it('check throws and records the denial in the owner audit trail', () => {
    const obj = Facets.of({ id: 'p' });
    const audit = obj.attach(AuditFacet);
    const permissions = obj.attach(PermissionFacet, { roles: ['teller'], grants });
    expect(() => permissions.check('account:withdraw')).toThrow(PermissionDeniedError);
    expect(() => permissions.check('account:read')).not.toThrow();
    expect(audit.entries('permission.denied').map((e) => e.details)).toEqual([{ permission: 'account:withdraw', roles: ['teller'] }]);
  });

  it('validates options and round-trips through JSON', () => {
    expect(() => new PermissionFacet({ roles: ['ok', ''] })).toThrow(/options.roles must be a list of non-empty strings/);
    expect(() => new PermissionFacet({ grants: { a: 'x' as never } })).toThrow(/options.grants.a must be a list/);
    const p = new PermissionFacet({ roles: ['teller'], grants });
    p.grant('x:y');
    p.deny('account:read');
    const copy = PermissionFacet.fromJSON(JSON.parse(JSON.stringify(p)));
    expect(copy.toJSON()).toEqual(p.toJSON());
    expect(copy.can('account:read')).toBe(false);
  });
});

describe('CacheFacet', () => {
  function clock() {
    let now = 0;
    return {
      now: () => now,
      advance: (ms: number) => {
        now += ms;
      },
    };
  }

  it('counts hits and misses and reports the real hit rate', () => {
    const cache = new CacheFacet();
    expect(cache.stats().hitRate).toBe(0);
    cache.set('a', 1);
    cache.get('a');
    cache.get('a');
    cache.get('a');
    cache.get('b');
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 1, hitRate: 0.75, size: 1 });
  });

  it('expires entries after their TTL', () => {
    const time = clock();
    const cache = new CacheFacet({ ttlMs: 100, now: time.now });
    cache.set('a', 1);
    cache.set('b', 2, 500);
    time.advance(99);
    expect(cache.get('a')).toBe(1);
    time.advance(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
    expect(cache.stats()).toMatchObject({ expirations: 1, size: 1 });
  });

  it('evicts the least recently used entry', () => {
    const cache = new CacheFacet({ maxEntries: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(cache.has('a')).toBe(true);
    expect(cache.has('b')).toBe(false);
    expect(cache.has('c')).toBe(true);
    expect(cache.stats().evictions).toBe(1);
  });

  it('getOrCompute computes once per live key', () => {
    const cache = new CacheFacet();
    let calls = 0;
    const compute = () => ++calls;
    expect(cache.getOrCompute('k', compute)).toBe(1);
    expect(cache.getOrCompute('k', compute)).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('matches a reference LRU model on random operation sequences', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 6 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const cache = new CacheFacet({ maxEntries: max });
        const model: [number, number][] = [];
        let hits = 0;
        let misses = 0;
        for (const o of ops) {
          const at = model.findIndex(([k]) => k === o.key);
          if (o.kind === 'set') {
            if (at >= 0) model.splice(at, 1);
            model.push([o.key, o.value]);
            if (model.length > max) model.shift();
            cache.set(o.key, o.value);
          } else {
            const expected = at >= 0 ? model.splice(at, 1)[0]! : undefined;
            if (expected) {
              model.push(expected);
              hits++;
            } else misses++;
            expect(cache.get(o.key)).toBe(expected?.[1]);
          }
        }
        const stats = cache.stats();
        expect([stats.hits, stats.misses, stats.size]).toEqual([hits, misses, model.length]);
      }),
    );
  });

  it('validates options', () => {
    expect(() => new CacheFacet({ maxEntries: 0 })).toThrow(/options.maxEntries must be a positive integer/);
    expect(() => new CacheFacet({ ttlMs: Number.NaN })).toThrow(/options.ttlMs must be a positive finite number/);
    expect(() => CacheFacet.parseConfig({ size: 3 })).toThrow(/cache config has unknown field size \(allowed: maxEntries, ttlMs\)/);
  });
});

describe('NotificationFacet', () => {
  it('delivers to topic and wildcard subscribers; unsubscribe stops delivery', async () => {
    const n = new NotificationFacet();
    const got: string[] = [];
    const off = n.subscribe('deposit', (payload) => void got.push(`deposit:${String(payload)}`));
    n.subscribe('*', (_payload, topic) => void got.push(`any:${topic}`));
    expect(n.subscribers('deposit')).toBe(2);
    expect(await n.notify('deposit', 5)).toEqual({ topic: 'deposit', delivered: 2, failures: [] });
    off();
    await n.notify('deposit', 6);
    expect(got).toEqual(['deposit:5', 'any:deposit', 'any:deposit']);
  });

  it('isolates failing handlers: the others still run and failures are reported and audited', async () => {
    const obj = Facets.of({ id: 'n' });
    const audit = obj.attach(AuditFacet);
    const seen: unknown[] = [];
    const n = obj.attach(NotificationFacet, { onError: (failure) => void seen.push(failure.error) });
    let delivered = 0;
    n.subscribe('t', () => {
      throw new Error('sync failure');
    });
    n.subscribe('t', async () => {
      throw new Error('async failure');
    });
    n.subscribe('t', () => void delivered++);
    const report = await n.notify('t', {});
    expect(report.delivered).toBe(1);
    expect(delivered).toBe(1);
    expect(report.failures.map((f) => (f.error as Error).message)).toEqual(['sync failure', 'async failure']);
    expect(seen).toHaveLength(2);
    expect(audit.entries('notification.failed').map((e) => e.details.error)).toEqual(['sync failure', 'async failure']);
  });

  it('survives an onError callback that throws', async () => {
    const n = new NotificationFacet({
      onError: () => {
        throw new Error('reporter broke');
      },
    });
    n.subscribe('t', () => {
      throw new Error('x');
    });
    await expect(n.notify('t')).resolves.toMatchObject({ delivered: 0 });
  });

  it('validates topics and handlers', async () => {
    const n = new NotificationFacet();
    expect(() => n.subscribe('', () => {})).toThrow(/topic must be a non-empty string/);
    expect(() => n.subscribe('t', 5 as never)).toThrow(/handler must be a function/);
    await expect(n.notify('*')).rejects.toThrow(/other than '\*'/);
  });
});
