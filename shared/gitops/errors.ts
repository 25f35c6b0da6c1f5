import { SlipwayError } from '../core/errors.js';

// Why a promotion was refused, with a stable code a later step (the evidence action, a policy) can act on.
// A refusal is decided before anything is written: no branch, no commit, no pull request.

export type PolicyRefusalCode =
  | 'NOT_IN_SOURCE_ENVIRONMENT'
  | 'SOAK_NOT_MET'
  | 'FREEZE_WINDOW'
  | 'HOLD'
  | 'VERIFICATION_FAILED'
  | 'UNKNOWN_ENVIRONMENT'
  | 'UNKNOWN_SERVICE'
  | 'NO_TARGET'
  | 'IMAGE_MISMATCH'
  | 'NOTHING_TO_ROLL_BACK'
  /** The evidence attestation on the digest does not meet the environment's require-evidence. */
  | 'EVIDENCE_INCOMPLETE';

export class PolicyRefusal extends SlipwayError {
  override name = 'PolicyRefusal';
  constructor(
    readonly code: PolicyRefusalCode,
    /** The rule in .slipway.yaml, e.g. `environments[prod].soak`. */
    readonly rule: string,
    message: string,
  ) {
    super(`Promotion refused (${code}, ${rule}): ${message}`);
  }
}

/** Another run moved the ref first; the caller re-reads and re-applies its edits. */
export class ConcurrentUpdateError extends SlipwayError {
  override name = 'ConcurrentUpdateError';
  constructor(
    readonly ref: string,
    message: string,
  ) {
    super(message);
  }
}
