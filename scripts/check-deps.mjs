#!/usr/bin/env node
// Enforces the package dependency rule of DEVELOPERS.md: packages depend only downward,
// never in a cycle, and only through another package's published entry points.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Which Myrmex packages each package may import. Anything absent may import none. @myrmex/backoff
 * is a leaf every package may use (docs/ARCHITECTURE.md, "One backoff").
 */
export const ALLOWED = {
  cli: ['orchestrator', 'idempotency', 'tx', 'postmortem', 'byzantine', 'facets', 'aom', 'scheduling', 'dashboard', 'backoff'],
  orchestrator: ['idempotency', 'tx', 'postmortem', 'scheduling', 'dashboard', 'backoff'],
  aom: ['facets', 'backoff'],
  idempotency: ['backoff'],
  tx: ['backoff'],
  postmortem: ['backoff'],
  byzantine: ['backoff'],
  facets: ['backoff'],
  scheduling: ['backoff'],
  dashboard: ['backoff'],
};

/**
 * Layers inside a package, bottom first: a folder of src/ may import its own layer and the ones
 * below, never one above (domain at the bottom; API and server at the top). Folders not listed
 * are not ranked.
 */
export const LAYERS = {
  orchestrator: [
    ['definition', 'security'],
    ['domain'],
    ['executors', 'artifacts'],
    ['store'],
    ['engine', 'events'],
    ['scheduler'],
    ['ant'],
    ['queen'],
    ['observability'],
    ['api'],
    ['server'],
  ],
};

function layerOf(owner, folder) {
  const layers = LAYERS[owner];
  return layers ? layers.findIndex((layer) => layer.includes(folder)) : -1;
}

const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;
const TEST_ONLY = new Set(['test', 'bench']);

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (SOURCE.test(entry)) out.push(path);
  }
  return out;
}

function position(text, index) {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Lists every violation under `root` as `{ file, line, column, message }`. */
export function checkDependencies(root) {
  const packagesDir = join(root, 'packages');
  const names = existsSync(packagesDir) ? readdirSync(packagesDir).filter((n) => existsSync(join(packagesDir, n, 'package.json'))) : [];
  const exportsOf = new Map(names.map((n) => [n, readJson(join(packagesDir, n, 'package.json')).exports ?? {}]));
  const violations = [];

  const checkSpecifier = (owner, file, text, spec, index) => {
    const at = position(text, index);
    const report = (message) => violations.push({ file: relative(root, file), ...at, message });
    const area = relative(join(packagesDir, owner), file).split(sep)[0];
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      const ownDir = join(packagesDir, owner) + sep;
      if (!target.startsWith(ownDir)) {
        report(`'${spec}' reaches outside @myrmex/${owner}; import another package by its name (@myrmex/<name>)`);
        return;
      }
      const srcDir = join(packagesDir, owner, 'src') + sep;
      if (file.startsWith(srcDir) && target.startsWith(srcDir)) {
        const from = relative(srcDir, file).split(sep);
        const to = relative(srcDir, target).split(sep);
        if (from.length > 1 && to.length > 1 && from[0] !== to[0]) {
          const [fromRank, toRank] = [layerOf(owner, from[0]), layerOf(owner, to[0])];
          if (fromRank >= 0 && toRank > fromRank) {
            report(`src/${from[0]}/ may not import src/${to[0]}/: layers go ${LAYERS[owner].map((l) => l.join('|')).join(' < ')}`);
          }
        }
      }
      return;
    }
    const match = /^@myrmex\/([^/]+)(\/.*)?$/.exec(spec);
    if (!match) return;
    const [, target, subpath] = match;
    if (target === 'test-utils') {
      if (!TEST_ONLY.has(area)) report(`@myrmex/test-utils is for tests and benchmarks only, not ${area}/`);
      return;
    }
    if (target === owner && !TEST_ONLY.has(area)) {
      report(`@myrmex/${owner} imports itself by name in ${area}/; use a relative import`);
      return;
    }
    if (target !== owner && !(ALLOWED[owner] ?? []).includes(target)) {
      report(
        `@myrmex/${owner} may not depend on @myrmex/${target} (allowed: ${(ALLOWED[owner] ?? []).map((n) => `@myrmex/${n}`).join(', ') || 'none'})`,
      );
      return;
    }
    const exported = exportsOf.get(target);
    const key = subpath ? `.${subpath}` : '.';
    if (!exported || (typeof exported === 'object' && !(key in exported))) {
      report(`'${spec}' is not a published entry point of @myrmex/${target}; use one listed in its package.json "exports"`);
    }
  };

  for (const owner of names) {
    const dir = join(packagesDir, owner);
    const manifest = readJson(join(dir, 'package.json'));
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const dep of Object.keys(manifest[field] ?? {})) {
        const match = /^@myrmex\/(.+)$/.exec(dep);
        if (!match || match[1] === 'test-utils') continue;
        if (!(ALLOWED[owner] ?? []).includes(match[1])) {
          violations.push({
            file: relative(root, join(dir, 'package.json')),
            line: 1,
            column: 1,
            message: `${field} names @myrmex/${match[1]}, which @myrmex/${owner} may not depend on`,
          });
        }
      }
    }
    for (const file of walk(dir)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(SPECIFIER)) checkSpecifier(owner, file, text, m[2], m.index + m[0].lastIndexOf(m[2]) - 1);
    }
  }

  for (const file of walk(join(root, 'examples'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[2];
      const deep = /^@myrmex\/[^/]+\/(?:src|dist)\//.test(spec) || /(?:^|\/)packages\/[^/]+\/src\//.test(spec);
      if (deep) {
        violations.push({
          file: relative(root, file),
          ...position(text, m.index),
          message: `'${spec}' reaches into a package's internals; examples use published entry points`,
        });
      }
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rootIndex = process.argv.indexOf('--root');
  const root = rootIndex > 0 ? resolve(process.argv[rootIndex + 1]) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const violations = checkDependencies(root);
  for (const v of violations) console.error(`${v.file}:${v.line}:${v.column}: ${v.message}`);
  if (violations.length > 0) {
    console.error(`\ncheck-deps: ${violations.length} import(s) break the package dependency rule (docs/ARCHITECTURE.md).`);
    process.exit(1);
  }
  console.log('check-deps: every import follows the package dependency rule');
}
