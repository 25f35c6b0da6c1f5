// The release-evidence record (evidence.json, _type https://slipway.dev/records/evidence, version 1): everything an
// auditor asks about one release, each item saying where it came from. A missing item is listed as missing, never
// invented; the collectors fill items, the requirement check (requirements.ts) turns them into a status, and the
// renderers and publishers only read this shape.

/** Where an item came from: a record file, a JUnit report, the GitHub API, an action input or the event payload. */
export interface Provenance {
  kind: 'record' | 'test-report' | 'github-api' | 'input' | 'event' | 'attestation';
  /** A file path (relative to the workspace), an API path (`GET /repos/o/r/pulls/7/reviews`), an input name. */
  location: string;
  /** sha256 of the file's bytes, for files. */
  sha256?: string;
}

/**
 * One piece of evidence. `present`: collected and fine; `failed`: collected and it says no (a failed test, a failed
 * gate, a rollback); `missing`: not found, with `reason` saying where it was looked for.
 */
export type EvidenceItem<T> =
  | { state: 'present' | 'failed'; from: Provenance[]; value: T; reason?: string }
  | { state: 'missing'; reason: string };

export interface PullRequestEvidence {
  number: number;
  title: string;
  url: string;
  author: string;
  headRef: string;
  baseRef: string;
  headSha: string;
  mergedAt?: string;
  mergedBy?: string;
  /** The latest decision per reviewer (COMMENTED reviews do not replace a decision), oldest first. */
  reviews: {
    login: string;
    state: 'APPROVED' | 'CHANGES_REQUESTED' | 'DISMISSED';
    submittedAt: string;
    commit?: string;
  }[];
  /** Logins whose latest decision is APPROVED and who are not the author. */
  approvers: string[];
}

export interface RunEvidence {
  repository: string;
  workflow?: string;
  runId: string;
  attempt: number;
  url: string;
  event?: string;
  actor?: string;
  ref?: string;
  commit?: string;
}

export interface BuildEvidence {
  image: string;
  digest: string;
  tags: string[];
  platforms: string[];
  source?: { repository?: string; commit?: string; ref?: string };
}

export interface TestCaseFailure {
  suite: string;
  name: string;
  classname?: string;
  /** failure or error message, first line, at most 500 characters */
  message?: string;
  kind: 'failure' | 'error';
}

export interface TestSuiteEvidence {
  name: string;
  file: string;
  tests: number;
  passed: number;
  failures: number;
  errors: number;
  skipped: number;
  timeSeconds?: number;
}

export interface TestEvidence {
  total: number;
  passed: number;
  failed: number;
  errored: number;
  skipped: number;
  suites: TestSuiteEvidence[];
  /** Every failed or errored case, named. */
  failures: TestCaseFailure[];
}

export interface SbomEvidence {
  files: { format: 'cyclonedx' | 'spdx'; path: string; platform?: string; sha256?: string }[];
  /** Where the SBOMs are attached to the image: attestation referrers, by platform. */
  attached: { platform?: string; manifestDigest?: string; predicateType: string; location: string }[];
}

export interface VulnerabilityEvidence {
  verdict: 'passed' | 'failed' | 'undecided';
  /** Findings by severity that the gate counted against the policy. */
  counts: Record<string, number>;
  /** Active exceptions, each with its reason and expiry. */
  exceptions: { id: string; reason: string; expires: string }[];
  failOn?: string;
}

export interface SignatureEvidence {
  signer: string;
  attestations: { predicateType: string; bundleDigest?: string; stored: string[]; reused?: boolean }[];
}

export interface VerificationEvidence {
  verified: boolean;
  /** Result per verifier format: `sigstore-bundle`, `cosign`, `gh` … as verification.json names them. */
  formats: { format: string; verified: boolean; detail?: string }[];
  policy: { issuer?: string; repository?: string; workflow?: string; san?: string };
  reasons: string[];
}

export interface PromotionEvidence {
  environment: string;
  outcome: 'promoted' | 'unchanged' | 'dry-run' | 'refused';
  rollback: boolean;
  commit?: string;
  pullRequest?: { number: number; url: string };
  refusal?: string;
  at?: string;
}

export interface DeploymentEvidence {
  environment: string;
  /** GitHub deployment id, when one was created. */
  id?: number;
  state: 'pending' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';
  url?: string;
  at: string;
}

export interface CanaryEvidence {
  decision: 'promote' | 'rollback' | 'inconclusive' | 'continue';
  environment?: string;
  step?: number;
  weight?: number;
  reasons: string[];
  /** Per metric: observed ratio and its confidence bounds. */
  metrics: { name: string; observedRatio: number; lower: number; upper: number }[];
  canaryRequests?: number;
  excessErrors?: number;
}

export interface HumanDecision {
  kind: 'forward-fix' | 'rollback';
  reason: string;
  by: string;
  at: string;
}

/** An audited exception to a required item: who allowed the release without it, why, and until when. */
export interface EvidenceException {
  requirement: string;
  by: string;
  reason: string;
  until: string;
}

/** A requirement of the target environment (`require-evidence:` in .slipway.yaml) and whether it is met. */
export interface RequirementResult {
  requirement: string;
  met: boolean;
  /** Why not, naming what is missing or failed; or how it was met (or excepted). */
  detail: string;
  exception?: EvidenceException;
}

export type EvidenceStatus = 'complete' | 'incomplete' | 'failed';

export interface EvidenceResult {
  status: EvidenceStatus;
  /** The environment whose requirements the status was computed against, when one was given. */
  environment?: string;
  subject: { image?: string; digest?: string };
  source: { repository?: string; commit?: string; ref?: string };
  pullRequest: EvidenceItem<PullRequestEvidence>;
  run: EvidenceItem<RunEvidence>;
  build: EvidenceItem<BuildEvidence>;
  tests: EvidenceItem<TestEvidence>;
  sbom: EvidenceItem<SbomEvidence>;
  vulnerabilities: EvidenceItem<VulnerabilityEvidence>;
  signatures: EvidenceItem<SignatureEvidence>;
  verification: EvidenceItem<VerificationEvidence>;
  promotions: EvidenceItem<PromotionEvidence[]>;
  deployments: EvidenceItem<DeploymentEvidence[]>;
  canary: EvidenceItem<CanaryEvidence>;
  decision: EvidenceItem<HumanDecision>;
  /** The requirements checked (the environment's list, or the default: every item above but decision). */
  requirements: RequirementResult[];
  /** Short names of what is missing or failed, for the status line and for promote's refusal. */
  missing: string[];
  exceptions: EvidenceException[];
  generatedAt: string;
}
