import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyHint, signStatement } from '../../../shared/attest/sign.js';
import {
  type BundleJson,
  type IdentityPolicy,
  PREDICATE_TYPES,
  type StorageLocation,
  type WorkflowClaims,
} from '../../../shared/attest/types.js';
import {
  type AttestationCheck,
  type CandidateBundle,
  identityMatcher,
  verifierFormats,
  verifyBundles,
} from '../../../shared/attest/verify.js';
import { digestHex, digestOf } from '../../../shared/oci/digest.js';
import type { Digest } from '../../../shared/oci/types.js';
import { imageStatement, keylessSigning, RELEASE_POLICY } from '../../support/attestations.js';
import { GITHUB_ISSUER, type Sigstore, startSigstore } from '../../support/sigstore.js';

// Bundles are signed for real by the loopback Fulcio/Rekor/TSA and verified against its trusted root, so
// every failure below comes from the same checks a production bundle goes through.

const IMAGE = digestOf(Buffer.from('image manifest'));
const OTHER_IMAGE = digestOf(Buffer.from('another image manifest'));
const RELEASE_SAN = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const REFERRER: StorageLocation = {
  kind: 'referrer',
  manifest: digestOf(Buffer.from('referrer manifest')),
  via: 'referrers-api',
};
const GITHUB: StorageLocation = { kind: 'github', id: 42 };
const LEGACY: StorageLocation = { kind: 'cosign-legacy', tag: `sha256-${digestHex(IMAGE)}.att` };

let sigstore: Sigstore;

beforeAll(async () => {
  sigstore = await startSigstore();
});

afterAll(async () => {
  await sigstore?.close();
});

async function keyless(predicateType: string, claims: Partial<WorkflowClaims> = {}, digest?: Digest) {
  return signStatement(imageStatement(digest ?? IMAGE, predicateType), keylessSigning(sigstore, claims), { retry: 0 });
}

function verify(
  candidates: CandidateBundle[],
  options: { policy?: IdentityPolicy; required?: string[]; publicKeys?: Record<string, string> } = {},
) {
  return verifyBundles({
    candidates,
    subjectDigest: IMAGE,
    trustedRoot: sigstore.trustedRoot,
    policy: 'policy' in options ? options.policy : RELEASE_POLICY,
    publicKeys: options.publicKeys,
    requiredPredicateTypes: options.required ?? [PREDICATE_TYPES.slsaProvenance],
  });
}

/** The one attestation's failure, after checking that the outcome as a whole failed because of it. */
async function onlyFailure(
  candidate: CandidateBundle,
  options: Parameters<typeof verify>[1] = {},
): Promise<string | undefined> {
  const outcome = await verify([candidate], options);
  expect(outcome.verified).toBe(false);
  expect(outcome.attestations).toHaveLength(1);
  expect(outcome.attestations[0]!.passed).toBe(false);
  return outcome.attestations[0]!.failure;
}

describe('verifyBundles', () => {
  it('passes a keyless SLSA attestation signed by the policy workflow, and records what it checked', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance);
    const outcome = await verify([{ bundle, location: REFERRER }]);
    expect(outcome).toEqual({
      verified: true,
      missingPredicateTypes: [],
      reasons: [],
      attestations: [
        {
          location: REFERRER,
          predicateType: PREDICATE_TYPES.slsaProvenance,
          signer: RELEASE_SAN,
          issuer: GITHUB_ISSUER,
          passed: true,
          checks: [
            'bundle is application/vnd.dev.sigstore.bundle.v0.3+json',
            'signature, certificate chain, transparency log and timestamps verified',
            'SAN https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main matches ^(?i:https://github\\.com/acme/app)/\\.github/workflows/release\\.yml@refs/heads/main$',
            `issuer is ${GITHUB_ISSUER}`,
            'source repository is https://github.com/acme/app',
            'payload type is application/vnd.in-toto+json',
            'statement type is https://in-toto.io/Statement/v1',
            `a subject is ${IMAGE}`,
            'predicate type is https://slsa.dev/provenance/v1',
          ],
        },
      ],
    });
  });

  it('fails another workflow of the same repository, saying which SAN was expected and which was found', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance, {
      job_workflow_ref: 'acme/app/.github/workflows/other.yml@refs/heads/main',
    });
    const outcome = await verify([{ bundle, location: REFERRER }]);
    const failure =
      'wrong signer identity: expected SAN matching ^(?i:https://github\\.com/acme/app)/\\.github/workflows/release\\.yml@refs/heads/main$, ' +
      'got https://github.com/acme/app/.github/workflows/other.yml@refs/heads/main';
    expect(outcome.verified).toBe(false);
    expect(outcome.attestations[0]).toMatchObject({ passed: false, failure, code: 'IDENTITY_MISMATCH' });
    expect(outcome.reasons).toEqual([
      {
        code: 'IDENTITY_MISMATCH',
        message: `referrer ${REFERRER.kind === 'referrer' ? REFERRER.manifest : ''} (referrers-api): ${failure}`,
      },
      { code: 'PREDICATE_TYPE_MISSING', message: 'missing required predicate types: https://slsa.dev/provenance/v1' },
      { code: 'NO_VALID_ATTESTATION', message: `no attestation for ${IMAGE} passed verification` },
    ]);
  });

  it('fails a certificate from another OIDC issuer', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance, { iss: 'https://token.evil.example' });
    expect(await onlyFailure({ bundle, location: REFERRER })).toBe(
      'wrong issuer: expected https://token.actions.githubusercontent.com, got https://token.evil.example',
    );
  });

  it('fails a bundle whose payload was swapped after signing, with the library error code', async () => {
    const signed = await keyless(PREDICATE_TYPES.slsaProvenance);
    const envelope = signed.dsseEnvelope as { payload: string };
    const forged = { ...imageStatement(IMAGE), predicate: { forged: true } };
    const bundle: BundleJson = {
      ...signed,
      dsseEnvelope: { ...envelope, payload: Buffer.from(JSON.stringify(forged)).toString('base64') },
    };
    expect(await onlyFailure({ bundle, location: REFERRER })).toBe(
      'signature verification failed (TLOG_BODY_ERROR): DSSE payload hash mismatch',
    );
  });

  it('fails a valid attestation about another image', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance, {}, OTHER_IMAGE);
    expect(await onlyFailure({ bundle, location: REFERRER })).toBe(
      `subject mismatch: the attestation is for ghcr.io/acme/app@${OTHER_IMAGE}, not ${IMAGE}`,
    );
  });

  it('fails closed when nothing was found', async () => {
    const outcome = await verify([], { required: [PREDICATE_TYPES.slsaProvenance, PREDICATE_TYPES.spdx] });
    expect(outcome).toEqual({
      verified: false,
      attestations: [],
      missingPredicateTypes: [PREDICATE_TYPES.slsaProvenance, PREDICATE_TYPES.spdx],
      reasons: [{ code: 'NO_ATTESTATION', message: `no attestation found for ${IMAGE}` }],
    });
  });

  it('fails when a required predicate type has no passing attestation, even though the others pass', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance);
    const outcome = await verify([{ bundle, location: REFERRER }], {
      required: [PREDICATE_TYPES.slsaProvenance, PREDICATE_TYPES.cyclonedx, PREDICATE_TYPES.spdx],
    });
    expect(outcome.verified).toBe(false);
    expect(outcome.attestations[0]!.passed).toBe(true);
    expect(outcome.missingPredicateTypes).toEqual([PREDICATE_TYPES.cyclonedx, PREDICATE_TYPES.spdx]);
    expect(outcome.reasons).toEqual([
      {
        code: 'PREDICATE_TYPE_MISSING',
        message: 'missing required predicate types: https://cyclonedx.org/bom, https://spdx.dev/Document/v2.3',
      },
    ]);
  });

  it("accepts cosign's unversioned SPDX type for GitHub's versioned one, but not another version", async () => {
    const bare = await keyless('https://spdx.dev/Document');
    const required = [PREDICATE_TYPES.spdx];
    expect((await verify([{ bundle: bare, location: LEGACY }], { required })).verified).toBe(true);
    const versioned = await keyless(PREDICATE_TYPES.spdx);
    expect(
      (await verify([{ bundle: versioned, location: GITHUB }], { required: ['https://spdx.dev/Document'] })).verified,
    ).toBe(true);
    const other = await keyless('https://spdx.dev/Document/v3.0');
    expect((await verify([{ bundle: other, location: GITHUB }], { required })).missingPredicateTypes).toEqual(required);
  });

  it('verifies a key-based bundle with its public key, where the identity policy does not apply', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const bundle = await signStatement(imageStatement(IMAGE), {
      kind: 'key',
      privateKeyPem,
      rekorUrl: sigstore.rekorUrl,
      tsaUrl: sigstore.tsaUrl,
    });
    const material = bundle.verificationMaterial as { publicKey: { hint: string } };
    const hint = material.publicKey.hint;

    const outcome = await verify([{ bundle, location: REFERRER }], { publicKeys: { [hint]: publicKeyPem } });
    expect(outcome.verified).toBe(true);
    expect(outcome.attestations[0]).toMatchObject({ signer: hint, passed: true });
    expect(outcome.attestations[0]!.issuer).toBeUndefined();
    expect(outcome.attestations[0]!.checks).toContain(
      'key-based bundle: the identity policy does not apply; the trusted public key is the identity',
    );

    // Without the key there is nothing to trust it by.
    expect(await onlyFailure({ bundle, location: REFERRER })).toBe(
      `signed with a key (hint ${hint}), and no public key was given to verify it`,
    );
    // Another key says so, naming both keys.
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    const strangerPem = stranger.export({ format: 'pem', type: 'spki' }).toString();
    const strangerHint = keyHint(stranger.export({ format: 'der', type: 'spki' }));
    expect(await onlyFailure({ bundle, location: REFERRER }, { publicKeys: { [strangerHint]: strangerPem } })).toBe(
      `signed by another key: the attestation names key ${hint}, the given key is ${strangerHint} ` +
        '(hints: base64 SHA-256 of each public key)',
    );
    // A different key under the bundle's own hint: the signature is what fails.
    expect(await onlyFailure({ bundle, location: REFERRER }, { publicKeys: { [hint]: strangerPem } })).toBe(
      'signature verification failed (SIGNATURE_ERROR): signature verification failed',
    );
  });

  it('matches a tag ref against a glob, and a glob cannot reach past the "@" that ends the ref', async () => {
    const policy = { ...RELEASE_POLICY, ref: 'refs/tags/v*' };
    const tagged = await keyless(PREDICATE_TYPES.slsaProvenance, { ref: 'refs/tags/v1.2.3' });
    expect((await verify([{ bundle: tagged, location: REFERRER }], { policy })).verified).toBe(true);

    const smuggled = await keyless(PREDICATE_TYPES.slsaProvenance, {
      job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/tags/v1@evil',
    });
    expect(await onlyFailure({ bundle: smuggled, location: REFERRER }, { policy })).toBe(
      'wrong signer identity: expected SAN matching ^(?i:https://github\\.com/acme/app)/\\.github/workflows/release\\.yml@refs/tags/v[^@]*$, ' +
        'got https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1@evil',
    );
  });

  it('checks the source repository, runner environment and commit the policy names against the certificate', async () => {
    // A SAN that matches the policy while the token names another source repository: only .12 catches it.
    const fork = await keyless(PREDICATE_TYPES.slsaProvenance, {
      repository: 'acme/fork',
      job_workflow_ref: RELEASE_SAN.slice(19),
    });
    expect(await onlyFailure({ bundle: fork, location: REFERRER })).toBe(
      'wrong source repository: expected https://github.com/acme/app, got https://github.com/acme/fork (certificate extension 1.3.6.1.4.1.57264.1.12)',
    );

    const selfHosted = await keyless(PREDICATE_TYPES.slsaProvenance, { runner_environment: 'self-hosted' });
    const policy = {
      ...RELEASE_POLICY,
      runnerEnvironment: 'github-hosted',
      sourceCommit: '4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b',
    };
    expect(await onlyFailure({ bundle: selfHosted, location: REFERRER }, { policy })).toBe(
      'wrong runner environment: expected github-hosted, got self-hosted (certificate extension 1.3.6.1.4.1.57264.1.11)',
    );

    const hosted = await keyless(PREDICATE_TYPES.slsaProvenance);
    const passed = await verify([{ bundle: hosted, location: REFERRER }], { policy });
    expect(passed.verified).toBe(true);
    expect(passed.attestations[0]!.checks).toEqual(
      expect.arrayContaining([
        'runner environment is github-hosted',
        'source commit is 4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b',
      ]),
    );
    expect(
      await onlyFailure(
        { bundle: hosted, location: REFERRER },
        { policy: { ...policy, sourceCommit: 'f'.repeat(40) } },
      ),
    ).toBe(
      `wrong source commit: expected ${'f'.repeat(40)}, got 4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b (certificate extension 1.3.6.1.4.1.57264.1.13)`,
    );
  });

  it('refuses a keyless bundle when no identity policy was given', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance);
    expect(await onlyFailure({ bundle, location: REFERRER }, { policy: undefined })).toBe(
      'keyless bundle but no identity policy was given to check its signer against',
    );
  });

  it('verifies when one good attestation per required type passes, whatever else failed', async () => {
    const good = await keyless(PREDICATE_TYPES.slsaProvenance);
    const stale = await keyless(PREDICATE_TYPES.slsaProvenance, {}, OTHER_IMAGE);
    const outcome = await verify([
      { bundle: stale, location: GITHUB },
      { bundle: good, location: REFERRER },
    ]);
    expect(outcome.verified).toBe(true);
    expect(outcome.reasons).toEqual([]);
    expect(outcome.attestations.map((a) => a.passed)).toEqual([false, true]);
  });

  it('reports a malformed bundle as that attestation failing, not as an exception', async () => {
    const bundle: BundleJson = { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' };
    expect(await onlyFailure({ bundle, location: REFERRER })).toMatch(/^invalid Sigstore bundle: /);
  });
});

describe('identityMatcher', () => {
  it('anchors the SAN and escapes every policy value', () => {
    const { san, extensions } = identityMatcher(RELEASE_POLICY);
    expect(extensions).toEqual({ issuer: GITHUB_ISSUER });
    expect(san.test(RELEASE_SAN)).toBe(true);
    expect(san.test(`${RELEASE_SAN}x`)).toBe(false);
    expect(san.test(`https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main/x`)).toBe(false);
    expect(san.test(`https://evil.example/?${RELEASE_SAN}`)).toBe(false);
    // "." in the path is a literal dot, not any character.
    expect(san.test('https://github.com/acme/app/.github/workflows/releaseXyml@refs/heads/main')).toBe(false);
    expect(san.test('https://github.com/acme/appx/.github/workflows/release.yml@refs/heads/main')).toBe(false);
  });

  it('turns a ref glob into a pattern confined to the ref', () => {
    const { san } = identityMatcher({ ...RELEASE_POLICY, ref: 'refs/tags/v*' });
    const workflow = 'https://github.com/acme/app/.github/workflows/release.yml';
    expect(san.test(`${workflow}@refs/tags/v1.2.3`)).toBe(true);
    expect(san.test(`${workflow}@refs/tags/v`)).toBe(true);
    expect(san.test(`${workflow}@refs/tags/v1@evil`)).toBe(false);
    expect(san.test(`${workflow}@refs/heads/v1`)).toBe(false);
    expect(san.test(`${workflow}@refs/tags/x1`)).toBe(false);
  });

  it('leaves unnamed parts open but confined to their own slot', () => {
    const { san, describe: text } = identityMatcher({ issuer: GITHUB_ISSUER, repository: 'acme/app' });
    expect(san.test(RELEASE_SAN)).toBe(true);
    expect(san.test('https://github.com/acme/app/.github/workflows/any.yml@refs/pull/1/merge')).toBe(true);
    expect(san.test('https://github.com/other/app/.github/workflows/release.yml@refs/heads/main')).toBe(false);
    expect(text).toBe(
      'workflow acme/app/<any workflow>@<any ref> (SAN ^(?i:https://github\\.com/acme/app)/[^@]+@[^@]+$), issuer https://token.actions.githubusercontent.com',
    );
  });

  it('rejects a repository that is not owner/name', () => {
    expect(() => identityMatcher({ issuer: GITHUB_ISSUER, repository: 'acme/app/.github' })).toThrow(
      'Invalid repository "acme/app/.github": expected owner/name.',
    );
  });
});

describe('verifierFormats', () => {
  const check = (location: StorageLocation, passed: boolean): AttestationCheck => ({ location, passed, checks: [] });

  it('names the verifiers that read where the passing attestations are stored', () => {
    expect(verifierFormats([check(REFERRER, true), check(GITHUB, true), check(LEGACY, false)])).toEqual({
      'cosign-v3': true,
      'gh-attestation-verify': true,
      'kyverno-sigstore-bundle': true,
      'kyverno-cosign': false,
      'policy-controller': true,
    });
    expect(verifierFormats([check(LEGACY, true), check(REFERRER, false)])).toEqual({
      'cosign-v3': false,
      'gh-attestation-verify': false,
      'kyverno-sigstore-bundle': false,
      'kyverno-cosign': true,
      'policy-controller': true,
    });
    expect(verifierFormats([check(GITHUB, true)])).toEqual({
      'cosign-v3': false,
      'gh-attestation-verify': true,
      'kyverno-sigstore-bundle': false,
      'kyverno-cosign': false,
      'policy-controller': false,
    });
  });
});

describe('a reusable workflow from another repository', () => {
  // The workflow in slipway-dev/slipway signs (the SAN names it, with its own ref); acme/app called it from main.
  const reusable = {
    job_workflow_ref: 'slipway-dev/slipway/.github/workflows/release.yml@refs/tags/v1',
    repository: 'acme/app',
    ref: 'refs/heads/main',
  };
  const policy: IdentityPolicy = {
    issuer: GITHUB_ISSUER,
    repository: 'acme/app',
    signerWorkflow: 'slipway-dev/slipway/.github/workflows/release.yml@refs/tags/v*',
    ref: 'refs/heads/main',
  };

  it('passes when the signer workflow, the caller repository and the caller ref all match', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance, reusable);
    const outcome = await verify([{ bundle, location: REFERRER }], { policy });
    expect(outcome.verified).toBe(true);
    expect(outcome.attestations[0]!.checks).toContain('source ref refs/heads/main matches refs/heads/main');
  });

  it('fails on the caller ref, checked in the source ref extension', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance, reusable);
    expect(await onlyFailure({ bundle, location: REFERRER }, { policy: { ...policy, ref: 'refs/tags/*' } })).toBe(
      'wrong source ref: expected refs/tags/*, got refs/heads/main (certificate extension 1.3.6.1.4.1.57264.1.14)',
    );
  });

  it('fails without signer-workflow, since the caller’s own workflow did not sign', async () => {
    const bundle = await keyless(PREDICATE_TYPES.slsaProvenance, reusable);
    expect(await onlyFailure({ bundle, location: REFERRER })).toMatch(/^wrong signer identity: expected SAN matching /);
  });
});
