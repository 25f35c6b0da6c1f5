import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BundleJson, IdentityPolicy } from '../../../shared/attest/types.js';
import { verifyBundles } from '../../../shared/attest/verify.js';
import type { Digest } from '../../../shared/oci/types.js';
import { repositoryRoot } from '../../support/runner-harness.js';

// sigstore-conformance's bundle-verify cases (test/fixtures/sigstore-conformance/README.md) through Slipway's own
// verification: a case whose name ends in _fail must fail, any other must pass. Only the cases Slipway verifies
// are kept: DSSE-enveloped in-toto statements (Slipway refuses message signatures by design), verified keylessly
// against the case's trusted root or, without one, the public-good root, for the identity the case names.

const DIR = join(repositoryRoot, 'test/fixtures/sigstore-conformance');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * Why each failing case fails in Slipway (sigstore-js's error code, or the bundle parser), matching the reason
 * the case's README gives.
 */
const FAILS_BECAUSE: Record<string, string> = {
  'dsse-invalid-sig_fail': '(TLOG_BODY_ERROR)',
  'dsse-mismatch-envelope_fail': '(TLOG_BODY_ERROR)',
  'dsse-mismatch-sig_fail': '(TLOG_BODY_ERROR)',
  'intoto-expired-certificate_fail': '(CERTIFICATE_ERROR)',
  'intoto-log-entry-mismatch_fail': '(TLOG_BODY_ERROR)',
  'intoto-missing-inclusion-proof_fail': 'invalid Sigstore bundle',
  'intoto-set-outside-signing-cert-validity_fail': '(CERTIFICATE_ERROR)',
  'intoto-tsa-timestamp-outside-cert-validity_fail': '(CERTIFICATE_ERROR)',
  'rekor2-dsse-invalid-sig_fail': '(TLOG_BODY_ERROR)',
  'rekor2-dsse-mismatch-envelope_fail': '(TLOG_BODY_ERROR)',
  'rekor2-dsse-mismatch-sig_fail': '(TLOG_BODY_ERROR)',
};

const read = (...path: string[]) => readFileSync(join(DIR, ...path));
const readText = (...path: string[]) =>
  read(...path)
    .toString('utf8')
    .trim();
const optional = (dir: string, file: string) => (existsSync(join(DIR, dir, file)) ? readText(dir, file) : undefined);

/**
 * A GitHub workflow identity (`<server>/<owner>/<repo>/<path>@<ref>`) as a Slipway policy that checks what the
 * conformance suite checks, the SAN and the issuer: `signer-workflow` with its ref. (`repository` would also demand
 * the source-repository extension, which certificates older than Fulcio's GitHub OIDs lack.)
 */
function policyFor(identity: string, issuer: string): IdentityPolicy {
  const match = /^(https:\/\/[^/]+)\/([^@]+)@(refs\/.+)$/.exec(identity);
  if (!match) throw new Error(`not a GitHub workflow identity: ${identity}`);
  const [, serverUrl, workflow, ref] = match as unknown as [string, string, string, string];
  return { issuer, serverUrl, signerWorkflow: `${workflow}@${ref}` };
}

const bundleCases = readdirSync(DIR)
  .filter((name) => statSync(join(DIR, name)).isDirectory() && existsSync(join(DIR, name, 'bundle.sigstore.json')))
  .sort();

describe('sigstore-conformance bundle-verify cases', () => {
  it('keeps the DSSE cases, both passing and failing ones', () => {
    expect(bundleCases.length).toBeGreaterThanOrEqual(14);
    expect(bundleCases.filter((name) => name.endsWith('_fail')).length).toBeGreaterThanOrEqual(10);
    expect(bundleCases.filter((name) => !name.endsWith('_fail')).length).toBeGreaterThanOrEqual(3);
  });

  it.each(bundleCases)('%s', async (name) => {
    const bundle = JSON.parse(readText(name, 'bundle.sigstore.json')) as BundleJson;
    const artifact = existsSync(join(DIR, name, 'artifact')) ? read(name, 'artifact') : read('a.txt');
    const subjectDigest = `sha256:${createHash('sha256').update(artifact).digest('hex')}` as Digest;
    const trustedRoot = JSON.parse(
      optional(name, 'trusted_root.json') ?? readText('public-good-trusted-root.json'),
    ) as object;
    const identity = optional(name, 'identity') ?? DEFAULT_IDENTITY;
    const issuer = optional(name, 'issuer') ?? DEFAULT_ISSUER;
    const verifyAs = (policy: IdentityPolicy) =>
      verifyBundles({
        candidates: [{ bundle, location: { kind: 'github', id: 1 } }],
        subjectDigest,
        trustedRoot,
        policy,
        requiredPredicateTypes: [],
      });

    const outcome = await verifyAs(policyFor(identity, issuer));
    if (name.endsWith('_fail')) {
      expect(outcome.verified, `${name} must fail`).toBe(false);
      // For the reason the case was made, not a side issue such as the identity.
      expect(outcome.attestations[0]?.failure, name).toContain(FAILS_BECAUSE[name]);
    } else {
      expect(outcome.verified, `${name} must pass: ${JSON.stringify(outcome.reasons)}`).toBe(true);
      // The identity is enforced, not merely accepted: the same bundle fails for another ref.
      const otherRef = await verifyAs(policyFor(identity.replace(/@refs\/.*$/, '@refs/heads/other'), issuer));
      expect(otherRef.attestations[0]?.failure).toMatch(/^wrong signer identity: /);
    }
  });
});
