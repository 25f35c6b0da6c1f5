import type { Descriptor, Digest, FetchedManifest } from './types.js';

// One interface over the two places images live: a repository on a registry (shared/oci/registry.ts)
// and an OCI image-layout directory (shared/oci/layout.ts). Everything above it (copy, referrers,
// build, sbom, sign) is written once against this interface.

/** Bytes of a blob as they arrive; both web ReadableStreams and Node Readables are async iterables. */
export type ByteStream = AsyncIterable<Uint8Array>;

/** Content to upload: whole bytes, or a stream whose digest and size are known in advance. */
export type BlobSource = Uint8Array | { stream: ByteStream; digest: Digest; size: number };

export interface PutManifestOptions {
  /** Tag to put the manifest under; without one it is put by its digest. */
  tag?: string;
  /** Fail with a conflict unless the tag's current ETag is this (guards read-modify-write). */
  ifMatch?: string;
}

export interface PutManifestResult {
  descriptor: Descriptor;
  /**
   * The store indexed the manifest's `subject` itself (a registry answering with `OCI-Subject`),
   * so no referrers fallback tag is needed.
   */
  subjectIndexed: boolean;
}

export interface ImageStore {
  /** Human-readable location for messages: `registry.example/acme/api` or `oci-layout:/path`. */
  readonly location: string;

  /** The descriptor a tag or digest points at, or undefined when there is none (HEAD, no body). */
  resolve(reference: string): Promise<Descriptor | undefined>;
  /**
   * A manifest by tag or digest; throws when missing. Fetched by digest, its bytes are verified. Given the
   * descriptor it is fetched by (`expected`, from a parent index or a referrers list), a size over the
   * manifest cap is refused before fetching and the bytes must be exactly that size.
   */
  getManifest(reference: string, expected?: Pick<Descriptor, 'digest' | 'size'>): Promise<FetchedManifest>;
  /** Store manifest bytes exactly as given; throws ConflictError when `ifMatch` no longer holds. */
  putManifest(bytes: Uint8Array, mediaType: string, options?: PutManifestOptions): Promise<PutManifestResult>;

  hasBlob(digest: Digest): Promise<boolean>;
  /** Streams a blob; the stream throws at its end if the bytes do not match the descriptor's digest or size. */
  getBlob(descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<ByteStream>;
  /** Uploads a blob unless it already exists; returns whether bytes were sent. */
  putBlob(source: BlobSource): Promise<{ digest: Digest; size: number; uploaded: boolean }>;
  /**
   * Makes a blob that lives in another store available here without moving bytes, where the two
   * share a backend (cross-repository mount on one registry). Returns false where that is not possible;
   * the caller then copies the bytes.
   */
  mountBlob(digest: Digest, from: ImageStore): Promise<boolean>;

  listTags(): Promise<string[]>;
  /**
   * Where the store keeps a list of its images (an OCI layout's index.json), lists `descriptor` there without
   * a tag, so an image copied by digest alone can still be found; registries have no such list and omit it.
   */
  listUntagged?(descriptor: Descriptor): Promise<void>;
  /**
   * The native referrers API, when the store has one: the descriptors of manifests whose subject is
   * `digest`, or undefined when the store has no such API (callers then use the tag-schema fallback).
   */
  nativeReferrers(digest: Digest): Promise<Descriptor[] | undefined>;
}

/** A small blob (a config, an SBOM) read whole and verified; large layers should be streamed instead. */
export async function readBlob(
  store: ImageStore,
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await store.getBlob(descriptor)) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

/** A JSON blob, parsed. */
export async function readJsonBlob<T>(store: ImageStore, descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<T> {
  return JSON.parse(Buffer.from(await readBlob(store, descriptor)).toString('utf8')) as T;
}
