import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../shared/core/logger.js';
import { githubContext } from '../../../shared/github/context.js';
import { createOctokit } from '../../../shared/github/octokit.js';
import { GITHUB_WRITE_LIMITS, WriteBudget } from '../../../shared/github/write-budget.js';
import { ConcurrentUpdateError } from '../../../shared/gitops/errors.js';
import {
  clipBody,
  clipTitle,
  githubRepository,
  MAX_BODY,
  MAX_TITLE,
} from '../../../shared/gitops/github-repository.js';
import type { GitOpsRepository, ReadRequest, WriteRequest } from '../../../shared/gitops/types.js';
import { git, readAt, revParse } from '../../support/git-plumbing.js';
import type { AutoMergeMode, HostedRepository } from '../../support/github-git.js';
import { type GitHubServer, type RecordedRequest, startGitHubServer } from '../../support/github-server.js';

// The GitHub writer against the fake GitHub: real commits in a real bare repository, GraphQL documents
// validated against GitHub's schema, REST against its OpenAPI description, compare-and-swap where GitHub has
// it. Each path is held to the call budget (readFile + read + write ≤ 5) and to the exact call sequence.

const TOKEN = 'ghs_github_repository_test';
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const DAY = 24 * 3600_000;

let server: GitHubServer;
let counter = 0;
const warnings: string[] = [];

const logger: Logger = {
  debug: () => {},
  info: () => {},
  warning: (message) => warnings.push(message),
  error: (message) => warnings.push(message),
  group: (_title, body) => body(),
};

function kustomization(digest: string): string {
  return `# pinned by Slipway\nimages:\n  - name: ghcr.io/acme/api\n    digest: ${digest}\n`;
}

interface Fixture {
  hosted: HostedRepository;
  repository: GitOpsRepository & { calls(): number };
  name: string;
}

/** A fresh GitOps repository with dev and staging pinned, and a writer on it. */
async function fixture(options: { autoMerge?: AutoMergeMode; labels?: string[] } = {}): Promise<Fixture> {
  const name = `gitops-${++counter}`;
  const hosted = await server.createRepository({
    owner: 'acme',
    name,
    files: {
      '.slipway.yaml': 'version: 1\n',
      'envs/dev/kustomization.yaml': kustomization(DIGEST_A),
      'envs/staging/kustomization.yaml': kustomization(DIGEST_A),
    },
    date: new Date(Date.now() - 3 * DAY),
    teams: ['platform'],
    collaborators: ['alice'],
    ...(options.autoMerge ? { autoMerge: options.autoMerge } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  });
  await server.git.push(
    hosted,
    'main',
    { 'envs/dev/kustomization.yaml': kustomization(DIGEST_B) },
    { message: 'promote api to dev\n\nSlipway-Promotion: dev/api', date: new Date(Date.now() - DAY) },
  );
  const octokit = await createOctokit({
    token: TOKEN,
    context: githubContext({ GITHUB_API_URL: server.url, GITHUB_GRAPHQL_URL: server.graphqlUrl }),
    logger,
    waitScale: 0.001,
    writeBudget: new WriteBudget(GITHUB_WRITE_LIMITS),
  });
  return { hosted, repository: githubRepository({ owner: 'acme', repo: name, octokit, logger }), name };
}

const READ: ReadRequest = {
  paths: ['envs/staging/kustomization.yaml', 'envs/dev/kustomization.yaml', 'envs/missing.yaml'],
  historyPaths: ['envs/dev/kustomization.yaml'],
  historyDepth: 10,
  branch: 'slipway/staging/api',
};

function prRequest(
  snapshot: WriteRequest['snapshot'],
  digest: string,
  extra: Partial<NonNullable<WriteRequest['pullRequest']>> = {},
): WriteRequest {
  return {
    snapshot,
    branch: 'slipway/staging/api',
    direct: false,
    changes: [{ path: 'envs/staging/kustomization.yaml', text: kustomization(digest) }],
    message: `promote api to staging\n\nSlipway-Promotion: staging/api\nSlipway-Digest: api=${digest}`,
    pullRequest: {
      title: `Promote api to staging (${digest.slice(0, 19)})`,
      body: `Promotes **api**.\n\n<!-- slipway:v1 ${Buffer.from(digest).toString('base64')} -->`,
      labels: ['slipway', 'slipway/env:staging'],
      reviewers: ['acme/platform', 'alice'],
      autoMerge: false,
      ...extra,
    },
  };
}

/** The requests made since `from`, as `GraphQL <operation>` or `METHOD /path`. */
function sequence(from: number): string[] {
  return server.requests.slice(from).map((r: RecordedRequest) => {
    if (r.path.endsWith('/graphql')) {
      const query = String((r.body as { query?: string }).query ?? '');
      return `GraphQL ${/(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? 'anonymous'}`;
    }
    return `${r.method} ${r.path.split('?')[0]}`;
  });
}

beforeAll(async () => {
  server = await startGitHubServer({ token: TOKEN });
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  warnings.length = 0;
});

describe('githubRepository: reading', () => {
  it('reads the policy file in one query and everything a plan needs in a second', async () => {
    const { hosted, repository, name } = await fixture();
    expect(repository.describe()).toBe(`127.0.0.1/acme/${name}`);
    const start = server.requests.length;
    const policy = await repository.readFile('.slipway.yaml');
    expect(policy).toEqual({ text: 'version: 1\n', head: await revParse(hosted.dir, 'main'), defaultBranch: 'main' });
    expect(await repository.readFile('nope.yaml')).toMatchObject({ text: undefined });

    const snapshot = await repository.read(READ);
    expect(sequence(start)).toEqual(['GraphQL SlipwayReadFile', 'GraphQL SlipwayReadFile', 'GraphQL SlipwayRead']);
    expect(snapshot.head).toBe(await revParse(hosted.dir, 'main'));
    expect(snapshot.files.get('envs/staging/kustomization.yaml')).toBe(kustomization(DIGEST_A));
    expect(snapshot.files.get('envs/dev/kustomization.yaml')).toBe(kustomization(DIGEST_B));
    expect(snapshot.files.has('envs/missing.yaml')).toBe(true);
    expect(snapshot.files.get('envs/missing.yaml')).toBeUndefined();
    const history = snapshot.history.get('envs/dev/kustomization.yaml') ?? [];
    expect(history.map((h) => h.text)).toEqual([kustomization(DIGEST_B), kustomization(DIGEST_A)]);
    expect(history[0]?.message).toBe('promote api to dev\n\nSlipway-Promotion: dev/api');
    expect(Date.now() - (history[0]?.time.getTime() ?? 0)).toBeGreaterThan(DAY - 60_000);
    expect(snapshot.branch).toBeUndefined();
    expect(server.schemaErrors).toEqual([]);
  });

  it("reads the promotion branch's texts in the same query, so a re-run can see the branch holds them", async () => {
    const { hosted, repository } = await fixture();
    await repository.write(prRequest(await repository.read(READ), DIGEST_B));
    // Moved on the branch alone: the branch's text, not the default branch's, is what the snapshot says it holds.
    await server.git.push(hosted, 'slipway/staging/api', { 'envs/dev/kustomization.yaml': 'changed on the branch\n' });
    const start = server.requests.length;
    const snapshot = await repository.read(READ);
    expect(sequence(start)).toEqual(['GraphQL SlipwayRead']);
    expect(repository.calls()).toBe(1 + 3 + 1);
    expect(snapshot.files.get('envs/staging/kustomization.yaml')).toBe(kustomization(DIGEST_A));
    expect(snapshot.files.get('envs/dev/kustomization.yaml')).toBe(kustomization(DIGEST_B));
    expect(snapshot.branch?.head).toBe(await revParse(hosted.dir, 'refs/heads/slipway/staging/api'));
    expect(snapshot.branch?.files).toEqual(
      new Map([
        ['envs/staging/kustomization.yaml', kustomization(DIGEST_B)],
        ['envs/dev/kustomization.yaml', 'changed on the branch\n'],
        ['envs/missing.yaml', undefined],
      ]),
    );
    expect(server.schemaErrors).toEqual([]);
  });
});

describe('githubRepository: writing', () => {
  it('commits straight to the default branch in one call (direct)', async () => {
    const { hosted, repository } = await fixture();
    const start = server.requests.length;
    await repository.readFile('.slipway.yaml');
    const snapshot = await repository.read({ ...READ, branch: 'slipway/dev/api' });
    const result = await repository.write({
      snapshot,
      branch: 'slipway/dev/api',
      direct: true,
      changes: [{ path: 'envs/dev/kustomization.yaml', text: kustomization(DIGEST_A) }],
      message: 'promote api to dev\n\nSlipway-Promotion: dev/api',
    });
    expect(sequence(start)).toEqual(['GraphQL SlipwayReadFile', 'GraphQL SlipwayRead', 'GraphQL SlipwayCommit']);
    expect(sequence(start).length).toBeLessThanOrEqual(5);
    expect(result).toEqual({ commit: await revParse(hosted.dir, 'main'), calls: 1 });
    expect(await readAt(hosted.dir, 'main', 'envs/dev/kustomization.yaml')).toBe(kustomization(DIGEST_A));
    const parent = (await git(hosted.dir, ['rev-parse', `${result.commit}^`])).stdout.trim();
    expect(parent).toBe(snapshot.head);
    expect((await git(hosted.dir, ['log', '-1', '--format=%B', result.commit])).stdout.trim()).toBe(
      'promote api to dev\n\nSlipway-Promotion: dev/api',
    );
    expect(server.schemaErrors).toEqual([]);
  });

  it('opens a pull request with labels (created when missing), reviewers and auto-merge in 5 calls', async () => {
    const { hosted, repository } = await fixture({ labels: ['slipway'] });
    const start = server.requests.length;
    await repository.readFile('.slipway.yaml');
    const snapshot = await repository.read(READ);
    const result = await repository.write(prRequest(snapshot, DIGEST_B, { autoMerge: true }));
    expect(sequence(start)).toEqual([
      'GraphQL SlipwayReadFile',
      'GraphQL SlipwayRead',
      'GraphQL SlipwayBranch',
      'GraphQL SlipwayOpen',
      'GraphQL SlipwayDress',
    ]);
    expect(sequence(start).length).toBeLessThanOrEqual(5);
    expect(result.calls).toBe(3);
    expect(result.pullRequest?.number).toBe(1);
    expect(result.merged).toBe(false);

    const pull = hosted.pulls[0];
    expect(pull).toMatchObject({
      head: 'slipway/staging/api',
      base: 'main',
      state: 'open',
      reviewers: ['alice'],
      teamReviewers: ['platform'],
    });
    expect(pull?.autoMerge).toEqual({ method: 'merge' });
    expect(pull?.labels.map((id) => hosted.labels.find((l) => l.id === id)?.name)).toEqual([
      'slipway',
      'slipway/env:staging',
    ]);
    expect(result.pullRequest?.url).toBe(`${server.webUrl}/${hosted.fullName}/pull/1`);
    // A real commit on a branch from the default head, with only the intended change.
    expect(await revParse(hosted.dir, 'refs/heads/slipway/staging/api')).toBe(result.commit);
    expect((await git(hosted.dir, ['rev-parse', `${result.commit}^`])).stdout.trim()).toBe(snapshot.head);
    const diff = await git(hosted.dir, ['diff', '--name-only', snapshot.head, result.commit]);
    expect(diff.stdout.trim()).toBe('envs/staging/kustomization.yaml');
    expect(await revParse(hosted.dir, 'main')).toBe(snapshot.head);
    expect(warnings).toEqual([]);
    expect(server.schemaErrors).toEqual([]);
  });

  it('merges at its own commit when GitHub answers that the pull request is in clean status', async () => {
    const { hosted, repository } = await fixture({ autoMerge: 'clean' });
    await repository.readFile('.slipway.yaml');
    const snapshot = await repository.read(READ);
    const start = server.requests.length;
    const result = await repository.write(
      prRequest(snapshot, DIGEST_B, { autoMerge: true, reviewers: [], labels: [] }),
    );
    expect(sequence(start)).toEqual([
      'GraphQL SlipwayBranch',
      'GraphQL SlipwayOpen',
      'GraphQL SlipwayDress',
      `PUT /repos/acme/${hosted.name}/pulls/1/merge`,
    ]);
    const merge = server.requests.at(-1)?.body as { sha?: string };
    expect(merge.sha).toBe(result.commit);
    expect(result.merged).toBe(true);
    expect(hosted.pulls[0]?.merged).toBe(true);
    expect(await readAt(hosted.dir, 'main', 'envs/staging/kustomization.yaml')).toBe(kustomization(DIGEST_B));
    expect(server.schemaErrors).toEqual([]);
  });

  it('updates the open pull request in place: same number, a new commit, 4 calls', async () => {
    const { hosted, repository } = await fixture();
    await repository.readFile('.slipway.yaml');
    const first = await repository.write(prRequest(await repository.read(READ), DIGEST_B));
    const start = server.requests.length;
    await repository.readFile('.slipway.yaml');
    const snapshot = await repository.read(READ);
    expect(snapshot.branch).toEqual({
      name: 'slipway/staging/api',
      head: first.commit,
      pullRequest: { number: 1, url: first.pullRequest?.url, id: hosted.pulls[0]?.nodeId, headOid: first.commit },
      files: new Map([
        ['envs/staging/kustomization.yaml', kustomization(DIGEST_B)],
        ['envs/dev/kustomization.yaml', kustomization(DIGEST_B)],
        ['envs/missing.yaml', undefined],
      ]),
    });
    const digest = `sha256:${'c'.repeat(64)}`;
    const second = await repository.write(prRequest(snapshot, digest, { title: 'Promote api (c)', body: 'newer' }));
    expect(sequence(start)).toEqual([
      'GraphQL SlipwayReadFile',
      'GraphQL SlipwayRead',
      'GraphQL SlipwayUpdateBranch',
      'GraphQL SlipwayUpdatePullRequest',
    ]);
    expect(sequence(start).length).toBeLessThanOrEqual(5);
    expect(second.calls).toBe(2);
    expect(repository.calls()).toBe(2 + 3 + 2 + 2);
    expect(second.pullRequest).toEqual(first.pullRequest);
    expect(hosted.pulls).toHaveLength(1);
    expect(hosted.pulls[0]).toMatchObject({ title: 'Promote api (c)', body: 'newer', state: 'open' });
    expect(second.commit).not.toBe(first.commit);
    expect((await git(hosted.dir, ['rev-parse', `${second.commit}^`])).stdout.trim()).toBe(first.commit);
    expect(await readAt(hosted.dir, 'refs/heads/slipway/staging/api', 'envs/staging/kustomization.yaml')).toBe(
      kustomization(digest),
    );
    expect(server.schemaErrors).toEqual([]);
  });

  it('reopens from a branch left without a pull request by resetting it to the default head', async () => {
    const { hosted, repository } = await fixture();
    const stale = await server.git.push(hosted, 'main', {}, { message: 'unrelated' });
    await git(hosted.dir, ['update-ref', 'refs/heads/slipway/staging/api', stale]);
    await server.git.push(hosted, 'slipway/staging/api', { 'junk.txt': 'left over\n' });
    await server.git.push(hosted, 'main', { 'other.txt': 'moved on\n' });
    await repository.readFile('.slipway.yaml');
    const snapshot = await repository.read(READ);
    expect(snapshot.branch?.pullRequest).toBeUndefined();
    // Not a promotion in flight: its texts are not offered to the planner as already done.
    expect(snapshot.branch?.files).toBeUndefined();
    const result = await repository.write(prRequest(snapshot, DIGEST_B, { reviewers: [] }));
    expect(result.calls).toBe(3);
    expect((await git(hosted.dir, ['rev-parse', `${result.commit}^`])).stdout.trim()).toBe(snapshot.head);
    expect(await readAt(hosted.dir, result.commit, 'junk.txt')).toBeUndefined();
    expect(hosted.pulls[0]?.state).toBe('open');
    expect(server.schemaErrors).toEqual([]);
  });

  it('rides out a failing GitHub (5xx) through the client retries, counting calls not attempts', async () => {
    const { repository } = await fixture();
    server.failNext(2, 502);
    const start = server.requests.length;
    const snapshot = await repository.read(READ);
    expect(server.requests.length - start).toBe(3);
    expect(repository.calls()).toBe(1);
    expect(snapshot.files.get('envs/staging/kustomization.yaml')).toBe(kustomization(DIGEST_A));
  });

  it('throws ConcurrentUpdateError when another commit lands between read and write (direct)', async () => {
    const { hosted, repository } = await fixture();
    const snapshot = await repository.read(READ);
    let raced = '';
    server.beforeNext(
      async () => {
        raced = await server.git.push(hosted, 'main', { 'envs/dev/kustomization.yaml': kustomization(DIGEST_A) });
      },
      (r) => r.path.endsWith('/graphql'),
    );
    const write = repository.write({
      snapshot,
      branch: 'slipway/dev/api',
      direct: true,
      changes: [{ path: 'envs/dev/kustomization.yaml', text: kustomization(DIGEST_B) }],
      message: 'promote',
    });
    await expect(write).rejects.toBeInstanceOf(ConcurrentUpdateError);
    await expect(write).rejects.toThrow(/moved since it was read.*Expected branch to point to/);
    expect(await revParse(hosted.dir, 'main')).toBe(raced);
    expect(server.schemaErrors).toEqual([]);
  });

  it('throws ConcurrentUpdateError when the promotion branch moves under an update, and writes nothing', async () => {
    const { hosted, repository } = await fixture();
    await repository.write(prRequest(await repository.read(READ), DIGEST_B));
    const snapshot = await repository.read(READ);
    let raced = '';
    server.beforeNext(async () => {
      raced = await server.git.push(hosted, 'slipway/staging/api', {
        'envs/staging/kustomization.yaml': kustomization(DIGEST_A),
      });
    });
    const before = server.requests.length;
    await expect(repository.write(prRequest(snapshot, `sha256:${'d'.repeat(64)}`))).rejects.toBeInstanceOf(
      ConcurrentUpdateError,
    );
    expect(sequence(before)).toEqual(['GraphQL SlipwayUpdateBranch']);
    expect(await revParse(hosted.dir, 'refs/heads/slipway/staging/api')).toBe(raced);
    expect(hosted.pulls[0]?.title).toBe(`Promote api to staging (${DIGEST_B.slice(0, 19)})`);
  });

  it('throws ConcurrentUpdateError when another run created the branch first', async () => {
    const { hosted, repository } = await fixture();
    const snapshot = await repository.read(READ);
    server.beforeNext(async () => {
      await git(hosted.dir, ['update-ref', 'refs/heads/slipway/staging/api', snapshot.head]);
      await server.git.push(hosted, 'slipway/staging/api', {
        'envs/staging/kustomization.yaml': kustomization(DIGEST_A),
      });
    });
    await expect(repository.write(prRequest(snapshot, DIGEST_B))).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(hosted.pulls).toHaveLength(0);
  });

  it('keeps titles and bodies within GitHub limits, keeping the metadata comment', async () => {
    const { hosted, repository } = await fixture();
    const snapshot = await repository.read(READ);
    const metadata = `<!-- slipway:v1 ${'m'.repeat(100)} -->`;
    const body = `${'x'.repeat(MAX_BODY + 5000)}\n${metadata}`;
    await repository.write(prRequest(snapshot, DIGEST_B, { title: 't'.repeat(300), body }));
    const pull = hosted.pulls[0];
    expect(pull?.title.length).toBe(MAX_TITLE);
    expect(pull?.body?.length).toBeLessThanOrEqual(MAX_BODY);
    expect(pull?.body?.endsWith(metadata)).toBe(true);
    expect(pull?.body).toContain('truncated');
    expect(clipTitle('short')).toBe('short');
    expect(clipBody('short')).toBe('short');
    expect(server.schemaErrors).toEqual([]);
  });
});
