import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { collectRecords } from '../../../shared/evidence/collect/records.js';

// The other actions' records, as they write them (each record here passes its schema under schemas/, which the
// collector checks): identified by _type, mapped to evidence items with the file and its sha256 as provenance,
// refused when they are about another image, and a kind found twice kept only when both copies agree.

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const AMD64 = `sha256:${'1'.repeat(64)}`;
const ARM64 = `sha256:${'2'.repeat(64)}`;
const COMMIT = 'c'.repeat(40);
const IMAGE = 'ghcr.io/acme/api';

const subject = (digest = DIGEST) => ({
  name: IMAGE,
  digest,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  size: 1234,
  platforms: { 'linux/amd64': AMD64, 'linux/arm64': ARM64 },
});

const build = (digest = DIGEST) => ({
  _type: 'https://slipway.dev/records/build',
  version: 1,
  subject: subject(digest),
  tags: ['1.4.0', 'latest'],
  references: [`${IMAGE}:1.4.0`, `${IMAGE}:latest`],
  labels: { 'org.opencontainers.image.revision': COMMIT },
  builder: { name: 'native', chosen: 'the default' },
  source: { repository: 'acme/api', commit: COMMIT, ref: 'refs/tags/v1.4.0', event: 'push' },
  created: '2026-07-15T08:00:00Z',
  createdFrom: 'git',
  timestamps: { started: '2026-07-15T08:00:00Z', finished: '2026-07-15T08:01:00Z' },
});

const finding = (id: string, severity: string) => ({ id, package: { name: 'openssl', version: '3.0.1' }, severity });

const sbom = (decision: 'pass' | 'fail' | 'undecided' = 'pass', digest = DIGEST) => ({
  _type: 'https://slipway.dev/records/sbom',
  version: 1,
  subject: { name: IMAGE, digest },
  sboms: [
    {
      platform: 'linux/amd64',
      manifestDigest: AMD64,
      format: 'cyclonedx',
      mediaType: 'application/vnd.cyclonedx+json',
      path: 'out/sbom/linux-amd64.cdx.json',
      digest: `sha256:${'d'.repeat(64)}`,
      size: 100,
      attached: { referrer: `sha256:${'e'.repeat(64)}`, via: 'tag-fallback' },
    },
    {
      platform: 'linux/arm64',
      manifestDigest: ARM64,
      format: 'spdx',
      mediaType: 'application/spdx+json',
      path: 'out/sbom/linux-arm64.spdx.json',
      digest: `sha256:${'f'.repeat(64)}`,
      size: 100,
    },
  ],
  decision,
  platforms: [
    {
      platform: 'linux/amd64',
      manifestDigest: AMD64,
      packages: { npm: 3 },
      gate: {
        decision,
        blocking: decision === 'fail' ? [finding('GHSA-1', 'high'), finding('GHSA-2', 'critical')] : [],
        suppressed: [
          {
            finding: finding('CVE-2026-1', 'high'),
            by: {
              kind: 'exception',
              id: 'CVE-2026-1',
              reason: 'not reachable',
              expires: '2026-09-01',
              file: '.slipway/exceptions.yaml',
              index: 0,
            },
          },
        ],
        reasons: decision === 'pass' ? [] : ['2 findings at or above high'],
      },
    },
  ],
  policy: { failOn: 'high', onlyFixed: false, vex: [], osv: 'https://api.osv.dev' },
});

const attestations = () => ({
  _type: 'https://slipway.dev/records/attestations',
  version: 1,
  subject: subject(),
  signer: 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.4.0',
  instance: { publicLog: true },
  attestations: [
    {
      predicateType: 'https://slsa.dev/provenance/v1',
      bundleDigest: `sha256:${'9'.repeat(64)}`,
      subjects: [{ name: IMAGE, digest: { sha256: 'a'.repeat(64) } }],
      signer: 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.4.0',
      stored: [
        { kind: 'referrer', manifest: DIGEST, via: 'referrers-api' },
        { kind: 'github', id: 42, url: 'https://github.com/acme/api/attestations/42' },
      ],
      reused: false,
    },
  ],
});

const verification = (verified = true) => ({
  _type: 'https://slipway.dev/records/verification',
  version: 1,
  subject: { name: IMAGE, digest: DIGEST },
  policy: {
    issuer: 'https://token.actions.githubusercontent.com',
    repository: 'acme/api',
    requiredPredicateTypes: ['https://slsa.dev/provenance/v1'],
  },
  sources: ['referrer'],
  verified,
  outcome: {
    verified,
    attestations: [],
    missingPredicateTypes: verified ? [] : ['https://slsa.dev/provenance/v1'],
    reasons: verified ? [] : [{ code: 'NO_ATTESTATION', message: 'nothing is attached to the digest' }],
  },
  formats: { 'sigstore-bundle': verified, gh: verified, cosign: false },
});

const promotion = (environment: string, outcome: string, finished: string, digest = DIGEST) => ({
  _type: 'https://slipway.dev/records/promotion',
  version: 1,
  outcome,
  environment,
  gitops: { repository: 'github.com/acme/gitops', kind: 'github', config: '.slipway.yaml' },
  services: [
    {
      service: 'api',
      image: IMAGE,
      next: { digest, tag: '1.4.0' },
      targets: [{ file: `envs/${environment}/kustomization.yaml`, kind: 'kustomization' }],
      lineage: { mode: 'image' },
      verification: { verdict: 'verified', predicateTypes: [], codes: [], reasons: [] },
    },
  ],
  direct: false,
  ...(outcome === 'promoted'
    ? { commit: 'e'.repeat(40), pullRequest: { number: 7, url: 'https://github.com/acme/gitops/pull/7' } }
    : {}),
  ...(outcome === 'refused'
    ? { refusal: { code: 'SOAK_NOT_MET', rule: 'after', message: 'staging soaked 1h of 24h' } }
    : {}),
  changed: outcome === 'promoted',
  dryRun: false,
  rollback: false,
  calls: { total: 3, read: 2, write: 1, attempts: 1 },
  timestamps: { started: finished, finished },
});

const counts = (requests: number, bad: number) => ({ requests, bad });
const metric = (name: 'errors' | 'latency', ratio: number | null, lower: number | null, upper: number | null) => ({
  name,
  canary: counts(5000, 10),
  baseline: counts(15000, 29),
  observedRatio: ratio,
  confidence: { lower, upper, level: 0.95 },
  harm: { logE: -1.2, threshold: 3.7, shown: false, tolerance: 1 },
  nonInferiority: { logE: 4.1, threshold: 3.7, shown: true, margin: 1.2 },
  detectableRatio: 1.3,
  excessBad: 0,
  segments: [],
});

// canary.json as shared/records/canary.ts writes it (schemas/canary.schema.json).
const canary = {
  _type: 'https://slipway.dev/records/canary',
  version: 1,
  decision: 'promote',
  service: 'api',
  environment: 'prod',
  step: 3,
  weight: 25,
  steps: [5, 10, 25, 50],
  reasons: [{ code: 'NON_INFERIORITY_SHOWN', metric: 'errors', message: 'error ratio within bounds' }],
  source: 'http://prometheus:9090',
  mode: 'once',
  settings: {
    alpha: 0.05,
    tolerance: 1,
    promoteMargin: 1.2,
    minStepSeconds: 300,
    deadlineSeconds: 3600,
    scrapeIntervalSeconds: 15,
    intervalSeconds: 60,
    metrics: 'http',
    canary: 'track="canary"',
    baseline: 'track="stable"',
  },
  timeRange: { since: '2026-07-15T12:00:00Z', at: '2026-07-15T12:30:00Z', deadline: '2026-07-15T13:00:00Z' },
  metrics: [metric('errors', 1.01, 0.9, 1.1), metric('latency', null, 0, null)],
  canaryRequests: 5000,
  baselineRequests: 15000,
  excessErrors: 0,
  detectable: { secondsLeft: 1800, canaryRps: 3, baselineRps: 9, perMetric: [], text: '' },
  evaluations: [],
  exposure: { store: 'memory', changes: [] },
  lints: [],
  timestamps: { started: '2026-07-15T12:30:00Z', finished: '2026-07-15T12:30:05Z' },
};

function workspaceWith(files: Record<string, unknown>): string {
  const workspace = mkdtempSync(join(tmpdir(), 'slipway-records-'));
  for (const [name, value] of Object.entries(files)) {
    mkdirSync(dirname(join(workspace, name)), { recursive: true });
    writeFileSync(join(workspace, name), typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
  }
  return workspace;
}
const sha256Of = (workspace: string, name: string) =>
  createHash('sha256')
    .update(readFileSync(join(workspace, name)))
    .digest('hex');
const refusal = async (promise: Promise<unknown>): Promise<ConfigurationError> => {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as ConfigurationError;
};

describe('collectRecords', () => {
  it('maps a full release to its items, each naming the file and its sha256', async () => {
    const workspace = workspaceWith({
      'out/build.json': build(),
      'out/sbom.json': sbom(),
      'out/sbom/linux-amd64.cdx.json': { bomFormat: 'CycloneDX', specVersion: '1.6' },
      'out/attestations.json': attestations(),
      'out/verification.json': verification(),
      'promotions/dev/promotion.json': promotion('dev', 'promoted', '2026-07-15T09:00:00Z'),
      'promotions/staging/promotion.json': promotion('staging', 'promoted', '2026-07-15T10:00:00Z'),
      'canary/canary.json': canary,
    });
    const result = await collectRecords(
      ['out/**/*.json', 'promotions/*/promotion.json', 'canary/canary.json'],
      workspace,
    );

    expect(result.subject).toEqual({ image: IMAGE, digest: DIGEST });
    expect(result.source).toEqual({ repository: 'acme/api', commit: COMMIT, ref: 'refs/tags/v1.4.0' });
    expect(result.build).toEqual({
      state: 'present',
      from: [{ kind: 'record', location: 'out/build.json', sha256: sha256Of(workspace, 'out/build.json') }],
      value: {
        image: IMAGE,
        digest: DIGEST,
        tags: ['1.4.0', 'latest'],
        platforms: ['linux/amd64', 'linux/arm64'],
        source: { repository: 'acme/api', commit: COMMIT, ref: 'refs/tags/v1.4.0' },
      },
    });
    expect(result.sbom).toMatchObject({
      state: 'present',
      value: {
        files: [
          {
            format: 'cyclonedx',
            path: 'out/sbom/linux-amd64.cdx.json',
            platform: 'linux/amd64',
            sha256: 'd'.repeat(64),
          },
          { format: 'spdx', path: 'out/sbom/linux-arm64.spdx.json', platform: 'linux/arm64', sha256: 'f'.repeat(64) },
        ],
        attached: [
          {
            platform: 'linux/amd64',
            manifestDigest: AMD64,
            predicateType: 'https://cyclonedx.org/bom',
            location: `referrer sha256:${'e'.repeat(64)} (tag-fallback)`,
          },
        ],
      },
    });
    expect(result.vulnerabilities).toMatchObject({
      state: 'present',
      value: {
        verdict: 'passed',
        counts: {},
        exceptions: [{ id: 'CVE-2026-1', reason: 'not reachable', expires: '2026-09-01' }],
        failOn: 'high',
      },
    });
    expect(result.signatures).toMatchObject({
      state: 'present',
      value: {
        signer: 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.4.0',
        attestations: [
          {
            predicateType: 'https://slsa.dev/provenance/v1',
            stored: [`referrer of ${DIGEST} (referrers-api)`, 'https://github.com/acme/api/attestations/42'],
            reused: false,
          },
        ],
      },
    });
    expect(result.verification).toMatchObject({
      state: 'present',
      value: {
        verified: true,
        formats: [
          { format: 'sigstore-bundle', verified: true },
          { format: 'gh', verified: true },
          { format: 'cosign', verified: false },
        ],
        policy: { issuer: 'https://token.actions.githubusercontent.com', repository: 'acme/api' },
      },
    });
    expect(result.promotions).toMatchObject({
      state: 'present',
      value: [
        { environment: 'dev', outcome: 'promoted', pullRequest: { number: 7 }, at: '2026-07-15T09:00:00Z' },
        { environment: 'staging', outcome: 'promoted', at: '2026-07-15T10:00:00Z' },
      ],
    });
    expect(result.canary).toEqual({
      state: 'present',
      from: [{ kind: 'record', location: 'canary/canary.json', sha256: sha256Of(workspace, 'canary/canary.json') }],
      value: {
        decision: 'promote',
        environment: 'prod',
        step: 3,
        weight: 25,
        reasons: [
          'NON_INFERIORITY_SHOWN: error ratio within bounds',
          'latency: no bounded ratio yet (too little data)',
        ],
        metrics: [{ name: 'errors', observedRatio: 1.01, lower: 0.9, upper: 1.1 }],
        canaryRequests: 5000,
        excessErrors: 0,
      },
    });
    // The SBOM document the glob matched is passed over, and said so.
    expect(result.ignored).toEqual([
      { file: 'out/sbom/linux-amd64.cdx.json', reason: 'no _type: not a Slipway record' },
    ]);
  });

  it('lists what is missing, and why', async () => {
    const workspace = workspaceWith({ 'out/build.json': build() });
    const result = await collectRecords(['out/*.json'], workspace);
    expect(result.sbom).toEqual({
      state: 'missing',
      reason: 'no sbom record (sbom.json) among the files the records input matched',
    });
    expect(result.signatures).toMatchObject({ state: 'missing' });
    const none = await collectRecords([], workspace);
    expect(none.build).toEqual({ state: 'missing', reason: 'no records were given (input records)' });
    expect(none.subject).toEqual({});
  });

  it('marks failed gates, verifications, refusals and rollbacks as failed', async () => {
    const workspace = workspaceWith({
      'build.json': build(),
      'sbom.json': sbom('fail'),
      'verification.json': verification(false),
      'prod.json': promotion('prod', 'refused', '2026-07-15T11:00:00Z'),
      'canary.json': {
        ...canary,
        decision: 'rollback',
        reasons: [{ code: 'HARM', metric: 'errors', message: 'error ratio 3.2x' }],
      },
    });
    const result = await collectRecords(['*.json'], workspace);
    expect(result.vulnerabilities).toMatchObject({
      state: 'failed',
      reason: 'the vulnerability gate failed: 2 findings at or above high',
      value: { verdict: 'failed', counts: { high: 1, critical: 1 } },
    });
    expect(result.verification).toMatchObject({
      state: 'failed',
      reason: 'NO_ATTESTATION: nothing is attached to the digest',
    });
    expect(result.promotions).toMatchObject({
      state: 'failed',
      reason: 'promotion refused for prod',
      value: [{ refusal: 'SOAK_NOT_MET: staging soaked 1h of 24h' }],
    });
    expect(result.canary).toMatchObject({
      state: 'failed',
      reason: 'the canary decided to roll back: HARM: error ratio 3.2x',
    });
  });

  it('a refusal later overcome in the same environment is history, not a failure', async () => {
    const workspace = workspaceWith({
      'a/promotion.json': promotion('prod', 'promoted', '2026-07-16T08:00:00Z'),
      'b/promotion.json': promotion('prod', 'refused', '2026-07-15T08:00:00Z'),
    });
    const result = await collectRecords(['*/promotion.json'], workspace);
    expect(result.promotions).toMatchObject({
      state: 'present',
      value: [{ outcome: 'refused' }, { outcome: 'promoted' }],
    });
  });

  it('refuses a record about another digest than the build’s, naming both files', async () => {
    const workspace = workspaceWith({ 'out/build.json': build(), 'other/sbom.json': sbom('pass', OTHER) });
    const error = await refusal(collectRecords(['out/build.json', 'other/*.json'], workspace));
    expect(error.input).toBe('records');
    expect(error.message).toContain(
      `the sbom record other/sbom.json is about ${OTHER}, not the build’s ${DIGEST} (out/build.json)`,
    );
    const promoted = workspaceWith({
      'build.json': build(),
      'promotion.json': promotion('dev', 'promoted', '2026-07-15T09:00:00Z', OTHER),
    });
    expect((await refusal(collectRecords(['*.json'], promoted))).message).toContain(
      `the promotion record promotion.json is about ${OTHER}, not the build’s`,
    );
    // A canary record names its digest when its start was a promotion record (canary's `since`).
    const otherCanary = workspaceWith({
      'build.json': build(),
      'canary.json': { ...canary, subject: { name: IMAGE, digest: OTHER } },
    });
    expect((await refusal(collectRecords(['*.json'], otherCanary))).message).toContain(
      `the canary record canary.json is about ${OTHER}, not the build’s`,
    );
  });

  it('keeps one of two identical copies of a kind and refuses two that differ, naming both', async () => {
    const same = workspaceWith({
      'job-a/build.json': build(),
      // The same content written with another key order and indentation.
      'job-b/build.json': JSON.stringify(Object.fromEntries(Object.entries(build()).reverse())),
    });
    const result = await collectRecords(['job-*/build.json'], same);
    expect(result.build.state).toBe('present');
    expect(result.build.state !== 'missing' && result.build.from.map((p) => p.location)).toEqual([
      'job-a/build.json',
      'job-b/build.json',
    ]);

    const different = workspaceWith({ 'job-a/sbom.json': sbom('pass'), 'job-b/sbom.json': sbom('fail') });
    const error = await refusal(collectRecords(['job-*/sbom.json'], different));
    expect(error.message).toContain(
      'job-a/sbom.json and job-b/sbom.json are both sbom records of the same image, and they differ',
    );
  });

  it('names the input, the file and the field for a record that breaks its schema', async () => {
    const broken = { ...verification(), formats: 'all' };
    const workspace = workspaceWith({ 'verification.json': broken });
    const error = await refusal(collectRecords(['verification.json'], workspace));
    expect(error.message).toMatch(
      /^Input 'records' is "verification.json": verification record verification.json: field formats/,
    );
  });

  it('refuses a named file that is not a record; a globbed one is passed over', async () => {
    const workspace = workspaceWith({
      'notes.json': { hello: 'world' },
      'broken.json': '{"_type": ',
      'old/evidence.json': { _type: 'https://slipway.dev/records/evidence', version: 1 },
    });
    expect((await refusal(collectRecords(['notes.json'], workspace))).message).toContain(
      'notes.json has no _type: not a Slipway record',
    );
    expect((await refusal(collectRecords(['broken.json'], workspace))).message).toContain(
      'broken.json line 1, column 11',
    );
    const result = await collectRecords(['*.json', 'old/*.json'], workspace);
    expect(result.ignored).toEqual([
      { file: 'broken.json', reason: 'not JSON' },
      { file: 'notes.json', reason: 'no _type: not a Slipway record' },
      { file: 'old/evidence.json', reason: 'an evidence record (this action’s own output)' },
    ]);
  });

  it('a glob that matches nothing is an error naming it', async () => {
    const workspace = workspaceWith({});
    const error = await refusal(collectRecords(['artifacts/**/build.json'], workspace));
    expect(error.message).toContain(`Input 'records' is "artifacts/**/build.json": no file in ${workspace} matches it`);
  });

  it('a canary record its schema refuses names the field', async () => {
    const workspace = workspaceWith({ 'canary.json': { ...canary, decision: 'maybe' } });
    expect((await refusal(collectRecords(['canary.json'], workspace))).message).toContain(
      'canary record canary.json: field decision',
    );
  });
});
