import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnessEvent } from '../support/events.js';
import { type OsvServer, startOsvServer } from '../support/osv-server.js';
import { type PhaseResult, repositoryRoot, runActionYml } from '../support/runner-harness.js';
import { writeServerApp } from '../support/server-app.js';
import { startRegistry, type TestRegistry } from '../support/services.js';
import { type Sigstore, startSigstore, writeSigningFiles } from '../support/sigstore.js';
import { startTokenService, type TokenService } from '../support/token-service.js';

// The records chained through the BUILT actions, each step taking the previous step's outputs exactly as a
// workflow passes them (`${{ steps.x.outputs.y }}` is the output's text, put into an input):
//
//   build  (native builder, two platforms, a real registry)
//   sbom   subject:    ${{ steps.build.outputs.record }}
//   sign   subject:    ${{ steps.build.outputs.record }}
//          sbom-files: ${{ steps.sbom.outputs.files }}
//   verify subject:    ${{ steps.sign.outputs.record }}
//          predicate-types: provenance (about the index) and CycloneDX and SPDX (about every platform's manifest)
//
// Every record is checked against its schema under schemas/ with a validator built here from the schema files
// alone, and against the others (same subject, same platforms), so a field renamed in one action breaks this
// test rather than a user's workflow.

const action = (name: string) => join(repositoryRoot, 'actions', name, 'action.yml');
const release = harnessEvent('push-tag');
const REPOSITORY = release.env.GITHUB_REPOSITORY!;
const REF = release.env.GITHUB_REF!;

let registry: TestRegistry;
let osv: OsvServer;
let sigstore: Sigstore;
let tokens: TokenService;
let workspace: string;
let schemas: Record<'subject' | 'build' | 'sbom' | 'attestations' | 'verification' | 'sbomFiles', ValidateFunction>;

beforeAll(async () => {
  // The runner's OIDC endpoint answers with the claims of the release workflow the event describes.
  [registry, osv, sigstore, tokens] = await Promise.all([
    startRegistry(),
    startOsvServer(),
    startSigstore(),
    startTokenService(() => ({ repository: REPOSITORY, ref: REF, repository_visibility: 'public' })),
  ]);

  workspace = mkdtempSync(join(tmpdir(), 'slipway-chain-ws-'));
  writeServerApp(workspace);
  writeSigningFiles(workspace, sigstore);

  // The schemas as files, compiled here: the test does not trust the product's own reader to apply them.
  const files = ['subject', 'build', 'sbom', 'attestations', 'verification'].map((name) =>
    JSON.parse(readFileSync(join(repositoryRoot, 'schemas', `${name}.schema.json`), 'utf8')),
  );
  const ajv = new Ajv2020({ strict: true, allErrors: true, schemas: files });
  const get = (ref: string) => ajv.getSchema(`https://slipway.dev/schemas/${ref}`)!;
  schemas = {
    subject: get('subject.schema.json'),
    build: get('build.schema.json'),
    sbom: get('sbom.schema.json'),
    attestations: get('attestations.schema.json'),
    verification: get('verification.schema.json'),
    sbomFiles: get('sbom.schema.json#/$defs/files'),
  };
}, 120_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), osv?.close(), sigstore?.close(), tokens?.close()]);
});

/** One step of the job: the release event, the runner's OIDC endpoint, this workspace. */
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

/** Reads a record file and checks it against its schema, listing every violation. */
function record(kind: keyof typeof schemas, path: string | undefined): Record<string, unknown> & { subject: never } {
  expect(path, `the ${kind} step's record output`).toBeTruthy();
  const value = JSON.parse(readFileSync(path!, 'utf8'));
  const validate = schemas[kind];
  expect(validate(value) ? [] : validate.errors, `${path} against schemas/${kind}.schema.json`).toEqual([]);
  return value;
}

interface Subject {
  name: string;
  digest: string;
  platforms: Record<string, string>;
}

interface CheckedAttestation {
  passed: boolean;
  predicateType?: string;
  checks: string[];
}

interface VerificationFile {
  _type: string;
  subject: { name: string; digest: string };
  verified: boolean;
  outcome: {
    attestations: CheckedAttestation[];
    missingPredicateTypes: string[];
    reasons: { code: string; message: string }[];
    platformPredicateTypes?: string[];
    platforms?: Record<string, { digest: string; attestations: CheckedAttestation[]; missingPredicateTypes: string[] }>;
  };
}

describe('records chained through the built actions', () => {
  let build: PhaseResult;
  let buildRecord: { _type: string; version: number; subject: Subject };

  it('build writes build.json and a subject, each valid against its schema', async () => {
    build = await step('build', {
      image: `${registry.host}/acme/api`,
      directories: 'bin:/usr/local/bin\napp:/app',
      platforms: 'linux/amd64,linux/arm64',
      entrypoint: '["/usr/local/bin/server"]',
    });
    expect(build.errors).toEqual([]);
    expect(build.exitCode).toBe(0);
    buildRecord = record('build', build.outputs.record) as never;
    expect(buildRecord._type).toBe('https://slipway.dev/records/build');
    expect(buildRecord.version).toBe(1);
    const subject = JSON.parse(build.outputs.subject!);
    expect(schemas.subject(subject) ? [] : schemas.subject.errors).toEqual([]);
    expect(buildRecord.subject).toEqual(subject);
    expect(Object.keys(subject.platforms).sort()).toEqual(['linux/amd64', 'linux/arm64']);
  });

  let sbom: PhaseResult;
  let sbomFiles: { platform: string; manifestDigest: string; format: string; path: string }[];

  it('sbom takes build’s record output as its subject', async () => {
    sbom = await step('sbom', { subject: build.outputs.record!, 'osv-url': osv.url });
    expect(sbom.errors).toEqual([]);
    expect(sbom.outputs.decision).toBe('pass');
    const sbomRecord = record('sbom', sbom.outputs.record) as unknown as {
      _type: string;
      subject: { name: string; digest: string };
      sboms: unknown[];
      platforms: { platform: string; manifestDigest: string }[];
    };
    expect(sbomRecord._type).toBe('https://slipway.dev/records/sbom');
    expect(sbomRecord.subject).toEqual({ name: buildRecord.subject.name, digest: buildRecord.subject.digest });
    // Every platform the build made is described, by its own manifest digest.
    expect(Object.fromEntries(sbomRecord.platforms.map((p) => [p.platform, p.manifestDigest]))).toEqual(
      buildRecord.subject.platforms,
    );
    sbomFiles = JSON.parse(sbom.outputs.files!);
    expect(schemas.sbomFiles(sbomFiles) ? [] : schemas.sbomFiles.errors).toEqual([]);
    expect(sbomFiles).toEqual(sbomRecord.sboms);
    expect(sbomFiles.map((f) => `${f.platform} ${f.format}`).sort()).toEqual([
      'linux/amd64 cyclonedx',
      'linux/amd64 spdx',
      'linux/arm64 cyclonedx',
      'linux/arm64 spdx',
    ]);
    for (const file of sbomFiles) expect(file.manifestDigest).toBe(buildRecord.subject.platforms[file.platform]);
  });

  let sign: PhaseResult;
  /** The SPDX predicate type sign attested (the document's version is in it). */
  const attestedSpdxType = () => {
    const attestations = JSON.parse(sign.outputs.bundles!) as { predicateType: string }[];
    return attestations.map((a) => a.predicateType).find((t) => t.startsWith('https://spdx.dev/Document'))!;
  };

  it('sign takes build’s record as subject and sbom’s files output as sbom-files, as they are', async () => {
    sign = await step('sign', {
      subject: build.outputs.record!,
      'sbom-files': sbom.outputs.files!,
      'signing-config': 'signing-config.json',
      'trusted-root': 'trusted-root.json',
      storage: 'referrer',
    });
    expect(sign.errors).toEqual([]);
    expect(sign.exitCode).toBe(0);
    const attestations = record('attestations', sign.outputs.record) as unknown as {
      _type: string;
      subject: Subject;
      attestations: { predicateType: string; subjects: { digest: { sha256: string } }[] }[];
    };
    expect(attestations._type).toBe('https://slipway.dev/records/attestations');
    expect(attestations.subject).toEqual(buildRecord.subject);
    const types = attestations.attestations.map((a) => a.predicateType);
    expect(types).toContain('https://slsa.dev/provenance/v1');
    // One SBOM attestation per file the sbom step handed over: nothing was dropped between the records.
    expect(types.filter((t) => t === 'https://cyclonedx.org/bom')).toHaveLength(2);
    expect(types.filter((t) => t.startsWith('https://spdx.dev/Document'))).toHaveLength(2);
    expect(JSON.parse(sign.outputs.bundles!)).toEqual(attestations.attestations);
  });

  it('verify takes sign’s record as its subject and passes, requiring provenance and each platform’s SBOMs', async () => {
    // sign attests provenance about the index and each platform's SBOMs about that platform's manifest; verify
    // meets the SBOM types on every platform of the index.
    const spdx = attestedSpdxType();
    const verify = await step('verify', {
      subject: sign.outputs.record!,
      'trusted-root': 'trusted-root.json',
      repository: REPOSITORY,
      workflow: '.github/workflows/release.yml',
      ref: REF,
      sources: 'referrer',
      'predicate-types': `https://slsa.dev/provenance/v1,https://cyclonedx.org/bom,${spdx}`,
    });
    expect(verify.errors).toEqual([]);
    expect(verify.outputs.verified).toBe('true');
    const verification = record('verification', verify.outputs.record) as unknown as VerificationFile;
    expect(verification._type).toBe('https://slipway.dev/records/verification');
    expect(verification.subject).toEqual({ name: buildRecord.subject.name, digest: buildRecord.subject.digest });
    expect(verification.verified).toBe(true);
    expect(verification.outcome.reasons).toEqual([]);
    expect(verification.outcome.missingPredicateTypes).toEqual([]);
    expect(verification.outcome.attestations.filter((a) => a.passed).map((a) => a.predicateType)).toContain(
      'https://slsa.dev/provenance/v1',
    );
    expect(verification.outcome.platformPredicateTypes).toEqual(['https://cyclonedx.org/bom', spdx]);
    // Every platform the build made, by its own manifest digest, with both its SBOMs verified about that manifest.
    const platforms = verification.outcome.platforms!;
    expect(Object.fromEntries(Object.entries(platforms).map(([p, { digest }]) => [p, digest]))).toEqual(
      buildRecord.subject.platforms,
    );
    for (const [platform, result] of Object.entries(platforms)) {
      expect(result.missingPredicateTypes, platform).toEqual([]);
      expect(
        result.attestations
          .filter((a) => a.passed)
          .map((a) => a.predicateType)
          .sort(),
        platform,
      ).toEqual(['https://cyclonedx.org/bom', spdx]);
      for (const a of result.attestations) expect(a.checks, platform).toContain(`a subject is ${result.digest}`);
    }
    // The summary shows each platform beside the index.
    for (const [platform, digest] of Object.entries(buildRecord.subject.platforms)) {
      expect(verify.summary).toContain(`| ${platform} \`${digest}\` | https://cyclonedx.org/bom | referrer |`);
    }
  });

  it.each([
    [
      'a renamed field',
      (r: Record<string, unknown>) => {
        const { digest, ...rest } = r.subject as Record<string, unknown>;
        return { ...r, subject: { ...rest, sha: digest } };
      },
      /^Input 'subject' is ".*build-edited\.json": build record .*build-edited\.json: field subject\.digest is missing; expected sha256:<64 hex>\.$/,
    ],
    [
      'a newer major version',
      (r: Record<string, unknown>) => ({ ...r, version: 2 }),
      /build record .*: it has version 2, which this Slipway does not read; expected version 1/,
    ],
    [
      'a record of another kind',
      (r: Record<string, unknown>) => ({ ...r, _type: 'https://slipway.dev/records/sbom' }),
      // subject takes any record that names an image, so the record is read as what it claims to be.
      /sbom record .*build-edited\.json: field sboms is missing; expected the SBOM files, one per platform and format\.$/,
    ],
  ])(
    'a later action refuses %s in a record, naming the input, the file and the field',
    async (_what, edit, message) => {
      const original = JSON.parse(readFileSync(build.outputs.record!, 'utf8'));
      writeFileSync(join(workspace, 'build-edited.json'), JSON.stringify(edit(original)));
      const refused = await step('sbom', { subject: 'build-edited.json', 'osv-url': osv.url });
      expect(refused.exitCode).toBe(1);
      expect(refused.errors).toHaveLength(1);
      expect(refused.errors[0]).toMatch(message);
      expect(refused.errors[0]).not.toContain('a bug in Slipway');
    },
  );

  it('sign refuses a typo in the sbom files output, naming the entry and the field', async () => {
    const files = JSON.parse(sbom.outputs.files!);
    files[1].format = 'cyclondx';
    const refused = await step('sign', {
      subject: build.outputs.record!,
      'sbom-files': JSON.stringify(files),
      'signing-config': 'signing-config.json',
      storage: 'referrer',
    });
    expect(refused.exitCode).toBe(1);
    expect(refused.errors).toEqual([
      'Input \'sbom-files\' is the given value: sbom files the JSON value: field [1].format is "cyclondx"; expected cyclonedx or spdx.',
    ]);
  });

  it('verify fails naming the platform whose SBOM sign was not given', async () => {
    // The same build into another repository: its referrers start empty. sign gets amd64's SBOMs only.
    const partialBuild = await step('build', {
      image: `${registry.host}/acme/partial`,
      directories: 'bin:/usr/local/bin\napp:/app',
      platforms: 'linux/amd64,linux/arm64',
      entrypoint: '["/usr/local/bin/server"]',
    });
    expect(partialBuild.errors).toEqual([]);
    const partial = (record('build', partialBuild.outputs.record) as unknown as { subject: Subject }).subject;
    const partialSbom = await step('sbom', { subject: partialBuild.outputs.record!, 'osv-url': osv.url });
    expect(partialSbom.errors).toEqual([]);
    const files = (JSON.parse(partialSbom.outputs.files!) as typeof sbomFiles).filter(
      (f) => f.platform === 'linux/amd64',
    );
    expect(files.map((f) => f.format).sort()).toEqual(['cyclonedx', 'spdx']);
    const partialSign = await step('sign', {
      subject: partialBuild.outputs.record!,
      'sbom-files': JSON.stringify(files),
      'signing-config': 'signing-config.json',
      'trusted-root': 'trusted-root.json',
      storage: 'referrer',
    });
    expect(partialSign.errors).toEqual([]);

    const verify = await step('verify', {
      subject: partialSign.outputs.record!,
      'trusted-root': 'trusted-root.json',
      repository: REPOSITORY,
      workflow: '.github/workflows/release.yml',
      ref: REF,
      sources: 'referrer',
      'predicate-types': 'https://slsa.dev/provenance/v1,https://cyclonedx.org/bom',
    });
    expect(verify.exitCode).toBe(1);
    expect(verify.outputs.verified).toBe('false');
    const arm64 = partial.platforms['linux/arm64']!;
    const expected =
      `platform linux/arm64 (${arm64}) is missing required predicate types: https://cyclonedx.org/bom ` +
      `(nothing is attested about its manifest, and none about the index ${partial.digest} meets them)`;
    expect(verify.errors).toHaveLength(1);
    expect(verify.errors[0]).toContain(expected);
    expect(verify.errors[0]).not.toContain('linux/amd64');
    const verification = record('verification', verify.outputs.record) as unknown as VerificationFile;
    expect(verification.verified).toBe(false);
    expect(verification.outcome.reasons).toEqual([{ code: 'PREDICATE_TYPE_MISSING', message: expected }]);
    expect(verification.outcome.missingPredicateTypes).toEqual(['https://cyclonedx.org/bom']);
    expect(verification.outcome.platforms!['linux/amd64']!.missingPredicateTypes).toEqual([]);
    expect(verification.outcome.platforms!['linux/arm64']).toEqual({
      digest: arm64,
      attestations: [],
      missingPredicateTypes: ['https://cyclonedx.org/bom'],
    });
    expect(verify.summary).toContain(`| linux/arm64 \`${arm64}\` | — | — | — | **nothing found** |`);
  });
});
