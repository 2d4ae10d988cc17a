import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderGoTemplate, restoreDeferred } from '../../src/definition/gotemplate/render.js';
import { checkJobDefinition, parseJobDefinition } from '../../src/definition/index.js';
import { errorsOf, lines } from './helpers.js';

const render = (source: string, data: Record<string, unknown> = {}, missingIs = false): string => {
  const rendered = renderGoTemplate(source, { data, missingIs });
  return restoreDeferred(rendered.text, rendered.deferred);
};

describe('Go text/template subset', () => {
  it('actions, pipes, comparisons, logic and if/else if/else', () => {
    expect(render('{{ .A }}-{{ .A | printf "%s!" }}', { A: 'x' })).toBe('x-x!');
    expect(render('{{if eq .T "a"}}A{{else if eq .T "b"}}B{{else}}C{{end}}', { T: 'b' })).toBe('B');
    expect(render('{{if and (gt .N 1) (not .Off)}}yes{{end}}', { N: 2, Off: false })).toBe('yes');
    expect(render('{{if or .Missing 0}}x{{else}}y{{end}}', {})).toBe('{{if or .Missing 0}}x{{else}}y{{end}}');
    expect(render('{{ if lt .Nonce 2757814270777357683 }}low{{ end }}', { Nonce: 5 })).toBe('low');
    expect(render('{{ default "main" (trimPrefix .Ref "refs/heads/") }}', { Ref: 'refs/heads/dev' })).toBe('dev');
    expect(render('{{ atoi (printf "%v" .Total) | printf "%d" }}', { Total: '12' })).toBe('12');
    expect(render('{{ index .Body "full_name" }}', { Body: { full_name: 'o/r' } })).toBe('o/r');
  });

  it('range with variables, with, trim markers and comments', () => {
    expect(render('{{- range $i, $v := .L }} {{$i}}={{$v}}{{ end -}} !', { L: ['a', 'b'] })).toBe(' 0=a 1=b!');
    expect(render('{{range $val := Iterate 3}}[{{ Add $val 1 }}]{{end}}')).toBe('[1][2][3]');
    expect(render('{{with .U}}{{.Name}}{{else}}none{{end}}', { U: { Name: 'ann' } })).toBe('ann');
    expect(render('a {{/* a comment */}}b')).toBe('a b');
    expect(render('{{range .Empty}}x{{else}}empty{{end}}', { Empty: [] })).toBe('empty');
  });

  it('keeps an output action on a missing value for the task to render later; a multi-line if takes the else branch with a note', () => {
    const rendered = renderGoTemplate('x: {{ .JobID }}\n{{ if .Win }}\na\n{{ else }}\nb\n{{ end }}\n', { data: {} });
    expect(restoreDeferred(rendered.text, rendered.deferred)).toBe('x: {{ .JobID }}\n\nb\n\n');
    expect(rendered.notes).toEqual([{ offset: 16, message: '.Win has no value here, so this {{if}} is taken as false' }]);
  });

  it('never reaches prototypes, the environment or the file system', () => {
    expect(render('{{ .constructor }}', {})).toBe('{{ .constructor }}');
    expect(render('{{ .A.__proto__ }}', { A: {} })).toBe('{{ .A.__proto__ }}');
    expect(() => renderGoTemplate('{{ env "HOME" }}', { data: {} })).toThrow(
      /function "env" not defined: templates cannot read the queen's environment/,
    );
    expect(() => renderGoTemplate('{{ readFile "/etc/passwd" }}', { data: {} })).toThrow(/not defined/);
    expect(() => renderGoTemplate('{{ constructor }}', { data: {} })).toThrow(/function "constructor" not defined/);
  });

  it('rendering plain text (no actions) is the identity, and the source map points into the original', () => {
    fc.assert(
      fc.property(
        fc.string().filter((text) => !text.includes('{{')),
        (text) => {
          const rendered = renderGoTemplate(text, { data: {} });
          expect(rendered.text).toBe(text);
          for (let at = 0; at < text.length; at++) expect(rendered.sourceOffset(at)).toBe(at);
        },
      ),
    );
  });
});

describe('definitions with templates', () => {
  it('renders a range that generates tasks before parsing, and validates the result', () => {
    const source = lines(
      'job_type: generated',
      'tasks:',
      '{{- range $val := Iterate 3 }}',
      '- task_type: task-{{$val}}',
      '  script: [echo {{$val}}]',
      '  {{ if lt $val 2 }}',
      '  on_completed: task-{{ Add $val 1 }}',
      '  {{ end }}',
      '{{ end }}',
    );
    expect(parseJobDefinition(source).tasks.map((task) => [task.taskType, task.onCompleted ?? null])).toEqual([
      ['task-0', 'task-1'],
      ['task-1', 'task-2'],
      ['task-2', null],
    ]);
  });

  it('maps errors after rendering back to the line and column of the original file', () => {
    const source = lines(
      'job_type: mapped',
      '{{ if .Fast }}',
      'timeout: 1s',
      '{{ end }}',
      'tasks:',
      '  - task_type: a',
      '    script: [echo {{ .X }}]',
      '    retry: lots',
    );
    expect(errorsOf(source)).toEqual(['job.yaml:8:12: tasks[0].retry: expected an integer, got "lots"']);
    expect(errorsOf(lines('job_type: t', 'tasks:', '  - task_type: a', '    script: [echo {{ if }}]'))).toEqual([
      'job.yaml:4:19: template: missing value for command',
    ]);
    expect(errorsOf(lines('job_type: t', 'tasks:', '{{ range .L }}', '  - task_type: a'))).toEqual([
      "job.yaml:3:1: template: '{{range}}' is never closed: add '{{end}}'",
    ]);
  });

  it('checks the branch not taken too, when a condition has no value', () => {
    const source = lines(
      'job_type: branches',
      'tasks:',
      '  - task_type: a',
      '    script: [echo]',
      '    {{ if .Slow }}',
      '    timeout: forever',
      '    {{ end }}',
    );
    expect(errorsOf(source)).toEqual([
      'job.yaml:6:14: tasks[0].timeout: expected a duration such as 30s, 5m, 1h30m, 250ms or integer seconds (with the conditions on missing params taken as true)',
    ]);
    const result = checkJobDefinition(source.replace('forever', '5m'));
    expect(result.ok && result.notes.map((note) => `${note.line}:${note.column} ${note.message}`)).toEqual([
      '5:5 template: .Slow has no value here, so this {{if}} is taken as false',
    ]);
  });

  it('renders with request params when given', () => {
    const source = lines(
      'job_type: p',
      'tasks:',
      '  - task_type: a',
      '    script:',
      '    {{ if .Win }}',
      '    - dir',
      '    {{ else }}',
      '    - ls',
      '    {{ end }}',
    );
    expect(parseJobDefinition(source, { params: { Win: true } }).tasks[0]!.script).toEqual(['dir']);
    expect(parseJobDefinition(source, { params: { Win: false } }).tasks[0]!.script).toEqual(['ls']);
  });

  it('keeps one-line templates (skip_if, except, trigger filters) for later', () => {
    const definition = parseJobDefinition(
      lines('job_type: later', 'tasks:', '  - task_type: a', '    except: {{if gt .JobID 5}} true {{end}}', '    script: [echo]'),
    );
    expect(definition.tasks[0]!.skipIf).toBe('{{if gt .JobID 5}} true {{end}}');
  });

  it('reads stray braces that are no template as text', () => {
    const definition = parseJobDefinition(lines('job_type: braces', 'tasks:', '  - task_type: a', "    script: ['echo {{ oops']"));
    expect(definition.tasks[0]!.script).toEqual(['echo {{ oops']);
  });

  it('a multi-document file gets a plain message', () => {
    expect(errorsOf(lines('job_type: a', 'tasks: []', '---', 'job_type: b'))).toEqual([
      "job.yaml:3:1: this file holds more than one YAML document (a second one starts here after '---'): a definition is one document; put each job in its own file",
    ]);
  });

  it('prints no YAML library warning on stderr', () => {
    const script = `import('${new URL('../../src/definition/index.ts', import.meta.url).pathname}').then(({ checkJobDefinition }) => {
      checkJobDefinition('job_type: w\\ntasks:\\n  - task_type: a\\n    script: [!unknown echo]\\n    variables: { ? [a, b] : c }\\n');
    });`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.status).toBe(0);
    expect(child.stderr).toBe('');
  });
});
