import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowClaims } from '../../../shared/attest/types.js';
import { listReferrers } from '../../../shared/oci/referrers.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import { type GitHubServer, startGitHubServer } from '../../support/github-server.js';
import { makeImage, pushImage } from '../../support/images.js';
import { repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { startRegistry, type TestRegistry } from '../../support/services.js';
import { type Sigstore, startSigstore, writeSigningFiles } from '../../support/sigstore.js';
import { startTokenService, type TokenService } from '../../support/token-service.js';

// sign then verify, both as the runner runs them, against a loopback Fulcio, Rekor and TSA (with a trust root
// made from them), the real docker-registry, and a GitHub attestations API checked against GitHub's OpenAPI.

const signYml = join(repositoryRoot, 'actions/sign/action.yml');
const verifyYml = join(repositoryRoot, 'actions/verify/action.yml');
const TOKEN = 'ghs_test-token-for-attestations';

let registry: TestRegistry;
let sigstore: Sigstore;
let github: GitHubServer;
let oidc: TokenService;
let claims: Partial<WorkflowClaims> = {};
let workspace: string;
let image: string;
let otherImage: string;

beforeAll(async () => {
  [registry, sigstore, github] = await Promise.all([
    startRegistry(),
    startSigstore(),
    startGitHubServer({ token: TOKEN }),
  ]);
  // The runner's OIDC endpoint: answers with a token carrying whatever claims the test set.
  oidc = await startTokenService(() => claims);

  const repo = new RegistryClient().repository(registry.host, 'acme/app');
  const built = makeImage({
    platforms: [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ],
    label: 'signed',
  });
  await pushImage(repo, built, ['v1']);
  image = `${registry.host}/acme/app@${built.top.descriptor.digest}`;
  const other = makeImage({ label: 'unsigned' });
  await pushImage(repo, other);
  otherImage = `${registry.host}/acme/app@${other.top.descriptor.digest}`;

  workspace = mkdtempSync(join(tmpdir(), 'slipway-attest-ws-'));
  writeSigningFiles(workspace, sigstore);
}, 120_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close(), github?.close(), oidc?.close()]);
});

const runnerEnv = () => ({
  ...oidc.env,
  GITHUB_API_URL: github.url,
  GITHUB_REPOSITORY: 'acme/app',
});

const sign = (inputs: Record<string, string>, env: Record<string, string> = {}) =>
  runActionYml(signYml, {
    workspace,
    env: { ...runnerEnv(), ...env },
    // The trusted root lets a re-run verify, and so reuse, what the first run stored (sign-reuse.test.ts).
    inputs: {
      'signing-config': 'signing-config.json',
      'trusted-root': 'trusted-root.json',
      'github-token': TOKEN,
      ...inputs,
    },
  });

const verify = (inputs: Record<string, string>) =>
  runActionYml(verifyYml, {
    workspace,
    env: runnerEnv(),
    inputs: {
      'trusted-root': 'trusted-root.json',
      repository: 'acme/app',
      workflow: '.github/workflows/release.yml',
      ref: 'refs/heads/*',
      'github-token': TOKEN,
      ...inputs,
    },
  });

describe('sign and verify actions', () => {
  it('signs provenance keylessly into a referrer and the GitHub API, and verify passes', async () => {
    claims = { repository_visibility: 'public' };
    const signed = (await sign({ image })).main;
    expect(signed.errors).toEqual([]);
    const bundles = JSON.parse(signed.outputs.bundles!) as {
      predicateType: string;
      reused: boolean;
      signer: string;
      stored: { kind: string }[];
    }[];
    expect(bundles).toHaveLength(1);
    expect(bundles[0]).toMatchObject({
      predicateType: 'https://slsa.dev/provenance/v1',
      reused: false,
      signer: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    });
    expect(bundles[0]!.stored.map((s) => s.kind)).toEqual(['referrer', 'github']);
    // A public repository's signature goes to the transparency log.
    expect(sigstore.requests.some((r) => r.path.startsWith('/api/v1/log/entries'))).toBe(true);
    expect(github.schemaErrors).toEqual([]);
    expect(github.attestations).toHaveLength(1);

    const verified = (await verify({ image })).main;
    expect(verified.errors).toEqual([]);
    expect(verified.outputs.verified).toBe('true');
    const record = JSON.parse(readFileSync(verified.outputs.record!, 'utf8'));
    expect(record.outcome.attestations.filter((a: { passed: boolean }) => a.passed)).toHaveLength(2);
    expect(record.formats).toMatchObject({
      'gh-attestation-verify': true,
      'cosign-v3': true,
      'kyverno-sigstore-bundle': true,
    });
    expect(verified.summary).toContain('gh attestation verify oci://');
    expect(verified.summary).toContain('cosign verify-attestation --type slsaprovenance1');

    // Signing the same digest again creates no second attestation anywhere.
    const again = JSON.parse((await sign({ image })).main.outputs.bundles!) as { reused: boolean }[];
    expect(again.map((b) => b.reused)).toEqual([true]);
    expect(github.attestations).toHaveLength(1);
    const digest = image.split('@')[1] as `sha256:${string}`;
    expect(await listReferrers(new RegistryClient().repository(registry.host, 'acme/app'), digest)).toHaveLength(1);
  }, 120_000);

  it.each([
    [
      'a wrong identity',
      { workflow: '.github/workflows/other.yml' },
      /wrong signer identity: expected SAN matching .*other\\\.yml/,
    ],
    [
      'a wrong issuer',
      { issuer: 'https://issuer.example.com' },
      /wrong issuer: expected https:\/\/issuer\.example\.com/,
    ],
    [
      'a missing required predicate type',
      { 'predicate-types': 'https://slsa.dev/provenance/v1,https://spdx.dev/Document' },
      /missing required predicate types: https:\/\/spdx\.dev\/Document/,
    ],
  ])(
    'fails closed on %s, saying which',
    async (_what, inputs, reason) => {
      const { main } = await verify({ image, ...inputs });
      expect(main.exitCode).toBe(1);
      expect(main.outputs.verified).toBe('false');
      expect(main.errors).toHaveLength(1);
      expect(main.errors[0]).toMatch(reason);
    },
    60_000,
  );

  it('fails closed when the digest has no attestation at all', async () => {
    const { main } = await verify({ image: otherImage });
    expect(main.outputs.verified).toBe('false');
    expect(main.errors[0]).toMatch(/no attestation found for sha256:/);
  }, 60_000);

  it('never calls Rekor for a private repository unless the user opts in', async () => {
    claims = { repository_visibility: 'private' };
    const before = sigstore.requests.filter((r) => r.path.startsWith('/api/v1/log/entries')).length;
    const signed = (await sign({ image: otherImage, storage: 'referrer' })).main;
    expect(signed.errors).toEqual([]);
    expect(sigstore.requests.filter((r) => r.path.startsWith('/api/v1/log/entries')).length).toBe(before);
    const record = JSON.parse(readFileSync(signed.outputs.record!, 'utf8'));
    expect(record.instance).toMatchObject({ publicLog: false, tsaUrl: sigstore.tsaUrl });
    expect(record.instance.rekorUrl).toBeUndefined();
  }, 60_000);

  it('signs with a key and verifies with its public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keyed = makeImage({ label: 'keyed' });
    await pushImage(new RegistryClient().repository(registry.host, 'acme/keyed'), keyed);
    const keyedImage = `${registry.host}/acme/keyed@${keyed.top.descriptor.digest}`;
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signed = (
      await sign(
        { image: keyedImage, key: pem, storage: 'referrer', 'signing-config': '' },
        { GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/heads/main', GITHUB_REPOSITORY_ID: '1' },
      )
    ).main;
    expect(signed.errors).toEqual([]);
    // The key reaches the runner only in ::add-mask:: (so the runner masks it), never in any other line.
    const lines = signed.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    expect(lines.join('\n')).not.toContain('PRIVATE KEY');
    const verified = (
      await verify({
        image: keyedImage,
        key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        sources: 'referrer',
      })
    ).main;
    expect(verified.errors).toEqual([]);
    expect(verified.outputs.verified).toBe('true');
  }, 60_000);
});
