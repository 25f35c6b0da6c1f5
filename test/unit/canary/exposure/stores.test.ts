import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitopsExposure } from '../../../../shared/canary/exposure/gitops-store.js';
import { exposureEditor } from '../../../../shared/canary/exposure/index.js';
import { memoryExposure } from '../../../../shared/canary/exposure/memory-store.js';
import { silentLogger } from '../../../../shared/core/logger.js';
import { SecretRegistry } from '../../../../shared/core/secrets.js';
import { localRepository } from '../../../../shared/gitops/local-repository.js';
import { commitOnBranch, git, initBare } from '../../../support/local-git.js';

// The two exposure stores: in memory (no gitops-repo, --simulate), and commits in a real bare git repository
// written by promote's local writer with a clock the test sets, so the segments' times are exact.

const t = (seconds: number) => new Date(Date.UTC(2026, 7, 1, 12, 0, seconds));

describe('memoryExposure', () => {
  it('keeps one segment per weight, closed at the next change', async () => {
    let now = t(0);
    const store = memoryExposure(0, t(0), () => now);
    expect(await store.read(t(0), t(0))).toEqual({ weight: 0, segments: [{ weight: 0, start: t(0) }] });
    now = t(10);
    expect(await store.apply(1, 'first step')).toEqual({ changed: true });
    expect(await store.apply(1, 'again')).toEqual({ changed: false });
    now = t(40);
    await store.apply(5, 'second step');
    now = t(50);
    expect(await store.rollback('errors')).toEqual({ commits: [] });
    const state = await store.read(t(20), t(60));
    expect(state.weight).toBe(0);
    expect(state.segments).toEqual([
      { weight: 1, start: t(10), end: t(40) },
      { weight: 5, start: t(40), end: t(50) },
      { weight: 0, start: t(50) },
    ]);
    expect(() => memoryExposure(101, t(0), () => now)).toThrow(/a percent from 0 to 100/);
  });
});

const flags = `{
  "flags": {
    "api": { "state": "ENABLED", "variants": { "on": true, "off": false }, "defaultVariant": "off" }
  }
}
`;

describe('gitopsExposure on a local repository', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function setup() {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-exposure-'));
    dirs.push(dir);
    await initBare(dir);
    await commitOnBranch(dir, 'main', {
      files: { 'flags/api.json': flags, 'README.md': 'gitops\n' },
      message: 'seed',
      date: t(0),
    });
    let now = t(0);
    const repository = localRepository(dir, { logger: silentLogger, now: () => now });
    const store = gitopsExposure({
      repository,
      file: 'flags/api.json',
      editor: exposureEditor('flagd', { flag: 'api' }),
      service: 'api',
      environment: 'prod',
      config: '.slipway.yaml',
      promote: {
        request: { gitopsRepo: dir },
        runtime: { env: {}, logger: silentLogger, secrets: new SecretRegistry(), workspace: dir },
      },
      logger: silentLogger,
    });
    return { dir, store, at: (seconds: number) => (now = t(seconds)) };
  }

  it('commits each step with its trailers and reads the segments back from the history', async () => {
    const { dir, store, at } = await setup();
    expect((await store.read(t(0), t(1))).weight).toBe(0);
    for (const [seconds, weight] of [
      [10, 1],
      [70, 5],
      [130, 25],
      [190, 100],
    ] as const) {
      at(seconds);
      const result = await store.apply(weight, `step to ${weight}%`);
      expect(result.changed).toBe(true);
      const message = (await git(dir, ['log', '-1', '--format=%B', 'main'])).stdout;
      expect(message).toContain(`canary api@prod: exposure ${weight}%`);
      expect(message).toMatch(new RegExp(`Slipway-Canary: api@prod\\nSlipway-Canary-Weight: ${weight}\\n`));
      expect((await git(dir, ['log', '-1', '--format=%H', 'main'])).stdout.trim()).toBe(result.commit);
    }
    // The same weight again writes nothing.
    expect(await store.apply(100, 'again')).toEqual({ changed: false });
    const trailers = (
      await git(dir, ['log', '--format=%(trailers:key=Slipway-Canary-Weight,valueonly)', 'main'])
    ).stdout
      .split('\n')
      .filter(Boolean);
    expect(trailers).toEqual(['100', '25', '5', '1']);

    const state = await store.read(t(60), t(200));
    expect(state.weight).toBe(100);
    expect(state.head).toBe((await git(dir, ['rev-parse', 'main'])).stdout.trim());
    // From the seed (weight 0) on; segments ending before `since` are left out. flagd buckets users, so the
    // request share is not known exactly.
    expect(state.segments).toEqual([
      { weight: 1, start: t(10), end: t(70), shareKnown: false },
      { weight: 5, start: t(70), end: t(130), shareKnown: false },
      { weight: 25, start: t(130), end: t(190), shareKnown: false },
      { weight: 100, start: t(190), shareKnown: false },
    ]);
    expect((await store.read(t(0), t(200))).segments[0]).toEqual({
      weight: 0,
      start: t(0),
      end: t(10),
      shareKnown: false,
    });
  });

  it('names a missing exposure file as the exposure-file input', async () => {
    const { dir } = await setup();
    const store = gitopsExposure({
      repository: localRepository(dir, { logger: silentLogger }),
      file: 'flags/web.json',
      editor: exposureEditor('flagd', { flag: 'web' }),
      service: 'web',
      environment: 'prod',
      config: '.slipway.yaml',
      promote: {
        request: { gitopsRepo: dir },
        runtime: { env: {}, logger: silentLogger, secrets: new SecretRegistry(), workspace: dir },
      },
      logger: silentLogger,
    });
    await expect(store.apply(1, 'x')).rejects.toThrow(
      /^Input 'exposure-file' is "flags\/web\.json": .* has no flags\/web\.json on main; expected the path of the flagd file/,
    );
    expect(execFileSync('git', ['-C', dir, 'rev-list', '--count', 'main'], { encoding: 'utf8' }).trim()).toBe('1');
  });
});
