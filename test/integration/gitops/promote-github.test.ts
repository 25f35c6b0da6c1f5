import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readPullRequestMetadata } from '../../../shared/gitops/pr-body.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import type { HostedRepository } from '../../support/github-git.js';
import { type GitHubServer, startGitHubServer } from '../../support/github-server.js';
import { makeImage, pushImage } from '../../support/images.js';
import {
  expectPromotionRefused,
  fileAt as hostedFileAt,
  hostedGit,
  pinnedIn as hostedPinnedIn,
  hostedState,
  pem,
  promoteOnGitHub,
  readPromotionRecord,
  signWithKey,
} from '../../support/promote-github.js';
import { type PhaseResult, repositoryRoot } from '../../support/runner-harness.js';
import { requireTool, startRegistry, type TestRegistry } from '../../support/services.js';

// promote against GitHub, end to end: the fake GitHub (REST and GraphQL in GitHub's shapes, every request checked
// against GitHub's descriptions, a real bare repository behind it) holds the GitOps repository; images in a real
// registry are signed with a key by the built sign action; the built promote action moves a digest
// dev -> staging -> prod through the API alone, at most 5 calls per promotion. Every refusal leaves every ref and
// pull request as it was.

const TOKEN = 'ghs_promote-github-test-token';
const STAGING_SOAK_S = 8;
const PROD_SOAK_S = 2;
const TRUSTED_ROOT = join(
  repositoryRoot,
  'test/fixtures/sigstore-conformance/intoto-with-custom-trust-root/trusted_root.json',
);

let registry: TestRegistry;
let github: GitHubServer;
let hosted: HostedRepository;
let octokit: Octokit;
let workspace: string;
let repository: string;
const images: Record<'v1' | 'v2' | 'v3' | 'unsigned' | 'stranger', string> = {
  v1: '',
  v2: '',
  v3: '',
  unsigned: '',
  stranger: '',
};
const digests: Record<keyof typeof images, string> = { v1: '', v2: '', v3: '', unsigned: '', stranger: '' };
let devPinnedAt = 0;

const release = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

const git = (...args: string[]) => hostedGit(hosted, ...args);
const state = () => hostedState(hosted);
const fileAt = (ref: string, path: string) => hostedFileAt(hosted, ref, path);
const pinnedIn = (ref: string, path: string) => hostedPinnedIn(hosted, ref, path);

function slipwayYaml(): string {
  return `version: 1
environments:
  - name: dev
    pull-request: false
  - name: staging
    after: dev
    soak: ${STAGING_SOAK_S}s
    labels: [team-api]
  - name: prod
    after: staging
    soak: ${PROD_SOAK_S}s
    reviewers: [acme/platform]
  - name: preview
    after: dev
  - name: qa
    after: dev
    freeze:
      - { start: "2000-01-01T00:00:00Z", end: "2999-01-01T00:00:00Z", reason: qa lab rebuild }
services:
  api:
    image: ${repository}
    targets:
      dev: envs/dev/kustomization.yaml
      staging: envs/staging/kustomization.yaml
      prod: envs/prod/kustomization.yaml
      qa: envs/qa/kustomization.yaml
      preview: envs/preview/kustomization.yaml
  web:
    image: ${repository}
    targets:
      dev: envs/dev/web/kustomization.yaml
      preview: envs/preview/web/kustomization.yaml
policy:
  signers:
    - repository: acme/api
      workflow: .github/workflows/release.yml
    - key: keys/release.pub
  require: [https://slsa.dev/provenance/v1]
`;
}

beforeAll(async () => {
  requireTool('git', 'git');
  [registry, github] = await Promise.all([startRegistry(), startGitHubServer({ token: TOKEN })]);
  repository = `${registry.host}/acme/api`;
  workspace = mkdtempSync(join(tmpdir(), 'slipway-promote-github-'));
  const repo = new RegistryClient().repository(registry.host, 'acme/api');
  for (const name of Object.keys(images) as (keyof typeof images)[]) {
    const built = makeImage({ label: `promote-github-${name}` });
    await pushImage(repo, built, [name]);
    digests[name] = built.top.descriptor.digest;
    images[name] = `${repository}:${name}@${built.top.descriptor.digest}`;
  }
  for (const name of ['v1', 'v2', 'v3'] as const) await signWithKey(workspace, images[name], release.privateKey);
  await signWithKey(workspace, images.stranger, stranger.privateKey);

  const overlay = (env: string) =>
    `resources:\n  - ../../base\nimages:\n  - name: ${repository} # the ${env} pin\n    newTag: "0.0.0"\n`;
  hosted = await github.createRepository({
    owner: 'acme',
    name: 'gitops',
    teams: ['platform'],
    labels: ['slipway'],
    files: {
      '.slipway.yaml': slipwayYaml(),
      'keys/release.pub': pem(release.publicKey, 'spki'),
      ...Object.fromEntries(
        ['dev', 'staging', 'prod', 'qa', 'preview'].map((env) => [`envs/${env}/kustomization.yaml`, overlay(env)]),
      ),
      // web runs the same (signed) image; dev pins v1 from the start, for the bundle promoted from dev.
      'envs/dev/web/kustomization.yaml': `resources:\n  - ../../base\nimages:\n  - name: ${repository}\n    newTag: v1\n    digest: ${digests.v1}\n`,
      'envs/preview/web/kustomization.yaml': overlay('preview web'),
    },
  });
  octokit = new Octokit({ auth: TOKEN, baseUrl: github.url });
}, 240_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), github?.close()]);
});

// The policy names a keyless signer too, which needs a trusted root: with none, an unsigned digest could not be
// judged here (no network for TUF) and the run would fail undecided rather than refused.
const promote = (inputs: Record<string, string>) =>
  promoteOnGitHub({ github, workspace, token: TOKEN, trustedRoot: TRUSTED_ROOT }, inputs);
const record = (result: PhaseResult) => readPromotionRecord(result);
const expectRefused = (inputs: Record<string, string>, code: string, says: RegExp) =>
  expectPromotionRefused(() => promote(inputs), state, code, says);

const sleepUntil = async (ms: number) => {
  const wait = ms - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
};

describe('promote into a GitOps repository on GitHub', () => {
  it('dev: one commit on main through the API, within the call budget', async () => {
    const before = git('rev-parse', 'main').trim();
    const result = await promote({ environment: 'dev', service: 'api', image: images.v1 });
    expect(result.errors).toEqual([]);
    devPinnedAt = Date.now();
    const head = git('rev-parse', 'main').trim();
    expect(git('rev-parse', `${head}~1`).trim()).toBe(before);
    expect(result.outputs).toMatchObject({ changed: 'true', commit: head, 'pull-request': '', digest: digests.v1 });
    expect(pinnedIn('main', 'envs/dev/kustomization.yaml')).toEqual([
      { name: repository, newTag: 'v1', digest: digests.v1 },
    ]);
    expect(fileAt('main', 'envs/dev/kustomization.yaml')).toContain('# the dev pin');
    const written = record(result);
    expect(written).toMatchObject({
      outcome: 'promoted',
      direct: true,
      gitops: { kind: 'github', repository: expect.stringContaining('acme/gitops') },
    });
    expect(written.services[0]?.verification).toMatchObject({ verdict: 'verified', signer: 'key keys/release.pub' });
    expect(result.summary).toMatch(new RegExp(`GitHub API calls: ${written.calls.total} `));
    expect(github.schemaErrors).toEqual([]);
  }, 120_000);

  it('refuses inside the soak, a digest not in dev, a freeze window, unsigned and wrongly signed digests', async () => {
    await expectRefused({ environment: 'staging', service: 'api', from: 'dev' }, 'SOAK_NOT_MET', /soak/);
    expect(Date.now() - devPinnedAt).toBeLessThan(STAGING_SOAK_S * 1000);
    await expectRefused(
      { environment: 'staging', service: 'api', image: images.v2 },
      'NOT_IN_SOURCE_ENVIRONMENT',
      /dev pins/,
    );
    await expectRefused({ environment: 'qa', service: 'api', image: images.v1 }, 'FREEZE_WINDOW', /qa lab rebuild/);
    await expectRefused(
      { environment: 'dev', service: 'api', image: images.unsigned },
      'VERIFICATION_FAILED',
      /NO_ATTESTATION/,
    );
    await expectRefused(
      { environment: 'dev', service: 'api', image: images.stranger },
      'VERIFICATION_FAILED',
      /KEY_MISMATCH/,
    );
    expect(github.schemaErrors).toEqual([]);
  }, 240_000);

  it('re-running the dev promotion changes nothing', async () => {
    const before = state();
    const result = await promote({ environment: 'dev', service: 'api', image: images.v1 });
    expect(result.errors).toEqual([]);
    expect(result.outputs).toMatchObject({ changed: 'false', commit: '' });
    expect(state()).toBe(before);
  }, 120_000);

  it('staging: opens one pull request on slipway/staging/api, then updates it in place for a newer digest', async () => {
    await sleepUntil(devPinnedAt + STAGING_SOAK_S * 1000 + 1000);
    const opened = await promote({ environment: 'staging', service: 'api', from: 'dev' });
    expect(opened.errors).toEqual([]);
    const pull = hosted.pulls.find((p) => p.head === 'slipway/staging/api' && p.state === 'open');
    expect(pull).toBeDefined();
    expect(opened.outputs['pull-request']).toContain(`/pull/${pull!.number}`);
    expect(opened.outputs.commit).toBe(git('rev-parse', 'refs/heads/slipway/staging/api').trim());
    expect(pull!.title).toContain('Promote api sha256:');
    expect(pull!.body).toContain(`\`${digests.v1}\` (v1)`);
    expect(readPullRequestMetadata(pull!.body ?? '')?.services[0]).toMatchObject({ service: 'api', next: digests.v1 });
    const labels = pull!.labels.map((id) => hosted.labels.find((l) => l.id === id)?.name);
    expect(labels).toEqual(expect.arrayContaining(['slipway', 'slipway/env:staging', 'team-api']));
    expect(record(opened).pullRequest).toEqual({ number: pull!.number, url: opened.outputs['pull-request'] });

    // A newer digest in dev, soaked, goes to the same pull request.
    const dev = await promote({ environment: 'dev', service: 'api', image: images.v2 });
    expect(dev.errors).toEqual([]);
    await sleepUntil(Date.now() + STAGING_SOAK_S * 1000 + 1000);
    const updated = await promote({ environment: 'staging', service: 'api', from: 'dev' });
    expect(updated.errors).toEqual([]);
    expect(updated.outputs['pull-request']).toBe(opened.outputs['pull-request']);
    expect(hosted.pulls.filter((p) => p.head === 'slipway/staging/api')).toHaveLength(1);
    expect(pinnedIn('refs/heads/slipway/staging/api', 'envs/staging/kustomization.yaml')).toEqual([
      { name: repository, newTag: 'v2', digest: digests.v2 },
    ]);
    expect(hosted.pulls.find((p) => p.number === pull!.number)?.body).toContain(`\`${digests.v2}\` (v2)`);
    expect(record(updated).calls).toEqual({ total: 4, read: 2, write: 2, attempts: 1 });

    // The same promotion again: the branch already holds it, so nothing is written (the read sees its texts).
    const before = state();
    const rerun = await promote({ environment: 'staging', service: 'api', from: 'dev' });
    expect(rerun.errors).toEqual([]);
    expect(rerun.outputs).toMatchObject({ changed: 'false', commit: '' });
    expect(state()).toBe(before);
    expect(record(rerun)).toMatchObject({
      outcome: 'unchanged',
      changed: false,
      calls: { total: 2, read: 2, write: 0, attempts: 1 },
    });
    expect(github.schemaErrors).toEqual([]);
  }, 120_000);

  it('a bundle from dev: one pull request on a branch named by its services, updated in place, re-run unchanged', async () => {
    const branch = `slipway/preview/bundle-${createHash('sha256').update('api\nweb').digest('hex').slice(0, 12)}`;
    const bundle = { environment: 'preview', service: 'api,web', from: 'dev' };
    const opened = await promote(bundle);
    expect(opened.errors).toEqual([]);
    const pulls = () => hosted.pulls.filter((p) => p.head === branch);
    expect(pulls()).toHaveLength(1);
    expect(opened.outputs['pull-request']).toContain(`/pull/${pulls()[0]!.number}`);
    expect(pinnedIn(`refs/heads/${branch}`, 'envs/preview/web/kustomization.yaml')).toEqual([
      { name: repository, newTag: 'v1', digest: digests.v1 },
    ]);
    const first = record(opened);
    // policy, one read (the branch is known before the digests are), branch+commit, pull request, labels.
    expect(first.calls).toEqual({ total: 5, read: 2, write: 3, attempts: 1 });
    expect(first.branch).toBe(branch);

    // A newer web in dev: the same branch and pull request, updated in place, under another bundle id.
    const dev = await promote({ environment: 'dev', service: 'web', image: images.v2 });
    expect(dev.errors).toEqual([]);
    const updated = await promote(bundle);
    expect(updated.errors).toEqual([]);
    expect(updated.outputs['pull-request']).toBe(opened.outputs['pull-request']);
    expect(pulls()).toHaveLength(1);
    expect(pinnedIn(`refs/heads/${branch}`, 'envs/preview/web/kustomization.yaml')).toEqual([
      { name: repository, newTag: 'v2', digest: digests.v2 },
    ]);
    const second = record(updated);
    expect(second.calls).toEqual({ total: 4, read: 2, write: 2, attempts: 1 });
    expect(second.bundleId).not.toBe(first.bundleId);
    expect(git('log', '-1', '--format=%B', `refs/heads/${branch}`)).toContain(
      `Slipway-Promotion: preview/bundle-${second.bundleId}`,
    );

    const before = state();
    const rerun = await promote(bundle);
    expect(rerun.errors).toEqual([]);
    expect(rerun.outputs).toMatchObject({ changed: 'false', commit: '' });
    expect(state()).toBe(before);
    expect(record(rerun).calls).toEqual({ total: 2, read: 2, write: 0, attempts: 1 });
    expect(github.schemaErrors).toEqual([]);
  }, 120_000);

  it('prod: after the staging pull request merges, a pull request asking acme/platform for review', async () => {
    const pull = hosted.pulls.find((p) => p.head === 'slipway/staging/api' && p.state === 'open')!;
    await octokit.rest.pulls.merge({
      owner: 'acme',
      repo: 'gitops',
      pull_number: pull.number,
      sha: git('rev-parse', 'refs/heads/slipway/staging/api').trim(),
    });
    await sleepUntil(Date.now() + PROD_SOAK_S * 1000 + 1000);
    const result = await promote({ environment: 'prod', service: 'api', from: 'staging' });
    expect(result.errors).toEqual([]);
    const opened = hosted.pulls.find((p) => p.head === 'slipway/prod/api' && p.state === 'open');
    expect(opened?.teamReviewers).toEqual(['platform']);
    expect(pinnedIn('refs/heads/slipway/prod/api', 'envs/prod/kustomization.yaml')).toEqual([
      { name: repository, newTag: 'v2', digest: digests.v2 },
    ]);
    expect(record(result).services[0]?.lineage.after?.environments[0]).toMatchObject({
      environment: 'staging',
      satisfied: true,
    });
  }, 120_000);

  it('rollback in dev restores the previous digest and holds dev until release-hold', async () => {
    const result = await promote({ environment: 'dev', service: 'api', rollback: 'true' });
    expect(result.errors).toEqual([]);
    expect(result.outputs).toMatchObject({ digest: digests.v1, 'previous-digest': digests.v2 });
    expect(pinnedIn('main', 'envs/dev/kustomization.yaml')).toEqual([
      { name: repository, newTag: 'v1', digest: digests.v1 },
    ]);
    expect(parseYaml(fileAt('main', '.slipway/holds.yaml')).holds.dev).toBeDefined();
    record(result);
    await expectRefused({ environment: 'dev', service: 'api', image: images.v3 }, 'HOLD', /release-hold/);
    const released = await promote({ environment: 'dev', 'release-hold': 'true' });
    expect(released.errors).toEqual([]);
    const again = await promote({ environment: 'dev', service: 'api', image: images.v3 });
    expect(again.errors).toEqual([]);
    expect(pinnedIn('main', 'envs/dev/kustomization.yaml')).toEqual([
      { name: repository, newTag: 'v3', digest: digests.v3 },
    ]);
    expect(github.schemaErrors).toEqual([]);
  }, 240_000);
});
