/**
 * Text from tasks (log lines, outputs, names) as the terminal may show it: C0 and C1 control
 * characters other than tab become `?`, so no escape sequence a task printed can move the cursor,
 * recolour, retitle or rewrite what the user sees.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, '?');
}
