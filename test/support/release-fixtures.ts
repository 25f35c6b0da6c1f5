import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { RegistryClient } from '../../shared/oci/registry.js';
import { makeImage, pushImage } from './images.js';
import { repositoryRoot, runActionYml } from './runner-harness.js';

// What the promote, canary and evidence tests each set up before their first assertion: release images in a real
// registry signed with a key by the BUILT sign action (as a release workflow would), and a GitOps repository
// written from files and committed (main checked out, as promote's local mode expects).

const signYml = join(repositoryRoot, 'actions/sign/action.yml');

/** A P-256 key pair for key-based signing, with both halves as PEM. */
export interface ReleaseKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

export function releaseKey(): ReleaseKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Pushes one small image per name to `<registryHost>/<repositoryPath>`, tagged with the name, and signs each with
 * `key` (provenance stored as a referrer) unless `key` is undefined for that name. Returns the digests by name.
 */
export async function signedImages<N extends string>(options: {
  registryHost: string;
  repositoryPath: string;
  names: readonly N[];
  key: (name: N) => ReleaseKey | undefined;
  workspace: string;
  label: string;
}): Promise<Record<N, string>> {
  const repo = new RegistryClient().repository(options.registryHost, options.repositoryPath);
  const digests = {} as Record<N, string>;
  for (const name of options.names) {
    const built = makeImage({ label: `${options.label}-${name}` });
    await pushImage(repo, built, [name]);
    digests[name] = built.top.descriptor.digest;
    const key = options.key(name);
    if (!key) continue;
    const { main } = await runActionYml(signYml, {
      workspace: options.workspace,
      env: { GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/heads/main', GITHUB_REPOSITORY_ID: '1' },
      inputs: {
        image: `${options.registryHost}/${options.repositoryPath}:${name}@${digests[name]}`,
        key: key.privatePem,
        storage: 'referrer',
      },
    });
    expect(main.errors).toEqual([]);
  }
  return digests;
}

/** Writes `files` into a new git repository at `dir`, commits them on main and returns a git runner for it. */
export function committedRepository(dir: string, files: Record<string, string>): (...args: string[]) => string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=Platform', '-c', 'user.email=platform@example.com', 'commit', '-qm', 'GitOps repository');
  return git;
}

/**
 * The files of a GitOps repository with one direct-commit environment, prod, pinning `image` at `pinned` through a
 * kustomization, whose policy allows the release key; `extra` adds files (a flag file, a rollout).
 */
export function prodGitopsFiles(options: {
  image: string;
  publicPem: string;
  pinned: { tag: string; digest: string };
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    '.slipway.yaml': `version: 1
environments:
  - name: prod
    pull-request: false
services:
  api:
    image: ${options.image}
    targets:
      prod: envs/prod/kustomization.yaml
policy:
  signers:
    - key: keys/release.pub
  require: [https://slsa.dev/provenance/v1]
`,
    'keys/release.pub': options.publicPem,
    'envs/prod/kustomization.yaml': `images:\n  - name: ${options.image}\n    newTag: ${options.pinned.tag}\n    digest: ${options.pinned.digest}\n`,
    ...options.extra,
  };
}
