import type { KeylessOptions } from '../../shared/attest/sign.js';
import {
  type IdentityPolicy,
  PREDICATE_TYPES,
  STATEMENT_TYPE,
  type Statement,
  type WorkflowClaims,
} from '../../shared/attest/types.js';
import { digestHex } from '../../shared/oci/digest.js';
import type { Digest } from '../../shared/oci/types.js';
import { GITHUB_ISSUER, githubToken, type Sigstore } from './sigstore.js';

// What tests sign with signStatement against a loopback Sigstore: a plain statement about an image and the
// keyless options that get it a certificate for a GitHub workflow.

/** The policy that a bundle signed with githubToken's default claims meets: acme/app's release.yml on main. */
export const RELEASE_POLICY: IdentityPolicy = {
  issuer: GITHUB_ISSUER,
  repository: 'acme/app',
  workflow: '.github/workflows/release.yml',
  ref: 'refs/heads/main',
};

/** A statement about `ghcr.io/acme/app` at `digest`, with an empty predicate of `predicateType`. */
export function imageStatement(digest: Digest, predicateType: string = PREDICATE_TYPES.slsaProvenance): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: 'ghcr.io/acme/app', digest: { sha256: digestHex(digest) } }],
    predicateType,
    predicate: {},
  };
}

/**
 * Keyless signing through `sigstore`'s Fulcio with a GitHub Actions token of `claims` (see githubToken),
 * witnessed by its Rekor and its TSA unless `witnesses` turns one off.
 */
export function keylessSigning(
  sigstore: Sigstore,
  claims: Partial<WorkflowClaims> = {},
  witnesses: { rekor?: boolean; tsa?: boolean } = {},
): KeylessOptions {
  return {
    kind: 'keyless',
    fulcioUrl: sigstore.fulcioUrl,
    identityToken: async () => githubToken(claims),
    ...(witnesses.rekor === false ? {} : { rekorUrl: sigstore.rekorUrl }),
    ...(witnesses.tsa === false ? {} : { tsaUrl: sigstore.tsaUrl }),
  };
}
