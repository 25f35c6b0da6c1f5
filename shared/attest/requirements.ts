import type { Digest } from '../oci/types.js';
import { describeLocation } from './location.js';
import type { AttestationCheck, VerificationOutcome, VerificationReason } from './verify.js';

// Whether the attestations verify found and checked meet the required predicate types: a pure decision over
// what was checked where, so that it can be tested without signing anything.
//
// Where each type may be met. sign attests what describes the whole image (SLSA provenance, a custom predicate)
// once, about the image's own digest (the index of a multi-platform image), and each platform's SBOM about that
// platform's manifest alone (run-sign.ts): one platform's inventory says nothing about another's. So:
// - any required type is met by a verified attestation about the digest verify was given;
// - an SBOM type (CycloneDX, SPDX) is also met when the digest is an index and EVERY platform manifest of it
//   (BuildKit's attestation manifests are not platforms) has a verified attestation of that type about its
//   own manifest. One platform without one fails the requirement, naming that platform.
// - provenance and every other type are met on the image's digest only: a build record for one platform's
//   manifest is not one for the image as promoted, and sign never writes one there; accepting it would let
//   per-platform statements stand in for the image's.

export interface CheckedDigest {
  digest: Digest;
  /** What was found for the digest and how each one fared (verify.ts, checkBundles). */
  attestations: AttestationCheck[];
}

/** One platform of an index: its manifest, what was checked for it, and the per-platform types it lacks. */
export interface PlatformOutcome extends CheckedDigest {
  /** Of the types required per platform, those this platform has no verified attestation of. */
  missingPredicateTypes: string[];
}

export interface RequirementsInput {
  required: readonly string[];
  /** The digest verify was given (an index, or a single manifest) and what was checked for it. */
  image: CheckedDigest;
  /**
   * Each platform manifest of the index, by platform (`linux/amd64`), with what was checked for it. Absent when
   * the image is a single manifest, or when nothing needed its platforms (platformPredicateTypes was empty).
   */
  platforms?: Record<string, CheckedDigest>;
}

// SPDX statements are typed two ways: GitHub appends the document's version (…/Document/v2.3),
// cosign's `spdxjson` does not. A bare requirement accepts any version; a versioned one accepts
// that version or the bare URI (which does not say), never a different version.
const SPDX_TYPE = /^https:\/\/spdx\.dev\/Document(?:\/v\d+(?:\.\d+)*)?$/;
const SPDX_BARE = 'https://spdx.dev/Document';
// CycloneDX is attested as the bare URI by sign, cosign and GitHub; some tools append the spec version.
const CYCLONEDX_TYPE = /^https:\/\/cyclonedx\.org\/bom(?:\/v\d+(?:\.\d+)*)?$/;

/** Whether an attestation of type `actual` meets a requirement for `required`. */
export function predicateTypeSatisfies(actual: string, required: string): boolean {
  if (actual === required) return true;
  if (!SPDX_TYPE.test(actual) || !SPDX_TYPE.test(required)) return false;
  return actual === SPDX_BARE || required === SPDX_BARE;
}

/** An SBOM predicate type, which may be met per platform (the comment at the top says why only these). */
export function isSbomPredicateType(type: string): boolean {
  return SPDX_TYPE.test(type) || CYCLONEDX_TYPE.test(type);
}

function meets(attestations: readonly AttestationCheck[], required: string): boolean {
  return attestations.some(
    (a) => a.passed && a.predicateType !== undefined && predicateTypeSatisfies(a.predicateType, required),
  );
}

/**
 * The required types to look for on each platform manifest: SBOM types that no verified attestation about the
 * image's own digest meets. Empty means the platforms need not be searched at all.
 */
export function platformPredicateTypes(required: readonly string[], image: readonly AttestationCheck[]): string[] {
  return required.filter((type) => isSbomPredicateType(type) && !meets(image, type));
}

/**
 * The outcome: verified when something passed and every required type is met, on the image's digest or (SBOM
 * types) on every platform; else the reasons, each with its code, a platform's naming the platform.
 */
export function decideRequirements(input: RequirementsInput): VerificationOutcome {
  const { required, image } = input;
  const given = input.platforms === undefined ? [] : Object.entries(input.platforms);
  // An index with no platforms (an empty or attestation-only index) has nothing to meet a type per platform:
  // "every platform" of none must not pass vacuously.
  const perPlatform = given.length > 0 ? platformPredicateTypes(required, image.attestations) : [];
  const platforms: Record<string, PlatformOutcome> = {};
  for (const [platform, checked] of given) {
    platforms[platform] = {
      digest: checked.digest,
      attestations: checked.attestations,
      missingPredicateTypes: perPlatform.filter((type) => !meets(checked.attestations, type)),
    };
  }
  const lacking = Object.entries(platforms).filter(([, p]) => p.missingPredicateTypes.length > 0);
  const missingOnImage = required.filter((type) => !perPlatform.includes(type) && !meets(image.attestations, type));
  const missingPerPlatform = perPlatform.filter((type) =>
    lacking.some(([, p]) => p.missingPredicateTypes.includes(type)),
  );
  // In the order required, as before per-platform types existed.
  const missingPredicateTypes = required.filter(
    (type) => missingOnImage.includes(type) || missingPerPlatform.includes(type),
  );
  const anyPassed =
    image.attestations.some((a) => a.passed) ||
    Object.values(platforms).some((p) => p.attestations.some((a) => a.passed));
  const verified = anyPassed && missingPredicateTypes.length === 0;

  const reasons: VerificationReason[] = [];
  if (!verified) {
    for (const a of image.attestations) {
      if (!a.passed && a.code) reasons.push({ code: a.code, message: `${describeLocation(a.location)}: ${a.failure}` });
    }
    for (const [platform, p] of Object.entries(platforms)) {
      for (const a of p.attestations) {
        if (!a.passed && a.code) {
          reasons.push({
            code: a.code,
            message: `platform ${platform} (${p.digest}) ${describeLocation(a.location)}: ${a.failure}`,
          });
        }
      }
    }
    if (image.attestations.length === 0 && (missingOnImage.length > 0 || !anyPassed)) {
      reasons.push({ code: 'NO_ATTESTATION', message: `no attestation found for ${image.digest}` });
    } else if (missingOnImage.length > 0) {
      reasons.push({
        code: 'PREDICATE_TYPE_MISSING',
        message: `missing required predicate types: ${missingOnImage.join(', ')}`,
      });
    }
    for (const [platform, p] of lacking) {
      const found =
        p.attestations.length === 0
          ? 'nothing is attested about its manifest'
          : `${p.attestations.length} found about its manifest, none a verified one of them`;
      reasons.push({
        code: 'PREDICATE_TYPE_MISSING',
        message:
          `platform ${platform} (${p.digest}) is missing required predicate types: ${p.missingPredicateTypes.join(', ')} ` +
          `(${found}, and none about the index ${image.digest} meets them)`,
      });
    }
    if (image.attestations.length > 0 && !image.attestations.some((a) => a.passed)) {
      reasons.push({ code: 'NO_VALID_ATTESTATION', message: `no attestation for ${image.digest} passed verification` });
    }
  }
  return {
    verified,
    attestations: image.attestations,
    missingPredicateTypes,
    reasons,
    ...(input.platforms === undefined ? {} : { platforms, platformPredicateTypes: perPlatform }),
  };
}
