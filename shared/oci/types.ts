// The OCI data model as it travels over the wire: descriptors, manifests and indexes.
// Field names are the spec's (image-spec v1.1), so values can be serialised as they are.

/** A content digest as `algorithm:hex`, e.g. `sha256:9f86d0…`. Validated by shared/oci/digest.ts. */
export type Digest = `${string}:${string}`;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  data?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

/** A manifest as fetched: the exact bytes (digests are over bytes, never over re-serialised JSON), parsed. */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Uint8Array;
  manifest: Manifest;
  /** The registry's ETag for this manifest, used to guard read-modify-write of the referrers fallback tag. */
  etag?: string;
}
