import { renderTemplate, type TemplateScope } from '../definition/index.js';
import type { FanOutSpec } from '../definition/model.js';

/** The items a `fan_out` runs over, and where they came from (for the `FanOutSource` output). */
export interface FanOutItems {
  readonly source: string;
  readonly items: readonly unknown[];
}

/** The variable a child sees its item as when `item_var` is not given. */
export const DEFAULT_ITEM_VAR = 'item';

/** Names `source` may hold: the variables a template can name. */
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The list a fan-out expands: `items` as written, every combination of `matrix`, or the JSON array
 * held by the variable `source` names (a request param, task or job variable, or an earlier task's
 * output, looked up as a template would). Throws an Error naming the field when there is no list.
 */
export function fanOutItems(spec: FanOutSpec, scope: TemplateScope): FanOutItems {
  if (spec.items !== undefined) return { source: 'items', items: spec.items };
  if (spec.matrix !== undefined) return { source: 'matrix', items: combinations(spec.matrix) };
  if (spec.source === undefined) throw new Error('fan_out names no list: give source, items or matrix');
  if (!VARIABLE.test(spec.source)) throw new Error(`fan_out.source '${spec.source}' is not a variable name`);
  // Rendered as a template reads it: a YAML list comes back as JSON, a string as written.
  const text = renderTemplate(`{{.${spec.source}}}`, scope);
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch {
    items = undefined;
  }
  if (!Array.isArray(items)) {
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    throw new Error(`fan_out.source '${spec.source}' holds no JSON array: ${JSON.stringify(shown)}`);
  }
  return { source: spec.source, items };
}

/** Every combination of the matrix's lists, keys in the order written: { os: [a, b], v: [1] } gives {os: a, v: 1}, {os: b, v: 1}. */
function combinations(matrix: Readonly<Record<string, readonly unknown[]>>): Record<string, unknown>[] {
  return Object.entries(matrix).reduce<Record<string, unknown>[]>(
    (partial, [key, values]) => partial.flatMap((combination) => values.map((value) => ({ ...combination, [key]: value }))),
    [{}],
  );
}

/**
 * The scope one child renders in: its item under `itemVar` (and, for a matrix, each key of its
 * combination), ahead of request params so the item is what the child sees.
 */
export function itemScope(scope: TemplateScope, itemVar: string, item: unknown, fromMatrix: boolean): TemplateScope {
  const keys = fromMatrix && typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
  return { ...scope, params: { ...scope.params, ...keys, [itemVar]: item } };
}

/** An item as one line of text: strings as they are, anything else as JSON. */
export function itemLabel(item: unknown): string {
  return typeof item === 'string' ? item : JSON.stringify(item);
}
