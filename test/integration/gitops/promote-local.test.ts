import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { RegistryClient } from '../../../shared/oci/registry.js';
import type { PromotionRecordFile } from '../../../shared/records/promotion.js';
import { findProblem } from '../../../shared/records/validate.js';
import { runCli } from '../../support/cli.js';
import { makeImage, pushImage } from '../../support/images.js';
import { expectPromotionRefused } from '../../support/promote-github.js';
import { type PhaseResult, repositoryRoot, runActionYml } from '../../support/runner-harness.js';
import { requireTool, startRegistry, type TestRegistry } from '../../support/services.js';

// promote in local mode, end to end: a real GitOps repository (git, main checked out), images in a real registry
// signed with a key by the built sign action, and the built promote action and the CLI moving one digest
// dev -> staging -> prod. Every refusal (not in the source environment, inside the soak, in a freeze window,
// unsigned, signed by another key, held) must leave every ref of the GitOps repository exactly as it was.

const signYml = join(repositoryRoot, 'actions/sign/action.yml');
const promoteYml = join(repositoryRoot, 'actions/promote/action.yml');
const PROMOTION_SCHEMA = 'https://slipway.dev/schemas/promotion.schema.json';
// Small soaks so the test waits seconds, not minutes; the refusal inside the soak runs right after the dev pin.
const STAGING_SOAK_S = 12;
const PROD_SOAK_S = 3;

let registry: TestRegistry;
let workspace: string;
let gitops: string;
let repository: string;
const images: Record<'v1' | 'v2' | 'unsigned' | 'stranger', string> = { v1: '', v2: '', unsigned: '', stranger: '' };
const digests: Record<keyof typeof images, string> = { v1: '', v2: '', unsigned: '', stranger: '' };
let devPinnedAt = 0;
let webImage = '';
let webDigest = '';

const release = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ type, format: 'pem' }).toString();

const git = (...args: string[]) => execFileSync('git', ['-C', gitops, ...args], { encoding: 'utf8' }).trim();
/** Every ref and what it points at, and the checked-out branch: what a refusal must leave untouched. */
const refs = () => `${git('for-each-ref', '--format=%(refname) %(objectname)')}\nHEAD ${git('symbolic-ref', 'HEAD')}`;
const fileAt = (ref: string, path: string) =>
  execFileSync('git', ['-C', gitops, 'show', `${ref}:${path}`], { encoding: 'utf8' });

function kustomization(env: string): string {
  return `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# The ${env} overlay: Slipway pins the api image below.
resources:
  - ../../base
images:
  - name: ${repository}
    newTag: "0.0.0" # replaced by a digest on first promotion
`;
}

function slipwayYaml(): string {
  return `version: 1
environments:
  - name: dev
    pull-request: false            # direct commit on the default branch
  - name: staging
    after: dev
    soak: ${STAGING_SOAK_S}s
  - name: prod
    after: staging
    soak: ${PROD_SOAK_S}s
    reviewers: [acme/platform]
    freeze:
      - { start: "2026-12-24T00:00:00Z", end: "2027-01-02T00:00:00Z", reason: year-end freeze }
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
  web:
    image: ${registry.host}/acme/web
    targets:
      dev: envs/dev/web/kustomization.yaml
policy:
  signers:
    - key: keys/release.pub        # key-based signatures, for air-gapped users and the local demo
  require: [https://slsa.dev/provenance/v1]
`;
}

beforeAll(async () => {
  requireTool('git', 'git');
  registry = await startRegistry();
  repository = `${registry.host}/acme/api`;
  workspace = mkdtempSync(join(tmpdir(), 'slipway-promote-local-'));
  const repo = new RegistryClient().repository(registry.host, 'acme/api');
  for (const name of Object.keys(images) as (keyof typeof images)[]) {
    const built = makeImage({ label: `promote-${name}` });
    await pushImage(repo, built, [name]);
    digests[name] = built.top.descriptor.digest;
    // With its tag, as a build's output names it: the tag is written next to the digest, for people.
    images[name] = `${repository}:${name}@${built.top.descriptor.digest}`;
  }
  const signWith = async (image: string, key: KeyObject) => {
    const { main } = await runActionYml(signYml, {
      workspace,
      env: { GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/heads/main', GITHUB_REPOSITORY_ID: '1' },
      inputs: { image, key: pem(key, 'pkcs8'), storage: 'referrer' },
    });
    expect(main.errors).toEqual([]);
  };
  await signWith(images.v1, release.privateKey);
  await signWith(images.v2, release.privateKey);
  await signWith(images.stranger, stranger.privateKey);
  const web = makeImage({ label: 'promote-web' });
  await pushImage(new RegistryClient().repository(registry.host, 'acme/web'), web, ['w1']);
  webImage = `${registry.host}/acme/web:w1@${web.top.descriptor.digest}`;
  webDigest = web.top.descriptor.digest;
  await signWith(webImage, release.privateKey);

  gitops = join(workspace, 'gitops');
  const files: Record<string, string> = {
    '.slipway.yaml': slipwayYaml(),
    'keys/release.pub': pem(release.publicKey, 'spki'),
    'base/kustomization.yaml': 'resources: []\n',
  };
  for (const env of ['dev', 'staging', 'prod', 'qa']) files[`envs/${env}/kustomization.yaml`] = kustomization(env);
  files['envs/dev/web/kustomization.yaml'] = `images:\n  - name: ${registry.host}/acme/web\n    newTag: "0.0.0"\n`;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(gitops, path)), { recursive: true });
    writeFileSync(join(gitops, path), text);
  }
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=Platform', '-c', 'user.email=platform@example.com', 'commit', '-qm', 'GitOps repository');
}, 180_000);

afterAll(async () => {
  await registry?.stop();
});

const promote = (inputs: Record<string, string>) =>
  runActionYml(promoteYml, { workspace, inputs: { 'gitops-repo': './gitops', ...inputs }, timeoutMs: 120_000 });

const cli = (...args: string[]) => {
  const result = runCli(['promote', '--gitops-repo', './gitops', ...args], workspace, { timeoutMs: 120_000 });
  const json = result.stdout.slice(result.stdout.indexOf('{'));
  return { ...result, outputs: (result.stdout.includes('{') ? JSON.parse(json) : {}) as Record<string, string> };
};

function record(outputs: Record<string, string>): PromotionRecordFile {
  const value = JSON.parse(readFileSync(outputs.record!, 'utf8'));
  expect(findProblem(PROMOTION_SCHEMA, value)).toBeUndefined();
  return value;
}

/** A run that must be refused with `code`, saying `says`, writing nothing: no ref of the repository moves. */
const expectRefused = (run: () => Promise<PhaseResult>, code: string, says: RegExp) =>
  expectPromotionRefused(run, refs, code, says);

const sleepUntil = async (ms: number) => {
  const wait = ms - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
};

describe('promote into a local GitOps repository', () => {
  it('dev (pull-request: false): the built action commits the digest on main', async () => {
    const before = git('rev-parse', 'main');
    const { main } = await promote({ environment: 'dev', service: 'api', image: images.v1 });
    expect(main.errors).toEqual([]);
    expect(main.exitCode).toBe(0);
    devPinnedAt = Date.now();
    const head = git('rev-parse', 'main');
    expect(head).not.toBe(before);
    expect(git('rev-parse', 'HEAD~1')).toBe(before);
    expect(main.outputs).toMatchObject({
      changed: 'true',
      commit: head,
      'pull-request': '',
      digest: digests.v1,
      'previous-digest': '',
    });
    const pinned = fileAt('main', 'envs/dev/kustomization.yaml');
    expect(parseYaml(pinned).images).toEqual([{ name: repository, newTag: 'v1', digest: digests.v1 }]);
    // Only the pin changed: the comment on the overlay is kept.
    expect(pinned).toContain('# The dev overlay: Slipway pins the api image below.');
    // main is checked out: the work tree follows the commit.
    expect(readFileSync(join(gitops, 'envs/dev/kustomization.yaml'), 'utf8')).toBe(pinned);
    expect(git('log', '-1', '--format=%B', 'main')).toContain(`Slipway-Digest: api=${digests.v1}`);
    const written = record(main.outputs);
    expect(written).toMatchObject({
      _type: 'https://slipway.dev/records/promotion',
      version: 1,
      outcome: 'promoted',
      environment: 'dev',
      gitops: { kind: 'local', config: '.slipway.yaml', defaultBranch: 'main' },
      direct: true,
      changed: true,
      commit: head,
      run: { url: 'https://github.com/acme/app/actions/runs/1', sourceRepository: 'acme/app' },
    });
    expect(written.services).toEqual([
      expect.objectContaining({
        service: 'api',
        image: repository,
        next: { digest: digests.v1, tag: 'v1' },
        verification: expect.objectContaining({ verdict: 'verified', signer: 'key keys/release.pub' }),
      }),
    ]);
    expect(written.calls.total).toBeGreaterThan(0);
    expect(main.summary).toContain(`Promoted into dev: commit ${head}`);
    expect(main.summary).toMatch(/Repository operations: \d+/);
  }, 120_000);

  it('staging right after: refused inside the soak, naming it, nothing written', async () => {
    const written = await expectRefused(
      async () => (await promote({ environment: 'staging', service: 'api', from: 'dev' })).main,
      'SOAK_NOT_MET',
      /soak/,
    );
    expect(Date.now() - devPinnedAt).toBeLessThan(STAGING_SOAK_S * 1000);
    expect(written.environment).toBe('staging');
  }, 120_000);

  it('re-running the dev promotion changes nothing: changed=false, no commit', async () => {
    const before = refs();
    const { main } = await promote({ environment: 'dev', service: 'api', image: images.v1 });
    expect(main.errors).toEqual([]);
    expect(main.outputs).toMatchObject({ changed: 'false', commit: '', 'pull-request': '', digest: digests.v1 });
    expect(refs()).toBe(before);
    expect(record(main.outputs).outcome).toBe('unchanged');
  }, 120_000);

  it('refuses a digest that is not in the source environment', async () => {
    await expectRefused(
      async () => (await promote({ environment: 'staging', service: 'api', image: images.v2 })).main,
      'NOT_IN_SOURCE_ENVIRONMENT',
      new RegExp(digests.v2.slice('sha256:'.length, 20)),
    );
  }, 120_000);

  it('refuses a freeze window, with its reason', async () => {
    await expectRefused(
      async () => (await promote({ environment: 'qa', service: 'api', image: images.v1 })).main,
      'FREEZE_WINDOW',
      /qa lab rebuild/,
    );
  }, 120_000);

  it('refuses an unsigned digest', async () => {
    const written = await expectRefused(
      async () => (await promote({ environment: 'dev', service: 'api', image: images.unsigned })).main,
      'VERIFICATION_FAILED',
      /not signed with https:\/\/slsa\.dev\/provenance\/v1 by any signer policy\.signers allows \(key keys\/release\.pub: /,
    );
    expect(written.services[0]?.verification).toMatchObject({ verdict: 'failed', rule: 'policy.signers' });
  }, 120_000);

  it('refuses a digest signed by another key', async () => {
    const written = await expectRefused(
      async () => (await promote({ environment: 'dev', service: 'api', image: images.stranger })).main,
      'VERIFICATION_FAILED',
      /KEY_MISMATCH/,
    );
    expect(written.services[0]?.verification.codes).toContain('KEY_MISMATCH');
  }, 120_000);

  it('staging through the CLI, from dev after the soak: a commit on slipway/staging/api, main untouched', async () => {
    await sleepUntil(devPinnedAt + STAGING_SOAK_S * 1000 + 1000);
    const main = git('rev-parse', 'main');
    const result = cli('--environment', 'staging', '--service', 'api', '--from', 'dev');
    expect(result.stderr).not.toContain('a bug in Slipway');
    expect(result.code).toBe(0);
    const branch = git('rev-parse', 'refs/heads/slipway/staging/api');
    expect(result.outputs).toMatchObject({ changed: 'true', commit: branch, 'pull-request': '', digest: digests.v1 });
    expect(git('rev-parse', 'main')).toBe(main);
    expect(git('rev-parse', `${branch}~1`)).toBe(main);
    expect(parseYaml(fileAt(branch, 'envs/staging/kustomization.yaml')).images).toEqual([
      { name: repository, newTag: 'v1', digest: digests.v1 },
    ]);
    const written = record(result.outputs);
    expect(written.services[0]?.lineage).toMatchObject({
      mode: 'from',
      after: { mode: 'all-of', environments: [{ environment: 'dev', digest: digests.v1, satisfied: true }] },
    });
    // The reviewer merges the promotion branch.
    git('merge', '-q', '--ff-only', 'slipway/staging/api');
  }, 120_000);

  it('prod: a dry run plans and verifies but writes nothing; then the built action writes the branch', async () => {
    await sleepUntil(Date.now() + PROD_SOAK_S * 1000 + 1000);
    const before = refs();
    const dry = (await promote({ environment: 'prod', service: 'api', from: 'staging', 'dry-run': 'true' })).main;
    expect(dry.errors).toEqual([]);
    expect(dry.outputs).toMatchObject({ changed: 'true', commit: '', 'pull-request': '', digest: digests.v1 });
    expect(refs()).toBe(before);
    expect(record(dry.outputs)).toMatchObject({ outcome: 'dry-run', dryRun: true });
    expect(dry.summary).toContain('Dry run');

    const { main } = await promote({ environment: 'prod', service: 'api', from: 'staging' });
    expect(main.errors).toEqual([]);
    const branch = git('rev-parse', 'refs/heads/slipway/prod/api');
    expect(main.outputs).toMatchObject({ changed: 'true', commit: branch });
    expect(parseYaml(fileAt(branch, 'envs/prod/kustomization.yaml')).images).toEqual([
      { name: repository, newTag: 'v1', digest: digests.v1 },
    ]);
    expect(record(main.outputs).services[0]?.lineage.after?.environments[0]).toMatchObject({
      environment: 'staging',
      satisfied: true,
      soakMs: PROD_SOAK_S * 1000,
    });
  }, 120_000);

  it('rollback restores the previous digest and sets a hold that refuses the next promotion until released', async () => {
    const moved = cli('--environment', 'dev', '--service', 'api', '--image', images.v2);
    expect(moved.code).toBe(0);
    expect(moved.outputs).toMatchObject({ changed: 'true', digest: digests.v2, 'previous-digest': digests.v1 });

    const { main } = await promote({ environment: 'dev', service: 'api', rollback: 'true' });
    expect(main.errors).toEqual([]);
    const head = git('rev-parse', 'main');
    expect(main.outputs).toMatchObject({
      changed: 'true',
      commit: head,
      digest: digests.v1,
      'previous-digest': digests.v2,
    });
    expect(parseYaml(fileAt('main', 'envs/dev/kustomization.yaml')).images).toEqual([
      { name: repository, newTag: 'v1', digest: digests.v1 },
    ]);
    expect(parseYaml(fileAt('main', '.slipway/holds.yaml')).holds.dev).toBeDefined();
    expect(git('log', '-1', '--format=%B', 'main')).toContain('Slipway-Rollback: true');
    expect(record(main.outputs)).toMatchObject({ rollback: true, hold: { set: true } });

    await expectRefused(
      async () => (await promote({ environment: 'dev', service: 'api', image: images.v2 })).main,
      'HOLD',
      /release-hold/,
    );

    const released = cli('--environment', 'dev', '--release-hold');
    expect(released.stderr).not.toContain('a bug in Slipway');
    expect(released.code).toBe(0);
    expect(parseYaml(fileAt('main', '.slipway/holds.yaml'))?.holds?.dev).toBeUndefined();

    const again = cli('--environment', 'dev', '--service', 'api', '--image', images.v2);
    expect(again.code).toBe(0);
    expect(parseYaml(fileAt('main', 'envs/dev/kustomization.yaml')).images).toEqual([
      { name: repository, newTag: 'v2', digest: digests.v2 },
    ]);
  }, 240_000);

  it('two promotions into dev at once, as separate processes, both land: the loser re-reads and retries', async () => {
    const before = git('rev-parse', 'main');
    const [api, web] = await Promise.all([
      promote({ environment: 'dev', service: 'api', image: images.v1 }),
      promote({ environment: 'dev', service: 'web', image: webImage }),
    ]);
    expect(api.main.errors).toEqual([]);
    expect(web.main.errors).toEqual([]);
    // Two commits on top of main, one after the other, each keeping the other's pin.
    expect(git('rev-list', '--count', `${before}..main`)).toBe('2');
    expect(parseYaml(fileAt('main', 'envs/dev/kustomization.yaml')).images).toEqual([
      { name: repository, newTag: 'v1', digest: digests.v1 },
    ]);
    expect(parseYaml(fileAt('main', 'envs/dev/web/kustomization.yaml')).images).toEqual([
      { name: `${registry.host}/acme/web`, newTag: 'w1', digest: webDigest },
    ]);
    const commits = [api.main.outputs.commit, web.main.outputs.commit];
    expect(commits).toContain(git('rev-parse', 'main'));
    expect(commits).toContain(git('rev-parse', 'main~1'));
  }, 120_000);

  it('names a missing policy file, as a configuration error', async () => {
    const before = refs();
    const { main } = await promote({
      environment: 'dev',
      service: 'api',
      image: images.v1,
      config: 'policy/slipway.yaml',
    });
    expect(main.exitCode).toBe(1);
    expect(main.errors).toEqual([
      expect.stringMatching(
        /^Input 'config' is "policy\/slipway\.yaml": .* has no policy\/slipway\.yaml on its default branch \(main\)/,
      ),
    ]);
    expect(refs()).toBe(before);
  }, 120_000);
});
