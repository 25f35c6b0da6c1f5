import { SlipwayError } from '../core/errors.js';
import { digestAlgorithm, digestHex, digestOf, parseDigest } from './digest.js';
import { ConflictError, NotFoundError } from './errors.js';
import { KeyedQueue } from './keyed-queue.js';
import { encodeJson, isIndex, parseManifest } from './manifest.js';
import { OCI_INDEX } from './media-types.js';
import type { ImageStore } from './store.js';
import type { Descriptor, Digest, FetchedManifest, ImageIndex } from './types.js';

// The OCI 1.1 referrers model (distribution-spec "Listing Referrers"): signatures, SBOMs and other
// artifacts point at the manifest they describe through `subject`. Registries with the referrers API
// index that themselves; everywhere else (older registries, layouts) the artifacts are listed in an
// index under the tag schema fallback tag `<alg>-<hex>`, which this module keeps up to date.

const DEFAULT_CONFLICT_RETRIES = 5;

/**
 * The tag schema fallback tag for `digest`: `sha256:abc…` → `sha256-abc…`. Per the spec the algorithm
 * is cut to 32 characters and the hex to 64, so sha512 subjects also fit the 128-character tag limit.
 */
export function referrersFallbackTag(digest: Digest): string {
  const checked = parseDigest(digest);
  const algorithm = digestAlgorithm(checked).slice(0, 32);
  const hex = digestHex(checked).slice(0, 64);
  // Characters a tag cannot hold become "-", as the spec prescribes; parseDigest's "+" is the one that occurs.
  return `${algorithm}-${hex}`.replace(/[^\w.-]/g, '-');
}

export interface ListReferrersOptions {
  /** Only referrers whose artifactType is this. */
  artifactType?: string;
}

/** Descriptors of the manifests whose subject is `subject`, from the referrers API or else the fallback tag. */
export async function listReferrers(
  store: ImageStore,
  subject: Digest,
  options: ListReferrersOptions = {},
): Promise<Descriptor[]> {
  const referrers = (await store.nativeReferrers(subject)) ?? (await readFallbackIndex(store, subject))?.entries ?? [];
  const { artifactType } = options;
  return artifactType === undefined ? referrers : referrers.filter((d) => d.artifactType === artifactType);
}

export interface PushReferrerResult {
  /** The referrer as it is listed: mediaType, digest, size, artifactType and annotations. */
  descriptor: Descriptor;
  /** The fallback tag's index was used (the store did not index the subject itself). */
  viaFallback: boolean;
}

/** The manifest given to pushReferrer has no `subject`, so it cannot refer to anything. */
export class MissingSubjectError extends SlipwayError {
  override name = 'MissingSubjectError';
  constructor(readonly digest: Digest) {
    super(`Manifest ${digest} cannot be pushed as a referrer: it has no subject.`);
  }
}

export interface PushReferrerOptions {
  /** How many times the fallback index is re-read and rewritten after another writer changed it first (default 5). */
  conflictRetries?: number;
}

/**
 * Stores a referrer manifest (exact bytes, by digest) and makes it listable under its subject: when
 * the store does not index subjects itself, its descriptor is added to the subject's fallback index.
 * Safe to repeat: a referrer already listed is not added again.
 */
export async function pushReferrer(
  store: ImageStore,
  manifestBytes: Uint8Array,
  mediaType: string,
  options: PushReferrerOptions = {},
): Promise<PushReferrerResult> {
  const retries = options.conflictRetries ?? DEFAULT_CONFLICT_RETRIES;
  const { manifest, mediaType: parsedType } = parseManifest(manifestBytes, mediaType);
  const digest = digestOf(manifestBytes);
  const subject = manifest.subject;
  if (subject === undefined) throw new MissingSubjectError(digest);

  const artifactType = manifest.artifactType ?? (isIndex(manifest) ? undefined : manifest.config.mediaType);
  const descriptor: Descriptor = { mediaType: parsedType, digest, size: manifestBytes.byteLength };
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  if (manifest.annotations !== undefined && Object.keys(manifest.annotations).length > 0) {
    descriptor.annotations = { ...manifest.annotations };
  }

  const put = await store.putManifest(manifestBytes, mediaType);
  if (put.subjectIndexed) return { descriptor, viaFallback: false };

  const tag = referrersFallbackTag(subject.digest);
  // ifMatch cannot guard creating the tag, so writers in this process take turns per tag; writers in
  // other processes are caught by the ETag guard, or for a new tag by reading the write back below.
  return writers.run(`${store.location}\n${tag}`, () => addToFallbackIndex(store, subject.digest, descriptor, retries));
}

async function addToFallbackIndex(
  store: ImageStore,
  subject: Digest,
  descriptor: Descriptor,
  retries: number,
): Promise<PushReferrerResult> {
  const { digest } = descriptor;
  const tag = referrersFallbackTag(subject);
  for (let attempt = 0; ; attempt++) {
    const current = await readFallbackIndex(store, subject);
    if (current?.entries.some((entry) => entry.digest === digest)) return { descriptor, viaFallback: true };
    const index: ImageIndex = {
      // Whatever else the existing index carries (annotations, other writers' fields) is kept.
      ...(current?.fetched.manifest as ImageIndex | undefined),
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [...(current?.entries ?? []), descriptor],
    };
    const ifMatch = current?.fetched.etag;
    try {
      await store.putManifest(encodeJson(index), OCI_INDEX, { tag, ifMatch });
    } catch (error) {
      if (error instanceof ConflictError && attempt < retries) continue;
      throw error;
    }
    if (ifMatch !== undefined) return { descriptor, viaFallback: true };
    // Unguarded (a new tag, or a store without ETags), another writer may have replaced the index at
    // the same moment; read it back and go round again if this referrer is not there.
    const written = await readFallbackIndex(store, subject);
    if (written?.entries.some((entry) => entry.digest === digest)) return { descriptor, viaFallback: true };
    if (attempt >= retries) {
      throw new SlipwayError(
        `Could not add referrer ${digest} to ${tag} at ${store.location}: other writers kept replacing it.`,
      );
    }
  }
}

/** The fallback index for `subject` and its entries, or undefined when the tag does not exist. */
async function readFallbackIndex(
  store: ImageStore,
  subject: Digest,
): Promise<{ fetched: FetchedManifest; entries: Descriptor[] } | undefined> {
  let fetched: FetchedManifest;
  try {
    fetched = await store.getManifest(referrersFallbackTag(subject));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  if (!isIndex(fetched.manifest)) {
    throw new SlipwayError(
      `The referrers fallback tag ${referrersFallbackTag(subject)} at ${store.location} is not an index, so referrers of ${subject} cannot be listed there.`,
    );
  }
  return { fetched, entries: fetched.manifest.manifests };
}

/** Writers of the same fallback take turns within this process. */
const writers = new KeyedQueue();
