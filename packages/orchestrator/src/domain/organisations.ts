/** Rows from before organisations existed, and every row of a queen running without authentication. */
export const DEFAULT_ORG = 'default';
