import type { Readable } from 'node:stream';
import type { Masker } from '../security/masking.js';
import type { ArtifactFile, ArtifactManifest } from './collect.js';
import type { BlobStore } from './store.js';

/**
 * Text artifacts up to this size are read whole and masked; larger ones are kept as written (a
 * bound on the queen's memory per result, documented as a limit in docs/security.md).
 */
export const MAX_MASKED_ARTIFACT_BYTES = 16 * 1024 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The file's text when it is one: UTF-8 without NUL bytes; binaries (archives, images) are not rewritten. */
function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Whether the blob holds the bytes of any form of any secret, read as a stream whatever its size: the
 * last bytes of each chunk are kept with the next, so a form split across two chunks is found.
 */
async function holdsSecret(blobs: BlobStore, masker: Masker, digest: string): Promise<boolean> {
  const keep = Math.max(0, masker.longestBytes - 1);
  const stream = await blobs.open(digest);
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      const window = Buffer.concat([tail, chunk as Buffer]);
      if (masker.foundIn(window)) return true;
      tail = window.subarray(Math.max(0, window.length - keep));
    }
    return false;
  } finally {
    stream.destroy();
  }
}

/**
 * The file as it may be stored: a text file up to {@link MAX_MASKED_ARTIFACT_BYTES} with every form of
 * every secret replaced (stored as a new blob; the unmasked one is left unnamed by any catalog row, so
 * the next artifact sweep deletes it), the file itself when it holds none, or undefined when a binary
 * or larger file holds a secret's bytes: such a file is withheld, never rewritten, since replacing
 * bytes inside an archive or an executable would corrupt it without saying so.
 */
export async function maskArtifactFile(blobs: BlobStore, masker: Masker, file: ArtifactFile): Promise<ArtifactFile | undefined> {
  if (masker.empty) return file;
  if (file.size > MAX_MASKED_ARTIFACT_BYTES) return (await holdsSecret(blobs, masker, file.digest)) ? undefined : file;
  const bytes = await readAll(await blobs.open(file.digest));
  const text = asText(bytes);
  if (text === undefined) return masker.foundIn(bytes) ? undefined : file;
  const masked = masker.mask(text);
  if (masked === text) return file;
  return { ...file, ...(await blobs.put(Buffer.from(masked, 'utf8'))) };
}

/** Every file of a manifest through {@link maskArtifactFile}, in order; `withheld` names the files left out. */
export async function maskManifest<M extends Pick<ArtifactManifest, 'files'>>(
  blobs: BlobStore,
  masker: Masker,
  manifest: M,
): Promise<{ manifest: M; withheld: string[] }> {
  if (masker.empty) return { manifest, withheld: [] };
  const files: ArtifactFile[] = [];
  const withheld: string[] = [];
  for (const file of manifest.files) {
    const kept = await maskArtifactFile(blobs, masker, file);
    if (kept) files.push(kept);
    else withheld.push(file.path);
  }
  return { manifest: { ...manifest, files } as M, withheld };
}

/** The system log line of a withheld artifact. */
export const withheldLine = (path: string) =>
  `artifact ${path} was not stored: it holds the bytes of a secret (binary artifacts are withheld, never rewritten)`;
