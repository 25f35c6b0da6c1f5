import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubContext } from '../../../shared/github/context.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import { makeImage, pushImage } from '../../support/images.js';
import { repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { startRegistry, type TestRegistry } from '../../support/services.js';
import { type Sigstore, startSigstore, writeSigningFiles } from '../../support/sigstore.js';
import { startTokenService, type TokenService } from '../../support/token-service.js';

// The built sign and verify actions on each kind of GitHub host, with nothing but the runner's GITHUB_SERVER_URL
// to tell them which: the signer identity sign expects and records, the SAN verify requires and the issuer it
// defaults to all follow the host (shared/github/context.ts). The loopback Fulcio names certificates after the
// token's issuer, as GitHub's do.

const signYml = join(repositoryRoot, 'actions/sign/action.yml');
const verifyYml = join(repositoryRoot, 'actions/verify/action.yml');

const HOSTS = [
  { name: 'github.com', server: 'https://github.com' },
  { name: 'GHES', server: 'https://ghes.example.com' },
  { name: 'GHE.com', server: 'https://acme.ghe.com' },
].map((host) => ({ ...host, context: githubContext({ GITHUB_SERVER_URL: host.server }) }));

let registry: TestRegistry;
let sigstore: Sigstore;
let oidc: TokenService;
let issuer = '';
let workspace: string;
let image: string;

beforeAll(async () => {
  [registry, sigstore] = await Promise.all([startRegistry(), startSigstore()]);
  // The runner's token service: a token from the issuer of the host under test.
  oidc = await startTokenService(() => ({ iss: issuer, repository_visibility: 'public' }) as never);
  workspace = mkdtempSync(join(tmpdir(), 'slipway-hosts-ws-'));
  writeSigningFiles(workspace, sigstore);
}, 120_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close(), oidc?.close()]);
});

const hostEnv = (server: string) => ({
  ...oidc.env,
  GITHUB_REPOSITORY: 'acme/app',
  GITHUB_SERVER_URL: server,
  // As the runner sets it for that host; nothing here calls the API (storage and sources are referrer only).
  GITHUB_API_URL: githubContext({ GITHUB_SERVER_URL: server }).apiUrl,
});

describe.each(HOSTS)('sign and verify on $name', ({ name, server, context }) => {
  it('signs as the workflow on this host and verifies with the default issuer, and not as another host', async () => {
    issuer = context.actionsIssuer;
    const repository = `acme/${name.toLowerCase().replace('.', '-')}`;
    const repo = new RegistryClient().repository(registry.host, repository);
    const built = makeImage({ label: `hosts ${name}` });
    await pushImage(repo, built);
    image = `${registry.host}/${repository}@${built.top.descriptor.digest}`;

    const signed = await runActionYml(signYml, {
      workspace,
      env: hostEnv(server),
      inputs: {
        image,
        storage: 'referrer',
        'signing-config': 'signing-config.json',
        'trusted-root': 'trusted-root.json',
      },
    });
    expect(signed.main.errors).toEqual([]);
    const bundles = JSON.parse(signed.main.outputs.bundles!) as { signer: string }[];
    expect(bundles.map((b) => b.signer)).toEqual([`${server}/acme/app/.github/workflows/release.yml@refs/heads/main`]);

    const verifyInputs = {
      image,
      sources: 'referrer',
      'trusted-root': 'trusted-root.json',
      workflow: '.github/workflows/release.yml',
      ref: 'refs/heads/main',
    };
    const verified = await runActionYml(verifyYml, { workspace, env: hostEnv(server), inputs: verifyInputs });
    expect(verified.main.errors).toEqual([]);
    expect(verified.main.outputs.verified).toBe('true');
    const record = JSON.parse(readFileSync(verified.main.outputs.record!, 'utf8')) as {
      policy: { issuer: string; serverUrl: string };
    };
    expect(record.policy).toMatchObject({ issuer: context.actionsIssuer, serverUrl: server });

    // The same attestation checked as if the run were on another host fails on the identity.
    const other = HOSTS.find((h) => h.server !== server)!;
    const elsewhere = await runActionYml(verifyYml, {
      workspace,
      env: hostEnv(other.server),
      inputs: { ...verifyInputs, issuer: context.actionsIssuer },
    });
    expect(elsewhere.main.outputs.verified).toBe('false');
    expect(elsewhere.main.errors.join('\n')).toMatch(/wrong signer identity/);
  }, 120_000);
});
