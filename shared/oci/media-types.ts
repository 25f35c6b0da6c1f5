import type { Descriptor } from './types.js';

// Media types Slipway reads and writes. Docker's schema 2 types are still what many registries and
// older builders serve, so every check accepts them alongside their OCI counterparts.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_TAR_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';
/** The config (or layer) of artifacts that have nothing to put there; its blob is always `{}`. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** A layer fetched from its descriptor's `urls` rather than the registry (Windows base layers). */
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

/** The manifest types Slipway understands, OCI first so content negotiation prefers them. */
export const MANIFEST_MEDIA_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST] as const;
export type ManifestMediaType = (typeof MANIFEST_MEDIA_TYPES)[number];

/** Accept header for manifest requests; without it registries may down-convert to Docker schema 1. */
export const MANIFEST_ACCEPT_HEADER = MANIFEST_MEDIA_TYPES.join(', ');

const EMPTY_JSON_DESCRIPTOR: Readonly<Descriptor> = Object.freeze({
  mediaType: OCI_EMPTY,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
});

/** The empty blob `{}` and its descriptor, for artifact manifests that have no config. */
export const EMPTY_JSON: { readonly bytes: Uint8Array; readonly descriptor: Readonly<Descriptor> } = Object.freeze({
  // A fresh copy each time: a Uint8Array cannot be frozen, and a caller writing into a shared one
  // would corrupt every later upload of the empty blob.
  get bytes(): Uint8Array {
    return new Uint8Array([0x7b, 0x7d]);
  },
  descriptor: EMPTY_JSON_DESCRIPTOR,
});

/** The media type without parameters or case differences: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaTypeEssence(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

export function isManifestMediaType(mediaType: string): boolean {
  return (MANIFEST_MEDIA_TYPES as readonly string[]).includes(mediaTypeEssence(mediaType));
}

export function isIndexMediaType(mediaType: string): boolean {
  const essence = mediaTypeEssence(mediaType);
  return essence === OCI_INDEX || essence === DOCKER_MANIFEST_LIST;
}

export function isImageManifestMediaType(mediaType: string): boolean {
  const essence = mediaTypeEssence(mediaType);
  return essence === OCI_MANIFEST || essence === DOCKER_MANIFEST;
}

const LAYER_COMPRESSION: ReadonlyMap<string, 'gzip' | 'zstd' | 'none'> = new Map([
  [OCI_LAYER_TAR, 'none'],
  [OCI_LAYER_TAR_GZIP, 'gzip'],
  [OCI_LAYER_TAR_ZSTD, 'zstd'],
  [OCI_LAYER_NONDISTRIBUTABLE_TAR, 'none'],
  [OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP, 'gzip'],
  [OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD, 'zstd'],
  [DOCKER_LAYER_GZIP, 'gzip'],
  [DOCKER_FOREIGN_LAYER, 'gzip'],
]);

/** How a layer's tar is compressed, or undefined when the media type is not a known layer type. */
export function layerCompression(mediaType: string): 'gzip' | 'zstd' | 'none' | undefined {
  return LAYER_COMPRESSION.get(mediaTypeEssence(mediaType));
}
