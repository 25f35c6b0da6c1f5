import type { UserFile } from '../core/files.js';
import type { PolicyRefusalCode } from '../gitops/errors.js';
import type { Digest } from '../oci/types.js';
import { type Recorded, readRecord, recordKind } from './record.js';

// promotion.json, the promote action's record; its schema is schemas/promotion.schema.json. It says what moved
// where (environment, GitOps repository, each service's previous and new digest), why it was allowed (the lineage
// proof and the verification result per service) and what was written (pull request or direct commit, or nothing
// on a re-run, a dry run or a refusal). The evidence action reads it. Times are RFC 3339 strings.

export const PROMOTION_RECORD = recordKind('promotion', 'promotion.json');

/** What the run ended as: written, nothing to write (a re-run), planned only, or refused before any write. */
export type PromotionOutcome = 'promoted' | 'unchanged' | 'dry-run' | 'refused';

export interface PromotionPinRecord {
  digest: Digest;
  tag?: string;
}

export interface LineageEnvironmentRecord {
  environment: string;
  digest?: Digest;
  /** When the digest was pinned there (the pinning commit's time). */
  pinnedSince?: string;
  commit?: string;
  soakMs: number;
  satisfied: boolean;
  reason?: string;
}

export interface LineageRecord {
  /** Where the digest came from: given (image), read from another environment (from), or the one before (rollback). */
  mode: 'image' | 'from' | 'rollback';
  after?: { mode: 'all-of' | 'any-of'; environments: LineageEnvironmentRecord[] };
}

export interface ServiceVerificationRecord {
  /** skipped: nothing changes for the service (a re-run), or only a hold is released. */
  verdict: 'verified' | 'failed' | 'skipped';
  /** The signer entry that verified it, as .slipway.yaml names it: `key keys/release.pub` or `repository acme/api …`. */
  signer?: string;
  /** Where the signers came from: `policy.signers` or `environments[prod].signers`. */
  rule?: string;
  predicateTypes: string[];
  /** verify's failure codes (NO_ATTESTATION, KEY_MISMATCH, …), each once; empty when verified. */
  codes: string[];
  reasons: { signer: string; code: string; message: string }[];
}

/**
 * The evidence check of an environment with require-evidence: the signed evidence attestation found on the digest,
 * its status recomputed against the environment's requirements (never the status it carries), and each requirement
 * with how it was met, excepted or not.
 */
export interface ServiceEvidenceRecord {
  status: 'complete' | 'incomplete' | 'failed';
  /** Where the requirements came from: `environments[prod].require-evidence`. */
  rule: string;
  /** The signer entry that verified the attestation, as .slipway.yaml names it; absent when none verified. */
  signer?: string;
  /** The attestation read: its referrer manifest and when the record was made. */
  attestation?: { location: string; generatedAt?: string };
  requirements: { requirement: string; met: boolean; detail: string; exception?: EvidenceExceptionRecord }[];
  /** What is missing or failed, by requirement name. */
  missing: string[];
  /** The audited exceptions applied (from the environment's evidence-exceptions). */
  exceptions: EvidenceExceptionRecord[];
  /** Why no attestation could be used, when none could. */
  reasons: string[];
}

export interface EvidenceExceptionRecord {
  requirement: string;
  by: string;
  reason: string;
  until: string;
}

export interface ServicePromotionRecord {
  service: string;
  /** The image repository, as .slipway.yaml configures it. */
  image: string;
  previous?: PromotionPinRecord;
  next: PromotionPinRecord;
  targets: { file: string; kind: string }[];
  lineage: LineageRecord;
  verification: ServiceVerificationRecord;
  /** Present where the environment has require-evidence and the digest was checked against it. */
  evidence?: ServiceEvidenceRecord;
}

export interface PromotionResult {
  outcome: PromotionOutcome;
  environment: string;
  gitops: {
    /** github.com/acme/gitops or the local path. */
    repository: string;
    kind: 'github' | 'local';
    /** The policy file read from the default branch. */
    config: string;
    defaultBranch?: string;
    /** The default branch's head the plan was made on. */
    base?: string;
  };
  services: ServicePromotionRecord[];
  bundleId?: string;
  /** The promotion branch: slipway/<env>/<service>, or slipway/<env>/bundle-<id12 of its set of services>. */
  branch?: string;
  /** Committed on the default branch (the environment has pull-request: false). */
  direct: boolean;
  /** The commit written; absent when nothing was written. */
  commit?: string;
  pullRequest?: { number: number; url: string };
  merged?: boolean;
  changed: boolean;
  dryRun: boolean;
  rollback: boolean;
  hold?: { set: boolean; released: boolean; reason?: string };
  refusal?: { code: PolicyRefusalCode; rule: string; message: string };
  /** GitHub API calls (or local git ref updates) spent, with the attempts a lost race cost. */
  calls: { total: number; read: number; write: number; attempts: number };
  run?: { url?: string; sourceRepository?: string; sourceCommit?: string; sourceCommitUrl?: string; actor?: string };
  timestamps: { started: string; finished: string };
}

export type PromotionRecordFile = Recorded<PromotionResult>;

/** Reads promotion.json; errors name the file (and the input it came from) and the field. */
export function readPromotionRecord(file: UserFile | string): Promise<PromotionRecordFile> {
  return readRecord<PromotionResult>(PROMOTION_RECORD, file);
}
