import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, readAt, revParse } from '../../support/git-plumbing.js';
import type { HostedRepository } from '../../support/github-git.js';
import { type GitHubServer, startGitHubServer } from '../../support/github-server.js';

// The fake GitHub's git side, through a real Octokit: what it answers must be what GitHub answers (every
// REST exchange checked against the OpenAPI description, every GraphQL document against GitHub's schema),
// and what it writes must be real git objects with compare-and-swap on each ref move.

const TOKEN = 'ghs_fake_github_git_token';
let server: GitHubServer;
let repo: HostedRepository;
let octokit: Octokit;

async function graphql<T>(
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data?: T; errors?: { type?: string; message: string }[] }> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { authorization: `bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { data?: T; errors?: { type?: string; message: string }[] };
}

beforeAll(async () => {
  server = await startGitHubServer({ token: TOKEN });
  repo = await server.createRepository({
    owner: 'acme',
    name: 'gitops',
    files: { 'envs/dev/kustomization.yaml': 'images: []\n', 'README.md': 'hello\n' },
    date: new Date('2026-01-01T00:00:00Z'),
    teams: ['platform'],
    collaborators: ['alice'],
  });
  octokit = new Octokit({ auth: TOKEN, baseUrl: server.url });
});

afterAll(async () => {
  await server?.close();
});

describe('fake GitHub: git over REST', () => {
  it('serves the repository, refs, pull requests, labels and reviewers in GitHub shapes', async () => {
    const { data: repository } = await octokit.rest.repos.get({ owner: 'acme', repo: 'gitops' });
    expect(repository.default_branch).toBe('main');
    const main = await octokit.rest.git.getRef({ owner: 'acme', repo: 'gitops', ref: 'heads/main' });
    expect(main.data.object.sha).toBe(await revParse(repo.dir, 'refs/heads/main'));

    await octokit.rest.git.createRef({
      owner: 'acme',
      repo: 'gitops',
      ref: 'refs/heads/topic',
      sha: main.data.object.sha,
    });
    await expect(
      octokit.rest.git.createRef({ owner: 'acme', repo: 'gitops', ref: 'refs/heads/topic', sha: main.data.object.sha }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringContaining('Reference already exists') });
    await server.git.push(repo, 'topic', { 'envs/dev/kustomization.yaml': 'images: [x]\n' });

    const { data: pull } = await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'gitops',
      head: 'topic',
      base: 'main',
      title: 'T',
      body: 'B',
    });
    expect(pull.number).toBe(1);
    await expect(
      octokit.rest.pulls.create({ owner: 'acme', repo: 'gitops', head: 'topic', base: 'main', title: 'T' }),
    ).rejects.toMatchObject({ status: 422 });
    const listed = await octokit.rest.pulls.list({ owner: 'acme', repo: 'gitops', head: 'acme:topic', base: 'main' });
    expect(listed.data.map((p) => p.number)).toEqual([1]);
    await octokit.rest.pulls.update({ owner: 'acme', repo: 'gitops', pull_number: 1, title: 'T2' });
    const labels = await octokit.rest.issues.addLabels({
      owner: 'acme',
      repo: 'gitops',
      issue_number: 1,
      labels: ['slipway'],
    });
    expect(labels.data.map((l) => l.name)).toEqual(['slipway']);
    expect((await octokit.rest.issues.listLabelsForRepo({ owner: 'acme', repo: 'gitops' })).data).toHaveLength(1);
    await octokit.rest.issues.createLabel({ owner: 'acme', repo: 'gitops', name: 'other', color: '00ff00' });
    await octokit.rest.pulls.requestReviewers({
      owner: 'acme',
      repo: 'gitops',
      pull_number: 1,
      reviewers: ['alice'],
      team_reviewers: ['platform'],
    });
    await expect(
      octokit.rest.pulls.requestReviewers({ owner: 'acme', repo: 'gitops', pull_number: 1, reviewers: ['mallory'] }),
    ).rejects.toMatchObject({ status: 422 });
    const fetched = await octokit.rest.pulls.get({ owner: 'acme', repo: 'gitops', pull_number: 1 });
    expect(fetched.data.title).toBe('T2');
    expect(fetched.data.requested_reviewers?.map((u) => u.login)).toEqual(['alice']);

    // Merge is compare-and-swap on the head: a stale sha is a 409, the right one merges for real.
    await expect(
      octokit.rest.pulls.merge({ owner: 'acme', repo: 'gitops', pull_number: 1, sha: main.data.object.sha }),
    ).rejects.toMatchObject({ status: 409 });
    const merged = await octokit.rest.pulls.merge({
      owner: 'acme',
      repo: 'gitops',
      pull_number: 1,
      sha: fetched.data.head.sha,
    });
    expect(await revParse(repo.dir, 'refs/heads/main')).toBe(merged.data.sha);
    expect(await readAt(repo.dir, 'main', 'envs/dev/kustomization.yaml')).toBe('images: [x]\n');
    const parents = (await git(repo.dir, ['rev-list', '--parents', '-n', '1', merged.data.sha])).stdout
      .trim()
      .split(' ');
    expect(parents).toHaveLength(3);
    expect(server.schemaErrors).toEqual([]);
  });
});

describe('fake GitHub: GraphQL', () => {
  it('refuses a document GitHub would refuse, and records it', async () => {
    const before = server.schemaErrors.length;
    const answer = await graphql('{ repository(owner: "acme", name: "gitops") { defaultBranch } }');
    expect(answer.data).toBeUndefined();
    expect(answer.errors?.[0]?.message).toContain('Cannot query field "defaultBranch" on type "Repository"');
    expect(server.schemaErrors.length).toBe(before + 1);
    server.schemaErrors.splice(before);
  });

  it('reads files and history, and commits with expectedHeadOid as compare-and-swap', async () => {
    const read = await graphql<{
      repository: {
        id: string;
        defaultBranchRef: { name: string; target: { oid: string } };
        file: { text: string; isTruncated: boolean } | null;
        missing: null;
      };
    }>(`query {
      repository(owner: "acme", name: "gitops") {
        id
        defaultBranchRef { name target { oid } }
        file: object(expression: "main:README.md") { ... on Blob { text isTruncated } }
        missing: object(expression: "main:nope.yaml") { ... on Blob { text } }
      }
    }`);
    expect(read.errors).toBeUndefined();
    const head = read.data?.repository.defaultBranchRef.target.oid ?? '';
    expect(read.data?.repository.file).toEqual({ text: 'hello\n', isTruncated: false });
    expect(read.data?.repository.missing).toBeNull();

    const mutation = `mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid message committedDate } } }`;
    const input = (expectedHeadOid: string) => ({
      branch: { repositoryNameWithOwner: 'acme/gitops', branchName: 'main' },
      expectedHeadOid,
      message: { headline: 'pin api', body: 'Slipway-Promotion: dev/api' },
      fileChanges: {
        additions: [{ path: 'envs/dev/a/b.yaml', contents: Buffer.from('x: 1\n').toString('base64') }],
        deletions: [{ path: 'README.md' }],
      },
    });
    const committed = await graphql<{ createCommitOnBranch: { commit: { oid: string; message: string } } }>(mutation, {
      input: input(head),
    });
    expect(committed.errors).toBeUndefined();
    const oid = committed.data?.createCommitOnBranch.commit.oid ?? '';
    expect(await revParse(repo.dir, 'refs/heads/main')).toBe(oid);
    expect(committed.data?.createCommitOnBranch.commit.message).toBe('pin api\n\nSlipway-Promotion: dev/api');
    expect(await readAt(repo.dir, oid, 'envs/dev/a/b.yaml')).toBe('x: 1\n');
    expect(await readAt(repo.dir, oid, 'README.md')).toBeUndefined();

    const stale = await graphql<{ createCommitOnBranch: null }>(mutation, { input: input(head) });
    expect(stale.data?.createCommitOnBranch).toBeNull();
    expect(stale.errors?.[0]).toMatchObject({
      type: 'STALE_DATA',
      message: `Expected branch to point to "${head}" but it did not.  Pull and try again.`,
    });
    expect(await revParse(repo.dir, 'refs/heads/main')).toBe(oid);

    const history = await graphql<{
      repository: {
        object: { history: { nodes: { oid: string; message: string; file: { object: { text: string } } | null }[] } };
      };
    }>(`query {
      repository(owner: "acme", name: "gitops") {
        object(expression: "main") { ... on Commit { history(path: "envs/dev/kustomization.yaml", first: 5) {
          nodes { oid committedDate message file(path: "envs/dev/kustomization.yaml") { object { ... on Blob { text } } } }
        } } }
      }
    }`);
    expect(history.errors).toBeUndefined();
    const texts = history.data?.repository.object.history.nodes.map((n) => n.file?.object.text);
    expect(texts?.[0]).toBe('images: [x]\n');
    expect(texts?.at(-1)).toBe('images: []\n');
    expect(server.schemaErrors).toEqual([]);
  });

  it('runs the race hook between two requests', async () => {
    const before = await revParse(repo.dir, 'refs/heads/main');
    let moved = '';
    server.beforeNext(async () => {
      moved = await server.git.push(repo, 'main', { 'race.txt': 'other run\n' });
    });
    const answer = await graphql<{ repository: { defaultBranchRef: { target: { oid: string } } } }>(
      '{ repository(owner: "acme", name: "gitops") { defaultBranchRef { target { oid } } } }',
    );
    expect(moved).not.toBe(before);
    expect(answer.data?.repository.defaultBranchRef.target.oid).toBe(moved);
  });
});
