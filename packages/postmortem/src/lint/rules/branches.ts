import type { Branch, PostMortem } from '../../model/schema.js';

export type BranchKind = 'primary' | 'detection' | 'mitigation' | 'other';

/** A branch's kind from its heading ("Detection (2.x)"), else from its numbering (2.1 is detection). */
export function branchKind(branch: Branch): BranchKind {
  const title = branch.title?.toLowerCase() ?? '';
  if (/detect|\b2\.x\b/.test(title)) return 'detection';
  if (/mitigat|\b3\.x\b/.test(title)) return 'mitigation';
  if (branch.title === null || /primary|main|\b1\.x\b/.test(title)) return 'primary';
  const prefix = branch.whys.find((why) => why.number?.includes('.'))?.number?.split('.')[0];
  return prefix === '1' ? 'primary' : prefix === '2' ? 'detection' : prefix === '3' ? 'mitigation' : 'other';
}

/** A paragraph opening with a label: `**Detection (2.x).**`, `Mitigation:`, `Branch A - Detection:`. */
const LABEL = /^(?:\*\*|__)?\s*(?:branch\s+[a-z0-9]+\s*[-–—:]\s*)?(detection|mitigation)\b/i;

/**
 * Branches written as labelled paragraphs rather than under their own `### ` heading: a paragraph
 * that opens with the label and asks at least one why counts as that branch.
 */
export function labelledBranchKinds(rootCause: NonNullable<PostMortem['rootCause']>): BranchKind[] {
  const kinds: BranchKind[] = [];
  for (const branch of rootCause.branches) {
    for (const paragraph of `${branch.intro}\n\n${branch.outro}`.split(/\n\s*\n/)) {
      const label = LABEL.exec(paragraph.trim());
      if (label && /\bwhy\b/i.test(paragraph)) kinds.push(label[1]!.toLowerCase() as BranchKind);
    }
  }
  return kinds;
}
