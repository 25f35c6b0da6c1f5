import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { gitopsExposure } from '../../../shared/canary/exposure/gitops-store.js';
import { exposureEditor } from '../../../shared/canary/exposure/index.js';
import { promotionLandedAt } from '../../../shared/canary/started-at.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { SecretRegistry } from '../../../shared/core/secrets.js';
import { localRepository } from '../../../shared/gitops/local-repository.js';
import { runPromote } from '../../../shared/gitops/run-promote.js';
import type { Digest } from '../../../shared/oci/types.js';
import { committedRepository, prodGitopsFiles, releaseKey, signedImages } from '../../support/release-fixtures.js';
import { requireTool, startRegistry, type TestRegistry } from '../../support/services.js';

// The GitOps exposure store end to end on a real local git repository: a flagd flag stepped 0 -> 1 -> 5 -> 25 ->
// 100 as direct commits with trailers, the segments read back from the history with the commits' times, and a
// rollback that is two commits in order: the flag off first, then promote's rollback pinning the previous digest
// (signed with a key by the built sign action, verified by promote before it is pinned again).

let registry: TestRegistry;
let workspace: string;
let gitops: string;
let repository: string;
const digests: Record<'v1' | 'v2', string> = { v1: '', v2: '' };
const release = releaseKey();
const git = (...args: string[]) => execFileSync('git', ['-C', gitops, ...args], { encoding: 'utf8' }).trim();
const FLAG_FILE = 'envs/prod/flags.json';

const flags = `{
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "flags": {
    "api": {
      "state": "ENABLED",
      "variants": { "on": true, "off": false },
      "defaultVariant": "off"
    }
  },
  "$evaluators": {
    "internalUsers": { "ends_with": [{ "var": "email" }, "@acme.com"] }
  }
}
`;

beforeAll(async () => {
  requireTool('git', 'git');
  registry = await startRegistry();
  repository = `${registry.host}/acme/api`;
  workspace = mkdtempSync(join(tmpdir(), 'slipway-exposure-'));
  Object.assign(
    digests,
    await signedImages({
      registryHost: registry.host,
      repositoryPath: 'acme/api',
      names: ['v1', 'v2'] as const,
      key: () => release,
      workspace,
      label: 'exposure',
    }),
  );
  gitops = join(workspace, 'gitops');
  committedRepository(
    gitops,
    prodGitopsFiles({
      image: repository,
      publicPem: release.publicPem,
      pinned: { tag: 'v1', digest: digests.v1 },
      extra: { [FLAG_FILE]: flags },
    }),
  );
}, 180_000);

afterAll(async () => {
  await registry?.stop();
});

function store() {
  return gitopsExposure({
    repository: localRepository(gitops, { logger: silentLogger }),
    file: FLAG_FILE,
    editor: exposureEditor('flagd', { flag: 'api' }),
    service: 'api',
    environment: 'prod',
    config: '.slipway.yaml',
    promote: {
      request: { gitopsRepo: gitops },
      runtime: { env: {}, logger: silentLogger, secrets: new SecretRegistry(), workspace },
    },
    logger: silentLogger,
  });
}

const promoteV2 = () =>
  runPromote(
    {
      gitopsRepo: gitops,
      config: '.slipway.yaml',
      environment: 'prod',
      services: ['api'],
      images: [{ name: repository, digest: digests.v2 as Digest, tag: 'v2' }],
      rollback: false,
      hold: false,
      releaseHold: false,
      dryRun: false,
    },
    { env: {}, logger: silentLogger, secrets: new SecretRegistry(), workspace },
  );

const waitForNextSecond = () => new Promise((done) => setTimeout(done, 1000 - (Date.now() % 1000) + 20));

describe('gitops exposure on a local repository', () => {
  it('steps 0 -> 1 -> 5 -> 25 -> 100 as commits with trailers, read back as segments with the commit times', async () => {
    const deployed = await promoteV2();
    expect(deployed.outcome).toBe('promoted');
    // The canary starts when the digest reached main: the record's own commit where main has it, else (a pull
    // request merged as another commit) where the unbroken run of commits pinning the digest began.
    const repo = localRepository(gitops, { logger: silentLogger });
    const files = ['envs/prod/kustomization.yaml'];
    const landed = await promotionLandedAt(repo, { commit: deployed.commit!, digest: digests.v2, files });
    expect(landed).toEqual({
      commit: deployed.commit,
      at: new Date(git('log', '-1', '--format=%cI', deployed.commit!)),
    });
    expect(await promotionLandedAt(repo, { commit: 'f'.repeat(40), digest: digests.v2, files })).toEqual(landed);
    expect(await promotionLandedAt(repo, { digest: `sha256:${'0'.repeat(64)}`, files })).toBeUndefined();
    const exposure = store();
    const since = new Date(Math.floor(Date.now() / 1000) * 1000);
    expect((await exposure.read(since, new Date())).weight).toBe(0);
    const commits: string[] = [];
    for (const weight of [1, 5, 25, 100]) {
      // Commit times are in whole seconds: one step per second keeps every segment non-empty.
      await waitForNextSecond();
      const { commit, changed } = await exposure.apply(weight, `evaluation said advance to ${weight}%`);
      expect(changed).toBe(true);
      commits.push(commit!);
    }
    expect(git('rev-parse', 'main')).toBe(commits.at(-1));
    const log = git(
      'log',
      '--format=%H %(trailers:key=Slipway-Canary,valueonly,separator=)|%(trailers:key=Slipway-Canary-Weight,valueonly,separator=)',
      '-5',
      'main',
    );
    expect(log.split('\n')).toEqual([
      `${commits[3]} api@prod|100`,
      `${commits[2]} api@prod|25`,
      `${commits[1]} api@prod|5`,
      `${commits[0]} api@prod|1`,
      `${deployed.commit} |`,
    ]);
    const at100 = JSON.parse(git('show', `main:${FLAG_FILE}`)).flags.api;
    expect(at100).toMatchObject({ state: 'ENABLED', defaultVariant: 'on' });
    expect(at100.targeting).toBeUndefined();
    expect(JSON.parse(git('show', `${commits[1]}:${FLAG_FILE}`)).flags.api.targeting).toEqual({
      if: [
        { $ref: 'internalUsers' },
        'on',
        {
          fractional: [
            ['on', 5],
            ['off', 95],
          ],
        },
      ],
    });

    const state = await exposure.read(since, new Date(Date.now() + 1000));
    const times = commits.map((commit) => new Date(Number(git('log', '-1', '--format=%ct', commit)) * 1000));
    expect(state.weight).toBe(100);
    expect(state.segments.map((s) => ({ weight: s.weight, start: s.start, end: s.end }))).toEqual([
      expect.objectContaining({ weight: 0, end: times[0] }),
      { weight: 1, start: times[0], end: times[1] },
      { weight: 5, start: times[1], end: times[2] },
      { weight: 25, start: times[2], end: times[3] },
      { weight: 100, start: times[3], end: undefined },
    ]);
  }, 120_000);

  it('rollback: the flag off first, then the previous digest pinned again, two commits in that order', async () => {
    const exposure = store();
    const before = git('rev-parse', 'main');
    expect((await exposure.read(new Date(0), new Date())).weight).toBe(100);
    const { commits, promotion } = await exposure.rollback('canary error ratio 2.1x the baseline');
    expect(promotion?.outcome).toBe('promoted');
    // The digest pinned again is verified against the policy's key before it is written.
    expect(promotion?.services[0]?.verification.verdict).toBe('verified');
    expect(commits).toHaveLength(2);
    expect(git('rev-list', '--reverse', `${before}..main`).split('\n')).toEqual(commits);
    const [off, repin] = commits as [string, string];
    // First: exposure 0, the flag off for everyone; the digest is still v2.
    expect(git('log', '-1', '--format=%B', off)).toMatch(
      /^canary api@prod: exposure off\n\nrollback: canary error ratio/,
    );
    expect(git('log', '-1', '--format=%(trailers:key=Slipway-Canary-Weight,valueonly)', off)).toBe('0');
    expect(JSON.parse(git('show', `${off}:${FLAG_FILE}`)).flags.api).toMatchObject({ defaultVariant: 'off' });
    expect(JSON.parse(git('show', `${off}:${FLAG_FILE}`)).flags.api.targeting).toBeUndefined();
    expect(parseYaml(git('show', `${off}:envs/prod/kustomization.yaml`)).images[0].digest).toBe(digests.v2);
    // Then: promote's rollback pins v1 again, leaving the flag off.
    expect(git('log', '-1', '--format=%B', repin)).toContain('Slipway-Rollback: true');
    expect(parseYaml(git('show', `${repin}:envs/prod/kustomization.yaml`)).images[0]).toMatchObject({
      digest: digests.v1,
    });
    expect(git('diff', '--name-only', off, repin).split('\n')).not.toContain(FLAG_FILE);
    expect((await exposure.read(new Date(0), new Date())).weight).toBe(0);
  }, 120_000);
});
