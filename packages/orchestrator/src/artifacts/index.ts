export type { ArtifactCatalog, ArtifactRecord } from './catalog.js';
export { type ArtifactFile, type ArtifactManifest, cacheKey, collectArtifacts, liveDigests, restoreArtifacts } from './collect.js';
export { blobStoreFromEnv } from './from-env.js';
export { defaultBlobRoot, LocalBlobStore } from './local-store.js';
export { MAX_MASKED_ARTIFACT_BYTES, maskArtifactFile, maskManifest } from './mask.js';
export { ArtifactQuotaExceeded, type ArtifactRecording, softQuotaLine } from './quota.js';
export { S3BlobStore, type S3BlobStoreOptions } from './s3-store.js';
export { BlobNotFoundError, type BlobRef, type BlobStore, checkDigest } from './store.js';
