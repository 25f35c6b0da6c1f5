import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignAttestationTag,
  findBundles,
  findLegacyAttestations,
  storeBundleReferrer,
  storeCosignLegacy,
} from '../../../shared/attest/oci-storage.js';
import {
  BUNDLE_MEDIA_TYPE,
  type BundleJson,
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPES,
} from '../../../shared/attest/types.js';
import { referrersFallbackTag } from '../../../shared/oci/referrers.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import type { Descriptor, Digest } from '../../../shared/oci/types.js';
import { makeImage, pushImage } from '../../support/images.js';
import { skopeo, startRegistry, type TestRegistry } from '../../support/services.js';

// Both storage schemes against Debian's docker-registry (distribution 2.8, no referrers API), read back
// by a fresh client and by skopeo, which knows nothing of Slipway.

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

const b64 = (value: string | Uint8Array): string => Buffer.from(value).toString('base64');

/** A v0.3 DSSE bundle; the certificate is opaque bytes here, as nothing in this test parses it. */
function bundleFor(subject: Digest, predicateType: string): BundleJson {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `${registry.host}/acme/attested`, digest: { sha256: subject.slice('sha256:'.length) } }],
    predicateType,
    predicate: {},
  };
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: {
      certificate: { rawBytes: b64('not a real certificate') },
      tlogEntries: [
        {
          logIndex: '42',
          logId: { keyId: b64(createHash('sha256').update('log').digest()) },
          kindVersion: { kind: 'dsse', version: '0.0.1' },
          integratedTime: '1795000000',
          inclusionPromise: { signedEntryTimestamp: b64('set') },
          canonicalizedBody: b64('{}'),
        },
      ],
    },
    dsseEnvelope: {
      payload: b64(JSON.stringify(statement)),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: b64(`signature over ${predicateType}`), keyid: '' }],
    },
  };
}

function inspectRaw(reference: string): Record<string, unknown> {
  return JSON.parse(
    skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/attested:${reference}`]),
  );
}

describe('attestation storage on a registry without the referrers API', () => {
  it('stores the bundle referrer through the fallback tag, found by a fresh client and by skopeo', async () => {
    const repo = new RegistryClient().repository(registry.host, 'acme/attested');
    const image = makeImage({ label: 'attested' });
    await pushImage(repo, image, ['v1']);
    const subject: Descriptor = image.top.descriptor;

    const provenance = bundleFor(subject.digest, PREDICATE_TYPES.slsaProvenance);
    const stored = await storeBundleReferrer(
      repo,
      subject,
      provenance,
      PREDICATE_TYPES.slsaProvenance,
      '2026-11-22T10:00:00Z',
    );
    expect(stored.via).toBe('tag-fallback');
    const again = await storeBundleReferrer(
      repo,
      subject,
      provenance,
      PREDICATE_TYPES.slsaProvenance,
      '2026-11-22T11:00:00Z',
    );
    expect(again).toEqual(stored);

    const fresh = new RegistryClient().repository(registry.host, 'acme/attested');
    expect(await findBundles(fresh, subject.digest)).toEqual([
      {
        bundle: provenance,
        location: { kind: 'referrer', manifest: stored.manifest, via: 'tag-fallback' },
        predicateType: PREDICATE_TYPES.slsaProvenance,
      },
    ]);

    const index = inspectRaw(referrersFallbackTag(subject.digest)) as { manifests: Descriptor[] };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({
      digest: stored.manifest,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      annotations: { 'dev.sigstore.bundle.predicateType': PREDICATE_TYPES.slsaProvenance },
    });
    const manifest = JSON.parse(
      skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/attested@${stored.manifest}`]),
    );
    expect(manifest.artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(manifest.subject.digest).toBe(subject.digest);
  });

  it('stores the legacy cosign .att tag, appended to by a second attestation', async () => {
    const repo = new RegistryClient().repository(registry.host, 'acme/attested');
    const image = makeImage({ label: 'legacy' });
    await pushImage(repo, image, ['legacy']);
    const subject = image.top.descriptor;

    const { tag } = await storeCosignLegacy(repo, subject, bundleFor(subject.digest, PREDICATE_TYPES.slsaProvenance));
    expect(tag).toBe(cosignAttestationTag(subject.digest));
    await storeCosignLegacy(repo, subject, bundleFor(subject.digest, PREDICATE_TYPES.cyclonedx));
    await storeCosignLegacy(repo, subject, bundleFor(subject.digest, PREDICATE_TYPES.cyclonedx));

    const tags = JSON.parse(skopeo(['list-tags', '--tls-verify=false', `docker://${registry.host}/acme/attested`])) as {
      Tags: string[];
    };
    expect(tags.Tags).toContain(`sha256-${subject.digest.slice('sha256:'.length)}.att`);
    const manifest = inspectRaw(tag) as { layers: Descriptor[] };
    expect(manifest.layers.map((l) => [l.mediaType, l.annotations?.predicateType])).toEqual([
      ['application/vnd.dsse.envelope.v1+json', PREDICATE_TYPES.slsaProvenance],
      ['application/vnd.dsse.envelope.v1+json', PREDICATE_TYPES.cyclonedx],
    ]);
    expect(manifest.layers[0]?.annotations?.['dev.sigstore.cosign/certificate']).toMatch(
      /^-----BEGIN CERTIFICATE-----\n/,
    );
    expect(JSON.parse(manifest.layers[0]?.annotations?.['dev.sigstore.cosign/bundle'] ?? '{}')).toMatchObject({
      Payload: { logIndex: 42, integratedTime: 1795000000 },
    });

    // skopeo copies the whole image, checking every blob and the config's diff_ids against the layers.
    const dir = mkdtempSync(join(tmpdir(), 'slipway-att-copy-'));
    try {
      skopeo(['copy', '--src-tls-verify=false', `docker://${registry.host}/acme/attested:${tag}`, `oci:${dir}:att`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const fresh = new RegistryClient().repository(registry.host, 'acme/attested');
    const found = await findLegacyAttestations(fresh, subject.digest);
    expect(found.map((f) => f.predicateType)).toEqual([PREDICATE_TYPES.slsaProvenance, PREDICATE_TYPES.cyclonedx]);
    expect(await findBundles(fresh, subject.digest)).toEqual([]);
  });
});
