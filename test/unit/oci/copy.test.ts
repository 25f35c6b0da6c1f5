import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import { type CopyProgressEvent, copyImage } from '../../../shared/oci/copy.js';
import { DigestMismatchError, digestHex, digestOf } from '../../../shared/oci/digest.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { encodeJson } from '../../../shared/oci/manifest.js';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  EMPTY_JSON,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
} from '../../../shared/oci/media-types.js';
import { listReferrers, pushReferrer, referrersFallbackTag } from '../../../shared/oci/referrers.js';
import type { ImageStore } from '../../../shared/oci/store.js';
import type { Descriptor } from '../../../shared/oci/types.js';
import { ForwardingStore } from '../../support/forwarding-store.js';
import { skopeo } from '../../support/services.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

let root = '';
afterEach(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
  root = '';
});
async function newLayout(name: string): Promise<OciLayoutStore> {
  if (root === '') root = mkdtempSync(path.join(tmpdir(), 'slipway-copy-'));
  return OciLayoutStore.open(path.join(root, name), { create: true });
}

interface TestImage {
  descriptor: Descriptor;
  bytes: Uint8Array;
  blobs: Uint8Array[];
}

async function putImage(
  store: ImageStore,
  architecture: string,
  options: { docker?: boolean; layers?: number } = {},
): Promise<TestImage> {
  const layers = Array.from(
    { length: options.layers ?? 1 },
    (_, i) => new Uint8Array(gzipSync(text(`layer ${i} of ${architecture}${options.docker ? ' (docker)' : ''}\n`))),
  );
  const config = encodeJson({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  for (const blob of [config, ...layers]) await store.putBlob(blob);
  const [manifestType, configType, layerType] = options.docker
    ? [DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP]
    : [OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_TAR_GZIP];
  const bytes = encodeJson({
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: configType, digest: digestOf(config), size: config.byteLength },
    layers: layers.map((layer) => ({ mediaType: layerType, digest: digestOf(layer), size: layer.byteLength })),
  });
  const { descriptor } = await store.putManifest(bytes, manifestType);
  return { descriptor: { ...descriptor, platform: { architecture, os: 'linux' } }, bytes, blobs: [config, ...layers] };
}

async function putIndex(
  store: ImageStore,
  children: Descriptor[],
  mediaType = OCI_INDEX,
  tag?: string,
): Promise<{ descriptor: Descriptor; bytes: Uint8Array }> {
  const bytes = encodeJson({ schemaVersion: 2, mediaType, manifests: children });
  const { descriptor } = await store.putManifest(bytes, mediaType, tag === undefined ? {} : { tag });
  return { descriptor, bytes };
}

/** A two-platform index tagged `v1`, as a multi-arch build leaves it. */
async function twoPlatformImage(store: ImageStore) {
  const images = [await putImage(store, 'amd64'), await putImage(store, 'arm64')];
  const index = await putIndex(
    store,
    images.map((image) => image.descriptor),
    OCI_INDEX,
    'v1',
  );
  const blobBytes = images.flatMap((image) => image.blobs).reduce((sum, blob) => sum + blob.byteLength, 0);
  const manifestBytes = index.bytes.byteLength + images.reduce((sum, image) => sum + image.bytes.byteLength, 0);
  return { index, images, blobBytes, manifestBytes };
}

async function signatureOf(store: ImageStore, subject: Descriptor, payload: string, artifactType: string) {
  const layer = text(payload);
  await store.putBlob(layer);
  await store.putBlob(EMPTY_JSON.bytes);
  const bytes = encodeJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: EMPTY_JSON.descriptor,
    layers: [{ mediaType: 'application/octet-stream', digest: digestOf(layer), size: layer.byteLength }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  });
  return (await pushReferrer(store, bytes, OCI_MANIFEST)).descriptor;
}

describe('copyImage', () => {
  it('copies a two-platform index with its tags, and a re-run copies nothing', async () => {
    const source = await newLayout('from');
    const target = await newLayout('to');
    const { index, images, blobBytes, manifestBytes } = await twoPlatformImage(source);
    // Forwarding the source hides that it is a layout, so the blobs are streamed rather than linked.
    const from = new ForwardingStore(source);

    const report = await copyImage({ from, to: target, reference: 'v1', tags: ['v1', 'latest'] });
    expect(report).toEqual({
      descriptor: index.descriptor,
      manifests: 3,
      blobs: { copied: 4, mounted: 0, skipped: 0 },
      bytesCopied: blobBytes + manifestBytes,
    });
    expect(await target.listTags()).toEqual(['latest', 'v1']);
    expect((await target.getManifest('latest')).bytes).toEqual(index.bytes);
    for (const image of images) {
      expect((await target.getManifest(image.descriptor.digest)).bytes).toEqual(image.bytes);
      for (const blob of image.blobs) expect(await target.hasBlob(digestOf(blob))).toBe(true);
    }

    const again = await copyImage({ from, to: target, reference: 'v1', tags: ['v1', 'latest'] });
    expect(again.bytesCopied).toBe(0);
    expect(again.blobs).toEqual({ copied: 0, mounted: 0, skipped: 4 });

    // skopeo checks every digest on the way through.
    skopeo(['copy', '--quiet', '--all', '--preserve-digests', `oci:${target.directory}:latest`, `oci:${root}/check:x`]);
    expect(skopeo(['inspect', '--raw', `oci:${root}/check:x`])).toBe(new TextDecoder().decode(index.bytes));
  });

  it('hard-links blobs between layouts on one file system and counts them as mounted', async () => {
    const from = await newLayout('from');
    const to = await newLayout('to');
    const { images, manifestBytes } = await twoPlatformImage(from);
    const report = await copyImage({ from, to, reference: 'v1' });
    expect(report.blobs).toEqual({ copied: 0, mounted: 4, skipped: 0 });
    expect(report.bytesCopied).toBe(manifestBytes);
    const layer = digestHex(digestOf(images[0]!.blobs[1]!));
    expect(statSync(path.join(to.directory, 'blobs', 'sha256', layer)).ino).toBe(
      statSync(path.join(from.directory, 'blobs', 'sha256', layer)).ino,
    );
    // No tags were asked for: the image is there by digest only.
    expect(await to.listTags()).toEqual([]);
  });

  it('writes all blobs, then child manifests, then the index, then tags', async () => {
    const source = await newLayout('from');
    const target = await newLayout('to');
    const { index, images } = await twoPlatformImage(source);
    const writes: string[] = [];
    const to = new ForwardingStore(target);
    to.putBlob = async (blob) => {
      const result = await target.putBlob(blob);
      writes.push(`blob ${result.digest}`);
      return result;
    };
    to.putManifest = async (bytes, mediaType, options) => {
      const result = await target.putManifest(bytes, mediaType, options);
      writes.push(options?.tag === undefined ? `manifest ${result.descriptor.digest}` : `tag ${options.tag}`);
      return result;
    };
    const events: CopyProgressEvent[] = [];
    await copyImage({
      from: new ForwardingStore(source),
      to,
      reference: index.descriptor.digest,
      tags: ['v2'],
      onProgress: (event) => events.push(event),
    });

    expect(writes.slice(0, 4).every((write) => write.startsWith('blob '))).toBe(true);
    expect(new Set(writes.slice(0, 4))).toEqual(
      new Set(images.flatMap((image) => image.blobs.map((blob) => `blob ${digestOf(blob)}`))),
    );
    expect(writes.slice(4)).toEqual([
      `manifest ${images[0]!.descriptor.digest}`,
      `manifest ${images[1]!.descriptor.digest}`,
      `manifest ${index.descriptor.digest}`,
      'tag v2',
    ]);
    expect(events.map((event) => `${event.type} ${event.action}`)).toEqual([
      'blob copied',
      'blob copied',
      'blob copied',
      'blob copied',
      'manifest copied',
      'manifest copied',
      'manifest copied',
      'tag set',
    ]);
  });

  it('copies nested indexes and Docker manifest lists as their exact bytes', async () => {
    const from = await newLayout('from');
    const to = await newLayout('to');
    const docker = [await putImage(from, 'amd64', { docker: true }), await putImage(from, 's390x', { docker: true })];
    const list = await putIndex(
      from,
      docker.map((image) => image.descriptor),
      DOCKER_MANIFEST_LIST,
      'docker',
    );
    const inner = await putIndex(from, [(await putImage(from, 'riscv64', { layers: 2 })).descriptor]);
    const outer = await putIndex(from, [inner.descriptor, (await putImage(from, 'ppc64le')).descriptor], OCI_INDEX);

    const dockerReport = await copyImage({ from, to, reference: 'docker', tags: ['docker'] });
    expect(dockerReport.manifests).toBe(3);
    const fetched = await to.getManifest('docker');
    expect(fetched.bytes).toEqual(list.bytes);
    expect(fetched.descriptor.mediaType).toBe(DOCKER_MANIFEST_LIST);
    expect((await to.resolve(docker[0]!.descriptor.digest))?.mediaType).toBe(DOCKER_MANIFEST);

    const nestedReport = await copyImage({ from, to, reference: outer.descriptor.digest, tags: ['nested'] });
    expect(nestedReport.manifests).toBe(4);
    expect(nestedReport.blobs.mounted).toBe(5);
    expect((await to.getManifest('nested')).bytes).toEqual(outer.bytes);
    expect((await to.getManifest(inner.descriptor.digest)).bytes).toEqual(inner.bytes);
    // skopeo 1.9 cannot copy nested indexes, nor see index.json entries of Docker media types, but it reads this.
    expect(skopeo(['inspect', '--raw', `oci:${to.directory}:nested`])).toBe(new TextDecoder().decode(outer.bytes));
  });

  it('copies the referrers of every manifest, with their blobs, and theirs in turn', async () => {
    const from = await newLayout('from');
    const to = await newLayout('to');
    const { index, images } = await twoPlatformImage(from);
    const signature = await signatureOf(from, index.descriptor, 'index signature', 'application/vnd.example.sig');
    const sbom = await signatureOf(from, images[0]!.descriptor, '{"spdxVersion":"SPDX-2.3"}', 'application/spdx+json');
    const sbomSignature = await signatureOf(from, sbom, 'sbom signature', 'application/vnd.example.sig');

    const plain = await copyImage({ from, to, reference: 'v1', tags: ['v1'] });
    expect(plain.manifests).toBe(3);
    expect(await to.listTags()).toEqual(['v1']);

    const events: CopyProgressEvent[] = [];
    const report = await copyImage({
      from,
      to,
      reference: 'v1',
      tags: ['v1'],
      referrers: true,
      onProgress: (event) => events.push(event),
    });
    expect(report.manifests).toBe(6);
    expect(events.filter((event) => event.type === 'referrer').map((event) => event.digest)).toEqual([
      sbom.digest,
      signature.digest,
      sbomSignature.digest,
    ]);
    expect(await listReferrers(to, index.descriptor.digest)).toEqual([signature]);
    expect(await listReferrers(to, images[0]!.descriptor.digest)).toEqual([sbom]);
    expect(await listReferrers(to, sbom.digest)).toEqual([sbomSignature]);
    expect(await listReferrers(to, images[1]!.descriptor.digest)).toEqual([]);
    for (const referrer of [signature, sbom, sbomSignature]) {
      const manifest = await to.getManifest(referrer.digest);
      if ('layers' in manifest.manifest) {
        for (const layer of manifest.manifest.layers) expect(await to.hasBlob(layer.digest)).toBe(true);
      }
    }
    expect(await to.listTags()).toEqual(
      [
        'v1',
        referrersFallbackTag(index.descriptor.digest),
        referrersFallbackTag(images[0]!.descriptor.digest),
        referrersFallbackTag(sbom.digest),
      ].sort(),
    );

    const again = await copyImage({ from, to, reference: 'v1', tags: ['v1'], referrers: true });
    expect(again.bytesCopied).toBe(0);
    expect(await listReferrers(to, index.descriptor.digest)).toEqual([signature]);
  });

  it('sets no tag and writes no manifest when a source blob is corrupt', async () => {
    const source = await newLayout('from');
    const to = await newLayout('to');
    const { images } = await twoPlatformImage(source);
    const layer = digestOf(images[1]!.blobs[1]!);
    await writeFile(path.join(source.directory, 'blobs', 'sha256', digestHex(layer)), 'corrupted');

    const error = await copyImage({ from: new ForwardingStore(source), to, reference: 'v1', tags: ['v1'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toMatch(/DigestMismatchError|SizeMismatchError/);
    expect(await to.listTags()).toEqual([]);
    expect(await to.hasBlob(layer)).toBe(false);
    for (const image of images) expect(await to.resolve(image.descriptor.digest)).toBeUndefined();
    expect(readdirSync(path.join(to.directory, 'blobs', 'sha256')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('detects a same-size corruption by digest', async () => {
    const source = await newLayout('from');
    const to = await newLayout('to');
    const { images } = await twoPlatformImage(source);
    const blob = images[0]!.blobs[0]!;
    const tampered = new Uint8Array(blob);
    tampered[0] = tampered[0] === 0x7b ? 0x5b : 0x7b;
    await writeFile(path.join(source.directory, 'blobs', 'sha256', digestHex(digestOf(blob))), tampered);
    const error = await copyImage({ from: new ForwardingStore(source), to, reference: 'v1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
  });

  it('copies at most `concurrency` blobs at once', async () => {
    const source = await newLayout('from');
    const image = await putImage(source, 'amd64', { layers: 9 });
    await source.putManifest(image.bytes, OCI_MANIFEST, { tag: 'big' });

    const peakWith = async (concurrency: number | undefined, name: string): Promise<number> => {
      const store = await newLayout(name);
      let active = 0;
      let peak = 0;
      const to = new ForwardingStore(store);
      to.putBlob = async (blob) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 10));
        try {
          return await store.putBlob(blob);
        } finally {
          active--;
        }
      };
      const report = await copyImage({
        from: new ForwardingStore(source),
        to,
        reference: 'big',
        ...(concurrency === undefined ? {} : { concurrency }),
      });
      expect(report.blobs.copied).toBe(10);
      return peak;
    };
    expect(await peakWith(2, 'two')).toBe(2);
    expect(await peakWith(undefined, 'default')).toBe(4);
    expect(await peakWith(1, 'one')).toBe(1);
  });

  it('rejects bad tags and concurrency before writing anything', async () => {
    const from = await newLayout('from');
    const to = await newLayout('to');
    await twoPlatformImage(from);
    const badTag = await copyImage({ from, to, reference: 'v1', tags: ['no spaces'] }).catch((e: unknown) => e);
    expect(badTag).toBeInstanceOf(InvalidValueError);
    const badConcurrency = await copyImage({ from, to, reference: 'v1', concurrency: 0 }).catch((e: unknown) => e);
    expect(badConcurrency).toBeInstanceOf(InvalidValueError);
    expect(readdirSync(path.join(to.directory, 'blobs'))).toEqual([]);
  });
});
