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
 * The file with every form of every secret replaced, stored as a new blob, or the file itself when
 * it holds none, is binary or is over {@link MAX_MASKED_ARTIFACT_BYTES}. The unmasked blob is left
 * unnamed by any catalog row, so the next artifact sweep deletes it.
 */
export async function maskArtifactFile(blobs: BlobStore, masker: Masker, file: ArtifactFile): Promise<ArtifactFile> {
  if (masker.empty || file.size > MAX_MASKED_ARTIFACT_BYTES) return file;
  const text = asText(await readAll(await blobs.open(file.digest)));
  if (text === undefined) return file;
  const masked = masker.mask(text);
  if (masked === text) return file;
  return { ...file, ...(await blobs.put(Buffer.from(masked, 'utf8'))) };
}

/** Every file of a manifest through {@link maskArtifactFile}, in order. */
export async function maskManifest<M extends Pick<ArtifactManifest, 'files'>>(blobs: BlobStore, masker: Masker, manifest: M): Promise<M> {
  if (masker.empty) return manifest;
  const files: ArtifactFile[] = [];
  for (const file of manifest.files) files.push(await maskArtifactFile(blobs, masker, file));
  return { ...manifest, files } as M;
}
