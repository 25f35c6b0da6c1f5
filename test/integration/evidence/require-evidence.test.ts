import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { silentLogger } from '../../../shared/core/logger.js';
import { SecretRegistry } from '../../../shared/core/secrets.js';
import {
  attestEvidence,
  EVIDENCE_PREDICATE_TYPE,
  TEST_RESULT_PREDICATE_TYPE,
} from '../../../shared/evidence/publish/attestation.js';
import type { EvidenceResult } from '../../../shared/evidence/types.js';
import { parsePinnedReference } from '../../../shared/oci/reference.js';
import { expectPromotionRefused, readPromotionRecord } from '../../support/promote-github.js';
import { committedRepository, type ReleaseKey, releaseKey, signedImages } from '../../support/release-fixtures.js';
import { type PhaseResult, repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { requireTool, startRegistry, type TestRegistry } from '../../support/services.js';

// Required evidence per environment, end to end: prod requires [approved-pr, tests-passed, signature]; each image is
// signed (provenance) by the built sign action with the release key, and carries an evidence attestation made by
// attestEvidence from an EvidenceResult built here. The BUILT promote action must refuse (EVIDENCE_INCOMPLETE, nothing
// written, each missing item named) a failed test report, a missing approval, no evidence at all, and evidence
// signed by a key the policy does not allow; let complete evidence through; and let an audited exception through,
// recording it.

const promoteYml = join(repositoryRoot, 'actions/promote/action.yml');
const REQUIRED = '[approved-pr, tests-passed, signature]';

const release = releaseKey();
const stranger = releaseKey();

const NAMES = ['good', 'failedTests', 'noApproval', 'noEvidence', 'strangerEvidence', 'excepted'] as const;
type Name = (typeof NAMES)[number];

let registry: TestRegistry;
let workspace: string;
let gitops: string;
let repository: string;
const images = {} as Record<Name, string>;
let digests: Record<Name, string>;
let git: (...args: string[]) => string;

const refs = () => `${git('for-each-ref', '--format=%(refname) %(objectname)')}\nHEAD ${git('symbolic-ref', 'HEAD')}`;

/** A full release's evidence for `digest`, as the evidence action would record it; `change` breaks one part. */
function evidenceFor(digest: string, change: (result: EvidenceResult) => void = () => {}): EvidenceResult {
  const from = [{ kind: 'record' as const, location: 'out/build.json', sha256: `sha256:${'1'.repeat(64)}` }];
  const result: EvidenceResult = {
    status: 'complete',
    subject: { image: repository, digest },
    source: { repository: 'acme/api', commit: 'c0ffee' },
    pullRequest: {
      state: 'present',
      from: [{ kind: 'github-api', location: 'GET /repos/acme/api/pulls/7/reviews' }],
      value: {
        number: 7,
        title: 'Add the thing',
        url: 'https://github.com/acme/api/pull/7',
        author: 'alice',
        headRef: 'feature',
        baseRef: 'main',
        headSha: 'c0ffee',
        reviews: [{ login: 'bob', state: 'APPROVED', submittedAt: '2026-02-28T10:00:00Z' }],
        approvers: ['bob'],
      },
    },
    run: { state: 'missing', reason: 'not collected here' },
    build: { state: 'present', from, value: { image: repository, digest, tags: ['v1'], platforms: [] } },
    tests: {
      state: 'present',
      from: [{ kind: 'test-report', location: 'reports/junit.xml', sha256: `sha256:${'2'.repeat(64)}` }],
      value: {
        total: 12,
        passed: 12,
        failed: 0,
        errored: 0,
        skipped: 0,
        suites: [{ name: 'api', file: 'reports/junit.xml', tests: 12, passed: 12, failures: 0, errors: 0, skipped: 0 }],
        failures: [],
      },
    },
    sbom: { state: 'missing', reason: 'not collected here' },
    vulnerabilities: { state: 'missing', reason: 'not collected here' },
    signatures: {
      state: 'present',
      from,
      value: { signer: 'key release', attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', stored: [] }] },
    },
    verification: {
      state: 'present',
      from,
      value: { verified: true, formats: [{ format: 'sigstore-bundle', verified: true }], policy: {}, reasons: [] },
    },
    promotions: { state: 'missing', reason: 'none yet' },
    deployments: { state: 'missing', reason: 'none yet' },
    canary: { state: 'missing', reason: 'no canary' },
    decision: { state: 'missing', reason: 'no decision' },
    requirements: [],
    missing: [],
    exceptions: [],
    generatedAt: '2026-03-01T11:00:00Z',
  };
  change(result);
  return result;
}

const failTests = (result: EvidenceResult) => {
  result.tests = {
    state: 'failed',
    from: [{ kind: 'test-report', location: 'reports/junit.xml' }],
    value: {
      total: 12,
      passed: 11,
      failed: 1,
      errored: 0,
      skipped: 0,
      suites: [{ name: 'api', file: 'reports/junit.xml', tests: 12, passed: 11, failures: 1, errors: 0, skipped: 0 }],
      failures: [{ suite: 'api', name: 'rejects an expired token', kind: 'failure', message: 'expected 401' }],
    },
  };
  // The record claims complete: promote must never read that.
  result.status = 'complete';
};

async function attest(name: Name, key: ReleaseKey, result: EvidenceResult) {
  const attested = await attestEvidence(
    { result, image: parsePinnedReference(images[name]), key: key.privatePem, storage: ['referrer'] },
    {
      env: { RUNNER_TEMP: workspace },
      logger: silentLogger,
      secrets: new SecretRegistry(),
      workspace,
      now: () => new Date(),
    },
  );
  return attested;
}

function slipwayYaml(): string {
  return `version: 1
environments:
  - name: prod
    pull-request: false
    require-evidence: ${REQUIRED}
  - name: hotfix
    pull-request: false
    require-evidence: ${REQUIRED}
    evidence-exceptions:
      - requirement: tests-passed
        by: carol
        reason: flaky token test quarantined, INC-42
        until: "2999-01-01T00:00:00Z"
      - requirement: approved-pr
        by: dave
        reason: weekend on-call
        until: "2000-01-01T00:00:00Z"
services:
  api:
    image: ${repository}
    targets:
      prod: envs/prod/kustomization.yaml
      hotfix: envs/hotfix/kustomization.yaml
policy:
  signers:
    - key: keys/release.pub
  require: [https://slsa.dev/provenance/v1]
`;
}

beforeAll(async () => {
  requireTool('git', 'git');
  registry = await startRegistry();
  repository = `${registry.host}/acme/api`;
  workspace = mkdtempSync(join(tmpdir(), 'slipway-require-evidence-'));
  digests = await signedImages({
    registryHost: registry.host,
    repositoryPath: 'acme/api',
    names: NAMES,
    key: () => release,
    workspace,
    label: 'require-evidence',
  });
  for (const name of NAMES) images[name] = `${repository}:${name}@${digests[name]}`;
  const good = await attest('good', release, evidenceFor(digests.good));
  expect(good.attestations.map((a) => a.predicateType)).toEqual([EVIDENCE_PREDICATE_TYPE, TEST_RESULT_PREDICATE_TYPE]);
  await attest('failedTests', release, evidenceFor(digests.failedTests, failTests));
  await attest(
    'noApproval',
    release,
    evidenceFor(digests.noApproval, (r) => {
      if (r.pullRequest.state === 'present') {
        r.pullRequest.value.reviews = [];
        r.pullRequest.value.approvers = [];
      }
    }),
  );
  // Complete, but signed by a key .slipway.yaml does not list.
  await attest('strangerEvidence', stranger, evidenceFor(digests.strangerEvidence));
  await attest('excepted', release, evidenceFor(digests.excepted, failTests));

  gitops = join(workspace, 'gitops');
  const files: Record<string, string> = {
    '.slipway.yaml': slipwayYaml(),
    'keys/release.pub': release.publicPem,
  };
  for (const env of ['prod', 'hotfix']) {
    files[`envs/${env}/kustomization.yaml`] = `images:\n  - name: ${repository}\n    newTag: "0.0.0"\n`;
  }
  git = committedRepository(gitops, files);
}, 300_000);

afterAll(async () => {
  await registry?.stop();
});

const promote = async (environment: string, name: Name): Promise<PhaseResult> =>
  (
    await runActionYml(promoteYml, {
      workspace,
      inputs: { 'gitops-repo': './gitops', environment, service: 'api', image: images[name] },
      timeoutMs: 120_000,
    })
  ).main;

const refused = (environment: string, name: Name, says: RegExp) =>
  expectPromotionRefused(() => promote(environment, name), refs, 'EVIDENCE_INCOMPLETE', says);

describe('promote with require-evidence: [approved-pr, tests-passed, signature] on prod', () => {
  it('refuses a failed test report, naming it, although the record says complete', async () => {
    const written = await refused('prod', 'failedTests', /tests-passed: 1 failed and 0 errored of 12 tests/);
    expect(written.refusal!.rule).toBe('environments[prod].require-evidence');
    expect(written.refusal!.message).toContain('rejects an expired token');
    expect(written.refusal!.message).not.toMatch(/approved-pr:|signature:/);
    const evidence = written.services[0]!.evidence!;
    expect(evidence).toMatchObject({ status: 'failed', missing: ['tests-passed'], signer: 'key keys/release.pub' });
    expect(evidence.requirements.map((r) => [r.requirement, r.met])).toEqual([
      ['approved-pr', true],
      ['tests-passed', false],
      ['signature', true],
    ]);
  }, 120_000);

  it('refuses a pull request without approval, naming it', async () => {
    const written = await refused(
      'prod',
      'noApproval',
      /approved-pr: pull request #7 has 0 of the 1 approval required from someone other than its author/,
    );
    expect(written.services[0]!.evidence).toMatchObject({ status: 'incomplete', missing: ['approved-pr'] });
  }, 120_000);

  it('refuses a digest with no evidence attestation, naming every requirement', async () => {
    const written = await refused(
      'prod',
      'noEvidence',
      /has no evidence attestation \(https:\/\/slipway\.dev\/attestation\/evidence\/v1\) signed by a signer the environment allows \(.*PREDICATE_TYPE_MISSING.*\), so every requirement is missing: approved-pr, tests-passed, signature/,
    );
    expect(written.services[0]!.evidence).toMatchObject({
      status: 'incomplete',
      missing: ['approved-pr', 'tests-passed', 'signature'],
    });
    expect(written.services[0]!.evidence!.signer).toBeUndefined();
  }, 120_000);

  it('refuses complete evidence signed by a key the policy does not allow', async () => {
    const written = await refused('prod', 'strangerEvidence', /KEY_MISMATCH|NO_VALID_ATTESTATION/);
    expect(written.services[0]!.evidence!.missing).toEqual(['approved-pr', 'tests-passed', 'signature']);
  }, 120_000);

  it('promotes with everything present, the record carrying the check', async () => {
    const before = git('rev-parse', 'main');
    const result = await promote('prod', 'good');
    expect(result.errors).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(git('rev-parse', 'main')).not.toBe(before);
    const pinned = parseYaml(
      execFileSync('git', ['-C', gitops, 'show', 'main:envs/prod/kustomization.yaml'], { encoding: 'utf8' }),
    );
    expect(pinned.images).toEqual([{ name: repository, newTag: 'good', digest: digests.good }]);
    const written = readPromotionRecord(result);
    expect(written.outcome).toBe('promoted');
    expect(written.services[0]!.evidence).toMatchObject({
      status: 'complete',
      rule: 'environments[prod].require-evidence',
      signer: 'key keys/release.pub',
      missing: [],
      exceptions: [],
      attestation: { location: expect.stringMatching(/^referrer sha256:/), generatedAt: '2026-03-01T11:00:00Z' },
    });
    expect(result.summary).toContain('Evidence for api (environments[prod].require-evidence): **complete**');
  }, 120_000);

  it('lets an audited exception through, recording who, why and until when; an expired one is ignored', async () => {
    // The same failed tests prod refused: hotfix excepts tests-passed until 2999.
    const result = await promote('hotfix', 'excepted');
    expect(result.errors).toEqual([]);
    const written = readPromotionRecord(result);
    expect(written.outcome).toBe('promoted');
    const exception = {
      requirement: 'tests-passed',
      by: 'carol',
      reason: 'flaky token test quarantined, INC-42',
      until: '2999-01-01T00:00:00Z',
    };
    expect(written.services[0]!.evidence).toMatchObject({ status: 'complete', exceptions: [exception] });
    expect(written.services[0]!.evidence!.requirements[1]).toMatchObject({
      requirement: 'tests-passed',
      met: true,
      exception,
    });
    expect(result.summary).toContain('tests-passed excepted by carol until 2999-01-01T00:00:00Z');

    // dave's exception for approved-pr ended in 2000: no approval is refused still, and the refusal says why.
    const refusedWritten = await refused(
      'hotfix',
      'noApproval',
      /an exception by dave expired at 2000-01-01T00:00:00Z/,
    );
    expect(refusedWritten.services[0]!.evidence!.missing).toEqual(['approved-pr']);
  }, 240_000);
});
