/** `::set-output name=KEY::VALUE`, the whole line; KEY must be usable as `{{.KEY}}`. */
const SET_OUTPUT = /^::set-output name=([A-Za-z_][A-Za-z0-9_]*)::(.*)$/s;

/** The output a stdout line publishes, or undefined when it is an ordinary line. The value is kept verbatim. */
export function parseSetOutput(line: string): { readonly key: string; readonly value: string } | undefined {
  const match = SET_OUTPUT.exec(line.replace(/\r?\n$/, ''));
  return match === null ? undefined : { key: match[1]!, value: match[2]! };
}
