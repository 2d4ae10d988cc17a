import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { expectString } from '../input.js';
import { SEVERITIES, type Severity } from './rule.js';
import { RULES } from './rules/index.js';

export interface RuleSetting {
  readonly severity: Severity | 'off';
  readonly options: unknown;
  /** Set by the organisation's configuration: it wins over a template preset. */
  readonly explicit?: boolean;
}

/** Every rule's effective severity and options. */
export type LintConfig = ReadonlyMap<string, RuleSetting>;

/** A configuration that cannot be used; names the file, line and field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function defaultConfig(): LintConfig {
  return new Map(RULES.map((rule) => [rule.id, { severity: rule.severity, options: rule.options.parse({}) }]));
}

type Where = (path: readonly (string | number)[]) => string;

/**
 * Applies an organisation's settings: `{ rules: { <id>: off | error | warning | note | { severity?, ...options } } }`.
 * Unknown rules, severities and options are errors, so a typo never silently disables a check.
 */
export function resolveConfig(raw: unknown, where: Where = (path) => path.join('.')): LintConfig {
  const config = new Map(defaultConfig());
  if (raw === null || raw === undefined) return config;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`${where([])}: the configuration must be a mapping with a "rules" key`);
  const { rules, ...rest } = raw as Record<string, unknown>;
  const stray = Object.keys(rest)[0];
  if (stray !== undefined) throw new ConfigError(`${where([stray])}: unknown key "${stray}" (only "rules" is allowed)`);
  if (rules === undefined) return config;
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules))
    throw new ConfigError(`${where(['rules'])}: "rules" must be a mapping of rule id to setting`);
  for (const [id, setting] of Object.entries(rules)) {
    const rule = RULES.find((r) => r.id === id);
    if (!rule) throw new ConfigError(`${where(['rules', id])}: unknown rule "${id}"`);
    const { severity = rule.severity, ...options } =
      typeof setting === 'string' ? { severity: setting } : ((setting ?? {}) as Record<string, unknown>);
    if (severity !== 'off' && !(SEVERITIES as readonly unknown[]).includes(severity)) {
      throw new ConfigError(`${where(['rules', id])}: severity of "${id}" must be off, ${SEVERITIES.join(', ')}`);
    }
    const parsed = rule.options.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = ['rules', id, ...(issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p))];
      throw new ConfigError(`${where(path)}: ${path.slice(1).join('.')}: ${issue?.message ?? 'invalid'}`);
    }
    config.set(id, { severity: severity as Severity | 'off', options: parsed.data, explicit: true });
  }
  return config;
}

/** Reads a YAML or JSON configuration file's text; errors carry `file:line`. */
export function parseConfig(text: string, file: string): LintConfig {
  expectString(text, 'parseConfig', 'the text');
  expectString(file, 'parseConfig', 'the file name');
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const error = document.errors[0];
  if (error) throw new ConfigError(`${file}:${lineCounter.linePos(error.pos[0]).line}: ${error.message.split('\n')[0]}`);
  const where: Where = (path) => {
    let node: unknown = document.contents;
    let line = 1;
    for (const key of path) {
      if (!isMap(node)) break;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      line = lineCounter.linePos((pair.key as { range?: [number] }).range?.[0] ?? 0).line;
      node = pair.value;
    }
    return `${file}:${line}`;
  };
  return resolveConfig(document.toJS(), where);
}
