import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  customPredicate,
  MAX_PREDICATE_BYTES,
  sbomPredicate,
  slsaProvenance,
  statement,
  statementSubjects,
} from '../../../shared/attest/statement.js';
import { PREDICATE_TYPES, STATEMENT_TYPE, type WorkflowClaims } from '../../../shared/attest/types.js';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';
import type { Subject } from '../../../shared/oci/subject.js';
import type { Digest } from '../../../shared/oci/types.js';

const hex = (c: string) => c.repeat(64);
const sha = (c: string): Digest => `sha256:${hex(c)}`;

const dir = mkdtempSync(join(tmpdir(), 'slipway-statement-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

// Claims as GitHub issues them for a tag push running .github/workflows/release.yml.
const CLAIMS: WorkflowClaims = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:acme/api:ref:refs/tags/v1.2.3',
  repository: 'acme/api',
  repository_id: '123456789',
  repository_owner: 'acme',
  repository_owner_id: '987654',
  repository_visibility: 'public',
  ref: 'refs/tags/v1.2.3',
  sha: '0123456789abcdef0123456789abcdef01234567',
  event_name: 'push',
  workflow_ref: 'acme/api/.github/workflows/release.yml@refs/tags/v1.2.3',
  job_workflow_ref: 'acme/api/.github/workflows/release.yml@refs/tags/v1.2.3',
  runner_environment: 'github-hosted',
  run_id: '4242424242',
  run_attempt: '2',
};

describe('slsaProvenance', () => {
  it("emits GitHub's predicate exactly, key order included", () => {
    const predicate = slsaProvenance(CLAIMS, { serverUrl: 'https://github.com' });
    const expected = {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: {
          workflow: {
            ref: 'refs/tags/v1.2.3',
            repository: 'https://github.com/acme/api',
            path: '.github/workflows/release.yml',
          },
        },
        internalParameters: {
          github: {
            event_name: 'push',
            repository_id: '123456789',
            repository_owner_id: '987654',
            runner_environment: 'github-hosted',
          },
        },
        resolvedDependencies: [
          {
            uri: 'git+https://github.com/acme/api@refs/tags/v1.2.3',
            digest: { gitCommit: '0123456789abcdef0123456789abcdef01234567' },
          },
        ],
      },
      runDetails: {
        builder: { id: 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.2.3' },
        metadata: { invocationId: 'https://github.com/acme/api/actions/runs/4242424242/attempts/2' },
      },
    };
    expect(predicate).toEqual(expected);
    // toEqual ignores key order; signed bytes do not.
    expect(JSON.stringify(predicate)).toBe(JSON.stringify(expected));
  });

  it('appends base images, times and SBOM byproducts where the build type allows extras', () => {
    const predicate = slsaProvenance(
      {
        ...CLAIMS,
        // A reusable workflow: the builder is the called workflow, the path comes from the caller.
        job_workflow_ref: 'acme/workflows/.github/workflows/build.yml@refs/heads/main',
      },
      {
        serverUrl: 'https://github.com/',
        startedOn: '2026-03-01T10:00:00Z',
        finishedOn: '2026-03-01T10:04:00Z',
        baseImages: [{ uri: 'pkg:docker/library/debian@12?repository_url=docker.io', digest: sha('b') }],
        sboms: [{ name: 'api.spdx.json', digest: sha('c'), mediaType: 'application/spdx+json' }],
      },
    );
    expect(JSON.stringify(predicate.buildDefinition.resolvedDependencies)).toBe(
      JSON.stringify([
        {
          uri: 'git+https://github.com/acme/api@refs/tags/v1.2.3',
          digest: { gitCommit: '0123456789abcdef0123456789abcdef01234567' },
        },
        { uri: 'pkg:docker/library/debian@12?repository_url=docker.io', digest: { sha256: hex('b') } },
      ]),
    );
    expect(JSON.stringify(predicate.runDetails)).toBe(
      JSON.stringify({
        builder: { id: 'https://github.com/acme/workflows/.github/workflows/build.yml@refs/heads/main' },
        metadata: {
          invocationId: 'https://github.com/acme/api/actions/runs/4242424242/attempts/2',
          startedOn: '2026-03-01T10:00:00Z',
          finishedOn: '2026-03-01T10:04:00Z',
        },
        byproducts: [{ name: 'api.spdx.json', digest: { sha256: hex('c') }, mediaType: 'application/spdx+json' }],
      }),
    );
    expect(predicate.buildDefinition.externalParameters.workflow.path).toBe('.github/workflows/release.yml');
  });

  it('keeps an "@" inside the workflow ref (changesets tags)', () => {
    const predicate = slsaProvenance(
      { ...CLAIMS, workflow_ref: 'acme/api/.github/workflows/release.yml@refs/tags/@acme/api@1.2.3' },
      { serverUrl: 'https://github.com' },
    );
    expect(predicate.buildDefinition.externalParameters.workflow).toEqual({
      ref: 'refs/tags/@acme/api@1.2.3',
      repository: 'https://github.com/acme/api',
      path: '.github/workflows/release.yml',
    });
  });

  it('refuses a base image whose digest is not a digest', () => {
    expect(() =>
      slsaProvenance(CLAIMS, {
        serverUrl: 'https://github.com',
        baseImages: [{ uri: 'pkg:docker/x', digest: 'latest' }],
      }),
    ).toThrow(/base image pkg:docker\/x/);
  });
});

describe('statementSubjects', () => {
  const subject: Subject = {
    name: 'GHCR.io/acme/api',
    digest: sha('1'),
    mediaType: 'application/vnd.oci.image.index.v1+json',
    size: 1000,
    platforms: { 'linux/amd64': sha('2'), 'linux/arm64/v8': sha('3') },
    attestationManifests: { [sha('2')]: sha('4'), [sha('3')]: sha('5') },
  };

  it('names the index alone by default', () => {
    expect(statementSubjects(subject, { platforms: false })).toEqual([
      { name: 'ghcr.io/acme/api', digest: { sha256: hex('1') } },
    ]);
  });

  it('names the index first, then each platform manifest, never attestation manifests', () => {
    expect(statementSubjects(subject, { platforms: true })).toEqual([
      { name: 'ghcr.io/acme/api', digest: { sha256: hex('1') } },
      { name: 'ghcr.io/acme/api', digest: { sha256: hex('2') } },
      { name: 'ghcr.io/acme/api', digest: { sha256: hex('3') } },
    ]);
  });

  it('names a single-platform image once', () => {
    const single: Subject = { ...subject, platforms: { 'linux/amd64': sha('1') } };
    delete single.attestationManifests;
    expect(statementSubjects(single, { platforms: true })).toHaveLength(1);
  });

  it('drops tag and digest and uses the canonical Docker Hub name', () => {
    expect(statementSubjects({ ...subject, name: 'nginx:1.27' }, { platforms: false })[0]!.name).toBe(
      'docker.io/library/nginx',
    );
  });

  it("names an OCI layout by its directory's base name, not its absolute path", () => {
    expect(
      statementSubjects({ ...subject, name: 'oci-layout:/home/runner/work/Out-Image' }, { platforms: false }),
    ).toEqual([{ name: 'out-image', digest: { sha256: hex('1') } }]);
  });

  it('refuses digests other than sha256', () => {
    const sha512: Digest = `sha512:${'a'.repeat(128)}`;
    expect(() => statementSubjects({ ...subject, digest: sha512 }, { platforms: false })).toThrow(SlipwayError);
    expect(() => statementSubjects({ ...subject, platforms: { 'linux/amd64': sha512 } }, { platforms: true })).toThrow(
      /only sha256/,
    );
  });
});

describe('statement', () => {
  it('builds an in-toto v1 statement in GitHub key order', () => {
    const subjects = [{ name: 'ghcr.io/acme/api', digest: { sha256: hex('1') } }];
    const result = statement(subjects, PREDICATE_TYPES.slsaProvenance, { a: 1 });
    expect(Object.keys(result)).toEqual(['_type', 'subject', 'predicateType', 'predicate']);
    expect(result).toEqual({
      _type: STATEMENT_TYPE,
      subject: subjects,
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { a: 1 },
    });
  });

  it('refuses a statement without subjects', () => {
    expect(() => statement([], PREDICATE_TYPES.slsaProvenance, {})).toThrow(SlipwayError);
  });
});

describe('sbomPredicate', () => {
  const spdx = (version: string) => ({
    spdxVersion: version,
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'ghcr.io/acme/api',
    packages: [],
  });

  it("takes the SPDX predicate type from the document's spdxVersion", () => {
    const v23 = sbomPredicate(writeJson('v23.spdx.json', spdx('SPDX-2.3')), 'spdx');
    expect(v23).toEqual({ predicateType: 'https://spdx.dev/Document/v2.3', predicate: spdx('SPDX-2.3') });
    expect(sbomPredicate(writeJson('v22.spdx.json', spdx('SPDX-2.2')), 'spdx').predicateType).toBe(
      'https://spdx.dev/Document/v2.2',
    );
  });

  it('refuses a document that is not SPDX 2.x JSON', () => {
    expect(() => sbomPredicate(writeJson('cdx-as-spdx.json', { bomFormat: 'CycloneDX' }), 'spdx')).toThrow(
      /no "spdxVersion"/,
    );
    expect(() => sbomPredicate(writeJson('bad-version.json', spdx('2.3')), 'spdx')).toThrow(/not an SPDX 2\.x/);
  });

  it('uses the CycloneDX predicate type for CycloneDX documents', () => {
    const bom = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] };
    expect(sbomPredicate(writeJson('bom.cdx.json', bom), 'cyclonedx')).toEqual({
      predicateType: 'https://cyclonedx.org/bom',
      predicate: bom,
    });
    expect(() => sbomPredicate(writeJson('spdx-as-cdx.json', spdx('SPDX-2.3')), 'cyclonedx')).toThrow(
      /not a CycloneDX/,
    );
  });

  it('refuses a document over 16 MiB and says to attest a digest instead', () => {
    const document = JSON.stringify(spdx('SPDX-2.3'));
    // Padding whitespace keeps it valid JSON: the size alone must be the reason for refusal.
    const atCap = document + ' '.repeat(MAX_PREDICATE_BYTES - document.length);
    const atCapPath = join(dir, 'at-cap.spdx.json');
    writeFileSync(atCapPath, atCap);
    expect(sbomPredicate(atCapPath, 'spdx').predicateType).toBe('https://spdx.dev/Document/v2.3');

    const overPath = join(dir, 'over-cap.spdx.json');
    writeFileSync(overPath, `${atCap} `);
    let error: unknown;
    try {
      sbomPredicate(overPath, 'spdx');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).toMatch(/16 MiB/);
    expect((error as Error).message).toMatch(/Attest a digest instead/);
  });

  it('explains a missing file and invalid JSON', () => {
    expect(() => sbomPredicate(join(dir, 'nope.json'), 'spdx')).toThrow(/Cannot read the SBOM file/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"spdxVersion":');
    expect(() => sbomPredicate(broken, 'spdx')).toThrow(/not valid JSON/);
  });
});

describe('customPredicate', () => {
  it('reads a JSON object under an absolute predicate type URI', () => {
    const path = writeJson('review.json', { reviewer: 'alice', approved: true });
    expect(customPredicate('https://example.com/review/v1', path)).toEqual({
      predicateType: 'https://example.com/review/v1',
      predicate: { reviewer: 'alice', approved: true },
    });
    expect(customPredicate('urn:acme:review:v1', path).predicateType).toBe('urn:acme:review:v1');
  });

  it('refuses a predicate type that is not an absolute URI', () => {
    const path = writeJson('p.json', {});
    for (const type of ['review', 'example.com/review/v1', '/review/v1', 'https://example.com/a b']) {
      expect(() => customPredicate(type, path)).toThrow(InvalidValueError);
    }
  });

  it('refuses a predicate that is not a JSON object', () => {
    expect(() => customPredicate('https://example.com/list/v1', writeJson('list.json', [1, 2]))).toThrow(
      /must hold a JSON object/,
    );
  });
});
