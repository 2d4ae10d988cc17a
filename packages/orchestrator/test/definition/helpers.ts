import { checkJobDefinition, type ParseOptions } from '../../src/definition/index.js';

/** A document from numbered lines, so expected positions can be read off the test. */
export const lines = (...text: string[]): string => `${text.join('\n')}\n`;

/** Every error as `file:line:col: message`, in the order reported. */
export function errorsOf(source: string, options: ParseOptions = {}): string[] {
  const result = checkJobDefinition(source, { fileName: 'job.yaml', ...options });
  if (result.ok) return [];
  return result.errors.map((error) => `${error.file}:${error.line}:${error.column}: ${error.message}`);
}
