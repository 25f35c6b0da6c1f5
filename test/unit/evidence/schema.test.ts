import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { EvidenceResult } from '../../../shared/evidence/types.js';
import {
  EVIDENCE_RECORD,
  type EvidenceRecordFile,
  parseEvidenceRecord,
  readEvidenceRecord,
} from '../../../shared/records/evidence.js';
import { RecordError } from '../../../shared/records/record.js';

// schemas/evidence.schema.json against the record shape in shared/evidence/types.ts: a full record, typed as
// EvidenceResult so that a field renamed in the type breaks this test, passes the schema (compiled here from the
// files alone, and through the product's reader); broken records are refused, naming the field.

const repositoryRoot = join(import.meta.dirname, '../../..');
const schemaFile = (name: string) =>
  JSON.parse(readFileSync(join(repositoryRoot, 'schemas', `${name}.schema.json`), 'utf8')) as object;
const ajv = new Ajv2020({ strict: true, allErrors: true, schemas: [schemaFile('subject'), schemaFile('evidence')] });
const validate = ajv.getSchema('https://slipway.dev/schemas/evidence.schema.json')!;

const DIGEST = `sha256:${'a'.repeat(64)}`;
const SHA = 'c'.repeat(40);
const file = (location: string) => ({ kind: 'record' as const, location, sha256: 'f'.repeat(64) });

const result: EvidenceResult = {
  status: 'complete',
  environment: 'prod',
  subject: { image: 'ghcr.io/acme/api', digest: DIGEST },
  source: { repository: 'acme/api', commit: SHA, ref: 'refs/tags/v1.4.0' },
  pullRequest: {
    state: 'present',
    from: [{ kind: 'github-api', location: 'GET /repos/acme/api/commits/cccc/pulls' }],
    value: {
      number: 7,
      title: 'Add <script> | `orders`',
      url: 'https://github.com/acme/api/pull/7',
      author: 'dev',
      headRef: 'feature/orders',
      baseRef: 'main',
      headSha: SHA,
      mergedAt: '2026-07-15T07:00:00Z',
      mergedBy: 'lead',
      reviews: [
        { login: 'alice', state: 'APPROVED', submittedAt: '2026-07-15T06:00:00Z', commit: SHA },
        { login: 'bob', state: 'DISMISSED', submittedAt: '2026-07-15T06:30:00Z' },
      ],
      approvers: ['alice'],
    },
  },
  run: {
    state: 'present',
    from: [{ kind: 'event', location: 'GITHUB_RUN_ID' }],
    value: {
      repository: 'acme/api',
      workflow: 'release',
      runId: '123456',
      attempt: 2,
      url: 'https://github.com/acme/api/actions/runs/123456/attempts/2',
      event: 'push',
      actor: 'dev',
      ref: 'refs/tags/v1.4.0',
      commit: SHA,
    },
  },
  build: {
    state: 'present',
    from: [file('out/build.json')],
    value: {
      image: 'ghcr.io/acme/api',
      digest: DIGEST,
      tags: ['1.4.0'],
      platforms: ['linux/amd64'],
      source: { repository: 'acme/api', commit: SHA, ref: 'refs/tags/v1.4.0' },
    },
  },
  tests: {
    state: 'failed',
    from: [{ kind: 'test-report', location: 'reports/junit.xml', sha256: 'e'.repeat(64) }],
    reason: '1 failed and 0 errored of 3',
    value: {
      total: 3,
      passed: 1,
      failed: 1,
      errored: 0,
      skipped: 1,
      suites: [
        {
          name: 'api',
          file: 'reports/junit.xml',
          tests: 3,
          passed: 1,
          failures: 1,
          errors: 0,
          skipped: 1,
          timeSeconds: 1.5,
        },
      ],
      failures: [{ suite: 'api', name: 'rejects', classname: 'api.Orders', message: 'expected 400', kind: 'failure' }],
    },
  },
  sbom: {
    state: 'present',
    from: [file('out/sbom.json')],
    value: {
      files: [{ format: 'cyclonedx', path: 'out/sbom.cdx.json', platform: 'linux/amd64', sha256: 'd'.repeat(64) }],
      attached: [
        {
          platform: 'linux/amd64',
          manifestDigest: DIGEST,
          predicateType: 'https://cyclonedx.org/bom',
          location: 'referrer sha256:… (tag-fallback)',
        },
      ],
    },
  },
  vulnerabilities: {
    state: 'present',
    from: [file('out/sbom.json')],
    value: {
      verdict: 'passed',
      counts: { low: 2 },
      exceptions: [{ id: 'CVE-2026-1', reason: 'not reachable', expires: '2026-09-01' }],
      failOn: 'high',
    },
  },
  signatures: {
    state: 'present',
    from: [file('out/attestations.json')],
    value: {
      signer: 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.4.0',
      attestations: [
        { predicateType: 'https://slsa.dev/provenance/v1', bundleDigest: DIGEST, stored: ['referrer'], reused: false },
      ],
    },
  },
  verification: {
    state: 'present',
    from: [file('out/verification.json')],
    value: {
      verified: true,
      formats: [{ format: 'sigstore-bundle', verified: true, detail: 'ok' }],
      policy: { issuer: 'https://token.actions.githubusercontent.com', repository: 'acme/api' },
      reasons: [],
    },
  },
  promotions: {
    state: 'present',
    from: [file('promotion.json')],
    value: [
      {
        environment: 'staging',
        outcome: 'promoted',
        rollback: false,
        commit: 'e'.repeat(40),
        pullRequest: { number: 9, url: 'https://github.com/acme/gitops/pull/9' },
        at: '2026-07-15T09:00:00Z',
      },
      { environment: 'prod', outcome: 'refused', rollback: false, refusal: 'SOAK_NOT_MET: 1h of 24h' },
    ],
  },
  deployments: {
    state: 'present',
    from: [{ kind: 'github-api', location: 'POST /repos/acme/api/deployments' }],
    value: [
      { environment: 'staging', id: 11, state: 'success', url: 'https://staging.acme.dev', at: '2026-07-15T09:05:00Z' },
    ],
  },
  canary: {
    state: 'present',
    from: [file('canary.json')],
    value: {
      decision: 'promote',
      environment: 'prod',
      step: 3,
      weight: 25,
      reasons: ['NON_INFERIORITY_SHOWN: within bounds'],
      metrics: [{ name: 'errors', observedRatio: 1.01, lower: 0.9, upper: 1.1 }],
      canaryRequests: 5000,
      excessErrors: 0,
    },
  },
  decision: { state: 'missing', reason: 'no decision was given (input decision)' },
  requirements: [
    { requirement: 'approved-pr', met: true, detail: '1 approver who is not the author: alice' },
    {
      requirement: 'tests-passed',
      met: true,
      detail: 'excepted',
      exception: { requirement: 'tests-passed', by: 'lead', reason: 'flaky suite, fixed in #12', until: '2026-07-20' },
    },
  ],
  missing: [],
  exceptions: [{ requirement: 'tests-passed', by: 'lead', reason: 'flaky suite, fixed in #12', until: '2026-07-20' }],
  generatedAt: '2026-07-15T12:00:00Z',
};

const full: EvidenceRecordFile = { _type: EVIDENCE_RECORD.type, version: EVIDENCE_RECORD.version, ...result };
const clone = (): Record<string, unknown> => structuredClone(full) as unknown as Record<string, unknown>;
const withChange = (change: (record: Record<string, unknown>) => void) => {
  const record = clone();
  change(record);
  return record;
};

describe('evidence.schema.json', () => {
  it('accepts a full record, and a record where every item is missing', () => {
    expect(validate(full), JSON.stringify(validate.errors)).toBe(true);
    const missing = { state: 'missing', reason: 'not collected' };
    const empty = withChange((record) => {
      for (const key of [
        'pullRequest',
        'run',
        'build',
        'tests',
        'sbom',
        'vulnerabilities',
        'signatures',
        'verification',
        'promotions',
        'deployments',
        'canary',
        'decision',
      ]) {
        record[key] = missing;
      }
      record.status = 'incomplete';
      record.subject = {};
      record.source = {};
      record.missing = ['build', 'sbom'];
    });
    expect(validate(empty), JSON.stringify(validate.errors)).toBe(true);
  });

  const broken: [string, (record: Record<string, unknown>) => void, string][] = [
    ['no status', (r) => delete r.status, ''],
    ['an unknown status', (r) => (r.status = 'done'), '/status'],
    ['a missing item without its reason', (r) => (r.build = { state: 'missing' }), '/build'],
    ['a missing item with a value', (r) => (r.canary = { state: 'missing', reason: 'x', value: {} }), '/canary'],
    [
      'a present item without provenance',
      (r) => (r.sbom = { state: 'present', value: { files: [], attached: [] } }),
      '/sbom',
    ],
    ['an item of an unknown state', (r) => ((r.run as { state: string }).state = 'unknown'), '/run/state'],
    [
      'an item value of the wrong shape',
      (r) => ((r.build as { value: { tags: unknown } }).value.tags = 'latest'),
      '/build/value/tags',
    ],
    ['a digest that is not one', (r) => ((r.subject as { digest: string }).digest = 'sha256:abc'), '/subject/digest'],
    [
      'a review state GitHub does not give',
      (r) => ((r.pullRequest as { value: { reviews: { state: string }[] } }).value.reviews[0]!.state = 'COMMENTED'),
      '/pullRequest/value/reviews/0/state',
    ],
    [
      'a failure message over 500 characters',
      (r) => ((r.tests as { value: { failures: { message: string }[] } }).value.failures[0]!.message = 'x'.repeat(501)),
      '/tests/value/failures/0/message',
    ],
    [
      'a provenance of an unknown kind',
      (r) => ((r.build as { from: { kind: string }[] }).from[0]!.kind = 'guess'),
      '/build/from/0/kind',
    ],
    ['a negative count', (r) => ((r.tests as { value: { total: number } }).value.total = -1), '/tests/value/total'],
    ['a time that is not RFC 3339', (r) => (r.generatedAt = 'yesterday'), '/generatedAt'],
    [
      'an exception without its expiry',
      (r) => delete (r.exceptions as { until?: string }[])[0]!.until,
      '/exceptions/0',
    ],
    ['version 2', (r) => (r.version = 2), '/version'],
  ];

  it.each(broken)('refuses %s', (_name, change, path) => {
    const record = withChange(change);
    expect(validate(record)).toBe(false);
    expect(validate.errors!.map((error) => error.instancePath)).toContain(path);
  });
});

describe('readEvidenceRecord / parseEvidenceRecord', () => {
  it('round-trips the full record through a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-evidence-record-'));
    const path = join(dir, 'evidence.json');
    writeFileSync(path, JSON.stringify(full, null, 2));
    expect(await readEvidenceRecord(path)).toEqual(full);
  });

  it('names the origin and the field of a broken record', async () => {
    const record = withChange((r) => ((r.tests as { value: { suites: unknown } }).value.suites = {}));
    await expect(parseEvidenceRecord(record, { label: 'the evidence attestation' })).rejects.toThrow(RecordError);
    await expect(parseEvidenceRecord(record, { label: 'the evidence attestation' })).rejects.toThrow(
      /^evidence record the evidence attestation: field tests\.value\.suites is an object/,
    );
    await expect(
      parseEvidenceRecord({ ...full, _type: 'https://slipway.dev/records/build' }, { label: 'x.json' }),
    ).rejects.toThrow(/it is a build record, not a evidence record/);
  });
});
