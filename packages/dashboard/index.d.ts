/** The folder of the built dashboard (index.html and its assets), served by the queen at `/`. */
export declare const dashboardDir: string;
/** True once `npm run build -w packages/dashboard` (run by the repository's `npm ci`) has produced the assets. */
export declare function dashboardBuilt(): boolean;
