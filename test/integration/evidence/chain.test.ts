import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceRecordFile } from '../../../shared/records/evidence.js';
import { harnessEvent } from '../../support/events.js';
import { type OsvServer, startOsvServer } from '../../support/osv-server.js';
import { releaseKey } from '../../support/release-fixtures.js';
import { type PhaseResult, repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { writeServerApp } from '../../support/server-app.js';
import { startRegistry, type TestRegistry } from '../../support/services.js';
import { type Sigstore, startSigstore } from '../../support/sigstore.js';
import { startTokenService, type TokenService } from '../../support/token-service.js';

// The whole chain of records through the BUILT actions, ending in evidence, as a release workflow runs it:
//
//   build -> sbom -> (evidence: no signature yet -> incomplete, naming what is missing)
//         -> sign (keyless, loopback Sigstore) -> verify
//         -> evidence   records: 'out/*.json' (the records copied where a job downloads its artifacts)
//                       test-reports: a JUnit report; publish: summary,attestation with a key
//         -> verify     the evidence and test-result attestations are referrers of the digest, signed by the key
//
// evidence.json is checked against schemas/evidence.schema.json compiled here from the schema files alone.

const action = (name: string) => join(repositoryRoot, 'actions', name, 'action.yml');
const release = harnessEvent('push-tag');
const REPOSITORY = release.env.GITHUB_REPOSITORY!;
const REF = release.env.GITHUB_REF!;
const EVIDENCE_TYPE = 'https://slipway.dev/attestation/evidence/v1';
const TEST_RESULT_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';

const JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="api" tests="3" failures="0" errors="0" skipped="0" time="0.4">
    <testcase classname="api.orders" name="creates an order" time="0.1"/>
    <testcase classname="api.orders" name="refuses an empty basket" time="0.1"/>
    <testcase classname="api.health" name="answers" time="0.2"/>
  </testsuite>
</testsuites>
`;

let registry: TestRegistry;
let osv: OsvServer;
let sigstore: Sigstore;
let tokens: TokenService;
let workspace: string;
let validateEvidence: ValidateFunction;
const key = releaseKey();

beforeAll(async () => {
  [registry, osv, sigstore, tokens] = await Promise.all([
    startRegistry(),
    startOsvServer(),
    startSigstore(),
    startTokenService(() => ({ repository: REPOSITORY, ref: REF, repository_visibility: 'public' })),
  ]);

  workspace = mkdtempSync(join(tmpdir(), 'slipway-evidence-chain-'));
  writeServerApp(workspace);
  writeFileSync(join(workspace, 'trusted-root.json'), JSON.stringify(sigstore.trustedRoot));
  writeFileSync(
    join(workspace, 'signing-config.json'),
    JSON.stringify({ fulcioUrl: sigstore.fulcioUrl, rekorUrl: sigstore.rekorUrl, tsaUrl: sigstore.tsaUrl }),
  );
  writeFileSync(join(workspace, 'junit.xml'), JUNIT);

  const schema = (name: string) =>
    JSON.parse(readFileSync(join(repositoryRoot, 'schemas', `${name}.schema.json`), 'utf8')) as object;
  const ajv = new Ajv2020({ strict: true, allErrors: true, schemas: [schema('subject'), schema('evidence')] });
  validateEvidence = ajv.getSchema('https://slipway.dev/schemas/evidence.schema.json')!;
}, 120_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), osv?.close(), sigstore?.close(), tokens?.close()]);
});

const step = async (name: string, inputs: Record<string, string>): Promise<PhaseResult> => {
  const { main } = await runActionYml(action(name), {
    workspace,
    event: release.event,
    env: { ...release.env, ...tokens.env },
    inputs,
    timeoutMs: 180_000,
  });
  return main;
};

/** evidence.json, checked against its schema. */
function evidenceRecord(path: string | undefined): EvidenceRecordFile {
  expect(path).toMatch(/evidence\.json$/);
  const value = JSON.parse(readFileSync(path!, 'utf8'));
  expect(validateEvidence(value) ? [] : validateEvidence.errors, `${path} against evidence.schema.json`).toEqual([]);
  return value;
}

/** Copies a record where a later job would download it (out/), named by its kind. */
function download(path: string | undefined): void {
  mkdirSync(join(workspace, 'out'), { recursive: true });
  copyFileSync(path!, join(workspace, 'out', basename(path!)));
}

describe('the records of a release, through evidence', () => {
  let digest: string;
  let buildRecord: string;

  it('with build and sbom only, evidence is incomplete and names the signature and verification', async () => {
    const build = await step('build', {
      image: `${registry.host}/acme/api`,
      directories: 'bin:/usr/local/bin\napp:/app',
      platforms: 'linux/amd64,linux/arm64',
      entrypoint: '["/usr/local/bin/server"]',
    });
    expect(build.errors).toEqual([]);
    buildRecord = build.outputs.record!;
    digest = JSON.parse(readFileSync(buildRecord, 'utf8')).subject.digest;
    const sbom = await step('sbom', { subject: buildRecord, 'osv-url': osv.url });
    expect(sbom.errors).toEqual([]);
    download(buildRecord);
    download(sbom.outputs.record);

    const evidence = await step('evidence', {
      records: 'out/*.json',
      'test-reports': 'junit.xml',
      publish: 'summary',
    });
    expect(evidence.errors).toEqual([]);
    expect(evidence.exitCode).toBe(0);
    expect(evidence.outputs.status).toBe('incomplete');
    const record = evidenceRecord(evidence.outputs.record);
    expect(record.status).toBe('incomplete');
    expect(record.subject).toMatchObject({ digest });
    expect(record.missing).toEqual(expect.arrayContaining(['signature', 'verification']));
    expect(record.missing).not.toContain('build');
    expect(record.missing).not.toContain('sbom');
    expect(record.missing).not.toContain('tests-passed');
    expect(record.signatures.state).toBe('missing');
    expect(record.tests).toMatchObject({ state: 'present', value: { total: 3, passed: 3, failed: 0 } });
    // The status line says it and names what is missing.
    const status = evidence.summary.split('\n').find((line) => /incomplete/i.test(line));
    expect(status).toMatch(/signature/);
  }, 300_000);

  it('signed, verified and with passing tests, evidence is complete, and its attestations are referrers of the digest', async () => {
    const sign = await step('sign', {
      subject: buildRecord,
      'signing-config': 'signing-config.json',
      'trusted-root': 'trusted-root.json',
      storage: 'referrer',
    });
    expect(sign.errors).toEqual([]);
    const verify = await step('verify', {
      subject: sign.outputs.record!,
      'trusted-root': 'trusted-root.json',
      repository: REPOSITORY,
      workflow: '.github/workflows/release.yml',
      ref: REF,
      sources: 'referrer',
      'predicate-types': 'https://slsa.dev/provenance/v1',
    });
    expect(verify.errors).toEqual([]);
    download(sign.outputs.record);
    download(verify.outputs.record);

    const evidence = await step('evidence', {
      records: 'out/*.json',
      'test-reports': 'junit.xml',
      publish: 'summary,attestation',
      key: key.privatePem,
      storage: 'referrer',
    });
    expect(evidence.errors).toEqual([]);
    expect(evidence.commands.filter((c) => c.command === 'warning')).toEqual([]);
    expect(evidence.exitCode).toBe(0);
    expect(evidence.outputs.status).toBe('complete');
    // The key is masked, and appears nowhere else: not in the log, the summary or the record.
    const logged = evidence.stdout
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    for (const text of [logged, evidence.stderr, evidence.summary, readFileSync(evidence.outputs.record!, 'utf8')]) {
      expect(text).not.toContain('PRIVATE KEY');
    }
    const record = evidenceRecord(evidence.outputs.record);
    expect(record.status).toBe('complete');
    expect(record.missing).toEqual([]);
    for (const item of ['build', 'sbom', 'vulnerabilities', 'signatures', 'verification', 'tests'] as const) {
      expect(record[item].state, item).toBe('present');
    }
    expect(record.signatures.state === 'present' && record.signatures.from.map((f) => f.location)).toEqual([
      `out/${basename(sign.outputs.record!)}`,
    ]);

    // The evidence record and the test results are signed by the key and stored beside the image.
    const attested = await step('verify', {
      image: `${registry.host}/acme/api@${digest}`,
      key: key.publicPem,
      sources: 'referrer',
      'predicate-types': `${EVIDENCE_TYPE},${TEST_RESULT_TYPE}`,
    });
    expect(attested.errors).toEqual([]);
    expect(attested.outputs.verified).toBe('true');
  }, 300_000);
});
