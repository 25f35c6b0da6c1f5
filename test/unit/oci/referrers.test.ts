import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../../shared/oci/digest.js';
import { ConflictError } from '../../../shared/oci/errors.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { encodeJson } from '../../../shared/oci/manifest.js';
import { EMPTY_JSON, OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR, OCI_MANIFEST } from '../../../shared/oci/media-types.js';
import {
  listReferrers,
  MissingSubjectError,
  pushReferrer,
  referrersFallbackTag,
} from '../../../shared/oci/referrers.js';
import type { ImageStore } from '../../../shared/oci/store.js';
import type { Descriptor } from '../../../shared/oci/types.js';
import { ForwardingStore } from '../../support/forwarding-store.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

const temporaryDirs: string[] = [];
async function newLayout(): Promise<OciLayoutStore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-referrers-'));
  temporaryDirs.push(dir);
  return OciLayoutStore.open(dir, { create: true });
}
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function putSubject(store: ImageStore): Promise<Descriptor> {
  const config = encodeJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  await store.putBlob(config);
  const bytes = encodeJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.byteLength },
    layers: [],
  });
  return (await store.putManifest(bytes, OCI_MANIFEST, { tag: 'v1' })).descriptor;
}

/** An artifact manifest in the image-spec 1.1 shape: empty config, one layer with the payload. */
async function artifact(
  store: ImageStore,
  subject: Descriptor | undefined,
  payload: string,
  fields: { artifactType?: string; configMediaType?: string; annotations?: Record<string, string> } = {},
): Promise<Uint8Array> {
  const layer = text(payload);
  await store.putBlob(layer);
  await store.putBlob(EMPTY_JSON.bytes);
  const config = { ...EMPTY_JSON.descriptor, mediaType: fields.configMediaType ?? EMPTY_JSON.descriptor.mediaType };
  return encodeJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(fields.artifactType === undefined ? {} : { artifactType: fields.artifactType }),
    config,
    layers: [{ mediaType: OCI_LAYER_TAR, digest: digestOf(layer), size: layer.byteLength }],
    ...(subject === undefined
      ? {}
      : { subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size } }),
    ...(fields.annotations === undefined ? {} : { annotations: fields.annotations }),
  });
}

const SIGNATURE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SBOM = 'application/spdx+json';

describe('referrersFallbackTag', () => {
  it('turns the digest into <alg>-<hex>', () => {
    const digest = digestOf(text('subject'));
    expect(referrersFallbackTag(digest)).toBe(digest.replace(':', '-'));
  });

  it('cuts sha512 hex to 64 characters so the tag stays within 128', () => {
    const digest = digestOf(text('subject'), 'sha512');
    const tag = referrersFallbackTag(digest);
    expect(tag).toBe(`sha512-${digest.slice('sha512:'.length, 'sha512:'.length + 64)}`);
    expect(tag.length).toBeLessThanOrEqual(128);
  });
});

describe('pushReferrer and listReferrers over a layout (fallback tag)', () => {
  it('lists nothing for a subject without referrers', async () => {
    const store = await newLayout();
    const subject = await putSubject(store);
    expect(await listReferrers(store, subject.digest)).toEqual([]);
  });

  it('adds the referrer to the fallback index with artifactType and annotations, once', async () => {
    const store = await newLayout();
    const subject = await putSubject(store);
    const annotations = { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' };
    const bytes = await artifact(store, subject, 'signature', { artifactType: SIGNATURE, annotations });

    const first = await pushReferrer(store, bytes, OCI_MANIFEST);
    const expected: Descriptor = {
      mediaType: OCI_MANIFEST,
      digest: digestOf(bytes),
      size: bytes.byteLength,
      artifactType: SIGNATURE,
      annotations,
    };
    expect(first).toEqual({ descriptor: expected, viaFallback: true });
    expect((await store.getManifest(digestOf(bytes))).bytes).toEqual(bytes);
    expect(await listReferrers(store, subject.digest)).toEqual([expected]);

    const tag = referrersFallbackTag(subject.digest);
    const before = await store.getManifest(tag);
    expect(before.descriptor.mediaType).toBe(OCI_INDEX);
    expect(await pushReferrer(store, bytes, OCI_MANIFEST)).toEqual(first);
    // Idempotent down to the bytes: the second push did not rewrite the index.
    expect((await store.getManifest(tag)).bytes).toEqual(before.bytes);
    expect(await store.listTags()).toEqual([tag, 'v1'].sort());
  });

  it('keeps two different referrers and filters them by artifactType', async () => {
    const store = await newLayout();
    const subject = await putSubject(store);
    const signature = await artifact(store, subject, 'signature', { artifactType: SIGNATURE });
    // No top-level artifactType: the config media type says what it is, as for pre-1.1 artifacts.
    const sbom = await artifact(store, subject, '{"spdxVersion":"SPDX-2.3"}', { configMediaType: SBOM });
    await pushReferrer(store, signature, OCI_MANIFEST);
    await pushReferrer(store, sbom, OCI_MANIFEST);

    const all = await listReferrers(store, subject.digest);
    expect(all.map((d) => [d.digest, d.artifactType])).toEqual([
      [digestOf(signature), SIGNATURE],
      [digestOf(sbom), SBOM],
    ]);
    expect((await listReferrers(store, subject.digest, { artifactType: SBOM })).map((d) => d.digest)).toEqual([
      digestOf(sbom),
    ]);
    expect(await listReferrers(store, subject.digest, { artifactType: 'application/other' })).toEqual([]);
  });

  it('loses no referrer when many are pushed to one subject at once', async () => {
    const store = await newLayout();
    const subject = await putSubject(store);
    const manifests = await Promise.all(
      Array.from({ length: 8 }, (_, i) => artifact(store, subject, `signature ${i}`, { artifactType: SIGNATURE })),
    );
    await Promise.all(manifests.map((bytes) => pushReferrer(store, bytes, OCI_MANIFEST)));
    const listed = (await listReferrers(store, subject.digest)).map((d) => d.digest).sort();
    expect(listed).toEqual(manifests.map((bytes) => digestOf(bytes)).sort());
  });

  it('re-reads and retries when another writer changed the fallback index first', async () => {
    const layout = await newLayout();
    const subject = await putSubject(layout);
    const rival = await artifact(layout, subject, 'rival', { artifactType: SIGNATURE });
    const ours = await artifact(layout, subject, 'ours', { artifactType: SBOM });
    await pushReferrer(layout, await artifact(layout, subject, 'earlier', { artifactType: SIGNATURE }), OCI_MANIFEST);

    let conflicts = 0;
    const racing = new ForwardingStore(layout);
    racing.putManifest = async (bytes, mediaType, options) => {
      if (options?.tag !== undefined && conflicts === 0) {
        // Another process gets its update in between our read and our write.
        await pushReferrer(layout, rival, OCI_MANIFEST);
        try {
          return await layout.putManifest(bytes, mediaType, options);
        } catch (error) {
          if (error instanceof ConflictError) conflicts++;
          throw error;
        }
      }
      return layout.putManifest(bytes, mediaType, options);
    };
    const result = await pushReferrer(racing, ours, OCI_MANIFEST);
    expect(result.viaFallback).toBe(true);
    expect(conflicts).toBe(1);
    const listed = (await listReferrers(layout, subject.digest)).map((d) => d.artifactType);
    expect(listed).toEqual([SIGNATURE, SIGNATURE, SBOM]);
  });

  it('gives up after the retries when the conflicts do not stop', async () => {
    const layout = await newLayout();
    const subject = await putSubject(layout);
    await pushReferrer(layout, await artifact(layout, subject, 'earlier'), OCI_MANIFEST);
    let attempts = 0;
    const hopeless = new ForwardingStore(layout);
    hopeless.putManifest = async (bytes, mediaType, options) => {
      if (options?.tag === undefined) return layout.putManifest(bytes, mediaType, options);
      attempts++;
      throw new ConflictError({ operation: 'put manifest', location: hopeless.location }, 'always stale');
    };
    const error = await pushReferrer(hopeless, await artifact(layout, subject, 'ours'), OCI_MANIFEST, {
      conflictRetries: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(attempts).toBe(3);
  });

  it('refuses a manifest without a subject', async () => {
    const store = await newLayout();
    const bytes = await artifact(store, undefined, 'orphan');
    const error = await pushReferrer(store, bytes, OCI_MANIFEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingSubjectError);
    expect(await store.listTags()).toEqual([]);
  });
});

describe('stores with a referrers API', () => {
  it('uses the native API when the store has one, and writes no fallback tag when the subject is indexed', async () => {
    const layout = await newLayout();
    const subject = await putSubject(layout);
    const pushed: Descriptor[] = [];
    const registry = new ForwardingStore(layout);
    registry.putManifest = async (bytes, mediaType, options) => {
      const result = await layout.putManifest(bytes, mediaType, options);
      return { ...result, subjectIndexed: true };
    };
    registry.nativeReferrers = async (digest) => (digest === subject.digest ? pushed : []);

    const bytes = await artifact(layout, subject, 'signature', { artifactType: SIGNATURE });
    const result = await pushReferrer(registry, bytes, OCI_MANIFEST);
    expect(result.viaFallback).toBe(false);
    expect(await layout.listTags()).toEqual(['v1']);

    pushed.push(result.descriptor);
    expect(await listReferrers(registry, subject.digest)).toEqual([result.descriptor]);
    expect(await listReferrers(registry, subject.digest, { artifactType: SBOM })).toEqual([]);
  });

  it('trusts an empty native answer over a stale fallback tag', async () => {
    const layout = await newLayout();
    const subject = await putSubject(layout);
    await pushReferrer(layout, await artifact(layout, subject, 'old', { artifactType: SIGNATURE }), OCI_MANIFEST);
    const registry = new ForwardingStore(layout);
    registry.nativeReferrers = async () => [];
    expect(await listReferrers(registry, subject.digest)).toEqual([]);
  });
});
