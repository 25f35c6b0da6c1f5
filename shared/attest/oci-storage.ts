import { SlipwayError } from '../core/errors.js';
import { digestAlgorithm, digestHex, digestOf, parseDigest } from '../oci/digest.js';
import { ConflictError, NotFoundError } from '../oci/errors.js';
import { KeyedQueue } from '../oci/keyed-queue.js';
import { encodeJson, isIndex } from '../oci/manifest.js';
import { EMPTY_JSON, OCI_CONFIG, OCI_MANIFEST } from '../oci/media-types.js';
import { listReferrers, pushReferrer } from '../oci/referrers.js';
import { type ImageStore, readBlob } from '../oci/store.js';
import type { Descriptor, Digest, FetchedManifest, ImageManifest } from '../oci/types.js';
import { type BundleJson, IN_TOTO_PAYLOAD_TYPE, type StorageLocation } from './types.js';

// Where Sigstore bundles live in a registry, in the two schemes verifiers read (research notes
// signing.md §1–2):
//
// - The OCI 1.1 referrer (cosign v3, actions/attest, gh, Kyverno `SigstoreBundle`): one manifest per
//   bundle whose subject is the image, found through the referrers API or the `sha256-<hex>` fallback
//   index. Verifiers filter on the artifactType prefix, so the fallback entry must carry it; pushReferrer
//   copies the manifest's top-level artifactType into that entry.
// - The legacy cosign `sha256-<hex>.att` tag (cosign ≤2, Kyverno `type: Cosign`, policy-controller's
//   default): one manifest, one DSSE-envelope layer per attestation, with everything else a bundle
//   holds (certificate, Rekor SET, RFC 3161 timestamp) spread over layer annotations.

/** What every Sigstore bundle media type starts with; gh and Kyverno match referrers on this prefix. */
export const BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle';

export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
const TITLE_ANNOTATION = 'org.opencontainers.image.title';

/** The layer media type of a legacy cosign attestation. */
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
/** Layer annotations cosign (pkg/oci/static/signature.go) writes and reads on `.sig`/`.att` layers. */
export const COSIGN_ANNOTATIONS = {
  predicateType: 'predicateType',
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;

/**
 * Bundles beyond this are refused when read back: actions/attest caps predicates at 16 MiB, which
 * base64 in the DSSE payload makes about 22 MiB, so anything far larger is not a bundle we wrote.
 */
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const DEFAULT_CONFLICT_RETRIES = 5;

// ---------------------------------------------------------------------------------------------------
// The bundle as JSON

/** The bytes a bundle is stored as; its sha256 is SignedAttestation.bundleDigest. */
export function encodeBundle(bundle: BundleJson): Uint8Array {
  return encodeJson(bundle);
}

export interface DsseEnvelopeJson {
  payload: string;
  payloadType: string;
  signatures: { sig: string; keyid?: string }[];
}

/** The DSSE envelope of a bundle, or undefined for a message-signature bundle. */
function dsseEnvelopeOf(bundle: BundleJson): DsseEnvelopeJson | undefined {
  const envelope = bundle.dsseEnvelope;
  if (!isObject(envelope)) return undefined;
  const { payload, payloadType, signatures } = envelope;
  if (typeof payload !== 'string' || typeof payloadType !== 'string' || !Array.isArray(signatures)) {
    throw new BundleShapeError('its dsseEnvelope lacks payload, payloadType or signatures');
  }
  const checked = signatures.map((signature, i) => {
    if (!isObject(signature) || typeof signature.sig !== 'string') {
      throw new BundleShapeError(`dsseEnvelope.signatures[${i}] has no sig`);
    }
    return typeof signature.keyid === 'string'
      ? { sig: signature.sig, keyid: signature.keyid }
      : { sig: signature.sig };
  });
  return { payload, payloadType, signatures: checked };
}

/** The bundle cannot be stored because its JSON is not the shape a Sigstore bundle has. */
export class BundleShapeError extends SlipwayError {
  override name = 'BundleShapeError';
  constructor(readonly detail: string) {
    super(`The Sigstore bundle cannot be stored: ${detail}.`);
  }
}

function bundleContent(bundle: BundleJson): 'dsse-envelope' | 'message-signature' {
  if (dsseEnvelopeOf(bundle) !== undefined) return 'dsse-envelope';
  if (isObject(bundle.messageSignature)) return 'message-signature';
  throw new BundleShapeError('it has neither dsseEnvelope nor messageSignature');
}

function checkBundleMediaType(bundle: BundleJson): string {
  const { mediaType } = bundle;
  if (typeof mediaType !== 'string' || !mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX)) {
    throw new BundleShapeError(`its mediaType ${JSON.stringify(mediaType)} is not a Sigstore bundle media type`);
  }
  return mediaType;
}

// ---------------------------------------------------------------------------------------------------
// OCI 1.1 referrer

export interface StoredReferrer {
  manifest: Digest;
  via: 'referrers-api' | 'tag-fallback';
}

// RFC 3339 as image-spec asks for org.opencontainers.image.created (date-time with zone).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Attaches a bundle to `subject` as an OCI 1.1 referrer in the shape cosign v3 and actions/attest write:
 * empty config, the bundle JSON as the one layer, artifactType = the bundle's media type.
 *
 * Idempotent: the same bundle already attached to the subject (even with another `created`, as on a
 * rerun) is not attached again; its manifest is returned instead.
 */
export async function storeBundleReferrer(
  store: ImageStore,
  subject: Descriptor,
  bundle: BundleJson,
  predicateType: string,
  created: string,
): Promise<StoredReferrer> {
  const mediaType = checkBundleMediaType(bundle);
  const content = bundleContent(bundle);
  if (!RFC3339.test(created) || Number.isNaN(Date.parse(created))) {
    throw new SlipwayError(`The creation time ${JSON.stringify(created)} is not an RFC 3339 date-time.`);
  }
  parseDigest(subject.digest);
  const bytes = encodeBundle(bundle);
  const bundleDigest = digestOf(bytes);
  const layer: Descriptor = {
    mediaType,
    digest: bundleDigest,
    size: bytes.byteLength,
    // cosign names the layer so `oras pull` writes it to a recognisable file.
    annotations: { [TITLE_ANNOTATION]: `sha256-${digestHex(bundleDigest)}.sigstore.json` },
  };

  const existing = await findAttached(store, subject.digest, layer.digest, predicateType);
  if (existing !== undefined) return existing;

  await store.putBlob(EMPTY_JSON.bytes);
  await store.putBlob(bytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: mediaType,
    // cosign v3's WriteReferrer repeats the artifactType on the config; readers ignore it, and matching
    // cosign keeps Slipway's referrers indistinguishable from the reference writer's.
    config: { ...EMPTY_JSON.descriptor, artifactType: mediaType },
    layers: [layer],
    // Only the identifying fields: a platform or annotations on the caller's descriptor are not the subject's.
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: {
      [BUNDLE_CONTENT_ANNOTATION]: content,
      [BUNDLE_PREDICATE_TYPE_ANNOTATION]: predicateType,
      [CREATED_ANNOTATION]: created,
    },
  };
  const manifestBytes = encodeJson(manifest);
  const pushed = await pushReferrer(store, manifestBytes, OCI_MANIFEST);
  return { manifest: pushed.descriptor.digest, via: pushed.viaFallback ? 'tag-fallback' : 'referrers-api' };
}

/** A referrer of `subject` already holding the bundle layer `layerDigest`, if there is one. */
async function findAttached(
  store: ImageStore,
  subject: Digest,
  layerDigest: Digest,
  predicateType: string,
): Promise<StoredReferrer | undefined> {
  const { descriptors, via } = await bundleReferrers(store, subject);
  for (const descriptor of descriptors) {
    // Listings carry the manifest annotations (fallback entries always, the API usually), which spares
    // fetching manifests of other predicate types.
    const listed = descriptor.annotations?.[BUNDLE_PREDICATE_TYPE_ANNOTATION];
    if (listed !== undefined && listed !== predicateType) continue;
    const fetched = await fetchReferrer(store, descriptor.digest, subject);
    if (fetched?.layers.some((l) => l.digest === layerDigest)) return { manifest: descriptor.digest, via };
  }
  return undefined;
}

async function bundleReferrers(
  store: ImageStore,
  subject: Digest,
): Promise<{ descriptors: Descriptor[]; via: StoredReferrer['via'] }> {
  const native = await store.nativeReferrers(subject);
  const all = native ?? (await listReferrers(store, subject));
  return {
    descriptors: all.filter((d) => d.artifactType?.startsWith(BUNDLE_MEDIA_TYPE_PREFIX) === true),
    via: native === undefined ? 'tag-fallback' : 'referrers-api',
  };
}

/**
 * A listed referrer's manifest, or undefined where it cannot be one of ours: gone (a fallback index
 * may outlive what it lists), not an image manifest, or about another subject (a fallback index is
 * only a tag anyone could have written).
 */
async function fetchReferrer(store: ImageStore, digest: Digest, subject: Digest): Promise<ImageManifest | undefined> {
  let fetched: FetchedManifest;
  try {
    fetched = await store.getManifest(digest);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  const manifest = fetched.manifest;
  if (isIndex(manifest) || manifest.subject?.digest !== subject) return undefined;
  return manifest;
}

export interface FoundBundle {
  bundle: BundleJson;
  location: StorageLocation;
  /** From the manifest's dev.sigstore.bundle.predicateType annotation; unverified, a hint for filtering. */
  predicateType?: string;
}

/**
 * The bundles attached to `digest` as OCI 1.1 referrers, discovered the way gh and Kyverno do it: the
 * referrers API, else the fallback tag, keeping entries whose artifactType starts with
 * `application/vnd.dev.sigstore.bundle`. Nothing here is verified; entries that are not readable
 * bundles (gone, another subject, not JSON) are skipped as verifiers skip them, while store failures
 * are thrown.
 */
export async function findBundles(store: ImageStore, digest: Digest): Promise<FoundBundle[]> {
  parseDigest(digest);
  const { descriptors, via } = await bundleReferrers(store, digest);
  const found: FoundBundle[] = [];
  for (const descriptor of descriptors) {
    const manifest = await fetchReferrer(store, descriptor.digest, digest);
    if (manifest === undefined) continue;
    const layer = manifest.layers.find((l) => l.mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX));
    if (layer === undefined || layer.size > MAX_BUNDLE_BYTES) continue;
    const bundle = parseJsonObject(await readBlob(store, layer));
    if (bundle === undefined || typeof bundle.mediaType !== 'string') continue;
    if (!bundle.mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX)) continue;
    const predicateType = manifest.annotations?.[BUNDLE_PREDICATE_TYPE_ANNOTATION];
    found.push({
      bundle: bundle as BundleJson,
      location: { kind: 'referrer', manifest: descriptor.digest, via },
      ...(predicateType === undefined ? {} : { predicateType }),
    });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// Legacy cosign `.att`

/** cosign's attestation tag for an image digest: `sha256-<hex>.att`. */
export function cosignAttestationTag(digest: Digest): string {
  const checked = parseDigest(digest);
  // cosign only ever tags sha256 subjects; a sha512 name would not fit the 128-character tag limit.
  if (digestAlgorithm(checked) !== 'sha256') {
    throw new SlipwayError(`cosign's legacy .att tags exist only for sha256 digests, not ${checked}.`);
  }
  return `sha256-${digestHex(checked)}.att`;
}

export interface StoreCosignLegacyOptions {
  /**
   * PEM of the certificates between the leaf and the root (Fulcio's intermediate and root). A v0.3
   * bundle carries only the leaf; without this the chain annotation is left out (cosign then takes the
   * chain from its trusted root) unless the bundle (v0.1/v0.2) has one.
   */
  chainPem?: string;
  /** How many times the tag is re-read and rewritten after another writer changed it first (default 5). */
  conflictRetries?: number;
}

/**
 * Adds the bundle's DSSE envelope as a layer of the legacy `sha256-<hex>.att` manifest, with the layer
 * annotations cosign ≤2 reads. Read-modify-write: layers already there are kept, and an envelope that
 * is already there is not added again.
 */
export async function storeCosignLegacy(
  store: ImageStore,
  subject: Descriptor,
  bundle: BundleJson,
  options: StoreCosignLegacyOptions = {},
): Promise<{ tag: string }> {
  checkBundleMediaType(bundle);
  const envelope = dsseEnvelopeOf(bundle);
  if (envelope === undefined) {
    throw new BundleShapeError('cosign .att layers hold DSSE envelopes, and this bundle has a message signature');
  }
  const tag = cosignAttestationTag(subject.digest);
  // Go's encoding/json field order and the keyid cosign always writes, even empty.
  const envelopeBytes = encodeJson({
    payloadType: envelope.payloadType,
    payload: envelope.payload,
    signatures: envelope.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })),
  });
  const layer: Descriptor = {
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    digest: digestOf(envelopeBytes),
    size: envelopeBytes.byteLength,
    annotations: legacyAnnotations(bundle, envelope, options.chainPem),
  };
  await store.putBlob(envelopeBytes);
  const retries = options.conflictRetries ?? DEFAULT_CONFLICT_RETRIES;
  return legacyWriters.run(`${store.location}\n${tag}`, () => appendLegacyLayer(store, tag, layer, retries));
}

async function appendLegacyLayer(
  store: ImageStore,
  tag: string,
  layer: Descriptor,
  retries: number,
): Promise<{ tag: string }> {
  for (let attempt = 0; ; attempt++) {
    const current = await readLegacyManifest(store, tag);
    const layers = current?.manifest.layers ?? [];
    if (layers.some((l) => l.digest === layer.digest)) return { tag };
    const all = [...layers, layer];
    const config = legacyConfig(all);
    await store.putBlob(config);
    const manifest: ImageManifest = {
      // Whatever else an existing manifest carries (annotations of other tools) is kept.
      ...current?.manifest,
      schemaVersion: 2,
      mediaType: current?.manifest.mediaType ?? OCI_MANIFEST,
      // An existing manifest's config type is kept (a Docker-typed one stays consistent with its manifest).
      config: {
        mediaType: current?.manifest.config.mediaType ?? OCI_CONFIG,
        size: config.byteLength,
        digest: digestOf(config),
      },
      layers: all,
    };
    const ifMatch = current?.fetched.etag;
    try {
      await store.putManifest(encodeJson(manifest), manifest.mediaType ?? OCI_MANIFEST, { tag, ifMatch });
    } catch (error) {
      if (error instanceof ConflictError && attempt < retries) continue;
      throw error;
    }
    if (ifMatch !== undefined) return { tag };
    // Unguarded (a new tag, or a store without ETags): read back in case another writer won the race.
    const written = await readLegacyManifest(store, tag);
    if (written?.manifest.layers.some((l) => l.digest === layer.digest)) return { tag };
    if (attempt >= retries) {
      throw new SlipwayError(
        `Could not add an attestation to ${tag} at ${store.location}: other writers kept replacing it.`,
      );
    }
  }
}

/**
 * The image config cosign's signature images have (go-containerregistry's empty image with the layers
 * appended): clients that check rootfs.diff_ids against layers (skopeo copy) accept the manifest.
 */
function legacyConfig(layers: Descriptor[]): Uint8Array {
  const epoch = '0001-01-01T00:00:00Z';
  return encodeJson({
    architecture: '',
    created: epoch,
    history: layers.map(() => ({ created: epoch })),
    os: '',
    // The layers are stored uncompressed, so each diff_id is the layer digest.
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    config: {},
  });
}

async function readLegacyManifest(
  store: ImageStore,
  tag: string,
): Promise<{ fetched: FetchedManifest; manifest: ImageManifest } | undefined> {
  let fetched: FetchedManifest;
  try {
    fetched = await store.getManifest(tag);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  if (isIndex(fetched.manifest)) {
    throw new SlipwayError(
      `The cosign attestation tag ${tag} at ${store.location} is an index, not an image manifest.`,
    );
  }
  return { fetched, manifest: fetched.manifest };
}

/** cosign's layer annotations, derived from the bundle; Go marshals maps with sorted keys, and so do we. */
function legacyAnnotations(
  bundle: BundleJson,
  envelope: DsseEnvelopeJson,
  chainPem: string | undefined,
): Record<string, string> {
  const annotations: Record<string, string> = {
    // For attestations cosign leaves the signature empty: it is inside the envelope.
    [COSIGN_ANNOTATIONS.signature]: '',
  };
  const rekor = rekorSetBundle(bundle);
  if (rekor !== undefined) annotations[COSIGN_ANNOTATIONS.bundle] = rekor;
  const certificates = bundleCertificates(bundle);
  const [leaf, ...rest] = certificates;
  if (leaf !== undefined) annotations[COSIGN_ANNOTATIONS.certificate] = pem(leaf);
  const chain = chainPem ?? (rest.length > 0 ? rest.map(pem).join('') : undefined);
  if (chain !== undefined && chain !== '') annotations[COSIGN_ANNOTATIONS.chain] = chain;
  const timestamp = rfc3161Timestamp(bundle);
  if (timestamp !== undefined) annotations[COSIGN_ANNOTATIONS.rfc3161Timestamp] = timestamp;
  annotations[COSIGN_ANNOTATIONS.predicateType] = statementPredicateType(envelope);
  return Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function statementPredicateType(envelope: DsseEnvelopeJson): string {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new BundleShapeError(`its DSSE payloadType is ${envelope.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  const statement = parseJsonObject(Buffer.from(envelope.payload, 'base64'));
  if (statement === undefined || typeof statement.predicateType !== 'string') {
    throw new BundleShapeError('its DSSE payload is not an in-toto statement with a predicateType');
  }
  return statement.predicateType;
}

/** DER certificates (base64) of the bundle, leaf first: v0.3 `certificate`, or v0.1/v0.2 `x509CertificateChain`. */
function bundleCertificates(bundle: BundleJson): string[] {
  const material = bundle.verificationMaterial;
  if (!isObject(material)) throw new BundleShapeError('it has no verificationMaterial');
  const single = material.certificate;
  if (isObject(single) && typeof single.rawBytes === 'string') return [single.rawBytes];
  const chain = material.x509CertificateChain;
  if (isObject(chain) && Array.isArray(chain.certificates)) {
    return chain.certificates.flatMap((c) => (isObject(c) && typeof c.rawBytes === 'string' ? [c.rawBytes] : []));
  }
  // A key-signed bundle (publicKey hint): cosign then has no certificate annotation either.
  return [];
}

/** PEM armour around base64 DER, 64 columns, as Go's pem.Encode writes it. */
function pem(derBase64: string): string {
  const body = Buffer.from(derBase64, 'base64').toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * cosign's `dev.sigstore.cosign/bundle`: the Rekor v1 SET with the entry it signs. Only entries with an
 * inclusion promise have a SET; Rekor v2 entries (inclusion proof only) give none, and cosign ≤2
 * then needs a timestamp or the tlog online.
 */
function rekorSetBundle(bundle: BundleJson): string | undefined {
  const material = bundle.verificationMaterial;
  if (!isObject(material) || !Array.isArray(material.tlogEntries)) return undefined;
  for (const entry of material.tlogEntries) {
    if (!isObject(entry)) continue;
    const promise = entry.inclusionPromise;
    const logId = entry.logId;
    if (!isObject(promise) || typeof promise.signedEntryTimestamp !== 'string') continue;
    if (!isObject(logId) || typeof logId.keyId !== 'string') continue;
    if (typeof entry.canonicalizedBody !== 'string') continue;
    const integratedTime = Number(entry.integratedTime);
    const logIndex = Number(entry.logIndex);
    if (!Number.isSafeInteger(integratedTime) || !Number.isSafeInteger(logIndex)) continue;
    // Field order and names of cosign's bundle.RekorBundle / RekorPayload; logID is hex there, base64 in the bundle.
    return JSON.stringify({
      SignedEntryTimestamp: promise.signedEntryTimestamp,
      Payload: {
        body: entry.canonicalizedBody,
        integratedTime,
        logIndex,
        logID: Buffer.from(logId.keyId, 'base64').toString('hex'),
      },
    });
  }
  return undefined;
}

/** cosign's `dev.sigstore.cosign/rfc3161timestamp`: `{"SignedRFC3161Timestamp": <base64 DER>}`. */
function rfc3161Timestamp(bundle: BundleJson): string | undefined {
  const material = bundle.verificationMaterial;
  if (!isObject(material)) return undefined;
  const data = material.timestampVerificationData;
  if (!isObject(data) || !Array.isArray(data.rfc3161Timestamps)) return undefined;
  const first: unknown = data.rfc3161Timestamps[0];
  if (!isObject(first) || typeof first.signedTimestamp !== 'string') return undefined;
  return JSON.stringify({ SignedRFC3161Timestamp: first.signedTimestamp });
}

export interface LegacyAttestation {
  location: { kind: 'cosign-legacy'; tag: string };
  /** The `.att` layer as listed, annotations included. */
  layer: Descriptor;
  envelope: DsseEnvelopeJson;
  /** The layer's cosign annotations (certificate PEM, chain, Rekor SET bundle, RFC 3161 timestamp). */
  annotations: Record<string, string>;
  /** From the layer's predicateType annotation; unverified. */
  predicateType?: string;
}

/**
 * The attestations in cosign's legacy `sha256-<hex>.att` manifest for `digest`, as envelope plus
 * annotations. They are not turned back into bundles: a v0.3 bundle needs the Rekor entry's kind,
 * version and inclusion proof, which the annotations do not hold, so a reconstruction would be a
 * guess that verifies differently from the original. Layers that are not readable envelopes are skipped.
 */
export async function findLegacyAttestations(store: ImageStore, digest: Digest): Promise<LegacyAttestation[]> {
  const tag = cosignAttestationTag(digest);
  const current = await readLegacyManifest(store, tag);
  if (current === undefined) return [];
  const found: LegacyAttestation[] = [];
  for (const layer of current.manifest.layers) {
    if (layer.mediaType !== DSSE_ENVELOPE_MEDIA_TYPE || layer.size > MAX_BUNDLE_BYTES) continue;
    const parsed = parseJsonObject(await readBlob(store, layer));
    if (parsed === undefined) continue;
    let envelope: DsseEnvelopeJson | undefined;
    try {
      envelope = dsseEnvelopeOf({ mediaType: '', dsseEnvelope: parsed });
    } catch (error) {
      if (error instanceof BundleShapeError) continue;
      throw error;
    }
    if (envelope === undefined) continue;
    const annotations = { ...layer.annotations };
    const predicateType = annotations[COSIGN_ANNOTATIONS.predicateType];
    found.push({
      location: { kind: 'cosign-legacy', tag },
      layer,
      envelope,
      annotations,
      ...(predicateType === undefined ? {} : { predicateType }),
    });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Writers of one `.att` tag take turns within this process; other processes are caught by the ETag guard. */
const legacyWriters = new KeyedQueue();
