import { SizeMismatchError } from './digest.js';
import { StoreError, type StoreOperation } from './errors.js';
import type { Descriptor } from './types.js';

// Size caps on what a registry sends to be read whole. Manifests are capped at 4 MiB, as registries cap
// what they accept (distribution, and the distribution-spec's advice to accept at least 4 MiB), so a larger
// answer is hostile or broken and is cut off after 4 MiB rather than read into memory. Blobs are streamed
// and checked against their descriptor by verifyStream, so they need no cap here.

/** The largest manifest (and referrers index, tag list page) read: 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const MIB = 1024 * 1024;

/**
 * The whole body, refusing one past `limit` bytes (`what` names it in the message: "manifest", "tag list"): a Content-Length over it fails before reading, and a
 * body that grows past it is cancelled at that point, so memory stays bounded whatever the server sends.
 */
export async function readLimited(
  response: Response,
  limit: number,
  operation: StoreOperation,
  what: string,
): Promise<Uint8Array> {
  const tooLarge = (size: string) =>
    new StoreError(
      operation,
      `the ${what} is ${size}, over the ${formatSize(limit)} limit registries hold ${what}s to`,
    );
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw tooLarge(`${declared} bytes`);
  }
  if (response.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > limit) {
      await reader.cancel();
      throw tooLarge(`more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks, received));
}

/**
 * Refuses a descriptor whose size cannot be right before anything is fetched for it: a manifest over the
 * cap (a parent index claiming 200 MiB for a 401-byte manifest), or a size that is not a byte count.
 */
export function checkManifestDescriptor(
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  operation: StoreOperation,
): void {
  const { size, digest } = descriptor;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new StoreError(operation, `the descriptor of ${digest} gives size ${size}, which is not a byte count`);
  }
  if (size > MAX_MANIFEST_BYTES) {
    throw new StoreError(
      operation,
      `the descriptor of manifest ${digest} claims ${size} bytes, over the ${formatSize(MAX_MANIFEST_BYTES)} limit for manifests`,
    );
  }
}

/** Bytes received for a descriptor must be exactly its size: a parent that disagrees is corrupt or lying. */
export function checkReceivedSize(
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  received: number,
  operation: StoreOperation,
): void {
  if (received === descriptor.size) return;
  const error = new StoreError(
    operation,
    `${received} bytes arrived for ${descriptor.digest}, but the descriptor it was fetched by says ${descriptor.size}`,
  );
  error.cause = new SizeMismatchError(descriptor.digest, descriptor.size, received);
  throw error;
}

function formatSize(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}
