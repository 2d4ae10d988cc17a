import type { Branch } from '../../model/schema.js';

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
