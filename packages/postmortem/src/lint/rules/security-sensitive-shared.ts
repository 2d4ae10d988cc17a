import { defineRule } from '../rule.js';
import { none } from './options.js';

export const securitySensitiveShared = defineRule({
  id: 'security-sensitive-shared',
  severity: 'error',
  summary: 'A security-sensitive post-mortem is not marked `distribution: restricted`.',
  why: 'Security incidents need an access-controlled version; the lessons can be shared more widely without the sensitive details.',
  hint: 'Set `distribution: restricted` and write a separate, sanitised version for wide distribution.',
  options: none,
  check(context) {
    const fm = context.doc.frontMatter;
    if (fm.security_sensitive !== true || fm.distribution === 'restricted') return [];
    return [
      {
        message: `security-sensitive but distribution is ${fm.distribution ?? 'not set'}`,
        at: context.at('/frontMatter/distribution', '/frontMatter/security_sensitive'),
      },
    ];
  },
});
