import type { Digest } from '../oci/types.js';

// The model signing and verification share. A bundle is a Sigstore bundle v0.3 as JSON (the shape
// @sigstore/bundle's bundleToJSON gives); a statement is an in-toto Statement v1 in its DSSE envelope.

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

export const PREDICATE_TYPES = {
  slsaProvenance: 'https://slsa.dev/provenance/v1',
  cyclonedx: 'https://cyclonedx.org/bom',
  /** GitHub's SPDX predicate type carries the version (cosign's `spdxjson` uses the bare URI; both are accepted when verifying). */
  spdx: 'https://spdx.dev/Document/v2.3',
} as const;

export interface StatementSubject {
  /** Image name without tag, lower-cased, as GitHub names container subjects. */
  name: string;
  digest: { sha256: string };
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: StatementSubject[];
  predicateType: string;
  predicate: unknown;
}

/** A Sigstore bundle as JSON; kept loose here, @sigstore/bundle validates it. */
export type BundleJson = Record<string, unknown> & { mediaType: string };

/** The claims of a GitHub Actions OIDC token that signing and provenance use. */
export interface WorkflowClaims {
  iss: string;
  sub: string;
  repository: string;
  repository_id: string;
  repository_owner: string;
  repository_owner_id: string;
  repository_visibility?: string;
  ref: string;
  sha: string;
  event_name: string;
  workflow_ref: string;
  job_workflow_ref: string;
  runner_environment: string;
  run_id: string;
  run_attempt: string;
}

/** Where one attestation was stored or found. */
export type StorageLocation =
  | { kind: 'referrer'; manifest: Digest; via: 'referrers-api' | 'tag-fallback' }
  | { kind: 'github'; id?: number; url?: string }
  | { kind: 'cosign-legacy'; tag: string };

export interface SignedAttestation {
  predicateType: string;
  /** sha256 of the bundle JSON as stored. */
  bundleDigest: Digest;
  bundle: BundleJson;
  subjects: StatementSubject[];
  /** The certificate's SAN (keyless) or the key's hint (key-based). */
  signer: string;
  stored: StorageLocation[];
  /**
   * True when an identical attestation (subjects, predicate type, predicate digest) was already stored and its
   * bundle verified as this signer's (reuse.ts), so it was reused instead of signing again.
   */
  reused: boolean;
}

/** What a verifier requires of a signer; every field given must match exactly (ref as a pattern). */
export interface IdentityPolicy {
  /** OIDC issuer, e.g. https://token.actions.githubusercontent.com */
  issuer: string;
  /**
   * The GitHub web root the signer's URLs start with (the SAN, the source repository): the run's GitHub context
   * (shared/github/context.ts) gives it; https://github.com when absent.
   */
  serverUrl?: string;
  /** owner/name of the repository whose workflow signed. */
  repository?: string;
  /** Path of the signing workflow in that repository, e.g. .github/workflows/release.yml */
  workflow?: string;
  /**
   * The ref the workflow ran on: exact (refs/heads/main) or a glob (refs/tags/v*). Matched in the SAN, or,
   * with signerWorkflow, against the source ref extension (the caller's ref).
   */
  ref?: string;
  /**
   * The workflow that signed, when it is a reusable workflow in another repository:
   * `owner/repo/.github/workflows/x.yml`, optionally `@<ref pattern>`. The SAN names it; `repository` is still
   * the source repository that called it.
   */
  signerWorkflow?: string;
  /** github-hosted or self-hosted. */
  runnerEnvironment?: string;
  /** The source commit. */
  sourceCommit?: string;
}
