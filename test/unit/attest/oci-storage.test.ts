import { createHash, generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initializeCA } from '@sigstore/mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BundleShapeError,
  cosignAttestationTag,
  DSSE_ENVELOPE_MEDIA_TYPE,
  encodeBundle,
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
import { digestOf } from '../../../shared/oci/digest.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { encodeJson } from '../../../shared/oci/manifest.js';
import { EMPTY_JSON, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from '../../../shared/oci/media-types.js';
import { listReferrers, pushReferrer, referrersFallbackTag } from '../../../shared/oci/referrers.js';
import { type ImageStore, readBlob } from '../../../shared/oci/store.js';
import type { Descriptor, Digest, ImageIndex, ImageManifest } from '../../../shared/oci/types.js';
import { ForwardingStore } from '../../support/forwarding-store.js';
import { makeImage, pushImage } from '../../support/images.js';

const CREATED = '2026-11-22T10:00:00Z';
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');

const temporaryDirs: string[] = [];
async function newLayout(): Promise<OciLayoutStore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-attest-'));
  temporaryDirs.push(dir);
  return OciLayoutStore.open(dir, { create: true });
}
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function newSubject(store: ImageStore, label = 'app'): Promise<Descriptor> {
  const image = makeImage({ label });
  await pushImage(store, image, ['v1']);
  return image.top.descriptor;
}

// A real CA and leaf, so the PEM the legacy scheme carries can be checked by parsing it.
let signingKey: KeyObject;
let leafDer: Uint8Array;
let rootDer: Uint8Array;
beforeAll(async () => {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ca = await initializeCA(caKeys);
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  signingKey = keys.privateKey;
  const spki = keys.publicKey.export({ format: 'der', type: 'spki' });
  leafDer = new Uint8Array(
    (
      await ca.issueCertificate({
        publicKey: spki,
        subjectAltName: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
      })
    ).buffer,
  );
  rootDer = new Uint8Array(ca.rootCertificate.buffer);
});

const LOG_KEY_ID = createHash('sha256').update('rekor log key').digest();

/** A bundle in the v0.3 shape @sigstore/sign produces for a DSSE attestation witnessed by Rekor v1 and a TSA. */
function dsseBundle(subject: Digest, predicateType: string = PREDICATE_TYPES.slsaProvenance): BundleJson {
  const statement = JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'registry.example/acme/app', digest: { sha256: subject.slice('sha256:'.length) } }],
    predicateType,
    predicate: { buildDefinition: { buildType: 'https://actions.github.io/buildtypes/workflow/v1' } },
  });
  const payload = Buffer.from(statement);
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${IN_TOTO_PAYLOAD_TYPE.length} ${IN_TOTO_PAYLOAD_TYPE} ${payload.length} `),
    payload,
  ]);
  const sig = b64(sign('sha256', pae, signingKey));
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: {
      certificate: { rawBytes: b64(leafDer) },
      tlogEntries: [
        {
          logIndex: '123456789',
          logId: { keyId: b64(LOG_KEY_ID) },
          kindVersion: { kind: 'dsse', version: '0.0.1' },
          integratedTime: '1795000000',
          inclusionPromise: { signedEntryTimestamp: b64('signed entry timestamp') },
          inclusionProof: {
            logIndex: '12345',
            rootHash: b64('root hash'),
            treeSize: '67890',
            hashes: [b64('h1')],
            checkpoint: { envelope: 'rekor.sigstore.dev - 1\n67890\n…\n' },
          },
          canonicalizedBody: b64(JSON.stringify({ apiVersion: '0.0.1', kind: 'dsse', spec: {} })),
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: b64('timestamp token') }] },
    },
    dsseEnvelope: { payload: b64(payload), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig, keyid: '' }] },
  };
}

/** What MessageSignatureBundleBuilder emits: a v0.2 bundle over a digest, without a DSSE envelope. */
function messageSignatureBundle(): BundleJson {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2',
    verificationMaterial: { x509CertificateChain: { certificates: [{ rawBytes: b64(leafDer) }] }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: b64(createHash('sha256').update('x').digest()) },
      signature: b64('sig'),
    },
  };
}

async function attachSbom(store: ImageStore, subject: Descriptor): Promise<Digest> {
  const layer = new TextEncoder().encode('{"spdxVersion":"SPDX-2.3"}');
  await store.putBlob(EMPTY_JSON.bytes);
  await store.putBlob(layer);
  const bytes = encodeJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: 'application/spdx+json',
    config: EMPTY_JSON.descriptor,
    layers: [{ mediaType: 'application/spdx+json', digest: digestOf(layer), size: layer.byteLength }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  });
  return (await pushReferrer(store, bytes, OCI_MANIFEST)).descriptor.digest;
}

/** A store with the referrers API: it indexes subjects itself, as a registry answering OCI-Subject does. */
function withReferrersApi(inner: ImageStore): ImageStore & { indexed: Descriptor[] } {
  const indexed: Descriptor[] = [];
  const store = Object.assign(new ForwardingStore(inner), { indexed });
  store.putManifest = async (bytes, mediaType, options) => {
    const result = await inner.putManifest(bytes, mediaType, options);
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageManifest;
    if (parsed.subject === undefined) return result;
    if (!indexed.some((d) => d.digest === result.descriptor.digest)) {
      indexed.push({
        ...result.descriptor,
        ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
        ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
      });
    }
    return { ...result, subjectIndexed: true };
  };
  store.nativeReferrers = async () => [...indexed];
  return store;
}

describe('storeBundleReferrer', () => {
  it('writes the manifest in the exact shape cosign v3 and actions/attest write', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const bundle = dsseBundle(subject.digest);
    const result = await storeBundleReferrer(store, subject, bundle, PREDICATE_TYPES.slsaProvenance, CREATED);
    expect(result.via).toBe('tag-fallback');

    const bundleBytes = encodeBundle(bundle);
    const bundleDigest = digestOf(bundleBytes);
    const fetched = await store.getManifest(result.manifest);
    expect(fetched.descriptor.mediaType).toBe(OCI_MANIFEST);
    expect(fetched.manifest).toEqual({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: EMPTY_DIGEST,
        size: 2,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      },
      layers: [
        {
          mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          digest: bundleDigest,
          size: bundleBytes.byteLength,
          annotations: { 'org.opencontainers.image.title': `${bundleDigest.replace(':', '-')}.sigstore.json` },
        },
      ],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        'dev.sigstore.bundle.content': 'dsse-envelope',
        'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
        'org.opencontainers.image.created': CREATED,
      },
    });
    expect(Buffer.from(await readBlob(store, EMPTY_JSON.descriptor)).toString()).toBe('{}');
    expect(
      JSON.parse(Buffer.from(await readBlob(store, { digest: bundleDigest, size: bundleBytes.byteLength })).toString()),
    ).toEqual(bundle);
  });

  it('lists the referrer in the fallback index with the bundle artifactType verifiers filter on', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const result = await storeBundleReferrer(
      store,
      subject,
      dsseBundle(subject.digest),
      PREDICATE_TYPES.slsaProvenance,
      CREATED,
    );
    const index = await store.getManifest(referrersFallbackTag(subject.digest));
    expect(index.descriptor.mediaType).toBe(OCI_INDEX);
    const entries = (index.manifest as ImageIndex).manifests;
    expect(entries).toEqual([
      {
        mediaType: OCI_MANIFEST,
        digest: result.manifest,
        size: (await store.getManifest(result.manifest)).bytes.byteLength,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: {
          'dev.sigstore.bundle.content': 'dsse-envelope',
          'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
          'org.opencontainers.image.created': CREATED,
        },
      },
    ]);
    // Not the empty config type: Kyverno found nothing when cosign's fallback entry said that.
    expect(entries[0]?.artifactType?.startsWith('application/vnd.dev.sigstore.bundle')).toBe(true);
  });

  it('is idempotent: the same bundle is listed once, even when stored again at another time', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const bundle = dsseBundle(subject.digest);
    const first = await storeBundleReferrer(store, subject, bundle, PREDICATE_TYPES.slsaProvenance, CREATED);
    const tag = referrersFallbackTag(subject.digest);
    const indexBefore = (await store.getManifest(tag)).bytes;

    expect(await storeBundleReferrer(store, subject, bundle, PREDICATE_TYPES.slsaProvenance, CREATED)).toEqual(first);
    const rerun = await storeBundleReferrer(
      store,
      subject,
      bundle,
      PREDICATE_TYPES.slsaProvenance,
      '2026-11-23T08:00:00Z',
    );
    expect(rerun).toEqual(first);
    expect((await store.getManifest(tag)).bytes).toEqual(indexBefore);
    expect(await listReferrers(store, subject.digest)).toHaveLength(1);

    const other = dsseBundle(subject.digest, PREDICATE_TYPES.cyclonedx);
    const second = await storeBundleReferrer(store, subject, other, PREDICATE_TYPES.cyclonedx, CREATED);
    expect(second.manifest).not.toBe(first.manifest);
    expect((await listReferrers(store, subject.digest)).map((d) => d.digest)).toEqual([
      first.manifest,
      second.manifest,
    ]);
  });

  it('reports the referrers API when the store indexes the subject itself, and writes no fallback tag', async () => {
    const layout = await newLayout();
    const store = withReferrersApi(layout);
    const subject = await newSubject(store);
    const bundle = dsseBundle(subject.digest);
    const result = await storeBundleReferrer(store, subject, bundle, PREDICATE_TYPES.slsaProvenance, CREATED);
    expect(result.via).toBe('referrers-api');
    expect(await layout.listTags()).toEqual(['v1']);
    expect(
      await storeBundleReferrer(store, subject, bundle, PREDICATE_TYPES.slsaProvenance, '2027-01-01T00:00:00Z'),
    ).toEqual(result);
    expect(store.indexed.map((d) => d.digest)).toEqual([result.manifest]);
  });

  it('labels a message-signature bundle with its own media type and content kind', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const bundle = messageSignatureBundle();
    const result = await storeBundleReferrer(store, subject, bundle, 'https://sigstore.dev/cosign/sign/v1', CREATED);
    const manifest = (await store.getManifest(result.manifest)).manifest as ImageManifest;
    expect(manifest.artifactType).toBe('application/vnd.dev.sigstore.bundle+json;version=0.2');
    expect(manifest.layers[0]?.mediaType).toBe('application/vnd.dev.sigstore.bundle+json;version=0.2');
    expect(manifest.annotations?.['dev.sigstore.bundle.content']).toBe('message-signature');
  });

  it('refuses what is not a bundle, and a creation time that is not RFC 3339', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const bundle = dsseBundle(subject.digest);
    await expect(
      storeBundleReferrer(store, subject, { ...bundle, mediaType: 'application/json' }, 'x', CREATED),
    ).rejects.toThrow(BundleShapeError);
    const { dsseEnvelope: _, ...contentless } = bundle;
    await expect(storeBundleReferrer(store, subject, contentless, 'x', CREATED)).rejects.toThrow(
      /neither dsseEnvelope nor messageSignature/,
    );
    await expect(storeBundleReferrer(store, subject, bundle, 'x', '22/11/2026')).rejects.toThrow(/RFC 3339/);
    expect(await store.listTags()).toEqual(['v1']);
  });
});

describe('findBundles', () => {
  it('finds the stored bundles with their predicate types and ignores other artifact types', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const provenance = dsseBundle(subject.digest);
    const sbom = dsseBundle(subject.digest, PREDICATE_TYPES.cyclonedx);
    const one = await storeBundleReferrer(store, subject, provenance, PREDICATE_TYPES.slsaProvenance, CREATED);
    await attachSbom(store, subject);
    const two = await storeBundleReferrer(store, subject, sbom, PREDICATE_TYPES.cyclonedx, CREATED);

    expect(await listReferrers(store, subject.digest)).toHaveLength(3);
    expect(await findBundles(store, subject.digest)).toEqual([
      {
        bundle: provenance,
        location: { kind: 'referrer', manifest: one.manifest, via: 'tag-fallback' },
        predicateType: PREDICATE_TYPES.slsaProvenance,
      },
      {
        bundle: sbom,
        location: { kind: 'referrer', manifest: two.manifest, via: 'tag-fallback' },
        predicateType: PREDICATE_TYPES.cyclonedx,
      },
    ]);
  });

  it('finds nothing for a digest without referrers, and nothing of another subject', async () => {
    const store = await newLayout();
    const subject = await newSubject(store, 'one');
    const other = await newSubject(store, 'two');
    await storeBundleReferrer(store, subject, dsseBundle(subject.digest), PREDICATE_TYPES.slsaProvenance, CREATED);
    expect(await findBundles(store, other.digest)).toEqual([]);
  });

  it('skips a fallback entry whose manifest is about another subject', async () => {
    const store = await newLayout();
    const subject = await newSubject(store, 'one');
    const other = await newSubject(store, 'two');
    const stored = await storeBundleReferrer(
      store,
      other,
      dsseBundle(other.digest),
      PREDICATE_TYPES.slsaProvenance,
      CREATED,
    );
    // A hand-written fallback index for `subject` that lists `other`'s referrer.
    const listed = (await listReferrers(store, other.digest))[0]!;
    const rogue: ImageIndex = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [listed] };
    await store.putManifest(encodeJson(rogue), OCI_INDEX, { tag: referrersFallbackTag(subject.digest) });
    expect(listed.digest).toBe(stored.manifest);
    expect(await findBundles(store, subject.digest)).toEqual([]);
  });

  it('reads through the referrers API when the store has one', async () => {
    const store = withReferrersApi(await newLayout());
    const subject = await newSubject(store);
    const bundle = dsseBundle(subject.digest);
    const stored = await storeBundleReferrer(store, subject, bundle, PREDICATE_TYPES.slsaProvenance, CREATED);
    await attachSbom(store, subject);
    expect(await findBundles(store, subject.digest)).toEqual([
      {
        bundle,
        location: { kind: 'referrer', manifest: stored.manifest, via: 'referrers-api' },
        predicateType: PREDICATE_TYPES.slsaProvenance,
      },
    ]);
  });
});

describe('storeCosignLegacy', () => {
  it('writes sha256-<hex>.att with the DSSE envelope layer and the annotations cosign reads', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const bundle = dsseBundle(subject.digest);
    const { tag } = await storeCosignLegacy(store, subject, bundle);
    expect(tag).toBe(`${subject.digest.replace(':', '-')}.att`);
    expect(cosignAttestationTag(subject.digest)).toBe(tag);

    const fetched = await store.getManifest(tag);
    const manifest = fetched.manifest as ImageManifest;
    expect(fetched.descriptor.mediaType).toBe(OCI_MANIFEST);
    expect(manifest.layers).toHaveLength(1);
    const layer = manifest.layers[0]!;
    expect(layer.mediaType).toBe('application/vnd.dsse.envelope.v1+json');

    const envelope = bundle.dsseEnvelope as { payload: string; signatures: { sig: string }[] };
    const envelopeText = Buffer.from(await readBlob(store, layer)).toString();
    expect(envelopeText).toBe(
      `{"payloadType":"application/vnd.in-toto+json","payload":"${envelope.payload}","signatures":[{"keyid":"","sig":"${envelope.signatures[0]?.sig}"}]}`,
    );

    const annotations = layer.annotations ?? {};
    expect(Object.keys(annotations)).toEqual([
      'dev.cosignproject.cosign/signature',
      'dev.sigstore.cosign/bundle',
      'dev.sigstore.cosign/certificate',
      'dev.sigstore.cosign/rfc3161timestamp',
      'predicateType',
    ]);
    expect(annotations['dev.cosignproject.cosign/signature']).toBe('');
    expect(annotations.predicateType).toBe('https://slsa.dev/provenance/v1');
    const pem = annotations['dev.sigstore.cosign/certificate'] ?? '';
    expect(pem).toMatch(
      /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/,
    );
    const certificate = new X509Certificate(pem);
    expect(new Uint8Array(certificate.raw)).toEqual(leafDer);
    expect(certificate.subjectAltName).toContain(
      'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    );

    const entry = (bundle.verificationMaterial as { tlogEntries: { canonicalizedBody: string }[] }).tlogEntries[0]!;
    expect(annotations['dev.sigstore.cosign/bundle']).toBe(
      JSON.stringify({
        SignedEntryTimestamp: b64('signed entry timestamp'),
        Payload: {
          body: entry.canonicalizedBody,
          integratedTime: 1795000000,
          logIndex: 123456789,
          logID: LOG_KEY_ID.toString('hex'),
        },
      }),
    );
    expect(annotations['dev.sigstore.cosign/rfc3161timestamp']).toBe(
      JSON.stringify({ SignedRFC3161Timestamp: b64('timestamp token') }),
    );

    // The config go-containerregistry's empty image gets, with each (uncompressed) layer as its diff_id.
    expect(manifest.config.mediaType).toBe(OCI_CONFIG);
    const config = JSON.parse(Buffer.from(await readBlob(store, manifest.config)).toString());
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [layer.digest] });
    expect(config.history).toHaveLength(1);
  });

  it('appends further attestations, keeps layers it did not write, and adds an equal one only once', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const tag = cosignAttestationTag(subject.digest);
    // A layer cosign (or anyone) wrote before.
    const foreign = new TextEncoder().encode('{"payloadType":"x","payload":"","signatures":[]}');
    await store.putBlob(foreign);
    await store.putBlob(EMPTY_JSON.bytes);
    const foreignLayer: Descriptor = {
      mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
      digest: digestOf(foreign),
      size: foreign.byteLength,
      annotations: { predicateType: 'https://example.com/other' },
    };
    await store.putManifest(
      encodeJson({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: EMPTY_JSON.descriptor,
        layers: [foreignLayer],
        annotations: { 'com.example/kept': 'yes' },
      }),
      OCI_MANIFEST,
      { tag },
    );

    const provenanceBundle = dsseBundle(subject.digest);
    await storeCosignLegacy(store, subject, provenanceBundle);
    const provenance = await store.getManifest(tag);
    await storeCosignLegacy(store, subject, dsseBundle(subject.digest, PREDICATE_TYPES.cyclonedx));
    const both = await store.getManifest(tag);
    const layers = (both.manifest as ImageManifest).layers;
    expect(layers.map((l) => l.annotations?.predicateType)).toEqual([
      'https://example.com/other',
      PREDICATE_TYPES.slsaProvenance,
      PREDICATE_TYPES.cyclonedx,
    ]);
    expect(layers[0]).toEqual(foreignLayer);
    expect(both.manifest.annotations).toEqual({ 'com.example/kept': 'yes' });
    expect(provenance.descriptor.digest).not.toBe(both.descriptor.digest);

    await storeCosignLegacy(store, subject, provenanceBundle);
    expect((await store.getManifest(tag)).bytes).toEqual(both.bytes);
  });

  it('carries a certificate chain when one is known, and none for a key-signed bundle', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const rootPem = new X509Certificate(rootDer).toString();
    await storeCosignLegacy(store, subject, dsseBundle(subject.digest), { chainPem: rootPem });

    const keyed = dsseBundle(subject.digest, PREDICATE_TYPES.cyclonedx);
    keyed.verificationMaterial = { publicKey: { hint: 'release-key' }, tlogEntries: [] };
    await storeCosignLegacy(store, subject, keyed);

    const found = await findLegacyAttestations(store, subject.digest);
    expect(found.map((f) => f.predicateType)).toEqual([PREDICATE_TYPES.slsaProvenance, PREDICATE_TYPES.cyclonedx]);
    expect(found[0]?.annotations['dev.sigstore.cosign/chain']).toBe(rootPem);
    expect(Object.keys(found[1]?.annotations ?? {})).toEqual(['dev.cosignproject.cosign/signature', 'predicateType']);
  });

  it('takes the chain from a v0.1/v0.2 bundle that carries one', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    const bundle = dsseBundle(subject.digest);
    bundle.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
    bundle.verificationMaterial = {
      x509CertificateChain: { certificates: [{ rawBytes: b64(leafDer) }, { rawBytes: b64(rootDer) }] },
      tlogEntries: [],
    };
    await storeCosignLegacy(store, subject, bundle);
    const [found] = await findLegacyAttestations(store, subject.digest);
    expect(new X509Certificate(found?.annotations['dev.sigstore.cosign/certificate'] ?? '').raw).toEqual(
      Buffer.from(leafDer),
    );
    expect(new X509Certificate(found?.annotations['dev.sigstore.cosign/chain'] ?? '').raw).toEqual(
      Buffer.from(rootDer),
    );
  });

  it('refuses a message-signature bundle: an .att layer is a DSSE envelope', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    await expect(storeCosignLegacy(store, subject, messageSignatureBundle())).rejects.toThrow(BundleShapeError);
    expect(await store.listTags()).toEqual(['v1']);
  });
});

describe('findLegacyAttestations', () => {
  it('returns envelope and annotations as stored, and nothing where there is no .att tag', async () => {
    const store = await newLayout();
    const subject = await newSubject(store);
    expect(await findLegacyAttestations(store, subject.digest)).toEqual([]);

    const bundle = dsseBundle(subject.digest);
    const { tag } = await storeCosignLegacy(store, subject, bundle);
    const found = await findLegacyAttestations(store, subject.digest);
    expect(found).toHaveLength(1);
    const layer = ((await store.getManifest(tag)).manifest as ImageManifest).layers[0]!;
    expect(found[0]).toEqual({
      location: { kind: 'cosign-legacy', tag },
      layer,
      envelope: bundle.dsseEnvelope,
      annotations: layer.annotations,
      predicateType: PREDICATE_TYPES.slsaProvenance,
    });
    // The legacy scheme is separate from the referrers: findBundles does not see it.
    expect(await findBundles(store, subject.digest)).toEqual([]);
  });
});
