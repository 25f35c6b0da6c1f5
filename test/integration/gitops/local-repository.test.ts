import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript, run by node directly.
import { build } from '../../../scripts/build.mjs';
import { silentLogger } from '../../../shared/core/logger.js';
import { parseSlipwayConfig } from '../../../shared/gitops/config.js';
import { ConcurrentUpdateError, PolicyRefusal } from '../../../shared/gitops/errors.js';
import { localRepository } from '../../../shared/gitops/local-repository.js';
import { type PromotionRequest, planPromotion, readRequestFor } from '../../../shared/gitops/planner.js';
import type { ReadRequest } from '../../../shared/gitops/types.js';
import type { Digest } from '../../../shared/oci/types.js';
import { commitOnBranch, git, initBare, readAt, revParse } from '../../support/local-git.js';

// The local writer against real git repositories in temp dirs: what it reads (default branch, texts, history with
// committer times and messages, the promotion branch), the commits it writes with plumbing, compare-and-swap on
// every ref move, and a checked-out work tree that follows a direct commit or refuses when dirty.

const DEV = 'envs/dev/kustomization.yaml';
const kustomization = (digest: string) =>
  `# dev overlay\nresources: [../../base]\nimages:\n  - name: ghcr.io/acme/api\n    digest: ${digest} # pinned by slipway\n`;
const D1: Digest = `sha256:${'1'.repeat(64)}`;
const D2: Digest = `sha256:${'2'.repeat(64)}`;
const D3: Digest = `sha256:${'3'.repeat(64)}`;

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** What a promise rejects with; fails the test when it resolves. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure, it succeeded');
    },
    (error: unknown) => error,
  );
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A bare repository whose main has three commits touching the dev file (D1, then an unrelated one, then D2). */
async function seededBare(): Promise<{ dir: string; commits: string[] }> {
  const dir = await tempDir('slipway-local-bare-');
  await initBare(dir);
  const c1 = await commitOnBranch(dir, 'main', {
    files: { [DEV]: kustomization(D1), '.slipway.yaml': 'version: 1\n' },
    message: 'promote api to dev: sha256:1111\n\nSlipway-Promotion: dev/api\nSlipway-Digest: api=' + D1 + '\n',
    date: new Date('2026-01-01T00:00:00Z'),
  });
  const c2 = await commitOnBranch(dir, 'main', {
    files: { 'README.md': 'hello\n' },
    message: 'docs',
    date: new Date('2026-01-02T00:00:00Z'),
  });
  const c3 = await commitOnBranch(dir, 'main', {
    files: { [DEV]: kustomization(D2) },
    message: 'promote api to dev: sha256:2222\n\nSlipway-Promotion: dev/api\nSlipway-Digest: api=' + D2 + '\n',
    date: new Date('2026-01-03T00:00:00Z'),
  });
  return { dir, commits: [c1, c2, c3] };
}

const request = (branch = 'slipway/staging/api'): ReadRequest => ({
  paths: [DEV, 'absent.yaml'],
  historyPaths: [DEV],
  historyDepth: 50,
  branch,
});

const NOW = new Date('2026-02-01T12:00:00Z');

describe('reading', () => {
  it('reads the default branch, texts at head, history with times and messages, and the promotion branch', async () => {
    const { dir, commits } = await seededBare();
    const repo = localRepository(dir, { logger: silentLogger });
    expect(repo.describe()).toBe(dir);
    const policy = await repo.readFile('.slipway.yaml');
    expect(policy).toEqual({ text: 'version: 1\n', head: commits[2], defaultBranch: 'main' });
    expect((await repo.readFile('nope.yaml')).text).toBeUndefined();

    const snapshot = await repo.read(request());
    expect(snapshot.defaultBranch).toBe('main');
    expect(snapshot.head).toBe(commits[2]);
    expect(snapshot.files.get(DEV)).toBe(kustomization(D2));
    expect(snapshot.files.has('absent.yaml')).toBe(true);
    expect(snapshot.files.get('absent.yaml')).toBeUndefined();
    const history = snapshot.history.get(DEV) ?? [];
    // Newest first, only the commits that touched the file, with the committer time and the trailers.
    expect(history.map((entry) => entry.commit)).toEqual([commits[2], commits[0]]);
    expect(history.map((entry) => entry.time.toISOString())).toEqual([
      '2026-01-03T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
    ]);
    expect(history.map((entry) => entry.text)).toEqual([kustomization(D2), kustomization(D1)]);
    expect(history[0]?.message).toContain(`Slipway-Digest: api=${D2}`);
    expect(snapshot.branch).toBeUndefined();

    const limited = await repo.read({ ...request(), historyDepth: 1 });
    expect(limited.history.get(DEV)?.map((entry) => entry.commit)).toEqual([commits[2]]);
  });

  it('sees a merged promotion branch through its merge commit, with the merged tip trailers', async () => {
    const { dir, commits } = await seededBare();
    const tip = await commitOnBranch(dir, 'slipway/dev/api', {
      files: { [DEV]: kustomization(D3) },
      message: `promote api to dev: sha256:3333\n\nSlipway-Promotion: dev/api\nSlipway-Digest: api=${D3}\n`,
      date: new Date('2026-01-04T00:00:00Z'),
    });
    // The branch was cut from an older main; a person merges it later (merge time is when it reached dev).
    await git(dir, ['update-ref', 'refs/heads/slipway/dev/api', tip]);
    const mergeTree = (await git(dir, ['rev-parse', `${tip}^{tree}`])).stdout.trim();
    const when = `${Math.floor(new Date('2026-01-05T00:00:00Z').getTime() / 1000)} +0000`;
    const merge = (
      await git(
        dir,
        ['commit-tree', mergeTree, '-p', commits[2] ?? '', '-p', tip, '-m', "Merge branch 'slipway/dev/api'"],
        {
          env: {
            GIT_AUTHOR_NAME: 'M',
            GIT_AUTHOR_EMAIL: 'm@example.com',
            GIT_COMMITTER_NAME: 'M',
            GIT_COMMITTER_EMAIL: 'm@example.com',
            GIT_AUTHOR_DATE: when,
            GIT_COMMITTER_DATE: when,
          },
        },
      )
    ).stdout.trim();
    await git(dir, ['update-ref', 'refs/heads/main', merge, commits[2] ?? '']);
    const snapshot = await localRepository(dir, { logger: silentLogger }).read(request('slipway/dev/api'));
    const [newest] = snapshot.history.get(DEV) ?? [];
    expect(newest?.commit).toBe(merge);
    expect(newest?.time.toISOString()).toBe('2026-01-05T00:00:00.000Z');
    expect(newest?.message).toMatch(/^Merge branch 'slipway\/dev\/api'\n\npromote api to dev/);
    expect(newest?.message).toContain(`Slipway-Digest: api=${D3}`);
    expect(snapshot.branch).toMatchObject({ name: 'slipway/dev/api', head: tip });
    expect(snapshot.branch?.files?.get(DEV)).toBe(kustomization(D3));
  });

  it('keeps bytes: CRLF, a BOM and non-ASCII text come back as written', async () => {
    const dir = await tempDir('slipway-local-bytes-');
    await initBare(dir);
    const text = '\uFEFFimages:\r\n  - name: ghcr.io/acme/api # café ✓ 𝄞\r\n';
    await commitOnBranch(dir, 'main', { files: { 'a.yaml': text, 'b.yaml': 'b\n' }, message: 'seed' });
    const snapshot = await localRepository(dir, { logger: silentLogger }).read({
      paths: ['a.yaml', 'b.yaml'],
      historyPaths: ['a.yaml'],
      historyDepth: 5,
      branch: 'slipway/dev/api',
    });
    expect(snapshot.files.get('a.yaml')).toBe(text);
    expect(snapshot.files.get('b.yaml')).toBe('b\n');
    expect(snapshot.history.get('a.yaml')?.[0]?.text).toBe(text);
  });

  it('names the path when it is not a repository, and does not fall back to an enclosing one', async () => {
    const outer = await tempDir('slipway-local-outer-');
    await git(outer, ['init', '--quiet', '--initial-branch=main']);
    const inner = join(outer, 'gitops');
    await mkdir(inner);
    const error = await failure(localRepository(inner, { logger: silentLogger }).readFile('.slipway.yaml'));
    expect(String(error)).toContain(`${inner} is not a git repository`);
    const missing = await failure(localRepository(join(outer, 'nope'), { logger: silentLogger }).readFile('x'));
    expect(String(missing)).toContain('does not exist');
  });

  it('refuses an empty repository with a message that says what to commit', async () => {
    const dir = await tempDir('slipway-local-empty-');
    await initBare(dir);
    const error = await failure(localRepository(dir, { logger: silentLogger }).readFile('.slipway.yaml'));
    expect(String(error)).toContain('has no commits on its default branch main');
  });
});

describe('writing', () => {
  let dir: string;
  let commits: string[];
  beforeEach(async () => {
    ({ dir, commits } = await seededBare());
  });

  it('commits directly on the default branch with the message, identity and time given', async () => {
    const repo = localRepository(dir, { logger: silentLogger, now: () => NOW });
    const snapshot = await repo.read(request());
    const message = `promote api to dev: sha256:3333\n\nbody\n\nSlipway-Promotion: dev/api\nSlipway-Digest: api=${D3}`;
    const result = await repo.write({
      snapshot,
      branch: 'slipway/dev/api',
      direct: true,
      changes: [{ path: DEV, text: kustomization(D3) }],
      message,
    });
    expect(result.calls).toBe(1);
    expect(result.pullRequest).toBeUndefined();
    expect(await revParse(dir, 'refs/heads/main')).toBe(result.commit);
    expect(await readAt(dir, 'main', DEV)).toBe(kustomization(D3));
    expect(await readAt(dir, 'main', 'README.md')).toBe('hello\n');
    const shown = (await git(dir, ['log', '-1', '--format=%P|%an <%ae>|%cn|%ct|%B', 'main'])).stdout;
    expect(shown).toBe(`${commits[2]}|Slipway <slipway@localhost>|Slipway|${NOW.getTime() / 1000}|${message}\n\n`);
    // No promotion branch appears for a direct commit.
    expect(await revParse(dir, 'refs/heads/slipway/dev/api')).toBeUndefined();
  });

  it('creates the promotion branch from the head, then updates it in place with compare-and-swap', async () => {
    const repo = localRepository(dir, { logger: silentLogger, now: () => NOW });
    const first = await repo.read(request());
    const created = await repo.write({
      snapshot: first,
      branch: 'slipway/staging/api',
      direct: false,
      changes: [{ path: DEV, text: kustomization(D3) }],
      message: 'promote api to staging: sha256:3333',
    });
    expect(created.calls).toBe(1);
    expect(created.pullRequest).toBeUndefined();
    expect(await revParse(dir, 'refs/heads/slipway/staging/api')).toBe(created.commit);
    expect(await revParse(dir, 'refs/heads/main')).toBe(commits[2]);
    expect((await git(dir, ['rev-parse', `${created.commit}^`])).stdout.trim()).toBe(commits[2]);

    // A stale snapshot (no branch yet) cannot create it a second time.
    const again = await failure(
      repo.write({
        snapshot: first,
        branch: 'slipway/staging/api',
        direct: false,
        changes: [{ path: DEV, text: 'x\n' }],
        message: 'm',
      }),
    );
    expect(again).toBeInstanceOf(ConcurrentUpdateError);
    expect(await revParse(dir, 'refs/heads/slipway/staging/api')).toBe(created.commit);

    const second = await repo.read(request());
    expect(second.branch).toMatchObject({ name: 'slipway/staging/api', head: created.commit });
    const updated = await repo.write({
      snapshot: second,
      branch: 'slipway/staging/api',
      direct: false,
      changes: [{ path: DEV, text: kustomization(D1) }],
      message: 'promote api to staging: sha256:1111',
    });
    // In place: the branch moves to a new commit on top of the default branch's head, not on top of its old tip.
    expect(await revParse(dir, 'refs/heads/slipway/staging/api')).toBe(updated.commit);
    expect((await git(dir, ['rev-parse', `${updated.commit}^`])).stdout.trim()).toBe(commits[2]);
    expect(await readAt(dir, 'slipway/staging/api', DEV)).toBe(kustomization(D1));

    // The old snapshot's branch head is stale now.
    const stale = await failure(
      repo.write({
        snapshot: second,
        branch: 'slipway/staging/api',
        direct: false,
        changes: [{ path: DEV, text: 'y\n' }],
        message: 'm',
      }),
    );
    expect(stale).toBeInstanceOf(ConcurrentUpdateError);
    expect(await readAt(dir, 'slipway/staging/api', DEV)).toBe(kustomization(D1));
  });

  it('throws ConcurrentUpdateError when the default branch moved since the read, and moves nothing', async () => {
    const repo = localRepository(dir, { logger: silentLogger });
    const snapshot = await repo.read(request());
    const other = await commitOnBranch(dir, 'main', { files: { 'other.txt': 'x\n' }, message: 'someone else' });
    const error = await failure(
      repo.write({
        snapshot,
        branch: 'slipway/dev/api',
        direct: true,
        changes: [{ path: DEV, text: 'z\n' }],
        message: 'm',
      }),
    );
    expect(error).toBeInstanceOf(ConcurrentUpdateError);
    expect((error as ConcurrentUpdateError).ref).toBe('refs/heads/main');
    expect(String(error)).toContain(`found ${other}`);
    expect(await revParse(dir, 'refs/heads/main')).toBe(other);
  });

  it('refuses a branch name git would not accept, before writing', async () => {
    const repo = localRepository(dir, { logger: silentLogger });
    const snapshot = await repo.read(request());
    const error = await failure(
      repo.write({
        snapshot,
        branch: 'slipway/dev/a..b',
        direct: false,
        changes: [{ path: DEV, text: 'z\n' }],
        message: 'm',
      }),
    );
    expect(String(error)).toContain('is not a valid git branch name');
  });
});

describe('a checked-out work tree', () => {
  async function workTree(): Promise<string> {
    const dir = await tempDir('slipway-local-worktree-');
    await git(dir, ['init', '--quiet', '--initial-branch=main']);
    await commitOnBranch(dir, 'main', {
      files: { [DEV]: kustomization(D1), 'notes.txt': 'notes\n' },
      message: 'seed',
    });
    await git(dir, ['reset', '--quiet', '--hard', 'main']);
    return dir;
  }

  it('follows a direct commit, keeping unrelated local changes', async () => {
    const dir = await workTree();
    await writeFile(join(dir, 'notes.txt'), 'my local edit\n');
    const repo = localRepository(dir, { logger: silentLogger });
    const snapshot = await repo.read(request());
    const result = await repo.write({
      snapshot,
      branch: 'slipway/dev/api',
      direct: true,
      changes: [{ path: DEV, text: kustomization(D2) }],
      message: 'promote',
    });
    expect(await revParse(dir, 'HEAD')).toBe(result.commit);
    expect(await readFile(join(dir, DEV), 'utf8')).toBe(kustomization(D2));
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('my local edit\n');
    // Index and work tree agree with the new head for the promoted file: nothing staged, nothing modified.
    const status = (await git(dir, ['status', '--porcelain'])).stdout;
    expect(status).toBe(' M notes.txt\n');
  });

  it('refuses before writing when the work tree has changes in a file the promotion edits', async () => {
    const dir = await workTree();
    const before = await revParse(dir, 'main');
    await writeFile(join(dir, DEV), 'hand edit\n');
    const repo = localRepository(dir, { logger: silentLogger });
    const snapshot = await repo.read(request());
    const error = await failure(
      repo.write({
        snapshot,
        branch: 'slipway/dev/api',
        direct: true,
        changes: [{ path: DEV, text: kustomization(D2) }],
        message: 'm',
      }),
    );
    expect(String(error)).toContain(`uncommitted changes in ${DEV}`);
    expect(await revParse(dir, 'main')).toBe(before);
    expect(await readFile(join(dir, DEV), 'utf8')).toBe('hand edit\n');
  });

  it('leaves the work tree alone for a promotion branch', async () => {
    const dir = await workTree();
    await writeFile(join(dir, DEV), 'hand edit\n');
    const repo = localRepository(dir, { logger: silentLogger });
    const snapshot = await repo.read(request());
    const result = await repo.write({
      snapshot,
      branch: 'slipway/staging/api',
      direct: false,
      changes: [{ path: DEV, text: kustomization(D2) }],
      message: 'm',
    });
    expect(await revParse(dir, 'refs/heads/slipway/staging/api')).toBe(result.commit);
    expect(await readFile(join(dir, DEV), 'utf8')).toBe('hand edit\n');
  });
});

// --- the planner and the local writer together, in separate processes ------------------------------------------

const POLICY = `version: 1
environments:
  - name: dev
    pull-request: false
  - name: review
services:
  api:
    image: ghcr.io/acme/api
    targets:
      dev: ${DEV}
      review: envs/review/kustomization.yaml
  web:
    image: ghcr.io/acme/web
    targets:
      dev: ${DEV}
policy:
  signers:
    - key: keys/release.pub
  require: []
`;
const shared = (apiDigest: string, webDigest: string) =>
  `# dev overlay\nimages:\n  - name: ghcr.io/acme/api\n    digest: ${apiDigest}\n  - name: ghcr.io/acme/web\n    digest: ${webDigest}\n`;

describe('two promotions racing into one environment, as separate processes', () => {
  let script: string;
  beforeAll(async () => {
    const outdir = await tempDir('slipway-promote-script-');
    await build({ outdir, entries: { promote: join(import.meta.dirname, 'promote-script.ts') } });
    script = join(outdir, 'promote', 'index.mjs');
  });

  async function seeded(): Promise<string> {
    const dir = await tempDir('slipway-local-race-');
    await initBare(dir);
    await git(dir, ['config', 'core.logAllRefUpdates', 'always']);
    await commitOnBranch(dir, 'main', {
      files: {
        '.slipway.yaml': POLICY,
        [DEV]: shared(D1, D1),
        'envs/review/kustomization.yaml': kustomization(D1),
      },
      message: 'seed',
    });
    return dir;
  }

  function run(args: string[]): Promise<{ commits: string[]; retries: number }> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.on('error', fail);
      child.on('close', (code) => (code === 0 ? done(JSON.parse(out)) : fail(new Error(`exit ${code}: ${err}`))));
    });
  }

  const digests = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => `sha256:${prefix}${String(i).padStart(2, '0')}`.padEnd(71, 'e'));

  it('direct commits to one file lose no update: both services end at their last digest', async () => {
    const dir = await seeded();
    const startAt = String(Date.now() + 1500);
    const api = digests('a', 6);
    const web = digests('b', 6);
    const [a, b] = await Promise.all([
      run([dir, 'dev', 'api', startAt, ...api]),
      run([dir, 'dev', 'web', startAt, ...web]),
    ]);
    expect(await readAt(dir, 'main', DEV)).toBe(shared(api.at(-1) ?? '', web.at(-1) ?? ''));
    // Every promotion is a commit on main, one after another: twelve, none overwritten.
    const log = (await git(dir, ['log', '--format=%H', 'main'])).stdout.trim().split('\n');
    expect(log).toHaveLength(13);
    expect(new Set(log)).toEqual(new Set([...a.commits, ...b.commits, log.at(-1)]));
    const subjects = (await git(dir, ['log', '--format=%s', 'main'])).stdout;
    for (const digest of [...api, ...web]) expect(subjects).toContain(digest.slice(0, 19));
    console.info(`racing direct promotions: ${a.retries + b.retries} compare-and-swap retries`);
  });

  it('two runs updating one promotion branch take turns: the branch moves twice, the last write wins', async () => {
    const dir = await seeded();
    const startAt = String(Date.now() + 1500);
    const [first, second] = [digests('c', 1), digests('d', 1)];
    const [a, b] = await Promise.all([
      run([dir, 'review', 'api', startAt, ...first]),
      run([dir, 'review', 'api', startAt, ...second]),
    ]);
    expect(a.commits).toHaveLength(1);
    expect(b.commits).toHaveLength(1);
    const main = await revParse(dir, 'main');
    const tip = await revParse(dir, 'refs/heads/slipway/review/api');
    // The branch was created once and updated in place once, never force-moved from under the other run.
    const reflog = (await git(dir, ['reflog', 'show', '--format=%H', 'refs/heads/slipway/review/api'])).stdout
      .trim()
      .split('\n');
    expect(reflog).toHaveLength(2);
    expect(new Set(reflog)).toEqual(new Set([...a.commits, ...b.commits]));
    expect(tip).toBe(reflog[0]);
    expect((await git(dir, ['rev-parse', `${tip}^`])).stdout.trim()).toBe(main);
    const pinned = await readAt(dir, 'slipway/review/api', 'envs/review/kustomization.yaml');
    expect([kustomization(first[0] ?? ''), kustomization(second[0] ?? '')]).toContain(pinned);
  });
});

describe('plans written with git and read back: promote, roll back, hold, release', () => {
  it('restores the previous digest from real history, holds the environment, and re-runs change nothing', async () => {
    const dir = await tempDir('slipway-local-rollback-');
    await initBare(dir);
    await commitOnBranch(dir, 'main', {
      files: { '.slipway.yaml': POLICY, [DEV]: shared(D1, D1) },
      message: 'seed',
      date: new Date('2026-01-01T00:00:00Z'),
    });
    let clock = new Date('2026-02-01T00:00:00Z');
    const repo = localRepository(dir, { logger: silentLogger, now: () => clock });
    const config = parseSlipwayConfig((await repo.readFile('.slipway.yaml')).text ?? '', '.slipway.yaml');
    const promote = async (overrides: Partial<PromotionRequest>) => {
      const request: PromotionRequest = {
        environment: 'dev',
        services: ['api'],
        source: { images: { api: { name: 'ghcr.io/acme/api', digest: D2 } } },
        rollback: false,
        hold: false,
        releaseHold: false,
        now: clock,
        run: { url: 'https://ci.example/runs/9' },
        ...overrides,
      };
      const snapshot = await repo.read(readRequestFor(config, request));
      const plan = planPromotion(config, snapshot, request);
      if (plan.changed) {
        await repo.write({
          snapshot,
          branch: plan.branch,
          direct: plan.direct,
          changes: plan.changes,
          message: plan.message,
        });
      }
      return plan;
    };

    expect((await promote({})).changed).toBe(true);
    expect(await readAt(dir, 'main', DEV)).toBe(shared(D2, D1));
    const head = await revParse(dir, 'main');
    expect((await promote({})).changed).toBe(false);
    expect(await revParse(dir, 'main')).toBe(head);

    clock = new Date('2026-02-01T01:00:00Z');
    const rollback = await promote({ rollback: true });
    expect(rollback.services[0]?.rollback?.method).toBe('revert');
    expect(await readAt(dir, 'main', DEV)).toBe(shared(D1, D1));
    const holds = await readAt(dir, 'main', '.slipway/holds.yaml');
    expect(holds).toContain(`reason: rollback of ${D2} by https://ci.example/runs/9`);
    expect((await promote({ rollback: true })).changed).toBe(false);

    const refused = await failure(promote({ source: { images: { api: { name: 'ghcr.io/acme/api', digest: D3 } } } }));
    expect(refused).toBeInstanceOf(PolicyRefusal);
    expect((refused as PolicyRefusal).code).toBe('HOLD');

    const released = await promote({
      releaseHold: true,
      source: { images: { api: { name: 'ghcr.io/acme/api', digest: D3 } } },
    });
    expect(released.hold).toMatchObject({ released: true });
    expect(await readAt(dir, 'main', DEV)).toBe(shared(D3, D1));
    expect(await readAt(dir, 'main', '.slipway/holds.yaml')).not.toContain('dev:');
  });
});
