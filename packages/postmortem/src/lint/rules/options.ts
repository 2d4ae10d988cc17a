import { z } from 'zod';

/** A configurable list of words or phrases; a trailing * matches any ending ("escalat*"). */
export const phrases = (defaults: readonly string[]) => z.array(z.string().min(1)).default([...defaults]);
export const none = z.object({}).strict();
