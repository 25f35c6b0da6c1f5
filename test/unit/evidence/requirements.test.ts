import { describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import {
  checkRequirements,
  DEFAULT_REQUIREMENTS,
  describeRequirement,
  parseRequirements,
  type Requirement,
  requirementsFor,
} from '../../../shared/evidence/requirements.js';
import type { EvidenceException, EvidenceResult } from '../../../shared/evidence/types.js';

// The requirement check is what promote refuses on: each requirement against present, failed and missing items,
// the status it adds up to, approvals counted without the author, and exceptions valid only before their end,
// recorded when used and named when expired.

const NOW = new Date('2026-03-01T12:00:00Z');
const from = [{ kind: 'record' as const, location: 'out/x.json' }];

function full(): EvidenceResult {
  return {
    status: 'complete',
    subject: { image: 'ghcr.io/acme/api', digest: `sha256:${'a'.repeat(64)}` },
    source: { repository: 'acme/api', commit: 'c0ffee' },
    pullRequest: {
      state: 'present',
      from,
      value: {
        number: 7,
        title: 'Add a thing',
        url: 'https://github.com/acme/api/pull/7',
        author: 'alice',
        headRef: 'feature',
        baseRef: 'main',
        headSha: 'c0ffee',
        reviews: [{ login: 'bob', state: 'APPROVED', submittedAt: '2026-02-28T10:00:00Z' }],
        approvers: ['bob'],
      },
    },
    run: { state: 'missing', reason: 'not on a runner' },
    build: {
      state: 'present',
      from,
      value: { image: 'ghcr.io/acme/api', digest: `sha256:${'a'.repeat(64)}`, tags: ['v1'], platforms: [] },
    },
    tests: {
      state: 'present',
      from,
      value: { total: 10, passed: 9, failed: 0, errored: 0, skipped: 1, suites: [], failures: [] },
    },
    sbom: { state: 'present', from, value: { files: [{ format: 'cyclonedx', path: 'sbom.json' }], attached: [] } },
    vulnerabilities: { state: 'present', from, value: { verdict: 'passed', counts: {}, exceptions: [] } },
    signatures: {
      state: 'present',
      from,
      value: { signer: 'key abc', attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', stored: [] }] },
    },
    verification: { state: 'present', from, value: { verified: true, formats: [], policy: {}, reasons: [] } },
    promotions: { state: 'missing', reason: 'none' },
    deployments: { state: 'missing', reason: 'none' },
    canary: {
      state: 'present',
      from,
      value: { decision: 'promote', environment: 'staging', reasons: [], metrics: [] },
    },
    decision: { state: 'missing', reason: 'none' },
    requirements: [],
    missing: [],
    exceptions: [],
    generatedAt: '2026-03-01T11:00:00Z',
  };
}

const ALL: Requirement[] = [
  { name: 'approved-pr', minApprovals: 1 },
  ...DEFAULT_REQUIREMENTS,
  { name: 'canary', environment: 'staging' },
];

describe('checkRequirements', () => {
  it('is complete when every requirement is met, each saying how', () => {
    const check = checkRequirements(full(), ALL, [], NOW);
    expect(check.status).toBe('complete');
    expect(check.missing).toEqual([]);
    expect(check.requirements.map((r) => [r.requirement, r.met])).toEqual(ALL.map((r) => [r.name, true]));
    expect(check.requirements[0]!.detail).toBe('pull request #7 approved by 1 (bob)');
  });

  it('never reads the status, requirements or missing the record carries', () => {
    const record = { ...full(), status: 'complete' as const, tests: { state: 'missing' as const, reason: 'none' } };
    const check = checkRequirements(record, [{ name: 'tests-passed' }], [], NOW);
    expect(check.status).toBe('incomplete');
    const lying = { ...full(), status: 'failed' as const, missing: ['everything'] };
    expect(checkRequirements(lying, [{ name: 'tests-passed' }], [], NOW).status).toBe('complete');
  });

  it('is failed on a failed test report, naming the failures', () => {
    const record = full();
    record.tests = {
      state: 'failed',
      from,
      value: {
        total: 3,
        passed: 2,
        failed: 1,
        errored: 0,
        skipped: 0,
        suites: [],
        failures: [{ suite: 'api', name: 'returns 200', kind: 'failure' }],
      },
    };
    const check = checkRequirements(record, ALL, [], NOW);
    expect(check.status).toBe('failed');
    expect(check.missing).toEqual(['tests-passed']);
    expect(check.failed).toEqual(['tests-passed']);
    expect(check.requirements.find((r) => r.requirement === 'tests-passed')!.detail).toBe(
      '1 failed and 0 errored of 3 tests (api › returns 200)',
    );
  });

  it('fails tests-passed on failures even when the item claims present', () => {
    const record = full();
    record.tests = {
      state: 'present',
      from,
      value: { total: 3, passed: 1, failed: 0, errored: 2, skipped: 0, suites: [], failures: [] },
    };
    expect(checkRequirements(record, [{ name: 'tests-passed' }], [], NOW).failed).toEqual(['tests-passed']);
  });

  it('is incomplete when an item is missing, with the reason it was looked for', () => {
    const record = full();
    record.sbom = { state: 'missing', reason: 'no sbom.json among the records' };
    const check = checkRequirements(record, ALL, [], NOW);
    expect(check.status).toBe('incomplete');
    expect(check.requirements.find((r) => r.requirement === 'sbom')!.detail).toBe(
      'an SBOM is missing: no sbom.json among the records',
    );
  });

  it('failed outweighs missing', () => {
    const record = full();
    record.sbom = { state: 'missing', reason: 'none' };
    record.vulnerabilities = { state: 'failed', from, value: { verdict: 'failed', counts: {}, exceptions: [] } };
    const check = checkRequirements(record, ALL, [], NOW);
    expect(check.status).toBe('failed');
    expect(check.missing).toEqual(['sbom', 'vulnerability-gate']);
    expect(check.failed).toEqual(['vulnerability-gate']);
  });

  it('counts approvals from people other than the author, against min-approvals', () => {
    const record = full();
    if (record.pullRequest.state !== 'present') throw new Error('fixture');
    record.pullRequest.value.approvers = ['bob', 'Alice'];
    const two: Requirement[] = [{ name: 'approved-pr', minApprovals: 2 }];
    const check = checkRequirements(record, two, [], NOW);
    expect(check.status).toBe('incomplete');
    expect(check.requirements[0]!.detail).toBe(
      'pull request #7 has 1 of the 2 approvals required from someone other than its author (bob)',
    );
    record.pullRequest.value.approvers = ['bob', 'carol'];
    expect(checkRequirements(record, two, [], NOW).status).toBe('complete');
  });

  it('is incomplete with no approval, and with no pull request at all', () => {
    const record = full();
    if (record.pullRequest.state !== 'present') throw new Error('fixture');
    record.pullRequest.value.approvers = [];
    expect(checkRequirements(record, [{ name: 'approved-pr', minApprovals: 1 }], [], NOW).missing).toEqual([
      'approved-pr',
    ]);
    record.pullRequest = { state: 'missing', reason: 'no pull request for commit c0ffee' };
    const check = checkRequirements(record, [{ name: 'approved-pr', minApprovals: 1 }], [], NOW);
    expect(check.requirements[0]!.detail).toBe('the pull request is missing: no pull request for commit c0ffee');
  });

  it('requires signatures to have verified', () => {
    const record = full();
    record.verification = { state: 'missing', reason: 'no verification.json' };
    const check = checkRequirements(record, [{ name: 'signature' }], [], NOW);
    expect(check.status).toBe('incomplete');
    expect(check.requirements[0]!.detail).toMatch(/verification is missing: no verification.json/);
    record.verification = {
      state: 'failed',
      from,
      value: { verified: false, formats: [], policy: {}, reasons: ['KEY_MISMATCH'] },
    };
    expect(checkRequirements(record, [{ name: 'signature' }], [], NOW).status).toBe('failed');
  });

  it('requires the canary decision in the named environment', () => {
    const record = full();
    expect(checkRequirements(record, [{ name: 'canary', environment: 'qa' }], [], NOW).requirements[0]).toEqual({
      requirement: 'canary',
      met: false,
      detail: 'the canary decision is for staging, not qa',
    });
    expect(checkRequirements(record, [{ name: 'canary' }], [], NOW).status).toBe('complete');
    if (record.canary.state !== 'present') throw new Error('fixture');
    record.canary.value.decision = 'rollback';
    expect(checkRequirements(record, [{ name: 'canary' }], [], NOW).status).toBe('failed');
    record.canary.value.decision = 'inconclusive';
    expect(checkRequirements(record, [{ name: 'canary' }], [], NOW).status).toBe('incomplete');
  });

  it('treats a malformed item as missing, never as present', () => {
    const record = full() as unknown as Record<string, unknown>;
    record.tests = { state: 'present' };
    record.build = 'yes';
    delete record.sbom;
    const check = checkRequirements(
      record as unknown as EvidenceResult,
      [{ name: 'tests-passed' }, { name: 'build' }, { name: 'sbom' }],
      [],
      NOW,
    );
    expect(check.missing).toEqual(['tests-passed', 'build', 'sbom']);
  });

  describe('exceptions', () => {
    const exception: EvidenceException = {
      requirement: 'tests-passed',
      by: 'carol',
      reason: 'flaky suite quarantined, INC-42',
      until: '2026-03-02T00:00:00Z',
    };
    const failing = () => {
      const record = full();
      record.tests = { state: 'missing', reason: 'no report' };
      return record;
    };

    it('stand in for an unmet requirement before until, recorded in the result', () => {
      const check = checkRequirements(failing(), [{ name: 'tests-passed' }], [exception], NOW);
      expect(check.status).toBe('complete');
      expect(check.exceptions).toEqual([exception]);
      expect(check.requirements[0]).toEqual({
        requirement: 'tests-passed',
        met: true,
        detail:
          'a test report is missing: no report; excepted by carol until 2026-03-02T00:00:00Z: flaky suite quarantined, INC-42',
        exception,
      });
    });

    it('are ignored from until on, and the detail says so', () => {
      const check = checkRequirements(failing(), [{ name: 'tests-passed' }], [exception], new Date(exception.until));
      expect(check.status).toBe('incomplete');
      expect(check.exceptions).toEqual([]);
      expect(check.requirements[0]!.detail).toBe(
        'a test report is missing: no report; an exception by carol expired at 2026-03-02T00:00:00Z and was ignored',
      );
    });

    it('are not applied to a requirement that is met, nor to another requirement', () => {
      const check = checkRequirements(full(), [{ name: 'tests-passed' }], [exception], NOW);
      expect(check.exceptions).toEqual([]);
      expect(check.requirements[0]!.exception).toBeUndefined();
      const other = checkRequirements(
        failing(),
        [{ name: 'tests-passed' }],
        [{ ...exception, requirement: 'sbom' }],
        NOW,
      );
      expect(other.status).toBe('incomplete');
    });

    it('with an unreadable until are no exception', () => {
      const check = checkRequirements(failing(), [{ name: 'tests-passed' }], [{ ...exception, until: 'soon' }], NOW);
      expect(check.status).toBe('incomplete');
    });
  });
});

describe('requirementsFor', () => {
  it('gives the environment list, or the default without one', () => {
    expect(requirementsFor()).toEqual(DEFAULT_REQUIREMENTS);
    expect(requirementsFor({ requireEvidence: [] })).toEqual(DEFAULT_REQUIREMENTS);
    expect(requirementsFor({ requireEvidence: [{ name: 'sbom' }] })).toEqual([{ name: 'sbom' }]);
    expect(DEFAULT_REQUIREMENTS.map(describeRequirement)).toEqual([
      'build',
      'tests-passed',
      'sbom',
      'vulnerability-gate',
      'signature',
      'verification',
    ]);
  });
});

describe('parseRequirements', () => {
  it('reads names and maps with options', () => {
    expect(
      parseRequirements([
        'tests-passed',
        { 'approved-pr': { 'min-approvals': 2 } },
        { canary: { environment: 'staging' } },
        'sbom',
      ]),
    ).toEqual([
      { name: 'tests-passed' },
      { name: 'approved-pr', minApprovals: 2 },
      { name: 'canary', environment: 'staging' },
      { name: 'sbom' },
    ]);
    expect(parseRequirements(['approved-pr', { canary: null }])).toEqual([
      { name: 'approved-pr', minApprovals: 1 },
      { name: 'canary' },
    ]);
    expect(describeRequirement({ name: 'approved-pr', minApprovals: 2 })).toBe('approved-pr (min-approvals 2)');
  });

  it.each([
    [['tests-pass'], /Invalid require-evidence\[0\] "tests-pass": expected a requirement name \(approved-pr, build/],
    [
      [{ 'approved-pr': { 'min-approvals': 0 } }],
      /require-evidence\[0\]\.approved-pr\.min-approvals "0".*from 1 to 10/,
    ],
    [[{ 'approved-pr': { min: 2 } }], /"min": expected one of the options min-approvals/],
    [[{ sbom: { x: 1 } }], /"x": expected no options for sbom/],
    [['sbom', 'sbom'], /require-evidence\[1\] "sbom": expected each requirement once/],
    [[{ sbom: null, canary: null }], /require-evidence\[0\]/],
    ['sbom', /expected a list of/],
  ])('refuses %j naming the entry', (value, message) => {
    expect(() => parseRequirements(value)).toThrow(InvalidValueError);
    expect(() => parseRequirements(value)).toThrow(message);
  });
});
