import { gzipSync } from 'node:zlib';
import { digestOf } from '../../shared/oci/digest.js';
import { encodeJson } from '../../shared/oci/manifest.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from '../../shared/oci/media-types.js';
import type { BlobSource, ImageStore } from '../../shared/oci/store.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../../shared/oci/types.js';

// Small but real images for tests: gzip'd ustar layers, OCI configs with matching diff_ids, manifests and
// an index, all as exact bytes with their descriptors, so tests can compare what a store serves byte for byte.

export interface TestBlob {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

export interface TestImage {
  /** Every blob (configs and layers), deduplicated by digest. */
  blobs: TestBlob[];
  /** Per-platform manifests, then the index (when there is one) last. */
  manifests: TestBlob[];
  /** The top-level manifest: the index for several platforms, else the only manifest. */
  top: TestBlob;
}

/** A minimal ustar archive of regular files, with fixed metadata so the bytes are stable. */
export function tarArchive(files: Record<string, string | Uint8Array>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    const data = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.byteLength.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.byteLength % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return new Uint8Array(Buffer.concat(blocks));
}

function blob(mediaType: string, bytes: Uint8Array, extra: Partial<Descriptor> = {}): TestBlob {
  return { bytes, descriptor: { mediaType, digest: digestOf(bytes), size: bytes.byteLength, ...extra } };
}

/** An image per platform, each with a shared base layer and a platform-specific one; an index above them. */
export function makeImage(options: { platforms?: Platform[]; label?: string } = {}): TestImage {
  const platforms = options.platforms ?? [{ os: 'linux', architecture: 'amd64' }];
  const label = options.label ?? 'test';
  const tarBase = tarArchive({ 'etc/base.txt': `base layer of ${label}\n` });
  const base = blob(OCI_LAYER_TAR_GZIP, new Uint8Array(gzipSync(tarBase, { level: 9 })));
  const blobs = new Map<string, TestBlob>([[base.descriptor.digest, base]]);
  const manifests: TestBlob[] = [];
  for (const platform of platforms) {
    const tar = tarArchive({
      [`app/${platform.architecture}.txt`]: `${label} for ${platform.os}/${platform.architecture}\n`,
    });
    const layer = blob(OCI_LAYER_TAR_GZIP, new Uint8Array(gzipSync(tar, { level: 9 })));
    const config = blob(
      OCI_CONFIG,
      encodeJson({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Labels: { 'org.opencontainers.image.title': label } },
        rootfs: { type: 'layers', diff_ids: [digestOf(tarBase), digestOf(tar)] },
        history: [{ created_by: 'test' }, { created_by: 'test' }],
      }),
    );
    for (const b of [layer, config]) blobs.set(b.descriptor.digest, b);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: config.descriptor,
      layers: [base.descriptor, layer.descriptor],
    };
    manifests.push(blob(OCI_MANIFEST, encodeJson(manifest), { platform }));
  }
  if (platforms.length === 1) return { blobs: [...blobs.values()], manifests, top: manifests[0]! };
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: manifests.map((m) => m.descriptor),
  };
  const top = blob(OCI_INDEX, encodeJson(index));
  return { blobs: [...blobs.values()], manifests: [...manifests, top], top };
}

/** Pushes an image the way a builder does: blobs, then manifests by digest, then the tags. */
export async function pushImage(store: ImageStore, image: TestImage, tags: string[] = []): Promise<void> {
  for (const b of image.blobs) await store.putBlob(b.bytes as BlobSource);
  for (const m of image.manifests) await store.putManifest(m.bytes, m.descriptor.mediaType);
  for (const tag of tags) await store.putManifest(image.top.bytes, image.top.descriptor.mediaType, { tag });
}

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}
