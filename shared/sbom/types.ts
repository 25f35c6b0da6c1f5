import type { Digest, Platform } from '../oci/types.js';

// The model the SBOM pipeline shares. Layers are read once, in order (shared/sbom/layers.ts); catalogers
// say which files they want and read each one as it streams past, keeping only what they need (a status
// file's text, a Go binary's build info), so an image is never unpacked to disk or held whole in memory.

/** A tar entry's header as the walker sees it. */
export interface EntryHeader {
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  /** Permission bits and setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  size: number;
  /** For symlinks and hardlinks. */
  linkTarget?: string;
}

/**
 * What a cataloger reads from the image. `wants` is called for every entry, so it must be cheap (path tests);
 * `read` is given the file's bytes as they stream out of the layer and returns what the cataloger keeps.
 * A file overwritten or whited out by a later layer loses its result, so the final view is what is kept.
 */
export interface FileReader<T> {
  /** Unique name, e.g. "dpkg-status". */
  name: string;
  /** `path` is relative to the image root, without a leading slash: `var/lib/dpkg/status`. */
  wants(path: string, header: EntryHeader): boolean;
  /** May stop early (return before the stream ends); the walker drains the rest. */
  read(content: AsyncIterable<Uint8Array>, path: string, header: EntryHeader): Promise<T | undefined>;
}

/** One result of a FileReader, with where it came from. */
export interface ReadResult<T> {
  path: string;
  value: T;
  /** Index of the layer (0 = base) whose copy of the file this is. */
  layer: number;
}

export interface LayerInfo {
  /** The compressed blob's digest, as in the manifest. */
  digest: Digest;
  /** The uncompressed tar's digest, as in the config's rootfs.diff_ids. */
  diffId?: Digest;
  mediaType: string;
}

/** The final filesystem of one platform image, after every layer, whiteout and opaque directory. */
export interface ImageFilesystem {
  layers: LayerInfo[];
  /** Every path that exists in the final view, with its header and the layer it came from. */
  entries: Map<string, EntryHeader & { layer: number }>;
  /** Results per reader name, only for files that exist in the final view. */
  results: Map<string, ReadResult<unknown>[]>;
}

export type Ecosystem = 'deb' | 'apk' | 'npm' | 'pypi' | 'golang' | 'maven' | 'rpm';

/** The operating system the image says it is, from /etc/os-release (or usr/lib/os-release). */
export interface Distro {
  /** ID, e.g. `debian`, `ubuntu`, `alpine`. */
  id: string;
  /** VERSION_ID, e.g. `12`, `22.04`, `3.20.3`. */
  versionId?: string;
  /** VERSION_CODENAME, e.g. `bookworm`. */
  codename?: string;
  prettyName?: string;
}

export interface Package {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** A package URL (packageurl-js), e.g. pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12. */
  purl: string;
  /** Declared licences as written by the package (SPDX ids or expressions where the package gives them). */
  licenses: string[];
  /** The path of the evidence in the image (status file, package.json, METADATA, binary) and its layer. */
  location: { path: string; layer: number };
  /** Debian/Ubuntu source package, which advisories are keyed by; Alpine origin. */
  source?: { name: string; version?: string };
  /** Maven group id, Go module path details, architecture… as plain strings. */
  properties?: Record<string, string>;
}

/** Everything found in one platform image; the writers turn it into CycloneDX and SPDX. */
export interface PlatformInventory {
  /** The image name without tag or digest: `ghcr.io/acme/api`. */
  name: string;
  platform: Platform;
  /** The platform manifest's digest: what this SBOM describes and is attached to. */
  manifestDigest: Digest;
  /** RFC 3339; from SOURCE_DATE_EPOCH or the image's created time, never the wall clock. */
  created: string;
  distro?: Distro;
  layers: LayerInfo[];
  /** Sorted by ecosystem, name, version, path: the order writers keep, for byte-identical output. */
  packages: Package[];
}
