import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { diffLines } from 'diff';
import hljs from 'highlight.js/lib/core';
import yamlLanguage from 'highlight.js/lib/languages/yaml';
import { useMemo, useState } from 'react';
import { ApiProblem, api, type FieldError } from '../api.js';
import { ScrollBox } from '../components/ScrollBox.js';
import { ErrorNote, when } from '../components/StateBadge.js';
import { href } from '../router.js';

hljs.registerLanguage('yaml', yamlLanguage);

/** The line an error points at, from its `file:line:col` location. */
const lineOf = (error: FieldError): number | undefined => {
  const match = /:(\d+):\d+$/.exec(error.location ?? '');
  return match ? Number(match[1]) : undefined;
};

/** YAML, highlighted, with each error shown under the line it points at. */
function Source({ text, label, errors = [] }: { text: string; label: string; errors?: readonly FieldError[] }) {
  const lines = useMemo(() => text.split('\n').map((line) => hljs.highlight(line, { language: 'yaml' }).value), [text]);
  const byLine = new Map<number, FieldError[]>();
  for (const error of errors) {
    const line = lineOf(error) ?? 1;
    byLine.set(line, [...(byLine.get(line) ?? []), error]);
  }
  return (
    <ScrollBox className="source hljs" label={label}>
      {lines.map((html, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
        <div key={index} className={byLine.has(index + 1) ? 'line has-error' : 'line'}>
          <span className="ln" aria-hidden="true">
            {index + 1}
          </span>
          {/* biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js escapes the text it highlights */}
          <span dangerouslySetInnerHTML={{ __html: html || ' ' }} />
          {(byLine.get(index + 1) ?? []).map((error) => (
            <div key={`${error.field}${error.message}`} className="inline-error" role="note">
              ⚠ {error.field ? `${error.field}: ` : ''}
              {error.message}
            </div>
          ))}
        </div>
      ))}
    </ScrollBox>
  );
}

function Diff({ before, after }: { before: string; after: string }) {
  const parts = useMemo(() => diffLines(before, after), [before, after]);
  return (
    <ScrollBox className="source diff" label="Differences between the versions">
      {parts.map((part, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: diff parts are positional
        <span key={index} className={part.added ? 'added' : part.removed ? 'removed' : ''}>
          {part.value
            .replace(/\n$/, '')
            .split('\n')
            .map((line) => `${part.added ? '+ ' : part.removed ? '- ' : '  '}${line}`)
            .join('\n')}
          {'\n'}
        </span>
      ))}
    </ScrollBox>
  );
}

function Editor() {
  const client = useQueryClient();
  const [text, setText] = useState('job_type: hello\ntasks:\n  - task_type: greet\n    script:\n      - echo hello\n');
  const apply = useMutation({ mutationFn: api.apply, onSuccess: () => client.invalidateQueries({ queryKey: ['definitions'] }) });
  const errors = apply.error instanceof ApiProblem ? (apply.error.problem.errors ?? []) : [];
  return (
    <section aria-labelledby="editor-title" className="card">
      <h2 id="editor-title">Apply a definition</h2>
      <label>
        YAML
        <textarea value={text} rows={10} spellCheck={false} onChange={(e) => setText(e.target.value)} className="mono" />
      </label>
      <button type="button" onClick={() => apply.mutate(text)} disabled={apply.isPending}>
        Validate and apply
      </button>
      {apply.data && (
        <p role="status">
          {apply.data.job_type} v{apply.data.version} {apply.data.created ? 'applied' : 'unchanged'}
        </p>
      )}
      {apply.error && (
        <>
          <ErrorNote error={apply.error} />
          <Source text={text} label="Validation errors in place" errors={errors} />
        </>
      )}
    </section>
  );
}

function Submit({ jobType }: { jobType: string }) {
  const [params, setParams] = useState('{}');
  const submit = useMutation({
    mutationFn: () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(params);
      } catch {
        throw new Error('params must be a JSON object, e.g. {"Name": "value"}');
      }
      return api.submit(jobType, parsed as Record<string, unknown>);
    },
    onSuccess: (job) => {
      window.location.hash = href('jobs', job.id);
    },
  });
  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        submit.mutate();
      }}
    >
      <label>
        Params (JSON)
        <input className="mono" value={params} onChange={(e) => setParams(e.target.value)} />
      </label>
      <button type="submit" disabled={submit.isPending}>
        Submit {jobType}
      </button>
      <ErrorNote error={submit.error} />
    </form>
  );
}

function Detail({ jobType }: { jobType: string }) {
  const detail = useQuery({ queryKey: ['definition', jobType], queryFn: () => api.definition(jobType) });
  const [shown, setShown] = useState<number | undefined>();
  const [against, setAgainst] = useState<number | undefined>();
  if (!detail.data) return <ErrorNote error={detail.error} />;
  const versions = detail.data.versions;
  const current = versions.find((v) => v.version === shown) ?? versions[0];
  const base = versions.find((v) => v.version === against);
  return (
    <section aria-labelledby="definition-title">
      <h2 id="definition-title">
        {jobType} {detail.data.disabled && <span className="badge state-cancelled">disabled</span>}
      </h2>
      <div className="filters">
        <label>
          Version
          <select value={current?.version} onChange={(e) => setShown(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version} · {when(v.created_at)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Compare with
          <select value={against ?? ''} onChange={(e) => setAgainst(e.target.value === '' ? undefined : Number(e.target.value))}>
            <option value="">—</option>
            {versions
              .filter((v) => v.version !== current?.version)
              .map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version}
                </option>
              ))}
          </select>
        </label>
      </div>
      {current && base ? (
        <Diff before={base.source ?? ''} after={current.source ?? ''} />
      ) : (
        <Source text={current?.source ?? ''} label={`${jobType} v${current?.version ?? ''}`} />
      )}
      <Submit jobType={jobType} />
    </section>
  );
}

export function DefinitionsPage({ selected }: { selected: string | undefined }) {
  const list = useQuery({ queryKey: ['definitions'], queryFn: api.definitions });
  return (
    <section aria-labelledby="definitions-title">
      <h1 id="definitions-title">Definitions</h1>
      <div className="split">
        <nav aria-label="Job types" className="side">
          <ul>
            {(list.data?.items ?? []).map((d) => (
              <li key={d.job_type}>
                <a href={href('definitions', d.job_type)} aria-current={d.job_type === selected ? 'page' : undefined}>
                  {d.job_type} <span className="muted">v{d.version}</span>
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="grow">{selected ? <Detail jobType={selected} /> : <Editor />}</div>
      </div>
      {selected && <Editor />}
    </section>
  );
}
