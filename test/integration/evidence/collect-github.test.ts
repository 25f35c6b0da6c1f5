import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { collectGitHub } from '../../../shared/evidence/collect/github.js';
import { githubContext } from '../../../shared/github/context.js';
import { createOctokit, type SlipwayOctokit } from '../../../shared/github/octokit.js';
import type { HostedRepository } from '../../support/github-git.js';
import { openPullRequest } from '../../support/github-issues.js';
import { type GitHubServer, startGitHubServer } from '../../support/github-server.js';

// The GitHub collector against the fake GitHub API, through a real Octokit: every request and answer is checked
// against GitHub's OpenAPI description (schemaErrors stays empty). The pull request of a commit (merged, open, or
// none), its reviews over several pages with the latest decision per reviewer, and the run from the API or, when
// the API does not answer, from the runner's variables.

const TOKEN = 'ghs_evidence-collect-github';
const BOT = 'github-actions[bot]';
let server: GitHubServer;
let repo: HostedRepository;
let octokit: SlipwayOctokit;

beforeAll(async () => {
  // pageSize 2: five reviews span three pages.
  server = await startGitHubServer({ token: TOKEN, pageSize: 2 });
  repo = await server.createRepository({ owner: 'acme', name: 'api', files: { 'README.md': 'api\n' } });
  octokit = await createOctokit({
    token: TOKEN,
    context: githubContext({ GITHUB_API_URL: server.url, GITHUB_SERVER_URL: server.webUrl }),
    logger: silentLogger,
    waitScale: 0.001,
    retries: 0,
  });
});
afterAll(() => server?.close());

const base = { owner: 'acme', repo: 'api' };
const requestsSince = (start: number) => server.requests.slice(start).map((r) => `${r.method} ${r.path.split('?')[0]}`);

describe('the pull request of a commit', () => {
  it('finds the merged pull request whose merge commit is the commit, with the latest decision per reviewer', async () => {
    const { pull } = await openPullRequest(server.git, repo, { branch: 'orders', title: 'Add <orders> | `fast`' });
    const reviews = server.reviews;
    await reviews.addReview(repo, pull.number, { login: 'alice', state: 'CHANGES_REQUESTED' });
    await reviews.addReview(repo, pull.number, { login: 'alice', state: 'APPROVED' });
    // A comment after an approval does not take the approval back.
    await reviews.addReview(repo, pull.number, { login: 'alice', state: 'COMMENTED', body: 'nit' });
    await reviews.addReview(repo, pull.number, { login: 'bob', state: 'APPROVED' });
    await reviews.addReview(repo, pull.number, { login: 'carol', state: 'APPROVED' });
    // A dismissed approval no longer approves.
    reviews.dismiss(repo, pull.number, 'carol');
    // The author approving their own change is not an approver.
    await reviews.addReview(repo, pull.number, { login: BOT, state: 'APPROVED' });
    await reviews.addReview(repo, pull.number, { login: 'dave', state: 'PENDING' });
    const merge = await server.git.merge(repo, pull, { method: 'squash' });

    const start = server.requests.length;
    const { pullRequest } = await collectGitHub({ octokit, ...base, commit: merge });
    expect(pullRequest.state).toBe('present');
    if (pullRequest.state === 'missing') throw new Error('unreachable');
    expect(pullRequest.value).toMatchObject({
      number: pull.number,
      title: 'Add <orders> | `fast`',
      url: `${server.webUrl}/acme/api/pull/${pull.number}`,
      author: BOT,
      headRef: 'orders',
      baseRef: 'main',
      mergedBy: BOT,
    });
    expect(pullRequest.value.mergedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(pullRequest.value.reviews.map((r) => [r.login, r.state])).toEqual([
      ['alice', 'APPROVED'],
      ['bob', 'APPROVED'],
      ['carol', 'DISMISSED'],
      [BOT, 'APPROVED'],
    ]);
    expect(pullRequest.value.reviews[0]!.commit).toBe(pullRequest.value.headSha);
    expect(pullRequest.value.approvers).toEqual(['alice', 'bob']);
    expect(pullRequest.from.map((p) => p.location)).toEqual([
      `GET /repos/acme/api/commits/${merge}/pulls`,
      `GET /repos/acme/api/pulls/${pull.number}`,
      `GET /repos/acme/api/pulls/${pull.number}/reviews`,
    ]);
    // Every page of reviews was read: seven reviews, two a page.
    const reviewPages = requestsSince(start).filter((r) => r.endsWith('/reviews'));
    expect(reviewPages).toHaveLength(4);
    expect(server.schemaErrors).toEqual([]);
  });

  it('finds the open pull request whose head is the commit', async () => {
    const { pull, head } = await openPullRequest(server.git, repo, { branch: 'preview', title: 'Preview build' });
    await server.reviews.addReview(repo, pull.number, { login: 'erin', state: 'APPROVED' });
    const { pullRequest } = await collectGitHub({ octokit, ...base, commit: head });
    expect(pullRequest).toMatchObject({
      state: 'present',
      value: { number: pull.number, headSha: head, approvers: ['erin'] },
    });
    if (pullRequest.state !== 'missing') expect(pullRequest.value.mergedAt).toBeUndefined();
    expect(server.schemaErrors).toEqual([]);
  });

  it('prefers the pull request that merged the commit over one that only contains it', async () => {
    // A later pull request branched from the merge: its head differs, so it is not this commit's.
    const { pull } = await openPullRequest(server.git, repo, { branch: 'rebased', title: 'Rebased change' });
    const merge = await server.git.merge(repo, pull, { method: 'merge' });
    const { pull: other } = await openPullRequest(server.git, repo, { branch: 'follow-up', title: 'Follow-up' });
    server.reviews.associate(repo, merge, other.number);
    const { pullRequest } = await collectGitHub({ octokit, ...base, commit: merge });
    expect(pullRequest).toMatchObject({ state: 'present', value: { number: pull.number } });
  });

  it('is missing, saying why, for a commit pushed without a pull request', async () => {
    const pushed = await server.git.push(repo, 'main', { 'hotfix.txt': 'fix\n' }, { message: 'Hotfix' });
    const { pullRequest } = await collectGitHub({ octokit, ...base, commit: pushed });
    expect(pullRequest).toEqual({
      state: 'missing',
      reason: `no pull request is associated with ${pushed} (GET /repos/acme/api/commits/${pushed}/pulls): was it pushed without one?`,
    });
    expect(server.schemaErrors).toEqual([]);
  });

  it('takes the pull-request input over the commit, and names the input when there is no such pull request', async () => {
    const { pull } = await openPullRequest(server.git, repo, { branch: 'named', title: 'Named' });
    const { pullRequest } = await collectGitHub({ octokit, ...base, commit: 'f'.repeat(40), pullRequest: pull.number });
    expect(pullRequest).toMatchObject({ state: 'present', value: { number: pull.number } });
    if (pullRequest.state !== 'missing')
      expect(pullRequest.from[0]).toEqual({ kind: 'input', location: 'pull-request' });

    const error = await collectGitHub({ octokit, ...base, commit: 'f'.repeat(40), pullRequest: 999 }).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      "Input 'pull-request' is \"999\": acme/api has no pull request #999 the token can see; expected the number of a pull request of acme/api, or empty to find the commit's.",
    );
  });
});

describe('the run', () => {
  const env = {
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_REPOSITORY: 'acme/api',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '2',
    GITHUB_WORKFLOW: 'release',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_ACTOR: 'dev',
    GITHUB_REF: 'refs/tags/v1.4.0',
    GITHUB_SHA: 'a'.repeat(40),
  };

  it('reads the run and its attempt from the API', async () => {
    const head = (await server.git.head(repo, 'main'))!;
    server.reviews.addRun(repo, { id: 777, attempt: 2, headSha: head, headBranch: 'v1.4.0', actor: 'dev' });
    const { run } = await collectGitHub({ octokit, ...base, commit: head, runId: 777, attempt: 2, env });
    expect(server.schemaErrors).toEqual([]);
    expect(run).toEqual({
      state: 'present',
      from: [{ kind: 'github-api', location: 'GET /repos/acme/api/actions/runs/777' }],
      value: {
        repository: 'acme/api',
        workflow: 'release',
        runId: '777',
        attempt: 2,
        url: `${server.webUrl}/acme/api/actions/runs/777/attempts/2`,
        event: 'push',
        actor: 'dev',
        ref: 'v1.4.0',
        commit: head,
      },
    });
    expect(server.schemaErrors).toEqual([]);
  });

  it('falls back to the runner’s variables when the API does not answer, with provenance event', async () => {
    // A repository the token cannot read Actions or pull requests of (as a fork's read-only token may not).
    const locked = await server.createRepository({ owner: 'acme', name: 'locked', files: { 'README.md': 'x\n' } });
    const head = (await server.git.head(locked, 'main'))!;
    server.forbid('acme/locked', 'Resource not accessible by integration');
    const { run, pullRequest } = await collectGitHub({
      octokit,
      owner: 'acme',
      repo: 'locked',
      commit: head,
      runId: 4242,
      attempt: 2,
      env,
    });
    expect(run).toEqual({
      state: 'present',
      from: [{ kind: 'event', location: 'GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_REPOSITORY' }],
      reason: "GET /repos/acme/locked/actions/runs/4242 failed (403): taken from the runner's environment",
      value: {
        repository: 'acme/api',
        runId: '4242',
        attempt: 2,
        url: 'https://github.example/acme/api/actions/runs/4242/attempts/2',
        workflow: 'release',
        event: 'push',
        actor: 'dev',
        ref: 'refs/tags/v1.4.0',
        commit: 'a'.repeat(40),
      },
    });
    // The pull request cannot be vouched for from the environment: it is missing, naming the failure.
    expect(pullRequest).toMatchObject({ state: 'missing', reason: expect.stringContaining('403') });
  });

  it('is missing outside a run', async () => {
    const { run } = await collectGitHub({ octokit, ...base, commit: 'a'.repeat(40), env: {} });
    expect(run).toEqual({
      state: 'missing',
      reason: 'no run id was given (GITHUB_RUN_ID), and GITHUB_RUN_ID and GITHUB_REPOSITORY are not set',
    });
  });
});
