import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBundles, storeBundleReferrer } from '../../../shared/attest/oci-storage.js';
import { signStatement } from '../../../shared/attest/sign.js';
import { statement, statementSubjects } from '../../../shared/attest/statement.js';
import type { BundleJson, Statement, WorkflowClaims } from '../../../shared/attest/types.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import type { Digest } from '../../../shared/oci/types.js';
import { keylessSigning } from '../../support/attestations.js';
import { type GitHubServer, startGitHubServer } from '../../support/github-server.js';
import { makeImage, pushImage, type TestImage } from '../../support/images.js';
import { type OsvServer, startOsvServer } from '../../support/osv-server.js';
import { repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { startRegistry, type TestRegistry } from '../../support/services.js';
import { GITHUB_ISSUER, type Sigstore, startSigstore, writeSigningFiles } from '../../support/sigstore.js';
import { startTokenService, type TokenService } from '../../support/token-service.js';

// When sign may skip signing: only for an attestation already stored whose statement is identical (subjects,
// predicate type, predicate digest) and whose bundle verifies as this run's signer against the trusted root.
// Everything runs through the built actions, against the real docker-registry, a loopback Sigstore, and a
// second loopback Sigstore that nobody trusts (the attacker's).

const signYml = join(repositoryRoot, 'actions/sign/action.yml');
const sbomYml = join(repositoryRoot, 'actions/sbom/action.yml');
const TOKEN = 'ghs_test-token-for-reuse';
const CUSTOM_TYPE = 'https://slipway.test/review/v1';
const SAN = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';

let registry: TestRegistry;
let sigstore: Sigstore;
let rogue: Sigstore;
let github: GitHubServer;
let osv: OsvServer;
let oidc: TokenService;
let workspace: string;
const claims: Partial<WorkflowClaims> = { repository_visibility: 'public' };

beforeAll(async () => {
  [registry, sigstore, rogue, github, osv] = await Promise.all([
    startRegistry(),
    startSigstore(),
    startSigstore(),
    startGitHubServer({ token: TOKEN }),
    startOsvServer({ records: [] }),
  ]);
  oidc = await startTokenService(() => claims);
  workspace = mkdtempSync(join(tmpdir(), 'slipway-reuse-ws-'));
  writeSigningFiles(workspace, sigstore);
}, 120_000);

afterAll(async () => {
  await Promise.all([
    registry?.stop(),
    sigstore?.close(),
    rogue?.close(),
    github?.close(),
    osv?.close(),
    oidc?.close(),
  ]);
});

const repo = (name: string) => new RegistryClient().repository(registry.host, name);

async function pushed(name: string, platforms = 1): Promise<{ image: string; built: TestImage }> {
  const built = makeImage({
    platforms: [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ].slice(0, platforms),
    label: name,
  });
  await pushImage(repo(name), built);
  return { image: `${registry.host}/${name}@${built.top.descriptor.digest}`, built };
}

const sign = (inputs: Record<string, string>, env: Record<string, string> = {}) =>
  runActionYml(signYml, {
    workspace,
    env: {
      ...oidc.env,
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: 'acme/app',
      ...env,
    },
    inputs: {
      'signing-config': 'signing-config.json',
      'trusted-root': 'trusted-root.json',
      'github-token': TOKEN,
      storage: 'referrer',
      ...inputs,
    },
  });

interface Attested {
  predicateType: string;
  bundleDigest: Digest;
  subjects: { name: string; digest: { sha256: string } }[];
  reused: boolean;
}

/** Signs, expecting success; the attestations as the record file lists them. */
async function signed(inputs: Record<string, string>, env: Record<string, string> = {}) {
  const { main } = await sign(inputs, env);
  expect(main.errors).toEqual([]);
  expect(main.exitCode).toBe(0);
  const record = JSON.parse(readFileSync(main.outputs.record!, 'utf8')) as { attestations: Attested[] };
  return { attestations: record.attestations, stdout: main.stdout };
}

const payloadOf = (bundle: BundleJson) =>
  JSON.parse(Buffer.from((bundle.dsseEnvelope as { payload: string }).payload, 'base64').toString('utf8')) as Statement;

/** Verifies with @sigstore/verify directly, against the trusted loopback instance: independent of Slipway's verify. */
function verifiesAgainstTrustedRoot(bundle: BundleJson): string | undefined {
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot)), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
    timestampThreshold: 1,
  });
  return verifier.verify(toSignedEntity(bundleFromJSON(bundle)), {
    subjectAlternativeName: SAN,
    extensions: { issuer: GITHUB_ISSUER },
  }).identity?.subjectAlternativeName;
}

const predicateFile = (name: string, predicate: unknown, text = JSON.stringify(predicate)) => {
  writeFileSync(join(workspace, name), text);
  return name;
};

describe('sign reuses only what it verified and what is identical', () => {
  it('never reuses a planted bundle naming this workflow but not signed under the trusted root, and signs anew', async () => {
    const { image, built } = await pushed('acme/planted');
    const predicate = { reviewed: true, by: 'release-bot' };
    // Exactly the statement the sign action is about to make, signed by an attacker's own Fulcio, Rekor and TSA:
    // a well-formed bundle whose certificate names this very workflow.
    const name = `${registry.host}/acme/planted`;
    const subject = { name, ...built.top.descriptor, platforms: {} };
    const plantedStatement = statement(statementSubjects(subject, { platforms: false }), CUSTOM_TYPE, predicate);
    const planted = await signStatement(plantedStatement, keylessSigning(rogue, claims));
    const leaf = (planted.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes;
    expect(X509Certificate.parse(Buffer.from(leaf, 'base64')).subjectAltName).toBe(SAN);
    expect(() => verifiesAgainstTrustedRoot(planted)).toThrow();
    await storeBundleReferrer(repo('acme/planted'), built.top.descriptor, planted, CUSTOM_TYPE, '2026-01-01T00:00:00Z');

    const { attestations, stdout } = await signed({
      image,
      provenance: 'false',
      'predicate-type': CUSTOM_TYPE,
      predicate: predicateFile('planted.json', predicate),
    });
    expect(attestations).toHaveLength(1);
    expect(attestations[0]!.reused).toBe(false);
    // The log says why the stored one was passed over.
    expect(stdout).toMatch(
      /::warning::referrer sha256:[0-9a-f]{64} .*holds this https:\/\/slipway\.test\/review\/v1 statement but is not reused/,
    );

    const found = await findBundles(repo('acme/planted'), built.top.descriptor.digest as Digest);
    expect(found).toHaveLength(2);
    const fresh = found.find((f) => JSON.stringify(f.bundle) !== JSON.stringify(planted))!;
    expect(verifiesAgainstTrustedRoot(fresh.bundle)).toBe(SAN);
    expect(payloadOf(fresh.bundle).predicate).toEqual(predicate);
  }, 120_000);

  it('never reuses a verified bundle of another workflow', async () => {
    const { image, built } = await pushed('acme/other-signer');
    const predicate = { reviewed: true };
    const name = `${registry.host}/acme/other-signer`;
    const subject = { name, ...built.top.descriptor, platforms: {} };
    const other = await signStatement(
      statement(statementSubjects(subject, { platforms: false }), CUSTOM_TYPE, predicate),
      keylessSigning(sigstore, { ...claims, job_workflow_ref: 'acme/app/.github/workflows/other.yml@refs/heads/main' }),
    );
    await storeBundleReferrer(
      repo('acme/other-signer'),
      built.top.descriptor,
      other,
      CUSTOM_TYPE,
      '2026-01-01T00:00:00Z',
    );

    const { attestations, stdout } = await signed({
      image,
      provenance: 'false',
      'predicate-type': CUSTOM_TYPE,
      predicate: predicateFile('other-signer.json', predicate),
    });
    expect(attestations[0]!.reused).toBe(false);
    expect(stdout).toMatch(/not reused: wrong signer identity/);
    expect(await findBundles(repo('acme/other-signer'), built.top.descriptor.digest as Digest)).toHaveLength(2);
  }, 120_000);

  it('signs a changed custom predicate anew, and the registry holds the new one', async () => {
    const { image, built } = await pushed('acme/custom');
    const first = await signed({
      image,
      provenance: 'false',
      'predicate-type': CUSTOM_TYPE,
      predicate: predicateFile('custom.json', { verdict: 'pass', score: 1 }),
    });
    expect(first.attestations[0]!.reused).toBe(false);

    const second = await signed({
      image,
      provenance: 'false',
      'predicate-type': CUSTOM_TYPE,
      predicate: predicateFile('custom.json', { verdict: 'fail', score: 0 }),
    });
    expect(second.attestations[0]!.reused).toBe(false);
    expect(second.attestations[0]!.bundleDigest).not.toBe(first.attestations[0]!.bundleDigest);
    const found = await findBundles(repo('acme/custom'), built.top.descriptor.digest as Digest);
    expect(found.map((f) => payloadOf(f.bundle).predicate)).toEqual(
      expect.arrayContaining([
        { verdict: 'pass', score: 1 },
        { verdict: 'fail', score: 0 },
      ]),
    );

    // The same predicate written with other key order and spacing has the same canonical digest: reused.
    const third = await signed({
      image,
      provenance: 'false',
      'predicate-type': CUSTOM_TYPE,
      predicate: predicateFile('custom.json', undefined, '{\n  "score": 0,\n  "verdict": "fail"\n}\n'),
    });
    expect(third.attestations[0]!.reused).toBe(true);
    expect(third.attestations[0]!.bundleDigest).toBe(second.attestations[0]!.bundleDigest);
    expect(await findBundles(repo('acme/custom'), built.top.descriptor.digest as Digest)).toHaveLength(2);
  }, 120_000);

  it('reuses the same content signed twice: one referrer, one GitHub attestation', async () => {
    const { image, built } = await pushed('acme/twice');
    const before = github.attestations.length;
    const first = await signed({ image, storage: 'referrer,github' });
    expect(first.attestations.map((a) => a.reused)).toEqual([false]);
    const again = await signed({ image, storage: 'referrer,github' });
    expect(again.attestations.map((a) => a.reused)).toEqual([true]);
    expect(again.attestations[0]!.bundleDigest).toBe(first.attestations[0]!.bundleDigest);
    expect(await findBundles(repo('acme/twice'), built.top.descriptor.digest as Digest)).toHaveLength(1);
    expect(github.attestations.length - before).toBe(1);
  }, 120_000);

  it('never reuses without a trusted root for the signing instance, and says so', async () => {
    const { image, built } = await pushed('acme/no-root');
    const first = await signed({ image, 'trusted-root': '' });
    const again = await signed({ image, 'trusted-root': '' });
    expect([...first.attestations, ...again.attestations].map((a) => a.reused)).toEqual([false, false]);
    expect(again.stdout).toMatch(
      /not reused.*no trusted root is known for the Sigstore instance at http:\/\/127\.0\.0\.1:\d+; give trusted-root/,
    );
    expect(await findBundles(repo('acme/no-root'), built.top.descriptor.digest as Digest)).toHaveLength(2);
  }, 120_000);

  it('reuses a key-signed attestation without any trusted root: the key is its own anchor', async () => {
    const { image, built } = await pushed('acme/keyed-reuse');
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const env = { GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/heads/main' };
    const inputs = { image, key: pem, 'signing-config': '', 'trusted-root': '', provenance: 'false' };
    const custom = { 'predicate-type': CUSTOM_TYPE, predicate: predicateFile('keyed.json', { keyed: true }) };
    const first = await signed({ ...inputs, ...custom }, env);
    const again = await signed({ ...inputs, ...custom }, env);
    expect(first.attestations[0]!.reused).toBe(false);
    expect(again.attestations[0]!.reused).toBe(true);
    expect(await findBundles(repo('acme/keyed-reuse'), built.top.descriptor.digest as Digest)).toHaveLength(1);

    // Another key's attestation of the same statement is not this signer's.
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const other = await signed({ ...inputs, ...custom, key: otherKey }, env);
    expect(other.attestations[0]!.reused).toBe(false);
  }, 120_000);
});

describe('per-platform SBOMs from the sbom action', () => {
  it('attests each platform’s SBOM about that platform’s manifest, and a re-run reuses each for its own platform only', async () => {
    const { image, built } = await pushed('acme/multi', 2);
    const sbom = (
      await runActionYml(sbomYml, {
        workspace,
        inputs: { image, 'osv-url': osv.url, 'fail-on': 'none', 'output-dir': 'sboms', attach: 'false' },
        env: { SOURCE_DATE_EPOCH: '1767225600' },
      })
    ).main;
    expect(sbom.errors).toEqual([]);
    const files = JSON.parse(sbom.outputs.files!) as {
      path: string;
      format: string;
      manifestDigest: Digest;
      platform: string;
    }[];
    const platformDigests = built.manifests.slice(0, 2).map((m) => m.descriptor.digest);
    expect(new Set(files.map((f) => f.manifestDigest))).toEqual(new Set(platformDigests));

    const inputs = { image, provenance: 'false', 'sbom-files': sbom.outputs.files! };
    const first = await signed(inputs);
    expect(first.attestations).toHaveLength(files.length);
    for (const [i, file] of files.entries()) {
      const attestation = first.attestations[i]!;
      expect(attestation.reused).toBe(false);
      // About the platform manifest alone, never the index.
      expect(attestation.subjects.map((s) => `sha256:${s.digest.sha256}`)).toEqual([file.manifestDigest]);
    }
    // Stored with the platform manifests, each holding its own platform's documents.
    expect(await findBundles(repo('acme/multi'), built.top.descriptor.digest as Digest)).toEqual([]);
    for (const digest of platformDigests) {
      const found = await findBundles(repo('acme/multi'), digest);
      const mine = files.filter((f) => f.manifestDigest === digest);
      expect(found).toHaveLength(mine.length);
      for (const f of found) {
        const payload = payloadOf(f.bundle);
        expect(payload.subject.map((s) => `sha256:${s.digest.sha256}`)).toEqual([digest]);
        const document = payload.predicate as Record<string, unknown>;
        const written = mine.map((m) => JSON.parse(readFileSync(m.path, 'utf8')) as unknown);
        expect(written).toContainEqual(document);
      }
    }

    // A re-run reuses every attestation, each for the platform it was made for.
    const again = await signed(inputs);
    expect(again.attestations.map((a) => a.reused)).toEqual(files.map(() => true));
    for (const [i, attestation] of again.attestations.entries()) {
      expect(attestation.bundleDigest).toBe(first.attestations[i]!.bundleDigest);
      expect(attestation.subjects).toEqual(first.attestations[i]!.subjects);
    }
    for (const digest of platformDigests) {
      expect(await findBundles(repo('acme/multi'), digest)).toHaveLength(
        files.filter((f) => f.manifestDigest === digest).length,
      );
    }
  }, 180_000);

  it('refuses an SBOM that describes a manifest of another image', async () => {
    const { image } = await pushed('acme/lonely');
    const { built: elsewhere } = await pushed('acme/elsewhere');
    const path = join(workspace, 'stray.cdx.json');
    const bytes = Buffer.from(
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }),
    );
    writeFileSync(path, bytes);
    // An entry as the sbom action's files output writes it, for a manifest of another image.
    const files = JSON.stringify([
      {
        platform: 'linux/amd64',
        manifestDigest: elsewhere.top.descriptor.digest,
        format: 'cyclonedx',
        mediaType: 'application/vnd.cyclonedx+json',
        path,
        digest: digestOf(new Uint8Array(bytes)),
        size: bytes.byteLength,
      },
    ]);
    const { main } = await sign({ image, provenance: 'false', 'sbom-files': files });
    expect(main.exitCode).toBe(1);
    expect(main.errors).toHaveLength(1);
    expect(main.errors[0]).toMatch(/describes the manifest sha256:[0-9a-f]{64}, which is not .*acme\/lonely@sha256:/);
  }, 60_000);
});

describe('a bad key', () => {
  it.each([
    ['a path', '/home/runner/work/keys/cosign.key', /it looks like a file path/],
    ['garbage', 'not a key at all, just words', /it is not PEM/],
    [
      'a public key',
      `${generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' })}`,
      /it is a PEM PUBLIC KEY, not a private key/,
    ],
    [
      'a broken PEM',
      '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl\n-----END PRIVATE KEY-----\n',
      /its PRIVATE KEY block cannot be decoded/,
    ],
  ])(
    'given %s, names the input and the expected form in one line, never the value',
    async (_what, key, detail) => {
      const { image } = await pushed('acme/bad-key');
      const { main } = await sign({ image, key, 'signing-config': '' });
      expect(main.exitCode).toBe(1);
      expect(main.errors).toHaveLength(1);
      const [error] = main.errors;
      expect(error).toMatch(/^Input 'key' is the given value: /);
      expect(error).toMatch(detail);
      expect(error).toMatch(/expected a PEM private key, the key itself and not a path to it/);
      expect(error).not.toMatch(/bug in Slipway|DECODER/);
      expect(error).not.toContain('***');
      // No stack trace, and the value nowhere but in the mask command.
      const output = `${main.stdout}\n${main.stderr}`;
      expect(output).not.toMatch(/^\s+at /m);
      const unmasked = output
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n');
      for (const line of key.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))) {
        expect(unmasked).not.toContain(line);
      }
    },
    60_000,
  );
});
