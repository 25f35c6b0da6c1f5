import { SlipwayError } from '../core/errors.js';
import type { ImageStore } from '../oci/store.js';
import type { Digest } from '../oci/types.js';

// The digest contract: after a build, every tag the user will pull must point at exactly the digest the
// build reports, and that digest must exist. Builders have reported no digest, or a digest other than the
// one a tag ended up on (build-push-action's empty `digest` output, a racing push to the same tag); the
// contract turns both into a failure here instead of a surprise at deploy time.

export class DigestContractError extends SlipwayError {
  override name = 'DigestContractError';
}

/** Points each tag at `digest`, only once the manifest exists, so no tag ever names missing content. */
export async function moveTags(store: ImageStore, digest: Digest, tags: readonly string[]): Promise<void> {
  if (tags.length === 0) return;
  const { bytes, descriptor } = await store.getManifest(digest);
  for (const tag of tags) {
    const current = await store.resolve(tag);
    if (current?.digest === digest) continue;
    await store.putManifest(bytes, descriptor.mediaType, { tag });
  }
}

/** Resolves the digest and every tag on the store and fails, naming each one, unless all agree. */
export async function verifyDigestContract(store: ImageStore, digest: Digest, tags: readonly string[]): Promise<void> {
  const resolved = await store.resolve(digest);
  if (!resolved) {
    throw new DigestContractError(
      `The build reported ${digest}, but ${store.location} has no manifest with that digest.`,
    );
  }
  const wrong: string[] = [];
  for (const tag of tags) {
    const found = await store.resolve(tag);
    if (found?.digest !== digest) wrong.push(`${tag} → ${found ? found.digest : 'missing'}`);
  }
  if (wrong.length > 0) {
    throw new DigestContractError(
      `Tags at ${store.location} do not point at the built digest ${digest}: ${wrong.join('; ')}. Another push may have raced this one.`,
    );
  }
}
