import { LocalBlobStore } from './local-store.js';
import { S3BlobStore } from './s3-store.js';
import type { BlobStore } from './store.js';

/**
 * The blob store `myrmex serve` uses: S3 when MYRMEX_S3_BUCKET is set (MYRMEX_S3_ENDPOINT for an
 * S3-compatible service, MYRMEX_S3_REGION, MYRMEX_S3_PREFIX; credentials from the AWS SDK's usual
 * chain), else the folder MYRMEX_ARTIFACTS_DIR, else `defaultDir`.
 */
export function blobStoreFromEnv(env: NodeJS.ProcessEnv, defaultDir: string): BlobStore {
  const bucket = env.MYRMEX_S3_BUCKET;
  if (bucket !== undefined && bucket !== '') {
    const endpoint = env.MYRMEX_S3_ENDPOINT;
    return new S3BlobStore({
      bucket,
      ...(env.MYRMEX_S3_PREFIX === undefined ? {} : { prefix: env.MYRMEX_S3_PREFIX }),
      client: {
        region: env.MYRMEX_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
        // Self-hosted S3-compatible services are usually addressed by path, not by bucket subdomain.
        ...(endpoint === undefined || endpoint === '' ? {} : { endpoint, forcePathStyle: true }),
      },
    });
  }
  return new LocalBlobStore(env.MYRMEX_ARTIFACTS_DIR || defaultDir);
}
