import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseSetOutput,
  renderTemplate,
  renderValue,
  TemplateError,
  type TemplateScope,
  templateVariables,
} from '../../src/definition/index.js';

const scope = (overrides: Partial<TemplateScope> = {}): TemplateScope => ({
  params: {},
  taskVariables: {},
  jobVariables: {},
  outputs: {},
  builtIns: { JobID: 'job-7', JobType: 'diamond', JobRetry: 0, TaskType: 'join', TaskRetry: 2 },
  ...overrides,
});

describe('renderTemplate', () => {
  it('looks names up in params, task variables, job variables, outputs, then built-ins', () => {
    const layers = scope({
      params: { A: 'param' },
      taskVariables: { A: 'task', B: 'task' },
      jobVariables: { A: 'job', B: 'job', C: 'job' },
      outputs: { A: 'out', B: 'out', C: 'out', D: 'out', JobID: 'shadowed' },
    });
    expect(renderTemplate('{{.A}} {{.B}} {{.C}} {{.D}} {{.JobID}} {{.TaskType}} {{.TaskRetry}}', layers)).toBe(
      'param task job out shadowed join 2',
    );
    expect(renderTemplate('{{.JobType}}/{{.JobRetry}}', layers)).toBe('diamond/0');
  });

  it('allows spaces inside the braces and renders scalars, null and structures', () => {
    const values = scope({ params: { N: 3, T: true, Z: null, L: [1, 'a'], M: { k: 'v' } } });
    expect(renderTemplate('{{ .N }}|{{.T}}|{{.Z}}|{{.L}}|{{.M}}', values)).toBe('3|true||[1,"a"]|{"k":"v"}');
  });

  it('keeps text that is not a placeholder as written', () => {
    const text = 'awk "{print $1}" {{Name}} {{.}} {{ .1x }} $HOME {{';
    expect(renderTemplate(text, scope())).toBe(text);
  });

  it('fails with a TemplateError naming an unknown variable', () => {
    const render = () => renderTemplate('curl {{.Url}}/{{.Missing}}', scope({ params: { Url: 'http://127.0.0.1' } }));
    expect(render).toThrow(TemplateError);
    expect(render).toThrow("unknown template variable 'Missing'");
    try {
      render();
    } catch (error) {
      expect((error as TemplateError).variable).toBe('Missing');
    }
  });

  it('never finds inherited properties such as toString', () => {
    expect(() => renderTemplate('{{.toString}}', scope())).toThrow(TemplateError);
    expect(() => renderTemplate('{{.constructor}}', scope())).toThrow(TemplateError);
  });

  it('renders each placeholder once: a value that looks like a template is not expanded again', () => {
    expect(renderTemplate('{{.A}}', scope({ params: { A: '{{.B}}', B: 'no' } }))).toBe('{{.B}}');
  });

  it('renders templates inside task and job variables from params, outputs and other variables', () => {
    const layers = scope({
      params: { Host: 'api.test' },
      taskVariables: { Url: 'https://{{.Base}}/{{.Report}}' },
      jobVariables: { Base: '{{.Host}}:8080', Headers: { via: '{{.JobID}}' } },
      outputs: { Report: 'r-1' },
    });
    expect(renderTemplate('curl {{.Url}}', layers)).toBe('curl https://api.test:8080/r-1');
    expect(renderTemplate('{{.Headers}}', layers)).toBe('{"via":"job-7"}');
  });

  it('renders a variable only when it is used, so one naming a later output does not fail earlier tasks', () => {
    const early = scope({ jobVariables: { Summary: 'built {{.Artifact}}', Name: 'x' } });
    expect(renderTemplate('{{.Name}}', early)).toBe('x');
    expect(() => renderTemplate('{{.Summary}}', early)).toThrow(/unknown template variable 'Artifact'/);
  });

  it('refuses variables that refer to each other in a cycle, naming it', () => {
    const cyclic = scope({ taskVariables: { A: '{{.B}}' }, jobVariables: { B: 'x{{.C}}', C: '{{.A}}' } });
    expect(() => renderTemplate('{{.A}}', cyclic)).toThrow('template variables refer to each other in a cycle: A -> B -> C -> A');
    expect(() => renderTemplate('{{.Self}}', scope({ jobVariables: { Self: '{{.Self}}!' } }))).toThrow(TemplateError);
  });

  it('refuses variables that expand each other exponentially instead of exhausting memory', () => {
    const jobVariables: Record<string, string> = { V0: 'xxxxxxxx' };
    for (let i = 1; i <= 40; i++) jobVariables[`V${i}`] = `{{.V${i - 1}}}{{.V${i - 1}}}`;
    expect(() => renderTemplate('{{.V40}}', scope({ jobVariables }))).toThrow(/more than 1048576 characters/);
  });

  it('is the identity on text without placeholders', () => {
    fc.assert(
      fc.property(
        fc.string().filter((text) => !text.includes('{{')),
        (text) => {
          expect(renderTemplate(text, scope())).toBe(text);
        },
      ),
    );
  });

  it('renderValue renders strings deep inside objects and arrays and keeps keys and other values', () => {
    const value = { url: 'http://127.0.0.1/{{.Id}}', list: ['{{.Id}}', 4, null, { nested: '{{.TaskType}}' }], '{{.Id}}': false };
    expect(renderValue(value, scope({ params: { Id: 42 } }))).toEqual({
      url: 'http://127.0.0.1/42',
      list: ['42', 4, null, { nested: 'join' }],
      '{{.Id}}': false,
    });
  });

  it('templateVariables lists each referenced name once, in order', () => {
    expect(templateVariables('{{.B}} {{ .A }} {{.B}} {{A}}')).toEqual(['B', 'A']);
  });
});

describe('parseSetOutput', () => {
  it.each([
    ['::set-output name=Batch::batch-1', { key: 'Batch', value: 'batch-1' }],
    ['::set-output name=Empty::', { key: 'Empty', value: '' }],
    ['::set-output name=url::http://h:1/a::b', { key: 'url', value: 'http://h:1/a::b' }],
    ['::set-output name=_x1::  spaced  \r\n', { key: '_x1', value: '  spaced  ' }],
    ['::set-output name=Line::ends here\n', { key: 'Line', value: 'ends here' }],
  ])('%j publishes', (line, output) => {
    expect(parseSetOutput(line)).toEqual(output);
  });

  it.each([
    'echo ::set-output name=A::1',
    ' ::set-output name=A::1',
    '::set-output name=1A::x',
    '::set-output name=a-b::x',
    '::set-output A::1',
    'plain output',
    '',
  ])('%j is an ordinary line', (line) => {
    expect(parseSetOutput(line)).toBeUndefined();
  });

  it('round-trips any identifier and any single-line value', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/),
        fc.string().filter((v) => !/[\r\n]/.test(v)),
        (key, value) => {
          expect(parseSetOutput(`::set-output name=${key}::${value}`)).toEqual({ key, value });
        },
      ),
    );
  });
});
