import type { Io } from '../../src/index.js';

/** An Io that keeps what a command writes, so a test can run `main()` in-process and read it. */
export function capture(): { io: Io; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => void out.push(t), err: (t) => void err.push(t) }, out, err };
}
