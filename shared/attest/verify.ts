import { createPublicKey, type KeyObject } from 'node:crypto';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  type KeyFinderFunc,
  PolicyError,
  type TrustMaterial,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
} from '@sigstore/verify';
import { InvalidValueError, SlipwayError } from '../core/errors.js';
import { GITHUB_COM_SERVER_URL } from '../github/context.js';
import { digestAlgorithm, digestHex } from '../oci/digest.js';
import type { Digest } from '../oci/types.js';
import { decideRequirements, type PlatformOutcome } from './requirements.js';
import { EMPTY_TRUSTED_ROOT } from './trusted-root.js';
import { checkCheckpointLogKeys, checkTrustedRoot, TrustedRootError } from './trusted-root-check.js';
import {
  type BundleJson,
  type IdentityPolicy,
  IN_TOTO_PAYLOAD_TYPE,
  STATEMENT_TYPE,
  type StorageLocation,
} from './types.js';

export { describeLocation } from './location.js';

// Verifies attestations found for an image: each Sigstore bundle cryptographically (signature,
// certificate chain, transparency log, timestamps), then against the identity policy, then its
// in-toto statement against the image digest. Everything fails closed: a candidate passes only when
// every check passed, and the outcome is verified only when every required predicate type has a
// passing attestation (where each type may be met, the index or every platform: requirements.ts).

export interface CandidateBundle {
  bundle: BundleJson;
  location: StorageLocation;
}

/**
 * Why an attestation, or the verification as a whole, failed: a stable code for programs (policies, the
 * evidence action) beside the message for people, as sigstore-js gives its VerificationError a code. Codes are
 * only ever added, never renamed.
 */
export const VERIFICATION_FAILURE_CODES = [
  /** Nothing was found for the digest in any source searched. */
  'NO_ATTESTATION',
  /** Attestations were found and none passed. */
  'NO_VALID_ATTESTATION',
  /** A required predicate type has no passing attestation. */
  'PREDICATE_TYPE_MISSING',
  /** Not a Sigstore bundle, or not a DSSE-enveloped attestation. */
  'BUNDLE_INVALID',
  /** The signed payload is not an in-toto statement with a predicate type. */
  'STATEMENT_INVALID',
  /** The statement is about another artifact. */
  'SUBJECT_MISMATCH',
  'SIGNATURE_INVALID',
  /** The signing certificate does not chain to the trusted root, or had expired at signing time. */
  'CERTIFICATE_CHAIN_INVALID',
  'TLOG_MISSING',
  /** A transparency log entry does not verify (inclusion, log key, or body against the signature). */
  'TLOG_INVALID',
  'TIMESTAMP_MISSING',
  'TIMESTAMP_INVALID',
  /** A key-signed attestation, and no public key was given. */
  'KEY_MISSING',
  /** Signed by another key than the one given, or keylessly where only a key was given. */
  'KEY_MISMATCH',
  'TRUSTED_ROOT_INVALID',
  /** A keyless attestation, and no identity policy to check its signer against. */
  'IDENTITY_POLICY_MISSING',
  /** The certificate's SAN (the signing workflow and ref) is not the one the policy names. */
  'IDENTITY_MISMATCH',
  'ISSUER_MISMATCH',
  'SOURCE_REPOSITORY_MISMATCH',
  'RUNNER_ENVIRONMENT_MISMATCH',
  'SOURCE_COMMIT_MISMATCH',
  'SOURCE_REF_MISMATCH',
] as const;

export type VerificationFailureCode = (typeof VERIFICATION_FAILURE_CODES)[number];

export interface VerificationReason {
  code: VerificationFailureCode;
  message: string;
}

export interface AttestationCheck {
  location: StorageLocation;
  predicateType?: string;
  /** The certificate's SAN (keyless) or the key's hint (key-based), once the signature verified. */
  signer?: string;
  issuer?: string;
  passed: boolean;
  /** Why this attestation failed; absent when it passed. */
  failure?: string;
  /** The failure's stable code; absent when it passed. */
  code?: VerificationFailureCode;
  /** What was checked and held, in order, up to the failure. */
  checks: string[];
}

export interface VerificationOutcome {
  verified: boolean;
  /** What was found about the digest verify was given, and how each fared. */
  attestations: AttestationCheck[];
  missingPredicateTypes: string[];
  /** Why the outcome is not verified; empty when it is. */
  reasons: VerificationReason[];
  /**
   * For an index whose required SBOM types were looked for per platform (requirements.ts): each platform
   * manifest, what was found about it, and the types it lacks. Absent when no platform was searched.
   */
  platforms?: Record<string, PlatformOutcome>;
  /** The required types looked for on every platform manifest, because nothing about the index met them. */
  platformPredicateTypes?: string[];
}

export interface VerifyBundlesInput {
  candidates: CandidateBundle[];
  /** The image digest every statement must name as a subject. */
  subjectDigest: Digest;
  /**
   * A Sigstore trusted root (protobuf-specs JSON). Without one only key-based bundles can pass, on their
   * signature alone: their log entries and timestamps, having nothing to be checked against, are not checked.
   */
  trustedRoot?: object;
  /** Required for keyless bundles; key-based bundles are checked against publicKeys instead. */
  policy?: IdentityPolicy;
  /** PEM public keys by the hint key-based bundles name them with. */
  publicKeys?: Record<string, string>;
  requiredPredicateTypes: string[];
  /** Transparency log entries each bundle must carry (default 1; 0 for the GitHub private instance). */
  tlogThreshold?: number;
  /** Verified timestamps (TSA or tlog integrated time) each bundle must carry (default 1). */
  timestampThreshold?: number;
}

// Fulcio's certificate extensions (1.3.6.1.4.1.57264.1.x) that a policy can constrain beyond the SAN.
const OID_RUNNER_ENVIRONMENT = '1.3.6.1.4.1.57264.1.11';
const OID_SOURCE_REPOSITORY_URI = '1.3.6.1.4.1.57264.1.12';
const OID_SOURCE_REPOSITORY_DIGEST = '1.3.6.1.4.1.57264.1.13';
const OID_SOURCE_REPOSITORY_REF = '1.3.6.1.4.1.57264.1.14';
const SIGNER_WORKFLOW = /^[^/@]+\/[^/@]+\/\.github\/workflows\/[^@]+$/;

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Escapes every character a RegExp gives meaning to, so policy values match only themselves. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A ref glob as a regexp fragment. `*` and `?` never match `@`: the SAN joins workflow path and ref
 * with `@`, and a wildcard that could cross it would let `refs/tags/v*` accept a SAN whose ref only
 * begins like a release tag, e.g. `…@refs/tags/v1@evil`.
 */
function refPattern(ref: string): string {
  let pattern = '';
  for (const char of ref) {
    if (char === '*') pattern += '[^@]*';
    else if (char === '?') pattern += '[^@]';
    else pattern += escapeRegExp(char);
  }
  return pattern;
}

/**
 * The GitHub web root a policy's SAN and source repository start with: the policy's own (the run's
 * GITHUB_SERVER_URL, through shared/github/context.ts), or github.com. Validated, since it becomes a regexp.
 */
function policyServerUrl(policy: IdentityPolicy): string {
  const given = policy.serverUrl ?? GITHUB_COM_SERVER_URL;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new InvalidValueError('GitHub server URL', given, 'an https URL such as https://github.com');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new InvalidValueError('GitHub server URL', given, 'an https URL such as https://github.com');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * The SAN's `<server>/<owner>/<repo>` head as a regexp fragment. GitHub treats host, owner and repository names
 * without regard to case (no one can register `Acme/App` beside `acme/app`), and Fulcio copies whatever case the
 * token carried, so the head matches case-insensitively: gh attestation verify does the same for --owner, --repo
 * and --signer-repo (`(?i)^https://github.com/<owner>/<repo>/`, the `(?i)` covering the repository name too). The
 * workflow path and the ref stay case-sensitive: git paths and refs are. gh's --signer-workflow is case-sensitive
 * throughout; Slipway applies the head rule there too, so a repository named in another case behaves the same
 * whichever input named it. `(?i:…)` reads the same in JavaScript (Node 24) and Go (cosign's regexp flag).
 */
function caseInsensitiveHead(server: string, repository: string | undefined): string {
  const rest = repository === undefined ? '' : `/${escapeRegExp(repository)}`;
  const head = `(?i:${escapeRegExp(server)}${rest})`;
  return repository === undefined ? `${head}/[^/@]+/[^/@]+` : head;
}

/**
 * The certificate identity a policy accepts. The SAN regexp is anchored by construction: the
 * verifier tests it unanchored (a plain `String.match`), so a bare pattern would accept any SAN that
 * merely contains it (cosign's `--certificate-identity-regexp` pitfall).
 */
export function identityMatcher(policy: IdentityPolicy): {
  san: RegExp;
  extensions: { issuer: string };
  describe: string;
} {
  if (policy.issuer === '') throw new InvalidValueError('OIDC issuer', policy.issuer, 'an issuer URL');
  if (policy.repository !== undefined && !REPOSITORY.test(policy.repository)) {
    throw new InvalidValueError('repository', policy.repository, 'owner/name');
  }
  if (policy.workflow !== undefined && (policy.workflow === '' || policy.workflow.includes('@'))) {
    throw new InvalidValueError(
      'workflow path',
      policy.workflow,
      'a path such as .github/workflows/release.yml',
      'it must not be empty or contain "@"',
    );
  }
  if (policy.ref === '')
    throw new InvalidValueError('ref', policy.ref, 'a ref such as refs/heads/main or refs/tags/v*');
  const server = policyServerUrl(policy);
  // Unconstrained parts still may not cross a path or ref boundary, so each part matches its own slot.
  let san: RegExp;
  let shownWorkflow: string;
  if (policy.signerWorkflow !== undefined) {
    // A reusable workflow from another repository signs with its own identity and ref; the caller's ref is
    // checked in the source ref extension instead (checkExtensions).
    const [path, signerRef] = policy.signerWorkflow.split('@') as [string, string | undefined];
    if (!SIGNER_WORKFLOW.test(path)) {
      throw new InvalidValueError('signer workflow', policy.signerWorkflow, 'owner/repo/.github/workflows/x.yml[@ref]');
    }
    const [owner, repo, ...workflowPath] = path.split('/');
    san = new RegExp(
      `^${caseInsensitiveHead(server, `${owner}/${repo}`)}/${escapeRegExp(workflowPath.join('/'))}@${signerRef ? refPattern(signerRef) : '[^@]+'}$`,
    );
    shownWorkflow = `${path}@${signerRef ?? '<any ref>'}`;
  } else {
    const head = caseInsensitiveHead(server, policy.repository);
    const workflow = policy.workflow === undefined ? '[^@]+' : escapeRegExp(policy.workflow);
    const ref = policy.ref === undefined ? '[^@]+' : refPattern(policy.ref);
    san = new RegExp(`^${head}/${workflow}@${ref}$`);
    shownWorkflow = `${policy.repository ?? '<any repository>'}/${policy.workflow ?? '<any workflow>'}@${policy.ref ?? '<any ref>'}`;
  }
  return {
    san,
    extensions: { issuer: policy.issuer },
    describe: `workflow ${shownWorkflow} (SAN ${showPattern(san)}), issuer ${policy.issuer}`,
  };
}

/** A SAN regexp for messages: RegExp#source escapes every `/`, which only clutters a URL. */
function showPattern(pattern: RegExp): string {
  return pattern.source.replaceAll('\\/', '/');
}

/** Verifies every candidate and decides whether the image has the attestations the caller requires. */
export async function verifyBundles(input: VerifyBundlesInput): Promise<VerificationOutcome> {
  const checked = await checkBundles(input);
  if ('unusable' in checked) return checked.unusable;
  return decideRequirements({
    required: input.requiredPredicateTypes,
    image: { digest: input.subjectDigest, attestations: checked.attestations },
  });
}

/**
 * Verifies every candidate against `subjectDigest`, deciding nothing (requirements.ts decides). `unusable` is
 * the whole outcome when nothing could be checked at all: the trusted root is not one to verify with.
 */
export async function checkBundles(
  input: Omit<VerifyBundlesInput, 'requiredPredicateTypes'> & { requiredPredicateTypes?: string[] },
): Promise<{ attestations: AttestationCheck[] } | { unusable: VerificationOutcome }> {
  const { candidates, subjectDigest } = input;
  if (candidates.length === 0) return { attestations: [] };
  const publicKeys = readPublicKeys(input.publicKeys ?? {});
  const keyOnly = input.trustedRoot === undefined;
  if (keyOnly && publicKeys.size === 0) {
    throw new SlipwayError('Verification needs a trusted root or a public key; neither was given.');
  }
  // Built once, and before any bundle is read, so a malformed policy fails as a configuration error.
  const matcher = input.policy === undefined ? undefined : identityMatcher(input.policy);
  let trustMaterial: TrustMaterial;
  try {
    trustMaterial = buildTrustMaterial(input.trustedRoot ?? EMPTY_TRUSTED_ROOT, publicKeys);
  } catch (error) {
    // Nothing can pass; the record still lists what was found and says why none was checked.
    const message = `the trusted root cannot be used: ${errorText(error)}`;
    return {
      unusable: {
        verified: false,
        attestations: candidates.map(({ location }) => ({
          location,
          passed: false,
          failure: message,
          code: 'TRUSTED_ROOT_INVALID',
          checks: [],
        })),
        missingPredicateTypes: [...(input.requiredPredicateTypes ?? [])],
        reasons: [{ code: 'TRUSTED_ROOT_INVALID', message }],
      },
    };
  }
  const verifier = new Verifier(trustMaterial, {
    tlogThreshold: keyOnly ? 0 : (input.tlogThreshold ?? 1),
    timestampThreshold: keyOnly ? 0 : (input.timestampThreshold ?? 1),
  });
  const context: CandidateContext = {
    verifier,
    subjectDigest,
    policy: input.policy,
    matcher,
    publicKeys,
    keyOnly,
    trustedRoot: input.trustedRoot,
  };
  return { attestations: candidates.map((candidate) => checkCandidate(candidate, context)) };
}

/** Which verifiers will find a passing attestation, by where the passing attestations are stored (signing.md §2). */
export function verifierFormats(checks: AttestationCheck[]): {
  'cosign-v3': boolean;
  'gh-attestation-verify': boolean;
  'kyverno-sigstore-bundle': boolean;
  'kyverno-cosign': boolean;
  'policy-controller': boolean;
} {
  const stored = new Set(checks.filter((c) => c.passed).map((c) => c.location.kind));
  const referrer = stored.has('referrer');
  const legacy = stored.has('cosign-legacy');
  return {
    'cosign-v3': referrer,
    'gh-attestation-verify': stored.has('github'),
    'kyverno-sigstore-bundle': referrer,
    'kyverno-cosign': legacy,
    // Legacy tags are policy-controller's default; referrer bundles need `signatureFormat: bundle`.
    'policy-controller': referrer || legacy,
  };
}

interface CandidateContext {
  verifier: Verifier;
  subjectDigest: Digest;
  policy: IdentityPolicy | undefined;
  matcher: ReturnType<typeof identityMatcher> | undefined;
  /** The given public keys by their hints. */
  publicKeys: ReadonlyMap<string, KeyObject>;
  /** No trusted root: only the given keys are trusted. */
  keyOnly: boolean;
  /** The trusted root as given, for the checks the library leaves out (checkCheckpointLogKeys). */
  trustedRoot: object | undefined;
}

/** A failure that ends one candidate's checks; anything else thrown is a bug and propagates. */
class CandidateFailure extends Error {
  constructor(
    readonly code: VerificationFailureCode,
    message: string,
  ) {
    super(message);
  }
}

function checkCandidate(candidate: CandidateBundle, context: CandidateContext): AttestationCheck {
  const result: AttestationCheck = { location: candidate.location, passed: false, checks: [] };
  try {
    runChecks(candidate.bundle, context, result);
    result.passed = true;
  } catch (error) {
    if (!(error instanceof CandidateFailure)) throw error;
    result.failure = error.message;
    result.code = error.code;
  }
  return result;
}

function runChecks(json: BundleJson, context: CandidateContext, result: AttestationCheck): void {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (error) {
    throw new CandidateFailure('BUNDLE_INVALID', `invalid Sigstore bundle: ${errorText(error)}`);
  }
  result.checks.push(`bundle is ${bundle.mediaType}`);
  if (bundle.content.$case !== 'dsseEnvelope') {
    throw new CandidateFailure(
      'BUNDLE_INVALID',
      'the bundle holds a message signature, not a DSSE-enveloped attestation',
    );
  }
  const envelope = bundle.content.dsseEnvelope;
  const material = bundle.verificationMaterial.content;

  const keyless = material.$case !== 'publicKey';
  if (keyless && context.keyOnly) {
    throw new CandidateFailure(
      'KEY_MISMATCH',
      `signed keylessly (with a certificate), not with the given key ${[...context.publicKeys.keys()].join(', ')}; ` +
        'checking keyless attestations needs a trusted root',
    );
  }
  if (keyless && context.matcher === undefined) {
    throw new CandidateFailure(
      'IDENTITY_POLICY_MISSING',
      'keyless bundle but no identity policy was given to check its signer against',
    );
  }
  const bundleHint = material.$case === 'publicKey' ? material.publicKey.hint : undefined;
  if (bundleHint !== undefined && context.publicKeys.size === 0) {
    throw new CandidateFailure(
      'KEY_MISSING',
      `signed with a key (hint ${bundleHint}), and no public key was given to verify it`,
    );
  }
  const leaf = keyless ? leafCertificate(bundle) : undefined;
  const policy = context.matcher && {
    subjectAlternativeName: context.matcher.san,
    extensions: context.matcher.extensions,
  };

  try {
    // Key-based bundles carry no identity: the library would compare the policy with an empty one
    // and refuse, so only keyless bundles are given the policy.
    context.verifier.verify(
      toSignedEntity(context.keyOnly ? withoutTrustedEvidence(bundle) : bundle),
      keyless ? policy : undefined,
    );
  } catch (error) {
    if (bundleHint !== undefined && error instanceof VerificationError && error.code === 'PUBLIC_KEY_ERROR') {
      throw new CandidateFailure('KEY_MISMATCH', error.message);
    }
    if (bundleHint !== undefined && error instanceof VerificationError && error.code === 'SIGNATURE_ERROR') {
      // Hints are only hints (any signer may choose its own), so the one key given was tried whatever the hint
      // said; the signature is what tells that another key signed.
      const given = [...context.publicKeys.keys()];
      if (!given.includes(bundleHint)) {
        throw new CandidateFailure(
          'KEY_MISMATCH',
          `signed by another key: the attestation names key ${bundleHint}, the given key is ${given.join(', ')} ` +
            '(hints: base64 SHA-256 of each public key)',
        );
      }
    }
    if (error instanceof PolicyError && leaf !== undefined && context.matcher !== undefined) {
      // The policy is checked last, so the certificate chained to the trusted root: its SAN and
      // issuer are the real signer's and safe to report.
      throw explainPolicyFailure(leaf, context.matcher);
    }
    if (error instanceof VerificationError || error instanceof PolicyError) {
      throw new CandidateFailure(
        libraryFailureCode(error),
        `signature verification failed (${error.code}): ${error.message}`,
      );
    }
    throw new CandidateFailure('SIGNATURE_INVALID', `signature verification failed: ${errorText(error)}`);
  }
  // H3 (trusted-root-check.ts): the library never checks a checkpoint-only (Rekor v2) entry's log key against
  // its validity period, so a retired key would still verify; the bundle's verified timestamps decide here.
  if (!context.keyOnly && context.trustedRoot !== undefined) {
    try {
      checkCheckpointLogKeys(bundle, context.trustedRoot);
    } catch (error) {
      if (!(error instanceof TrustedRootError)) throw error;
      throw new CandidateFailure(
        'TRUSTED_ROOT_INVALID',
        `the trusted root does not vouch for its log entry: ${error.message}`,
      );
    }
  }

  if (bundleHint !== undefined) {
    const hint = context.publicKeys.has(bundleHint) ? bundleHint : [...context.publicKeys.keys()][0]!;
    result.signer = hint;
    if (context.keyOnly) {
      result.checks.push(`signature verified with public key "${hint}"`);
      result.checks.push(
        'transparency log entries and timestamps not checked: no trusted root was given, the key alone is trusted',
      );
    } else {
      result.checks.push(`signature, transparency log and timestamps verified with public key "${hint}"`);
    }
    result.checks.push('key-based bundle: the identity policy does not apply; the trusted public key is the identity');
  } else if (leaf !== undefined && context.matcher !== undefined) {
    result.signer = leaf.subjectAltName;
    result.issuer = context.matcher.extensions.issuer;
    result.checks.push('signature, certificate chain, transparency log and timestamps verified');
    result.checks.push(`SAN ${leaf.subjectAltName} matches ${showPattern(context.matcher.san)}`);
    result.checks.push(`issuer is ${context.matcher.extensions.issuer}`);
    checkExtensions(leaf, context.policy, result);
  }

  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new CandidateFailure(
      'STATEMENT_INVALID',
      `unexpected payload type ${JSON.stringify(envelope.payloadType)}: expected ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }
  result.checks.push(`payload type is ${IN_TOTO_PAYLOAD_TYPE}`);
  let statement: unknown;
  try {
    statement = JSON.parse(envelope.payload.toString('utf8'));
  } catch {
    throw new CandidateFailure('STATEMENT_INVALID', 'the DSSE payload is not JSON');
  }
  if (!isRecord(statement) || statement._type !== STATEMENT_TYPE) {
    const type = isRecord(statement) ? JSON.stringify(statement._type) : 'none';
    throw new CandidateFailure('STATEMENT_INVALID', `unexpected statement type ${type}: expected ${STATEMENT_TYPE}`);
  }
  result.checks.push(`statement type is ${STATEMENT_TYPE}`);
  if (typeof statement.predicateType !== 'string' || statement.predicateType === '') {
    throw new CandidateFailure('STATEMENT_INVALID', 'the statement has no predicateType');
  }
  result.predicateType = statement.predicateType;

  const algorithm = digestAlgorithm(context.subjectDigest);
  const hex = digestHex(context.subjectDigest);
  const subjects = Array.isArray(statement.subject) ? statement.subject.filter(isRecord) : [];
  const named = subjects.some((s) => isRecord(s.digest) && s.digest[algorithm] === hex);
  if (!named) {
    const shown = subjects.map(describeSubject).join(', ') || 'no subject';
    throw new CandidateFailure(
      'SUBJECT_MISMATCH',
      `subject mismatch: the attestation is for ${shown}, not ${context.subjectDigest}`,
    );
  }
  result.checks.push(`a subject is ${context.subjectDigest}`);
  result.checks.push(`predicate type is ${statement.predicateType}`);
}

/** Says which part of the identity policy the (verified) certificate broke. */
function explainPolicyFailure(leaf: X509Certificate, matcher: ReturnType<typeof identityMatcher>): CandidateFailure {
  const san = leaf.subjectAltName;
  if (san === undefined || !matcher.san.test(san)) {
    return new CandidateFailure(
      'IDENTITY_MISMATCH',
      `wrong signer identity: expected SAN matching ${showPattern(matcher.san)}, got ${san ?? 'no SAN'}`,
    );
  }
  const issuer = fulcioIssuer(leaf);
  return new CandidateFailure(
    'ISSUER_MISMATCH',
    `wrong issuer: expected ${matcher.extensions.issuer}, got ${issuer ?? 'none'}`,
  );
}

/** Slipway's code for a failure @sigstore/verify reports with its own. */
function libraryFailureCode(error: VerificationError | PolicyError): VerificationFailureCode {
  switch (error.code) {
    case 'SIGNATURE_ERROR':
      return 'SIGNATURE_INVALID';
    case 'CERTIFICATE_ERROR':
      return 'CERTIFICATE_CHAIN_INVALID';
    case 'PUBLIC_KEY_ERROR':
      return 'KEY_MISMATCH';
    case 'TIMESTAMP_ERROR':
      // The threshold check ("expected 1 timestamps, got 0") is the only one about a count.
      return /^expected \d+ timestamps/.test(error.message) ? 'TIMESTAMP_MISSING' : 'TIMESTAMP_INVALID';
    case 'TLOG_ERROR':
      return /^expected \d+ tlog entries/.test(error.message) ? 'TLOG_MISSING' : 'TLOG_INVALID';
    case 'TLOG_BODY_ERROR':
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return 'TLOG_INVALID';
    case 'UNTRUSTED_SIGNER_ERROR':
      return 'IDENTITY_MISMATCH';
    case 'NOT_IMPLEMENTED_ERROR':
      return 'BUNDLE_INVALID';
  }
}

/**
 * The bundle without its log entries and timestamps, for key-only verification: with no trusted root there is
 * no log key or TSA to check them against, and they prove only when the key signed, which the key does not need.
 */
function withoutTrustedEvidence(bundle: Bundle): Bundle {
  return {
    ...bundle,
    verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [], timestampVerificationData: undefined },
  };
}

function checkExtensions(leaf: X509Certificate, policy: IdentityPolicy | undefined, result: AttestationCheck): void {
  if (policy === undefined) return;
  const requireExtension = (
    code: VerificationFailureCode,
    what: string,
    oid: string,
    expected: string | undefined,
    ignoreCase = false,
  ) => {
    if (expected === undefined) return;
    const actual = extensionText(leaf, oid);
    const same = ignoreCase ? actual?.toLowerCase() === expected.toLowerCase() : actual === expected;
    if (!same) {
      throw new CandidateFailure(
        code,
        `wrong ${what}: expected ${expected}, got ${actual ?? 'none'} (certificate extension ${oid})`,
      );
    }
    result.checks.push(`${what} is ${expected}`);
  };
  requireExtension(
    'SOURCE_REPOSITORY_MISMATCH',
    'source repository',
    OID_SOURCE_REPOSITORY_URI,
    policy.repository === undefined ? undefined : `${policyServerUrl(policy)}/${policy.repository}`,
    // A repository URL, compared as gh does (strings.EqualFold): see caseInsensitiveHead.
    true,
  );
  requireExtension(
    'RUNNER_ENVIRONMENT_MISMATCH',
    'runner environment',
    OID_RUNNER_ENVIRONMENT,
    policy.runnerEnvironment,
  );
  requireExtension('SOURCE_COMMIT_MISMATCH', 'source commit', OID_SOURCE_REPOSITORY_DIGEST, policy.sourceCommit);
  if (policy.signerWorkflow !== undefined && policy.ref !== undefined) {
    const actual = extensionText(leaf, OID_SOURCE_REPOSITORY_REF);
    if (actual === undefined || !new RegExp(`^${refPattern(policy.ref)}$`).test(actual)) {
      throw new CandidateFailure(
        'SOURCE_REF_MISMATCH',
        `wrong source ref: expected ${policy.ref}, got ${actual ?? 'none'} (certificate extension ${OID_SOURCE_REPOSITORY_REF})`,
      );
    }
    result.checks.push(`source ref ${actual} matches ${policy.ref}`);
  }
}

function leafCertificate(bundle: Bundle): X509Certificate {
  const material = bundle.verificationMaterial.content;
  const raw =
    material.$case === 'certificate'
      ? material.certificate.rawBytes
      : material.$case === 'x509CertificateChain'
        ? material.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  if (raw === undefined) throw new CandidateFailure('BUNDLE_INVALID', 'the bundle has no signing certificate');
  try {
    return X509Certificate.parse(Buffer.from(raw));
  } catch (error) {
    throw new CandidateFailure(
      'CERTIFICATE_CHAIN_INVALID',
      `the signing certificate cannot be parsed: ${errorText(error)}`,
    );
  }
}

const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';

function fulcioIssuer(leaf: X509Certificate): string | undefined {
  return extensionText(leaf, OID_FULCIO_ISSUER_V2) ?? rawExtensionText(leaf, OID_FULCIO_ISSUER_V1);
}

/** A Fulcio extension from .8 on: its value is DER, a UTF8String inside the extension's OCTET STRING. */
function extensionText(leaf: X509Certificate, oid: string): string | undefined {
  const extension = leaf.extension(oid);
  if (extension === undefined) return undefined;
  const inner = extension.valueObj.subs[0];
  return (inner ?? extension.valueObj).value.toString('utf8');
}

/** The legacy extensions (.1–.6) hold the raw string, not DER. */
function rawExtensionText(leaf: X509Certificate, oid: string): string | undefined {
  return leaf.extension(oid)?.value.toString('utf8');
}

/** The given PEM public keys as KeyObjects, by hint. */
function readPublicKeys(publicKeys: Record<string, string>): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const [hint, pem] of Object.entries(publicKeys)) {
    try {
      keys.set(hint, createPublicKey(pem));
    } catch (error) {
      throw new InvalidValueError(`public key for hint "${hint}"`, pem, 'a PEM public key', errorText(error));
    }
  }
  return keys;
}

function buildTrustMaterial(trustedRoot: object, keys: ReadonlyMap<string, KeyObject>): TrustMaterial {
  // H3 (trusted-root-check.ts): what @sigstore/verify would take on looser terms than the root states is refused.
  checkTrustedRoot(trustedRoot);
  // A function rather than protobuf PublicKey records: PEM goes straight to a KeyObject, with no guessing of
  // the key-details enum. A hint is the signer's say-so, not a fact: when exactly one key is given it is tried
  // whatever the hint, and the signature decides (runChecks then tells another key from a bad signature).
  const only = keys.size === 1 ? [...keys.values()][0] : undefined;
  const findKey: KeyFinderFunc = (hint) => {
    const publicKey = keys.get(hint) ?? only;
    if (publicKey === undefined) {
      throw new VerificationError({
        code: 'PUBLIC_KEY_ERROR',
        message: `signed by another key: the attestation names key ${hint}, the given keys are ${[...keys.keys()].join(', ')}`,
      });
    }
    return { publicKey, validFor: () => true };
  };
  return toTrustMaterial(TrustedRoot.fromJSON(trustedRoot), findKey);
}

function describeSubject(subject: Record<string, unknown>): string {
  const digest = isRecord(subject.digest) ? subject.digest : {};
  const digests = Object.entries(digest).map(([algorithm, value]) => `${algorithm}:${String(value)}`);
  const name = typeof subject.name === 'string' && subject.name !== '' ? subject.name : '(unnamed)';
  return `${name}@${digests.join('+') || '(no digest)'}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
