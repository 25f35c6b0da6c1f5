import type { VerificationRecord, VerifyRequest } from '../attest/run-verify.js';
import type { BundleJson } from '../attest/types.js';
import type { Runtime } from '../core/runtime.js';
import { EVIDENCE_PREDICATE_TYPE } from '../evidence/publish/attestation.js';
import {
  checkRequirements,
  describeRequirement,
  type EvidenceItems,
  requirementsFor,
} from '../evidence/requirements.js';
import type { EvidenceResult } from '../evidence/types.js';
import { parsePinnedReference } from '../oci/reference.js';
import type { ServiceEvidenceRecord } from '../records/promotion.js';
import { PolicyRefusal } from './errors.js';
import type { EnvironmentConfig, ImagePin } from './types.js';
import { type VerifyPinOptions, verifyPin } from './verify-signers.js';

// Required evidence at promotion (`require-evidence:` on the target environment). Promote does not trust a file:
// it finds the evidence attestation (predicate type https://slipway.dev/attestation/evidence/v1) on the digest it is
// about to pin, verifies it against the environment's signers with the same machinery as policy.require
// (verify-signers.ts, so a key or workflow identity that could not sign the image cannot vouch for its evidence
// either), reads the predicate of the attestation that passed, and recomputes the status against the TARGET
// environment's requirements and its evidence-exceptions. The status the record carries is never read: it was
// computed for whatever environment the evidence action was told, perhaps none.

export type EvidenceGateOptions = Omit<VerifyPinOptions, 'require'> & {
  environment: EnvironmentConfig;
  now: Date;
};

/** Checks the evidence attestation on `pin`; the caller refuses (evidenceRefusal) unless the status is complete. */
export async function checkEvidence(
  pin: ImagePin,
  options: EvidenceGateOptions,
  runtime: Runtime,
): Promise<ServiceEvidenceRecord> {
  const { environment, now } = options;
  const rule = `environments[${environment.name}].require-evidence`;
  const requirements = requirementsFor(environment);
  const exceptions = environment.evidenceExceptions ?? [];

  // verify's record of the signer that passed: which attestations passed, and where they are stored.
  let passed: VerificationRecord | undefined;
  const runVerify = options.runVerify ?? (await import('../attest/run-verify.js')).runVerify;
  const capture = async (request: VerifyRequest, verifyRuntime: Runtime) => {
    const record = await runVerify(request, verifyRuntime);
    if (record.verified) passed = record;
    return record;
  };
  const verification = await verifyPin(
    pin,
    { ...options, require: [EVIDENCE_PREDICATE_TYPE], runVerify: capture },
    runtime,
  );

  const unusable = (reasons: string[]): ServiceEvidenceRecord => {
    const check = checkRequirements(nothing('no usable evidence attestation'), requirements, exceptions, now);
    return {
      status: check.status,
      rule,
      requirements: check.requirements,
      missing: check.missing,
      exceptions: check.exceptions,
      reasons,
    };
  };
  if (verification.verdict !== 'verified' || passed === undefined) {
    return unusable(
      verification.reasons.map((r) => (r.signer ? `${r.signer}: ${r.code} ${r.message}` : `${r.code} ${r.message}`)),
    );
  }

  const predicates = await readVerifiedPredicates(pin, passed, options, runtime);
  const reasons: string[] = [];
  const candidates: { location: string; result: Partial<EvidenceResult> }[] = [];
  for (const { location, predicate } of predicates) {
    if (predicate === null || typeof predicate !== 'object' || Array.isArray(predicate)) {
      reasons.push(`${location}: the predicate is not an evidence record`);
      continue;
    }
    const result = predicate as Partial<EvidenceResult>;
    // The statement's subject is the digest (verify checked it); a record naming another digest is not about it.
    const digest = result.subject?.digest;
    if (digest !== undefined && digest !== pin.digest) {
      reasons.push(`${location}: the evidence record is about ${String(digest)}, not ${pin.digest}`);
      continue;
    }
    candidates.push({ location, result });
  }
  if (candidates.length === 0) {
    return unusable(reasons.length > 0 ? reasons : ['the verified evidence attestation could not be read again']);
  }
  // Evidence is re-attested as a release goes (tests, then staging's canary): the newest record that meets the
  // requirements is the one used; when none does, the newest, so that the refusal names what it still lacks.
  const checked = candidates
    .map((candidate) => ({
      ...candidate,
      check: checkRequirements(withItems(candidate.result), requirements, exceptions, now),
    }))
    .sort((a, b) => generated(b.result) - generated(a.result));
  const chosen = checked.find((c) => c.check.status === 'complete') ?? checked[0]!;
  return {
    status: chosen.check.status,
    rule,
    ...(verification.signer ? { signer: verification.signer } : {}),
    attestation: {
      location: chosen.location,
      ...(typeof chosen.result.generatedAt === 'string' ? { generatedAt: chosen.result.generatedAt } : {}),
    },
    requirements: chosen.check.requirements,
    missing: chosen.check.missing,
    exceptions: chosen.check.exceptions,
    reasons,
  };
}

/** The refusal for evidence that is not complete: each missing or failed requirement, with why. */
export function evidenceRefusal(
  service: string,
  pin: ImagePin,
  environment: EnvironmentConfig,
  evidence: ServiceEvidenceRecord,
): PolicyRefusal {
  const items = evidence.requirements
    .filter((r) => !r.met)
    .map((r) => {
      const requirement = environment.requireEvidence?.find((q) => q.name === r.requirement);
      return `${requirement ? describeRequirement(requirement) : r.requirement}: ${r.detail}`;
    });
  const subject = `${service} ${pin.name}@${pin.digest}`;
  if (evidence.signer === undefined) {
    // Nothing could be read: one reason, not the same one repeated for every requirement.
    const excepted = evidence.requirements.filter((r) => r.met).map((r) => r.requirement);
    return new PolicyRefusal(
      'EVIDENCE_INCOMPLETE',
      evidence.rule,
      `${subject} has no evidence attestation (${EVIDENCE_PREDICATE_TYPE}) signed by a signer the environment allows ` +
        `(${evidence.reasons.join('; ')}), so every requirement is missing: ${evidence.missing.join(', ')}` +
        `${excepted.length > 0 ? ` (excepted: ${excepted.join(', ')})` : ''}. Publish the evidence with the evidence ` +
        'action (publish: attestation), signed as the image is.',
    );
  }
  return new PolicyRefusal(
    'EVIDENCE_INCOMPLETE',
    evidence.rule,
    `${subject}: the evidence is ${evidence.status}; missing or failed: ${items.join('; ')}`,
  );
}

/**
 * The predicates of the evidence attestations verify passed. The bundles are read again from where verify found
 * them: a referrer manifest is addressed by its digest, so what is read is the very bundle verified.
 */
async function readVerifiedPredicates(
  pin: ImagePin,
  record: VerificationRecord,
  options: EvidenceGateOptions,
  runtime: Runtime,
): Promise<{ location: string; predicate: unknown }[]> {
  const manifests = new Set(
    record.outcome.attestations
      .filter((a) => a.passed && a.predicateType === EVIDENCE_PREDICATE_TYPE && a.location.kind === 'referrer')
      .map((a) => (a.location.kind === 'referrer' ? a.location.manifest : '')),
  );
  if (manifests.size === 0) return [];
  const [{ createRegistryClient }, { openReference }, { referrerStore }] = await Promise.all([
    import('../oci/login.js'),
    import('../oci/open.js'),
    import('../attest/stores.js'),
  ]);
  const image = parsePinnedReference(`${pin.name}@${pin.digest}`);
  const client = createRegistryClient({
    login: image.kind === 'registry' ? options.login?.(image.registry) : undefined,
    env: runtime.env,
    logger: runtime.logger,
    secrets: runtime.secrets,
    userAgent: 'slipway-promote',
    timeouts: options.registryTimeouts,
  });
  const opened = await openReference(image, { client, workspace: runtime.workspace });
  const found = await referrerStore({ images: opened.store, env: runtime.env, input: 'sources' }).find(pin.digest);
  const result: { location: string; predicate: unknown }[] = [];
  for (const { bundle, location } of found) {
    if (location.kind !== 'referrer' || !manifests.has(location.manifest) || bundle === undefined) continue;
    const statement = payloadOf(bundle);
    if (statement?.predicateType !== EVIDENCE_PREDICATE_TYPE) continue;
    result.push({ location: `referrer ${location.manifest}`, predicate: statement.predicate });
  }
  return result;
}

function payloadOf(bundle: BundleJson): { predicateType?: unknown; predicate?: unknown } | undefined {
  const envelope = bundle.dsseEnvelope as { payload?: unknown } | undefined;
  if (typeof envelope?.payload !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

const ITEM_KEYS = [
  'pullRequest',
  'build',
  'tests',
  'sbom',
  'vulnerabilities',
  'signatures',
  'verification',
  'canary',
] as const satisfies readonly (keyof EvidenceItems)[];

/** Every item missing, saying why: what a digest without usable evidence has. */
function nothing(reason: string): EvidenceItems {
  return Object.fromEntries(ITEM_KEYS.map((key) => [key, { state: 'missing', reason }])) as unknown as EvidenceItems;
}

/** The record's items; one it lacks is missing (checkRequirements treats malformed ones as missing too). */
function withItems(result: Partial<EvidenceResult>): EvidenceItems {
  const items = nothing('the evidence record has no such item');
  for (const key of ITEM_KEYS) {
    if (result[key] !== undefined) (items as unknown as Record<string, unknown>)[key] = result[key];
  }
  return items;
}

function generated(result: Partial<EvidenceResult>): number {
  const time = typeof result.generatedAt === 'string' ? Date.parse(result.generatedAt) : Number.NaN;
  return Number.isFinite(time) ? time : 0;
}
