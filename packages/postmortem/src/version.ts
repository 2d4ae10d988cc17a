import { createRequire } from 'node:module';

/** This package's version, read from its manifest (src/ and dist/ both sit one level below it). */
export const version: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
