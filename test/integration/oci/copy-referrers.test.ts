import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../../shared/oci/copy.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { encodeJson } from '../../../shared/oci/manifest.js';
import { EMPTY_JSON, OCI_MANIFEST } from '../../../shared/oci/media-types.js';
import { listReferrers, pushReferrer, referrersFallbackTag } from '../../../shared/oci/referrers.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import type { ImageStore } from '../../../shared/oci/store.js';
import type { Descriptor } from '../../../shared/oci/types.js';
import { makeImage, pushImage } from '../../support/images.js';
import { skopeo, startRegistry, type TestRegistry } from '../../support/services.js';

// Referrers and copies against two real registries (distribution 2.8, which has no referrers API), with
// skopeo confirming what landed.

let first: TestRegistry;
let second: TestRegistry;

beforeAll(async () => {
  [first, second] = await Promise.all([startRegistry(), startRegistry()]);
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
});

const SBOM_TYPE = 'application/spdx+json';

/** An artifact manifest in the shape cosign and ORAS write: empty config, one layer, a subject. */
async function attachSbom(store: ImageStore, subject: Descriptor, text: string) {
  const layer = new TextEncoder().encode(text);
  await store.putBlob(EMPTY_JSON.bytes);
  await store.putBlob(layer);
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SBOM_TYPE,
    config: EMPTY_JSON.descriptor,
    layers: [{ mediaType: SBOM_TYPE, digest: digestOf(layer), size: layer.byteLength }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'org.opencontainers.image.created': '2026-11-22T00:00:00Z' },
  });
  return pushReferrer(store, manifest, OCI_MANIFEST);
}

describe('referrers on a registry without the referrers API', () => {
  it('attaches through the tag schema, idempotently, and a fresh client finds every referrer', async () => {
    const repo = new RegistryClient().repository(first.host, 'acme/referred');
    const image = makeImage({
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    await pushImage(repo, image, ['v1']);
    const [amd64, arm64] = image.manifests.map((m) => m.descriptor);

    const one = await attachSbom(repo, amd64!, 'sbom of amd64');
    const two = await attachSbom(repo, amd64!, 'second sbom of amd64');
    const again = await attachSbom(repo, amd64!, 'sbom of amd64');
    const other = await attachSbom(repo, arm64!, 'sbom of arm64');
    expect([one.viaFallback, two.viaFallback, other.viaFallback]).toEqual([true, true, true]);
    expect(again.descriptor.digest).toBe(one.descriptor.digest);

    const fresh = new RegistryClient().repository(first.host, 'acme/referred');
    const listed = await listReferrers(fresh, amd64!.digest);
    expect(listed.map((d) => d.digest).sort()).toEqual([one.descriptor.digest, two.descriptor.digest].sort());
    for (const d of listed) expect(d.artifactType).toBe(SBOM_TYPE);
    expect((await listReferrers(fresh, arm64!.digest)).map((d) => d.digest)).toEqual([other.descriptor.digest]);
    expect(await listReferrers(fresh, amd64!.digest, { artifactType: 'application/other' })).toEqual([]);

    // The fallback is an ordinary OCI index at sha256-<hex>, readable by any client.
    const tag = referrersFallbackTag(amd64!.digest);
    const index = JSON.parse(
      skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${first.host}/acme/referred:${tag}`]),
    );
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests).toHaveLength(2);
  });
});

describe('copying images by digest', () => {
  it('copies between repositories of one registry by mounting, and a re-run moves nothing', async () => {
    const client = new RegistryClient();
    const source = client.repository(first.host, 'acme/app');
    const target = client.repository(first.host, 'prod/app');
    const image = makeImage({
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      label: 'copy',
    });
    await pushImage(source, image, ['v1']);

    const report = await copyImage({ from: source, to: target, reference: 'v1', tags: ['v1'] });
    expect(report.descriptor.digest).toBe(image.top.descriptor.digest);
    expect(report.blobs).toEqual({ copied: 0, mounted: image.blobs.length, skipped: 0 });
    expect(report.manifests).toBe(3);

    const rerun = await copyImage({ from: source, to: target, reference: 'v1', tags: ['v1'] });
    expect(rerun.blobs).toEqual({ copied: 0, mounted: 0, skipped: image.blobs.length });
    expect(rerun.bytesCopied).toBe(0);

    const digest = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${first.host}/prod/app:v1`])).Digest;
    expect(digest).toBe(image.top.descriptor.digest);
  });

  it('copies between two registries with signatures, then to an OCI layout skopeo can read', async () => {
    const image = makeImage({
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      label: 'cross',
    });
    const source = new RegistryClient().repository(first.host, 'acme/cross');
    await pushImage(source, image, ['v2']);
    const sbom = await attachSbom(source, image.top.descriptor, 'sbom of the index');

    const target = new RegistryClient().repository(second.host, 'mirror/cross');
    const report = await copyImage({
      from: source,
      to: target,
      reference: image.top.descriptor.digest,
      tags: ['v2'],
      referrers: true,
    });
    // Another registry cannot mount; every blob crosses, the SBOM's included.
    expect(report.blobs.mounted).toBe(0);
    expect(report.blobs.copied).toBe(image.blobs.length + 2);
    expect((await listReferrers(target, image.top.descriptor.digest)).map((d) => d.digest)).toEqual([
      sbom.descriptor.digest,
    ]);
    const copied = JSON.parse(
      skopeo(['inspect', '--tls-verify=false', `docker://${second.host}/mirror/cross:v2`]),
    ).Digest;
    expect(copied).toBe(image.top.descriptor.digest);

    const dir = join(mkdtempSync(join(tmpdir(), 'slipway-copy-')), 'layout');
    const layout = await OciLayoutStore.open(dir, { create: true });
    await copyImage({ from: target, to: layout, reference: 'v2', tags: ['v2'] });
    const raw = skopeo(['inspect', '--raw', `oci:${dir}:v2`]);
    expect(digestOf(new TextEncoder().encode(raw))).toBe(image.top.descriptor.digest);
  });
});
