import type { ComponentProps } from 'react';

/**
 * A scrolling `<pre>` (logs, sources, drafts): a named region that takes focus, so a keyboard alone
 * can scroll it (WCAG 2.1.1, axe's scrollable-region-focusable).
 */
export function ScrollBox({ label, ...props }: ComponentProps<'pre'> & { label: string }) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: the box must stay a <pre> to keep its text's whitespace
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box has to be focusable for the keyboard to scroll it
    <pre role="region" aria-label={label} tabIndex={0} {...props} />
  );
}
