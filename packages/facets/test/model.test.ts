import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dispatch, Facet, FacetInUseError, Facets, MissingDependencyError } from '../src/index.js';

class A extends Facet {
  a(): string {
    return 'a';
  }
}
class B extends Facet {
  static override readonly requires = [A];
  b(): string {
    return 'b';
  }
}
class C extends Facet {
  static override readonly requires = [A, B];
  c(): string {
    return 'c';
  }
}
const classes = [A, B, C] as const;
const requires = new Map<unknown, readonly unknown[]>([
  [A, []],
  [B, [A]],
  [C, [A, B]],
]);

describe('FacetedObject against a model', () => {
  it('any sequence of attach and detach keeps the model, the dependency invariant and the Proxy in step', () => {
    const op = fc.record({ kind: fc.constantFrom('attach', 'detach'), facet: fc.constantFrom(...classes) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const obj = Facets.of({});
        const proxy = dispatch(obj) as unknown as Record<string, (() => string) | undefined>;
        const model: unknown[] = [];
        for (const { kind, facet: picked } of ops) {
          const facet = picked as new () => Facet;
          const revision = obj.revision;
          const before = model.length;
          if (kind === 'attach') {
            const missing = requires.get(facet)!.filter((dep) => !model.includes(dep));
            if (model.includes(facet)) expect(() => obj.attach(facet)).toThrow(/already attached/);
            else if (missing.length > 0) expect(() => obj.attach(facet)).toThrow(MissingDependencyError);
            else {
              obj.attach(facet);
              model.push(facet);
            }
          } else {
            const dependents = model.filter((other) => requires.get(other)!.includes(facet));
            if (!model.includes(facet)) expect(obj.detach(facet)).toBe(false);
            else if (dependents.length > 0) expect(() => obj.detach(facet)).toThrow(FacetInUseError);
            else {
              expect(obj.detach(facet)).toBe(true);
              model.splice(model.indexOf(facet), 1);
            }
          }
          expect(obj.facets().map((entry) => entry.key)).toEqual(model);
          // The revision moves exactly when the set of facets changed (refusals leave it alone).
          expect(obj.revision > revision).toBe(model.length !== before);
          for (const entry of obj.facets()) {
            for (const dep of requires.get(entry.key)!) expect(obj.has(dep as typeof A)).toBe(true);
            expect((entry.facet as Facet).owner).toBe(obj.core);
          }
          for (const [name, cls] of [
            ['a', A],
            ['b', B],
            ['c', C],
          ] as const) {
            expect(proxy[name]?.()).toBe(model.includes(cls) ? name : undefined);
          }
        }
      }),
    );
  });
});
