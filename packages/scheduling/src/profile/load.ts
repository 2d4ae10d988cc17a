import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import type { PassOptions } from '../framework/pass.js';
import type { Plugin } from '../framework/plugin.js';
import { duration, resources } from '../plugins/duration.js';
import { PLUGINS } from './registry.js';

/** A profile ready to run: its plugins in order and the pass options. */
export interface Profile {
  readonly name: string;
  readonly plugins: readonly Plugin[];
  readonly options: PassOptions;
}

export interface ProfileIssue {
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** A profile that cannot be used; every issue names its field, and its line when the profile came from text. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  constructor(
    readonly source: string,
    readonly issues: readonly ProfileIssue[],
  ) {
    super(
      issues
        .map((i) => `${source}${i.line !== undefined ? `:${i.line}:${i.column}` : ''}: ${i.path || '(profile)'}: ${i.message}`)
        .join('\n'),
    );
  }
}

const pluginEntry = z.union([z.string(), z.record(z.string(), z.unknown())]);

export const profileSchema = z.strictObject({
  name: z.string().min(1).default('profile'),
  /** Wait before a held job is retried when no plugin says otherwise. */
  retry: duration.default(5_000),
  seed: z.number().int().default(1),
  budget: z
    .strictObject({ maxDecisions: z.number().int().positive().optional(), maxExamined: z.number().int().positive().optional() })
    .default({}),
  overcommit: resources.optional(),
  plugins: z.array(pluginEntry).min(1),
});

const pathText = (path: readonly PropertyKey[]) =>
  path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), '');

/** Builds a profile from parsed data (JSON or YAML); `locate` maps a field's path to its line. */
export function buildProfile(
  data: unknown,
  source = 'profile',
  locate?: (path: readonly PropertyKey[]) => { line: number; column: number } | undefined,
): Profile {
  const issues: ProfileIssue[] = [];
  const report = (path: readonly PropertyKey[], message: string): void => {
    issues.push({ path: pathText(path), message, ...locate?.(path) });
  };
  const parsed = profileSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report(issue.path, issue.message);
    throw new ProfileError(source, issues);
  }
  const plugins: Plugin[] = [];
  for (const [index, entry] of parsed.data.plugins.entries()) {
    const [name, raw] =
      typeof entry === 'string' ? [entry, {}] : Object.keys(entry).length === 1 ? Object.entries(entry)[0]! : [undefined, undefined];
    if (name === undefined) {
      report(['plugins', index], 'a plugin is its name, or a map of its name to its options');
      continue;
    }
    const plugin = PLUGINS[name];
    if (!plugin) {
      report(['plugins', index], `unknown plugin '${name}' (known: ${Object.keys(PLUGINS).join(', ')})`);
      continue;
    }
    const options = raw ?? {};
    if (!plugin.options) {
      if (typeof options === 'object' && options !== null && Object.keys(options).length > 0)
        report(['plugins', index, name], `plugin '${name}' takes no options`);
      else plugins.push(plugin.make(undefined as never));
      continue;
    }
    const checked = plugin.options.safeParse(options);
    if (!checked.success) {
      for (const issue of checked.error.issues) report(['plugins', index, name, ...issue.path], issue.message);
      continue;
    }
    plugins.push(plugin.make(options as never));
  }
  if (issues.length > 0) throw new ProfileError(source, issues);
  const { name, retry, seed, budget, overcommit } = parsed.data;
  return { name, plugins, options: { retryMs: retry, seed, budget, ...(overcommit && { overcommit }) } };
}

/** Parses a profile from YAML or JSON text; errors carry the file's line and column. */
export function parseProfile(text: string, source = 'profile.yaml'): Profile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new ProfileError(
      source,
      document.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { path: '', line, column: col, message: e.message.split('\n')[0]! };
      }),
    );
  }
  const locate = (path: readonly PropertyKey[]) => {
    // The deepest node that exists on the path: a missing key is reported where its parent is.
    for (let depth = path.length; depth >= 0; depth--) {
      const node = document.getIn(path.slice(0, depth) as unknown[], true) as Node | undefined;
      const target = node && (isMap(node) || isScalar(node) || 'range' in node) ? node : undefined;
      if (target?.range) {
        const { line, col } = lineCounter.linePos(target.range[0]);
        return { line, column: col };
      }
    }
    return undefined;
  };
  return buildProfile(document.toJS(), source, locate);
}
