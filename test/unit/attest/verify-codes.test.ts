import { generateKeyPairSync } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder } from '@sigstore/sign';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyHint, keySigner, signStatement } from '../../../shared/attest/sign.js';
import { EMPTY_TRUSTED_ROOT } from '../../../shared/attest/trusted-root.js';
import {
  type BundleJson,
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPES,
  type StorageLocation,
  type WorkflowClaims,
} from '../../../shared/attest/types.js';
import {
  VERIFICATION_FAILURE_CODES,
  type VerificationFailureCode,
  type VerificationOutcome,
  type VerifyBundlesInput,
  verifyBundles,
} from '../../../shared/attest/verify.js';
import { digestOf } from '../../../shared/oci/digest.js';
import type { Digest } from '../../../shared/oci/types.js';
import { imageStatement, keylessSigning, RELEASE_POLICY } from '../../support/attestations.js';
import { GITHUB_ISSUER, type Sigstore, startSigstore } from '../../support/sigstore.js';

// Every failure code verification.json can carry, each produced by a real bundle from the loopback Sigstore
// (or a key) going through the real checks: policies and the evidence action act on these codes, so each must
// come from the failure it names, and the table must cover the whole list.

const IMAGE = digestOf(Buffer.from('image manifest'));
const OTHER_IMAGE = digestOf(Buffer.from('another image manifest'));
const LOCATION: StorageLocation = { kind: 'referrer', manifest: digestOf(Buffer.from('m')), via: 'referrers-api' };

let sigstore: Sigstore;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const PRIVATE_PEM = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const PUBLIC_PEM = publicKey.export({ format: 'pem', type: 'spki' }).toString();
const HINT = keyHint(publicKey.export({ format: 'der', type: 'spki' }));
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
const OTHER_PEM = other.export({ format: 'pem', type: 'spki' }).toString();
const OTHER_HINT = keyHint(other.export({ format: 'der', type: 'spki' }));

beforeAll(async () => {
  sigstore = await startSigstore();
});

afterAll(async () => {
  await sigstore?.close();
});

function keyless(
  claims: Partial<WorkflowClaims> = {},
  options: { digest?: Digest; rekor?: boolean; tsa?: boolean } = {},
): Promise<BundleJson> {
  return signStatement(imageStatement(options.digest ?? IMAGE), keylessSigning(sigstore, claims, options), {
    retry: 0,
  });
}

function keyed(options: { rekor?: boolean; tsa?: boolean } = {}): Promise<BundleJson> {
  return signStatement(imageStatement(IMAGE), {
    kind: 'key',
    privateKeyPem: PRIVATE_PEM,
    ...(options.rekor ? { rekorUrl: sigstore.rekorUrl } : {}),
    ...(options.tsa ? { tsaUrl: sigstore.tsaUrl } : {}),
  });
}

/** A key-signed DSSE envelope around any payload, for payloads signStatement refuses to sign. */
async function keyedPayload(payload: string, type = IN_TOTO_PAYLOAD_TYPE): Promise<BundleJson> {
  const bundle = await new DSSEBundleBuilder({ signer: keySigner(PRIVATE_PEM), witnesses: [] }).create({
    data: Buffer.from(payload),
    type,
  });
  return { ...bundleToJSON(bundle) };
}

function withPayload(bundle: BundleJson, payload: unknown): BundleJson {
  const envelope = bundle.dsseEnvelope as Record<string, unknown>;
  return {
    ...bundle,
    dsseEnvelope: { ...envelope, payload: Buffer.from(JSON.stringify(payload)).toString('base64') },
  };
}

function run(bundles: BundleJson[], options: Partial<VerifyBundlesInput> = {}): Promise<VerificationOutcome> {
  return verifyBundles({
    candidates: bundles.map((bundle) => ({ bundle, location: LOCATION })),
    subjectDigest: IMAGE,
    trustedRoot: sigstore.trustedRoot,
    policy: RELEASE_POLICY,
    requiredPredicateTypes: [PREDICATE_TYPES.slsaProvenance],
    ...options,
  });
}

const keyOnly = { trustedRoot: undefined, publicKeys: { [HINT]: PUBLIC_PEM } } as const;
const withKey = { publicKeys: { [HINT]: PUBLIC_PEM }, tlogThreshold: 0, timestampThreshold: 0 } as const;

/** For each code: how to get it, and a pattern its message must match. */
const cases: Record<VerificationFailureCode, () => Promise<[VerificationOutcome, RegExp]>> = {
  NO_ATTESTATION: async () => [await run([]), /^no attestation found for sha256:/],
  NO_VALID_ATTESTATION: async () => [
    await run([await keyless({}, { digest: OTHER_IMAGE })]),
    /^no attestation for sha256:\w+ passed verification$/,
  ],
  PREDICATE_TYPE_MISSING: async () => [
    await run([await keyless()], { requiredPredicateTypes: [PREDICATE_TYPES.cyclonedx] }),
    /^missing required predicate types: https:\/\/cyclonedx\.org\/bom$/,
  ],
  BUNDLE_INVALID: async () => [
    await run([{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }]),
    /invalid Sigstore bundle/,
  ],
  STATEMENT_INVALID: async () => [await run([await keyedPayload('not json')], withKey), /the DSSE payload is not JSON/],
  SUBJECT_MISMATCH: async () => [
    await run([await keyless({}, { digest: OTHER_IMAGE })]),
    /subject mismatch: the attestation is for ghcr\.io\/acme\/app@sha256:/,
  ],
  // Key-signed with no log entry: nothing but the signature can notice the swapped payload.
  SIGNATURE_INVALID: async () => [
    await run([withPayload(await keyed(), { ...imageStatement(IMAGE), predicate: { forged: true } })], withKey),
    /signature verification failed \(SIGNATURE_ERROR\)/,
  ],
  CERTIFICATE_CHAIN_INVALID: async () => [
    await run([await keyless()], { trustedRoot: { ...sigstore.trustedRoot, certificateAuthorities: [] } }),
    /\(CERTIFICATE_ERROR\)/,
  ],
  // GitHub's private instance signs with a timestamp only; the public-good policy requires a log entry.
  TLOG_MISSING: async () => [
    await run([await keyless({}, { rekor: false })]),
    /\(TLOG_ERROR\): expected 1 tlog entries, got 0/,
  ],
  TLOG_INVALID: async () => [
    await run([withPayload(await keyless(), { ...imageStatement(IMAGE), predicate: { forged: true } })]),
    /\(TLOG_BODY_ERROR\)/,
  ],
  TIMESTAMP_MISSING: async () => [
    await run([await keyed()], { publicKeys: { [HINT]: PUBLIC_PEM } }),
    /\(TIMESTAMP_ERROR\): expected 1 timestamps, got 0/,
  ],
  TIMESTAMP_INVALID: async () => [
    await run([await keyed({ tsa: true })], { ...withKey, trustedRoot: EMPTY_TRUSTED_ROOT }),
    /\(TIMESTAMP_ERROR\)/,
  ],
  KEY_MISSING: async () => [await run([await keyed()]), /signed with a key \(hint .+\), and no public key was given/],
  KEY_MISMATCH: async () => [
    await run([await keyed()], { ...keyOnly, publicKeys: { [OTHER_HINT]: OTHER_PEM } }),
    /signed by another key: the attestation names key .+, the given key is /,
  ],
  TRUSTED_ROOT_INVALID: async () => [
    await run([await keyless()], {
      trustedRoot: {
        ...sigstore.trustedRoot,
        tlogs: [{ baseUrl: 'https://rekor.example', hashAlgorithm: 'SHA2_256', publicKey: {}, logId: {} }],
      },
    }),
    /^the trusted root cannot be used: /,
  ],
  IDENTITY_POLICY_MISSING: async () => [
    await run([await keyless()], { policy: undefined }),
    /keyless bundle but no identity policy was given/,
  ],
  IDENTITY_MISMATCH: async () => [
    await run([await keyless({ job_workflow_ref: 'acme/app/.github/workflows/other.yml@refs/heads/main' })]),
    /wrong signer identity: expected SAN matching .*, got https:\/\/github\.com\/acme\/app\/\.github\/workflows\/other\.yml/,
  ],
  ISSUER_MISMATCH: async () => [
    await run([await keyless({ iss: 'https://token.evil.example' })]),
    /wrong issuer: expected https:\/\/token\.actions\.githubusercontent\.com, got https:\/\/token\.evil\.example/,
  ],
  SOURCE_REPOSITORY_MISMATCH: async () => [
    await run([
      await keyless({
        repository: 'acme/fork',
        job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
      }),
    ]),
    /wrong source repository: expected https:\/\/github\.com\/acme\/app, got https:\/\/github\.com\/acme\/fork/,
  ],
  RUNNER_ENVIRONMENT_MISMATCH: async () => [
    await run([await keyless({ runner_environment: 'self-hosted' })], {
      policy: { ...RELEASE_POLICY, runnerEnvironment: 'github-hosted' },
    }),
    /wrong runner environment: expected github-hosted, got self-hosted/,
  ],
  SOURCE_COMMIT_MISMATCH: async () => [
    await run([await keyless()], { policy: { ...RELEASE_POLICY, sourceCommit: 'f'.repeat(40) } }),
    /wrong source commit: expected f{40}, got 4f3c2a1b/,
  ],
  SOURCE_REF_MISMATCH: async () => [
    await run([await keyless({ job_workflow_ref: 'slipway-dev/slipway/.github/workflows/release.yml@refs/tags/v1' })], {
      policy: {
        issuer: GITHUB_ISSUER,
        repository: 'acme/app',
        signerWorkflow: 'slipway-dev/slipway/.github/workflows/release.yml',
        ref: 'refs/tags/*',
      },
    }),
    /wrong source ref: expected refs\/tags\/\*, got refs\/heads\/main/,
  ],
};

describe('verification failure codes', () => {
  it('has a case for every code', () => {
    expect(Object.keys(cases).sort()).toEqual([...VERIFICATION_FAILURE_CODES].sort());
  });

  it.each(VERIFICATION_FAILURE_CODES)(
    '%s comes from the failure it names, in the record and its reasons',
    async (code) => {
      const [outcome, message] = await cases[code]();
      expect(outcome.verified).toBe(false);
      const reason = outcome.reasons.find((r) => r.code === code);
      expect(reason, JSON.stringify(outcome.reasons)).toBeDefined();
      expect(reason!.message).toMatch(message);
      // A failed attestation carries the same code beside its failure message.
      const failed = outcome.attestations.filter((a) => !a.passed);
      if (!['NO_ATTESTATION', 'NO_VALID_ATTESTATION', 'PREDICATE_TYPE_MISSING'].includes(code)) {
        expect(failed.map((a) => a.code)).toEqual([code]);
        expect(failed[0]!.failure).toMatch(message);
      }
    },
  );
});

describe('key-only verification (a key, no trusted root)', () => {
  it('verifies a key-signed bundle on its signature alone, saying its log entry and timestamp went unchecked', async () => {
    const bundle = await keyed({ rekor: true, tsa: true });
    const outcome = await run([bundle], keyOnly);
    expect(outcome.verified).toBe(true);
    expect(outcome.attestations[0]).toMatchObject({ passed: true, signer: HINT });
    expect(outcome.attestations[0]!.checks).toEqual(
      expect.arrayContaining([
        `signature verified with public key "${HINT}"`,
        'transparency log entries and timestamps not checked: no trusted root was given, the key alone is trusted',
      ]),
    );
  });

  it('still checks log entries and timestamps when a trusted root is given', async () => {
    const logged = await keyed({ rekor: true });
    expect((await run([logged], withKey)).verified).toBe(true);
    // A root that does not know the log: the entry cannot be verified, and the attestation fails.
    const outcome = await run([logged], { ...withKey, trustedRoot: { ...sigstore.trustedRoot, tlogs: [] } });
    expect(outcome.attestations[0]).toMatchObject({ passed: false, code: 'TLOG_INVALID' });
  });

  it('refuses a keyless attestation, which only a trusted root can check', async () => {
    const outcome = await run([await keyless()], keyOnly);
    expect(outcome.attestations[0]).toMatchObject({ passed: false, code: 'KEY_MISMATCH' });
    expect(outcome.attestations[0]!.failure).toBe(
      `signed keylessly (with a certificate), not with the given key ${HINT}; checking keyless attestations needs a trusted root`,
    );
  });

  it('trusts the one given key whatever hint the bundle names, the signature deciding', async () => {
    const bundle = await keyed();
    const material = bundle.verificationMaterial as { publicKey: { hint: string } };
    const renamed = { ...bundle, verificationMaterial: { ...material, publicKey: { hint: 'another-signers-hint' } } };
    const outcome = await run([renamed], keyOnly);
    expect(outcome.verified).toBe(true);
    expect(outcome.attestations[0]!.signer).toBe(HINT);
  });
});
