import { describe, expect, it } from 'vitest';
import {
  decideRequirements,
  isSbomPredicateType,
  platformPredicateTypes,
  predicateTypeSatisfies,
} from '../../../shared/attest/requirements.js';
import { PREDICATE_TYPES, type StorageLocation } from '../../../shared/attest/types.js';
import type { AttestationCheck, VerificationFailureCode } from '../../../shared/attest/verify.js';
import { digestOf } from '../../../shared/oci/digest.js';
import type { Digest } from '../../../shared/oci/types.js';

// The decision alone, over checks as verify.ts reports them: which required types are met where. Signing and
// verifying bundles for real is verify.test.ts's; the whole path through the built action is records-chain's.

const INDEX = digestOf(Buffer.from('index'));
const AMD64 = digestOf(Buffer.from('amd64 manifest'));
const ARM64 = digestOf(Buffer.from('arm64 manifest'));
const { slsaProvenance: SLSA, cyclonedx: CDX, spdx: SPDX } = PREDICATE_TYPES;

const location = (name: string): StorageLocation => ({
  kind: 'referrer',
  manifest: digestOf(Buffer.from(name)),
  via: 'tag-fallback',
});
const passed = (predicateType: string, where = predicateType): AttestationCheck => ({
  location: location(where),
  predicateType,
  signer: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1',
  passed: true,
  checks: ['signature verified'],
});
const failed = (code: VerificationFailureCode, failure: string, predicateType?: string): AttestationCheck => ({
  location: location(failure),
  ...(predicateType ? { predicateType } : {}),
  passed: false,
  failure,
  code,
  checks: [],
});

const decide = (
  required: string[],
  index: AttestationCheck[],
  platforms?: Record<string, [Digest, AttestationCheck[]]>,
) =>
  decideRequirements({
    required,
    image: { digest: INDEX, attestations: index },
    ...(platforms
      ? {
          platforms: Object.fromEntries(
            Object.entries(platforms).map(([p, [digest, attestations]]) => [p, { digest, attestations }]),
          ),
        }
      : {}),
  });

describe('decideRequirements', () => {
  it('meets every type on the digest given, with no platform part when no platform was searched', () => {
    const index = [passed(SLSA), passed(CDX)];
    expect(decide([SLSA, CDX], index)).toEqual({
      verified: true,
      attestations: index,
      missingPredicateTypes: [],
      reasons: [],
    });
  });

  it('meets an SBOM type the index lacks when every platform manifest has a verified one', () => {
    const outcome = decide([SLSA, CDX, 'https://spdx.dev/Document'], [passed(SLSA)], {
      'linux/amd64': [AMD64, [passed(CDX, 'amd64 cdx'), passed(SPDX, 'amd64 spdx')]],
      'linux/arm64': [ARM64, [passed(CDX, 'arm64 cdx'), passed(SPDX, 'arm64 spdx')]],
    });
    expect(outcome.verified).toBe(true);
    expect(outcome.reasons).toEqual([]);
    expect(outcome.missingPredicateTypes).toEqual([]);
    expect(outcome.platformPredicateTypes).toEqual([CDX, 'https://spdx.dev/Document']);
    expect(outcome.platforms?.['linux/arm64']).toEqual({
      digest: ARM64,
      attestations: [passed(CDX, 'arm64 cdx'), passed(SPDX, 'arm64 spdx')],
      missingPredicateTypes: [],
    });
  });

  it('fails when one platform lacks the SBOM type, naming that platform and its digest, not the others', () => {
    const outcome = decide([SLSA, CDX], [passed(SLSA)], {
      'linux/amd64': [AMD64, [passed(CDX, 'amd64 cdx')]],
      'linux/arm64': [ARM64, []],
    });
    expect(outcome.verified).toBe(false);
    expect(outcome.missingPredicateTypes).toEqual([CDX]);
    expect(outcome.platforms?.['linux/amd64']?.missingPredicateTypes).toEqual([]);
    expect(outcome.platforms?.['linux/arm64']?.missingPredicateTypes).toEqual([CDX]);
    expect(outcome.reasons).toEqual([
      {
        code: 'PREDICATE_TYPE_MISSING',
        message:
          `platform linux/arm64 (${ARM64}) is missing required predicate types: ${CDX} (nothing is attested about ` +
          `its manifest, and none about the index ${INDEX} meets them)`,
      },
    ]);
  });

  it('reports a platform attestation that failed with its own code, prefixed by the platform', () => {
    const outcome = decide([SLSA, CDX], [passed(SLSA)], {
      'linux/amd64': [AMD64, [passed(CDX, 'amd64 cdx')]],
      'linux/arm64': [ARM64, [failed('SUBJECT_MISMATCH', `the attestation is for ${AMD64}`, CDX)]],
    });
    expect(outcome.verified).toBe(false);
    expect(outcome.reasons.map((r) => r.code)).toEqual(['SUBJECT_MISMATCH', 'PREDICATE_TYPE_MISSING']);
    expect(outcome.reasons[0]!.message).toMatch(
      new RegExp(
        `^platform linux/arm64 \\(${ARM64}\\) referrer sha256:[0-9a-f]{64} \\(tag-fallback\\): the attestation is for`,
      ),
    );
    expect(outcome.reasons[1]!.message).toContain('1 found about its manifest, none a verified one of them');
  });

  it('never meets provenance per platform: sign attests it about the index only', () => {
    const outcome = decide([SLSA, CDX], [passed(CDX)], {
      'linux/amd64': [AMD64, [passed(SLSA, 'amd64 slsa')]],
      'linux/arm64': [ARM64, [passed(SLSA, 'arm64 slsa')]],
    });
    expect(outcome.verified).toBe(false);
    expect(outcome.missingPredicateTypes).toEqual([SLSA]);
    expect(outcome.platformPredicateTypes).toEqual([]);
    expect(outcome.reasons).toEqual([
      { code: 'PREDICATE_TYPE_MISSING', message: `missing required predicate types: ${SLSA}` },
    ]);
  });

  it('takes an SBOM attestation about the index as it is, whatever the platforms hold', () => {
    const outcome = decide([CDX], [passed(CDX)], { 'linux/amd64': [AMD64, []] });
    expect(outcome.verified).toBe(true);
    expect(outcome.platformPredicateTypes).toEqual([]);
    expect(outcome.platforms?.['linux/amd64']?.missingPredicateTypes).toEqual([]);
  });

  it('does not pass an index without platforms vacuously', () => {
    const outcome = decide([SLSA, CDX], [passed(SLSA)], {});
    expect(outcome.verified).toBe(false);
    expect(outcome.missingPredicateTypes).toEqual([CDX]);
    expect(outcome.reasons).toEqual([
      { code: 'PREDICATE_TYPE_MISSING', message: `missing required predicate types: ${CDX}` },
    ]);
  });

  it('passes SBOM types met on every platform when nothing is attested about the index itself', () => {
    const outcome = decide([CDX], [], {
      'linux/amd64': [AMD64, [passed(CDX, 'amd64')]],
      'linux/arm64': [ARM64, [passed(CDX, 'arm64')]],
    });
    expect(outcome.verified).toBe(true);
    expect(outcome.reasons).toEqual([]);
  });

  it('says nothing was found about the index when provenance is required there', () => {
    const outcome = decide([SLSA, CDX], [], {
      'linux/amd64': [AMD64, [passed(CDX, 'amd64')]],
      'linux/arm64': [ARM64, [passed(CDX, 'arm64')]],
    });
    expect(outcome.verified).toBe(false);
    expect(outcome.missingPredicateTypes).toEqual([SLSA]);
    expect(outcome.reasons).toEqual([{ code: 'NO_ATTESTATION', message: `no attestation found for ${INDEX}` }]);
  });

  it('holds a versioned SPDX requirement to its version on every platform', () => {
    const outcome = decide([SPDX], [], {
      'linux/amd64': [AMD64, [passed('https://spdx.dev/Document', 'amd64 bare')]],
      'linux/arm64': [ARM64, [passed('https://spdx.dev/Document/v2.2', 'arm64 2.2')]],
    });
    expect(outcome.verified).toBe(false);
    expect(outcome.platforms?.['linux/amd64']?.missingPredicateTypes).toEqual([]);
    expect(outcome.platforms?.['linux/arm64']?.missingPredicateTypes).toEqual([SPDX]);
  });

  it('keeps the single-digest outcome: failures, the missing types, then that none passed', () => {
    const outcome = decide([SLSA], [failed('IDENTITY_MISMATCH', 'wrong signer identity', SLSA)]);
    expect(outcome.verified).toBe(false);
    expect(outcome.reasons.map((r) => r.code)).toEqual([
      'IDENTITY_MISMATCH',
      'PREDICATE_TYPE_MISSING',
      'NO_VALID_ATTESTATION',
    ]);
    expect(decide([SLSA], []).reasons).toEqual([
      { code: 'NO_ATTESTATION', message: `no attestation found for ${INDEX}` },
    ]);
  });
});

describe('which types are looked for per platform', () => {
  it.each([
    ['https://cyclonedx.org/bom', true],
    ['https://cyclonedx.org/bom/v1.5', true],
    ['https://spdx.dev/Document', true],
    ['https://spdx.dev/Document/v2.3', true],
    ['https://slsa.dev/provenance/v1', false],
    ['https://in-toto.io/attestation/vulns/v0.2', false],
    ['https://cyclonedx.org/vex', false],
    ['https://spdx.dev/Documents', false],
  ])('%s is an SBOM type: %s', (type, sbom) => {
    expect(isSbomPredicateType(type)).toBe(sbom);
  });

  it('lists the SBOM types no verified attestation about the index meets', () => {
    const index = [passed(SLSA), passed(CDX), failed('SIGNATURE_INVALID', 'bad', SPDX)];
    expect(platformPredicateTypes([SLSA, CDX, SPDX], index)).toEqual([SPDX]);
    expect(platformPredicateTypes([SLSA], [])).toEqual([]);
  });

  it('matches SPDX versions as before: bare accepts any, a version accepts itself or the bare URI', () => {
    expect(predicateTypeSatisfies('https://spdx.dev/Document/v2.3', 'https://spdx.dev/Document')).toBe(true);
    expect(predicateTypeSatisfies('https://spdx.dev/Document', SPDX)).toBe(true);
    expect(predicateTypeSatisfies('https://spdx.dev/Document/v2.2', SPDX)).toBe(false);
    expect(predicateTypeSatisfies(CDX, SLSA)).toBe(false);
  });
});
