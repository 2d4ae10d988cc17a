import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The folder of the built dashboard (index.html and its assets), served by the queen at `/`. */
export const dashboardDir = fileURLToPath(new URL('./dist/', import.meta.url));

/** True once `npm run build -w packages/dashboard` (run by the repository's `npm ci`) has produced the assets. */
export function dashboardBuilt() {
  return existsSync(new URL('./dist/index.html', import.meta.url));
}
