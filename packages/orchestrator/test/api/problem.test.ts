import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldErrorsFromViolations, makeProblem, pointerToField, summarize } from '../../src/api/problem.js';

describe('problem details', () => {
  it('turns a JSON pointer into a dotted field path with [n] for array items', () => {
    expect(pointerToField('')).toBe('');
    expect(pointerToField('/params/items/0/name')).toBe('params.items[0].name');
    expect(pointerToField('/a~1b/c~0d')).toBe('a/b.c~d');
    const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);
    const segment = fc.oneof(name, fc.nat({ max: 99 }));
    fc.assert(
      fc.property(name, fc.array(segment, { maxLength: 6 }), (first, rest) => {
        const expected = rest.reduce<string>((path, part) => (typeof part === 'number' ? `${path}[${part}]` : `${path}.${part}`), first);
        expect(pointerToField(`/${[first, ...rest].join('/')}`)).toBe(expected);
      }),
    );
  });

  it('names the missing, the unknown and the malformed field, once each', () => {
    const errors = fieldErrorsFromViolations(
      [
        { instancePath: '', keyword: 'required', params: { missingProperty: 'job_type' } },
        { instancePath: '/params', keyword: 'additionalProperties', params: { additionalProperty: 'colour' } },
        {
          instancePath: '/state',
          keyword: 'enum',
          params: { allowedValues: ['A', 'B'] },
          message: 'must be equal to one of the allowed values',
        },
        { instancePath: '/job_type', keyword: 'minLength', params: {}, message: 'must NOT have fewer than 1 characters' },
        { instancePath: '/job_type', keyword: 'pattern', params: {}, message: 'must match pattern' },
        { instancePath: '', keyword: 'type', params: {}, message: 'must be object' },
      ],
      'querystring',
    );
    expect(errors).toEqual([
      { field: 'job_type', in: 'query', message: 'is required' },
      { field: 'params.colour', in: 'query', message: 'is not a known field' },
      { field: 'state', in: 'query', message: 'must be one of A, B' },
      { field: 'query', in: 'query', message: 'must be object' },
    ]);
    expect(summarize(errors.slice(0, 2))).toBe('job_type is required; params.colour is not a known field');
  });

  it('builds RFC 9457 documents whose status and title follow the kind', () => {
    expect(makeProblem('not-found', 'no job', '/api/jobs/requests/x')).toEqual({
      type: 'urn:myrmex:problem:not-found',
      title: 'Not found',
      status: 404,
      detail: 'no job',
      instance: '/api/jobs/requests/x',
    });
    expect(makeProblem('validation-error', 'd', '/i', []).errors).toBeUndefined();
  });
});
