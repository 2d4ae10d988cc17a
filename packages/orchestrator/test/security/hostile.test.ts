import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createShellExecutor, parseTaskUser, renderTemplate, type TemplateScope, taskEnvironment } from '../../src/index.js';
import { run, spec } from '../executors/run.js';

const isRoot = process.getuid?.() === 0;

describe('tasks are kept from the queen', () => {
  it("never inherit the queen's keyring, pepper, tokens or store URLs", async () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/root',
      MYRMEX_SECRET_KEYS: 'k:x',
      MYRMEX_SECRET_KEYS_FILE: '/k',
      MYRMEX_TOKEN: 't',
      MYRMEX_TOKEN_PEPPER: 'p',
      MYRMEX_DB: 'postgres://u:pw@h/db',
      MYRMEX_ANT_TOKENS: 'a',
      PGPASSWORD: 'pw',
      MYRMEX_LOG_LEVEL: 'info',
    };
    expect(Object.keys(taskEnvironment(env)).sort()).toEqual(['HOME', 'MYRMEX_LOG_LEVEL', 'PATH']);
    process.env.MYRMEX_SECRET_KEYS = 'probe:AAAA';
    try {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a JavaScript template
      const script = ['echo "keys=${MYRMEX_SECRET_KEYS:-none}"'];
      const result = await run(createShellExecutor(), spec({ method: 'SHELL', script }));
      expect(result.logs.map((l) => l.text)).toContain('keys=none');
    } finally {
      delete process.env.MYRMEX_SECRET_KEYS;
    }
  });

  it('reads MYRMEX_TASK_USER as uid[:gid] and never as root', () => {
    expect(parseTaskUser('65534')).toEqual({ uid: 65534, gid: 65534 });
    expect(parseTaskUser('1000:100')).toEqual({ uid: 1000, gid: 100 });
    expect(() => parseTaskUser('0')).toThrow(/not run as root/);
    expect(() => parseTaskUser('nobody')).toThrow(/uid or uid:gid/);
  });

  it.skipIf(!isRoot)('run shell tasks as the configured unprivileged user when the ant is root, in a workdir it owns', async () => {
    const workdir = mkdtempSync(join(tmpdir(), 'myrmex-runas-'));
    const secretFile = join(tmpdir(), `myrmex-root-only-${process.pid}`);
    writeFileSync(secretFile, 'root only', { mode: 0o600 });
    try {
      const shell = createShellExecutor({ runAs: { uid: 65534, gid: 65534 } });
      const executor = { ...shell, execute: (context: Parameters<typeof shell.execute>[0]) => shell.execute({ ...context, workdir }) };
      const result = await run(
        executor,
        spec({
          method: 'SHELL',
          script: [
            'id -u',
            'touch made-here && echo made',
            `cat ${secretFile} 2>/dev/null || echo denied`,
            'cat /proc/1/environ >/dev/null 2>&1 || echo environ-denied',
          ],
        }),
      );
      const lines = result.logs.filter((l) => l.stream === 'stdout').map((l) => l.text);
      expect(lines).toEqual(['65534', 'made', 'denied', 'environ-denied']);
      expect(statSync(workdir).uid).toBe(65534);
    } finally {
      rmSync(workdir, { recursive: true, force: true });
      rmSync(secretFile, { force: true });
    }
  });
});

describe('template rendering', () => {
  const scope: TemplateScope = {
    params: { name: 'x', evil: '{{.Secrets.KEY}} {{.JobID}}' },
    taskVariables: {},
    jobVariables: {},
    outputs: {},
    builtIns: { JobID: 'j1', JobType: 't', JobRetry: 0, TaskType: 'a', TaskRetry: 0 },
    secrets: { KEY: 'hunter22' },
  };

  it('cannot reach prototypes, the environment or the file system', () => {
    for (const name of [
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'process',
      'env',
      'require',
      'global',
      'globalThis',
    ]) {
      expect(() => renderTemplate(`{{.${name}}}`, scope), name).toThrow(/unknown template variable/);
    }
    expect(() => renderTemplate('{{.Secrets.constructor}}', scope)).toThrow(/unknown secret/);
    expect(() => renderTemplate('{{.Secrets.__proto__}}', scope)).toThrow(/unknown secret/);
    expect(renderTemplate('{{ .Env.HOME }} {{readFile "/etc/passwd"}}', scope)).toBe('{{ .Env.HOME }} {{readFile "/etc/passwd"}}');
  });

  it('treats params as data: a param holding template text is printed as written', () => {
    expect(renderTemplate('{{.evil}} / {{.Secrets.KEY}}', scope)).toBe('{{.Secrets.KEY}} {{.JobID}} / hunter22');
  });
});
