import type { JobDefinition } from './model.js';

/** The `required_params` a request leaves out (absent, null or empty), in the definition's order. */
export function missingParams(definition: Pick<JobDefinition, 'requiredParams'>, params: Readonly<Record<string, unknown>>): string[] {
  return definition.requiredParams.filter((name) => {
    const value = params[name];
    return value === undefined || value === null || value === '';
  });
}
