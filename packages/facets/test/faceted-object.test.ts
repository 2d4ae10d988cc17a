import { describe, expect, it } from 'vitest';
import {
  DuplicateFacetError,
  Facet,
  FacetError,
  FacetedObject,
  FacetInUseError,
  FacetRegistry,
  Facets,
  type FacetToken,
  facetToken,
  MissingDependencyError,
  MissingFacetError,
} from '../src/index.js';

interface Account {
  id: string;
}

class Ledger extends Facet<Account> {
  readonly lines: number[] = [];
  constructor(readonly currency = 'EUR') {
    super();
  }
  post(amount: number): number {
    this.lines.push(amount);
    return this.lines.reduce((a, b) => a + b, 0);
  }
}

class Statement extends Facet<Account> {
  static override readonly requires = [Ledger];
  total(): number {
    return this.faceted.require(Ledger).lines.reduce((a, b) => a + b, 0);
  }
}

class Hooked extends Facet<Account> {
  readonly events: string[] = [];
  constructor(private readonly failOn?: 'attach' | 'detach') {
    super();
  }
  override onAttach(owner: FacetedObject<Account>): void {
    this.events.push(`attach:${owner.core.id}`);
    if (this.failOn === 'attach') throw new Error('attach refused');
  }
  override onDetach(owner: FacetedObject<Account>): void {
    this.events.push(`detach:${owner.core.id}`);
    if (this.failOn === 'detach') throw new Error('detach refused');
  }
}

const account = (id = 'acc-1'): Account => ({ id });

describe('FacetedObject operations', () => {
  it('attaches a facet class with constructor arguments and gets it back typed', () => {
    const obj = Facets.of(account());
    const ledger = obj.attach(Ledger, 'USD');
    expect(ledger).toBeInstanceOf(Ledger);
    expect(ledger.currency).toBe('USD');
    expect(obj.get(Ledger)).toBe(ledger);
    expect(obj.get(Ledger)?.post(5)).toBe(5);
    expect(obj.has(Ledger)).toBe(true);
  });

  it('get returns undefined and require throws MissingFacetError for an absent facet', () => {
    const obj = Facets.of(account());
    expect(obj.get(Ledger)).toBeUndefined();
    expect(() => obj.require(Ledger)).toThrow(MissingFacetError);
    expect(() => obj.require(Ledger)).toThrow(/facet Ledger is not attached/);
  });

  it('refuses a second facet with the same key', () => {
    const obj = Facets.of(account());
    obj.attach(Ledger);
    expect(() => obj.attach(Ledger)).toThrow(DuplicateFacetError);
  });

  it('detaches and reports whether something was detached', () => {
    const obj = Facets.of(account());
    obj.attach(Ledger);
    expect(obj.detach(Ledger)).toBe(true);
    expect(obj.has(Ledger)).toBe(false);
    expect(obj.detach(Ledger)).toBe(false);
  });

  it('with runs the function on the facet and returns its result, or throws when absent', () => {
    const obj = Facets.of(account());
    expect(() => obj.with(Ledger, (l) => l.post(1))).toThrow(MissingFacetError);
    obj.attach(Ledger);
    expect(obj.with(Ledger, (l) => l.post(3))).toBe(3);
  });

  it('facets() lists attached facets in attach order', () => {
    const obj = Facets.of(account());
    const ledger = obj.attach(Ledger);
    const statement = obj.attach(Statement);
    expect(obj.facets()).toEqual([
      { key: Ledger, facet: ledger },
      { key: Statement, facet: statement },
    ]);
  });

  it('keys by unique symbol: two tokens with the same description never collide', () => {
    const a = facetToken<{ tag: string }>('tag');
    const b = facetToken<{ tag: string }>('tag');
    const obj = Facets.of(account());
    obj.attach(a, { tag: 'from library A' });
    obj.attach(b, { tag: 'from library B' });
    expect(obj.get(a)?.tag).toBe('from library A');
    expect(obj.get(b)?.tag).toBe('from library B');
  });

  it('rejects bare string keys from untyped callers', () => {
    const obj = Facets.of(account()) as unknown as { attach(k: unknown, v: unknown): unknown; get(k: unknown): unknown };
    expect(() => obj.attach('audit', {})).toThrow(/key must be a facet class or a facet token symbol, got the string 'audit'/);
    expect(() => obj.get('audit')).toThrow(TypeError);
  });

  it('rejects Symbol.for keys, which two libraries re-create from the same string', () => {
    const obj = new FacetedObject({});
    expect(() => obj.attach(Symbol.for('audit') as FacetToken<object>, {})).toThrow(
      /key must be a unique facet token, got Symbol.for\('audit'\), which any library can re-create; use facetToken\(\)/,
    );
    expect(() => new FacetRegistry().register(Symbol.for('audit') as FacetToken<object>, () => ({}))).toThrow(TypeError);
  });

  it('Facets.of returns the same wrapper for the same core, and a second constructor is refused', () => {
    const core = account();
    const obj = Facets.of(core);
    expect(Facets.of(core)).toBe(obj);
    expect(Facets.existing(core)).toBe(obj);
    expect(Facets.existing(account())).toBeUndefined();
    expect(() => new FacetedObject(core)).toThrow(FacetError);
    expect(() => Facets.of(core, { registry: new FacetRegistry() })).toThrow(/different registry/);
    expect(() => Facets.of(42 as unknown as object)).toThrow(/core must be an object, got number/);
  });
});

describe('lifecycle hooks', () => {
  it('calls onAttach after attaching and onDetach before detaching, with the faceted object', () => {
    const obj = Facets.of(account('a7'));
    const hooked = obj.attach(Hooked);
    obj.detach(Hooked);
    expect(hooked.events).toEqual(['attach:a7', 'detach:a7']);
  });

  it('undoes the attach when onAttach throws', () => {
    const obj = Facets.of(account());
    const revision = obj.revision;
    expect(() => obj.attach(Hooked, 'attach')).toThrow('attach refused');
    expect(obj.has(Hooked)).toBe(false);
    expect(obj.facets()).toEqual([]);
    expect(obj.revision).toBeGreaterThan(revision);
  });

  it('keeps the facet attached when onDetach throws', () => {
    const obj = Facets.of(account());
    const hooked = obj.attach(Hooked, 'detach');
    expect(() => obj.detach(Hooked)).toThrow('detach refused');
    expect(obj.get(Hooked)).toBe(hooked);
    expect(hooked.attached).toBe(true);
  });

  it('calls hooks on plain objects attached under a token', () => {
    const key = facetToken<{ calls: string[]; onAttach(): void; onDetach(): void }>('plain');
    const facet = {
      calls: [] as string[],
      onAttach() {
        this.calls.push('attach');
      },
      onDetach() {
        this.calls.push('detach');
      },
    };
    const obj = Facets.of(account());
    obj.attach(key, facet);
    obj.detach(key);
    expect(facet.calls).toEqual(['attach', 'detach']);
  });
});

describe('dependencies', () => {
  it('refuses to attach a facet whose requirement is missing, and attaches it once present', () => {
    const obj = Facets.of(account());
    expect(() => obj.attach(Statement)).toThrow(MissingDependencyError);
    expect(() => obj.attach(Statement)).toThrow(/Statement requires Ledger/);
    expect(obj.has(Statement)).toBe(false);
    obj.attach(Ledger).post(7);
    expect(obj.attach(Statement).total()).toBe(7);
  });

  it('refuses to detach a facet another attached facet requires, and allows it after', () => {
    const obj = Facets.of(account());
    obj.attach(Ledger);
    obj.attach(Statement);
    expect(() => obj.detach(Ledger)).toThrow(FacetInUseError);
    expect(() => obj.detach(Ledger)).toThrow(/Ledger cannot be detached: Statement requires it/);
    expect(obj.has(Ledger)).toBe(true);
    obj.detach(Statement);
    expect(obj.detach(Ledger)).toBe(true);
  });

  it('creates a registered dependency lazily instead of refusing', () => {
    const registry = new FacetRegistry().register(Ledger, () => new Ledger('CHF'));
    const obj = Facets.of(account(), { registry });
    obj.attach(Statement);
    expect(obj.get(Ledger)?.currency).toBe('CHF');
  });

  it('rejects a malformed requires declaration naming the class', () => {
    class Broken extends Facet {
      static override readonly requires = ['Ledger'] as never;
    }
    expect(() => Facets.of(account()).attach(Broken)).toThrow(/Broken.requires\[0\] must be a facet class/);
  });
});

describe('lazy creation through a FacetRegistry', () => {
  it('get creates and attaches a registered facet once; has does not create it', () => {
    let created = 0;
    const registry = new FacetRegistry().register(Ledger, () => {
      created++;
      return new Ledger('GBP');
    });
    const obj = Facets.of(account(), { registry });
    expect(obj.has(Ledger)).toBe(false);
    const ledger = obj.get(Ledger);
    expect(ledger?.currency).toBe('GBP');
    expect(obj.get(Ledger)).toBe(ledger);
    expect(obj.require(Ledger)).toBe(ledger);
    expect(created).toBe(1);
    expect(obj.has(Ledger)).toBe(true);
  });

  it('does not create facets registered with lazy: false', () => {
    const registry = new FacetRegistry().register(Ledger, { create: () => new Ledger(), lazy: false });
    expect(Facets.of(account(), { registry }).get(Ledger)).toBeUndefined();
  });

  it('refuses duplicate registrations and duplicate names', () => {
    const registry = new FacetRegistry().register(Ledger, { name: 'ledger', create: () => new Ledger() });
    expect(() => registry.register(Ledger, () => new Ledger())).toThrow(/already registered/);
    expect(() => registry.register(Statement, { name: 'ledger', create: () => new Statement() })).toThrow(
      /name 'ledger' is already registered for Ledger/,
    );
  });
});

describe('QueryInterface invariants', () => {
  it('identity: every facet owner is the same core object', () => {
    const core = account();
    const obj = Facets.of(core);
    const ledger = obj.attach(Ledger);
    const statement = obj.attach(Statement);
    expect(ledger.owner).toBe(core);
    expect(statement.owner).toBe(core);
    expect(Facets.of(ledger.owner)).toBe(obj);
  });

  it('stability: asking twice gives the same facet', () => {
    const obj = Facets.of(account());
    obj.attach(Ledger);
    expect(obj.get(Ledger)).toBe(obj.get(Ledger));
  });

  it('reflexive, symmetric and transitive: any facet reaches every other through its owner', () => {
    const obj = Facets.of(account());
    const ledger = obj.attach(Ledger);
    const statement = obj.attach(Statement);
    expect(Facets.of(ledger.owner).get(Ledger)).toBe(ledger);
    expect(Facets.of(ledger.owner).get(Statement)).toBe(statement);
    expect(Facets.of(statement.owner).get(Ledger)).toBe(ledger);
  });

  it('a detached facet has no owner and one instance cannot serve two objects', () => {
    const first = Facets.of(account('a'));
    const ledger = first.attach(Ledger);
    expect(() => Facets.of(account('b')).adopt(Ledger, ledger)).toThrow(/already attached to another object/);
    first.detach(Ledger);
    expect(ledger.attached).toBe(false);
    expect(() => ledger.owner).toThrow(/not attached/);
    expect(Facets.of(account('b')).adopt(Ledger, ledger).owner.id).toBe('b');
  });

  it('adopt checks that a class-keyed facet is an instance of its key', () => {
    const obj = Facets.of(account());
    expect(() => obj.adopt(Ledger, new Statement() as unknown as Ledger)).toThrow(/must be an instance of Ledger/);
  });
});
