import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import { digestOf } from '../oci/digest.js';
import { encodeJson, isAttestationManifest, isIndex, platformString } from '../oci/manifest.js';
import { EMPTY_JSON, OCI_MANIFEST } from '../oci/media-types.js';
import { pushReferrer } from '../oci/referrers.js';
import { type ImageStore, readJsonBlob } from '../oci/store.js';
import type { Descriptor, Digest, ImageManifest, Platform } from '../oci/types.js';
import { ALL_READERS, catalog } from './catalogers/index.js';
import { writeCycloneDx } from './cyclonedx.js';
import { walkImage } from './layers.js';
import { writeSpdx } from './spdx.js';
import type { PlatformInventory } from './types.js';

// From a digest to its SBOMs: every platform manifest of an index is walked once and described on its
// own (an SBOM of "the image" would describe only one platform, the classic mistake of syft#1683), each
// document is written deterministically, and each is attached to its own platform manifest as an OCI
// referrer, where verifiers and scanners look for it.

export type SbomFormat = 'cyclonedx' | 'spdx';

export const SBOM_MEDIA_TYPES: Record<SbomFormat, string> = {
  cyclonedx: 'application/vnd.cyclonedx+json',
  spdx: 'application/spdx+json',
};

/** File name endings other tools recognise (osv-scanner finds SBOMs only by these). */
const EXTENSIONS: Record<SbomFormat, string> = { cyclonedx: 'cdx.json', spdx: 'spdx.json' };

export interface SbomFile {
  platform: string;
  /** The platform manifest the document describes. */
  manifestDigest: Digest;
  format: SbomFormat;
  mediaType: string;
  path: string;
  /** sha256 of the file's bytes: the evidence that a re-run produced the same document. */
  digest: Digest;
  size: number;
  /** Where it was attached, when it was. */
  attached?: { referrer: Digest; via: 'referrers-api' | 'tag-fallback' };
}

export interface DescribeOptions {
  /** RFC 3339; overrides the image's created time (SOURCE_DATE_EPOCH). */
  created?: string;
}

/** One inventory per platform of the image at `digest` (attestation manifests are not platforms). */
export async function describeImage(
  store: ImageStore,
  name: string,
  digest: Digest,
  options: DescribeOptions = {},
): Promise<PlatformInventory[]> {
  const top = await store.getManifest(digest);
  const targets: { digest: Digest; platform?: Platform }[] = isIndex(top.manifest)
    ? top.manifest.manifests
        .filter((d) => !isAttestationManifest(d))
        .map((d: Descriptor) => ({ digest: d.digest, ...(d.platform ? { platform: d.platform } : {}) }))
    : [{ digest }];
  if (targets.length === 0)
    throw new SlipwayError(`${name}@${digest} is an index with no platform images to describe.`);
  const inventories: PlatformInventory[] = [];
  for (const target of targets) {
    const fetched = target.digest === digest ? top : await store.getManifest(target.digest);
    if (isIndex(fetched.manifest))
      throw new SlipwayError(
        `${name}@${target.digest} is a nested index; describe its platforms by their own digests.`,
      );
    const config = await readJsonBlob<ImageConfig>(store, (fetched.manifest as ImageManifest).config);
    const fs = await walkImage(store, target.digest, ALL_READERS);
    const { distro, packages } = catalog(fs);
    const created = options.created ?? config.created;
    if (!created) {
      throw new SlipwayError(
        `${name}@${target.digest} has no created time; set SOURCE_DATE_EPOCH so the SBOM's timestamp is reproducible.`,
      );
    }
    inventories.push({
      name,
      platform: target.platform ?? {
        os: config.os ?? 'unknown',
        architecture: config.architecture ?? 'unknown',
        ...(config.variant ? { variant: config.variant } : {}),
      },
      manifestDigest: target.digest,
      created,
      ...(distro ? { distro } : {}),
      layers: fs.layers,
      packages,
    });
  }
  return inventories;
}

interface ImageConfig {
  created?: string;
  os?: string;
  architecture?: string;
  variant?: string;
}

/** Writes each inventory in each format to `directory`, with names that say what they describe. */
export function writeSbomFiles(
  inventories: readonly PlatformInventory[],
  formats: readonly SbomFormat[],
  directory: string,
  tool: { name: 'slipway'; version: string },
): SbomFile[] {
  mkdirSync(directory, { recursive: true });
  const files: SbomFile[] = [];
  for (const inventory of inventories) {
    const platform = platformString(inventory.platform);
    for (const format of formats) {
      const text = format === 'cyclonedx' ? writeCycloneDx(inventory, tool) : writeSpdx(inventory, tool);
      const bytes = new TextEncoder().encode(text);
      const base = `${inventory.name.split('/').pop()}-${platform.replaceAll('/', '-')}`;
      const path = join(directory, `${base}.${EXTENSIONS[format]}`);
      writeFileSync(path, bytes);
      files.push({
        platform,
        manifestDigest: inventory.manifestDigest,
        format,
        mediaType: SBOM_MEDIA_TYPES[format],
        path,
        digest: digestOf(bytes),
        size: bytes.byteLength,
      });
    }
  }
  return files;
}

/**
 * Attaches each SBOM to its platform manifest as an OCI 1.1 referrer (ORAS and cosign's artifact shape:
 * empty config, the document as the one layer, artifactType the document's media type). Re-running
 * attaches nothing new: the same bytes give the same referrer digest, which is listed once.
 */
export async function attachSboms(
  store: ImageStore,
  files: readonly SbomFile[],
  created: Map<Digest, string>,
): Promise<SbomFile[]> {
  const attached: SbomFile[] = [];
  for (const file of files) {
    const subject = await store.resolve(file.manifestDigest);
    if (!subject)
      throw new SlipwayError(`${store.location} has no manifest ${file.manifestDigest} to attach the SBOM to.`);
    const bytes = new Uint8Array(readFileSync(file.path));
    await store.putBlob(EMPTY_JSON.bytes);
    await store.putBlob(bytes);
    const manifest = encodeJson({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: file.mediaType,
      config: EMPTY_JSON.descriptor,
      layers: [
        {
          mediaType: file.mediaType,
          digest: file.digest,
          size: file.size,
          annotations: { 'org.opencontainers.image.title': file.path.split('/').pop()! },
        },
      ],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { 'org.opencontainers.image.created': created.get(file.manifestDigest) ?? '1970-01-01T00:00:00Z' },
    });
    const result = await pushReferrer(store, manifest, OCI_MANIFEST);
    attached.push({
      ...file,
      attached: { referrer: result.descriptor.digest, via: result.viaFallback ? 'tag-fallback' : 'referrers-api' },
    });
  }
  return attached;
}
