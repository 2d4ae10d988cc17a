import { describe, expect, it } from 'vitest';
import { AmbiguousMethodError, dispatch, dispatchStats, Facet, Facets } from '../src/index.js';

class Greeter extends Facet<{ name: string }> {
  greet(): string {
    return `hello ${this.owner.name}`;
  }
}

class Shouter extends Facet<{ name: string }> {
  greet(): string {
    return `HELLO ${this.owner.name.toUpperCase()}`;
  }
  shout(text: string): string {
    return text.toUpperCase();
  }
}

type Methods = { greet(): string; shout(text: string): string };

describe('Proxy dispatch', () => {
  it('answers facet methods with the facet as this, and the core own properties first', () => {
    const obj = Facets.of({ name: 'ada', shout: () => 'core wins' });
    obj.attach(Shouter);
    const proxy = dispatch<{ name: string; shout: () => string }, Methods>(obj);
    expect(proxy.name).toBe('ada');
    expect(proxy.shout()).toBe('core wins');
    expect(proxy.greet()).toBe('HELLO ADA');
  });

  it('returns the same proxy for the same object', () => {
    const obj = Facets.of({ name: 'x' });
    expect(dispatch(obj)).toBe(dispatch(obj));
  });

  it('answers undefined (and `in` false) for a method no facet has', () => {
    const proxy = dispatch<{ name: string }, Partial<Methods>>(Facets.of({ name: 'x' }));
    expect(proxy.greet).toBeUndefined();
    expect('greet' in proxy).toBe(false);
  });

  it('caches the method lookup per object: the second call is a hit', () => {
    const obj = Facets.of({ name: 'bo' });
    obj.attach(Greeter);
    const proxy = dispatch<{ name: string }, Methods>(obj);
    proxy.greet();
    proxy.greet();
    proxy.greet();
    expect(dispatchStats(obj)).toEqual({ hits: 2, misses: 1, invalidations: 0, cached: 1 });
  });

  it('invalidates the cache on detach: a detached facet is never called', () => {
    const obj = Facets.of({ name: 'cy' });
    obj.attach(Greeter);
    const proxy = dispatch<{ name: string }, Partial<Methods>>(obj);
    expect(proxy.greet?.()).toBe('hello cy');
    obj.detach(Greeter);
    expect(dispatchStats(obj).cached).toBe(0);
    expect(proxy.greet).toBeUndefined();
    expect(dispatchStats(obj).invalidations).toBe(1);
  });

  it('invalidates the cache on attach: a replaced provider is used at once', () => {
    const obj = Facets.of({ name: 'di' });
    obj.attach(Greeter);
    const proxy = dispatch<{ name: string }, Methods>(obj);
    expect(proxy.greet()).toBe('hello di');
    obj.detach(Greeter);
    obj.attach(Shouter);
    expect(proxy.greet()).toBe('HELLO DI');
    expect('shout' in proxy).toBe(true);
  });

  it('caches a miss too, and an attach makes the name resolve', () => {
    const obj = Facets.of({ name: 'ed' });
    const proxy = dispatch<{ name: string }, Partial<Methods>>(obj);
    expect(proxy.shout).toBeUndefined();
    expect(proxy.shout).toBeUndefined();
    expect(dispatchStats(obj)).toMatchObject({ hits: 1, misses: 1 });
    obj.attach(Shouter);
    expect(proxy.shout?.('a')).toBe('A');
  });

  it('refuses to guess when two facets provide the same method', () => {
    const obj = Facets.of({ name: 'fa' });
    obj.attach(Greeter);
    obj.attach(Shouter);
    const proxy = dispatch<{ name: string }, Methods>(obj);
    expect(() => proxy.greet()).toThrow(AmbiguousMethodError);
    expect(() => proxy.greet()).toThrow(/'greet' is provided by several facets \(Greeter, Shouter\)/);
    expect(proxy.shout('ok')).toBe('OK');
  });

  it('never dispatches lifecycle hooks, toJSON or Object.prototype names to facets', () => {
    const obj = Facets.of({ name: 'gu' });
    obj.attach(Greeter);
    const proxy = dispatch(obj) as Record<string, unknown>;
    expect(proxy.onAttach).toBeUndefined();
    expect(proxy.toJSON).toBeUndefined();
    expect(proxy.toString).toBe(Object.prototype.toString);
  });

  it('validates its argument', () => {
    expect(() => dispatch({} as never)).toThrow('dispatch: expected a FacetedObject (Facets.of(core))');
  });

  it('writes through to the core', () => {
    const core = { name: 'ha' };
    const obj = Facets.of(core);
    obj.attach(Greeter);
    const proxy = dispatch<{ name: string }, Methods>(obj);
    proxy.name = 'ivy';
    expect(core.name).toBe('ivy');
    expect(proxy.greet()).toBe('hello ivy');
  });
});
