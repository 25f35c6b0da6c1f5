import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleLogger } from '../../../shared/core/logger.js';
import { SecretRegistry } from '../../../shared/core/secrets.js';
import { ACTIONS_BOT_LOGIN, publishStickyComment, tokenLogin } from '../../../shared/evidence/publish/comment.js';
import { publishDeployment, statusDescription } from '../../../shared/evidence/publish/deployments.js';
import { publishCommitStatus } from '../../../shared/evidence/publish/status.js';
import { githubContext } from '../../../shared/github/context.js';
import { GitHubApiError } from '../../../shared/github/errors.js';
import { createOctokit, type SlipwayOctokit } from '../../../shared/github/octokit.js';
import { GITHUB_WRITE_LIMITS, WriteBudget } from '../../../shared/github/write-budget.js';
import type { HostedRepository } from '../../support/github-git.js';
import { openPullRequest } from '../../support/github-issues.js';
import { type GitHubServer, startGitHubServer } from '../../support/github-server.js';

// The publishers against the fake GitHub API, through a real Octokit: every request and answer is checked against
// GitHub's OpenAPI description (schemaErrors stays empty). The built action is tested in action.test.ts.

const TOKEN = 'ghs_evidence-publish-test';
const MARKER = '<!-- slipway:evidence:release -->';
const logs: string[] = [];
const logger = consoleLogger(new SecretRegistry(), { verbose: true, write: (line) => logs.push(line) });

async function octokitFor(server: GitHubServer): Promise<SlipwayOctokit> {
  return createOctokit({
    token: TOKEN,
    context: githubContext({ GITHUB_API_URL: server.url, GITHUB_GRAPHQL_URL: server.graphqlUrl }),
    logger,
    waitScale: 0.001,
    // The content-creation limits, without the one-second spacing: these tests write a lot, quickly.
    writeBudget: new WriteBudget(GITHUB_WRITE_LIMITS),
  });
}

describe('with the job token (an installation token: GET /user is forbidden)', () => {
  let server: GitHubServer;
  let repo: HostedRepository;
  let octokit: SlipwayOctokit;
  let pr: number;
  let head: string;

  beforeAll(async () => {
    // pageSize 2 makes the comment listing span pages with a handful of comments.
    server = await startGitHubServer({ token: TOKEN, pageSize: 2 });
    repo = await server.createRepository({ owner: 'acme', name: 'api', files: { 'README.md': 'api\n' } });
    ({
      pull: { number: pr },
      head,
    } = await openPullRequest(server.git, repo, { branch: 'feature', title: 'Add a feature' }));
    octokit = await octokitFor(server);
  });
  afterAll(() => server?.close());

  it('knows itself as github-actions[bot]', async () => {
    expect(await tokenLogin(octokit)).toBe(ACTIONS_BOT_LOGIN);
    expect(server.schemaErrors).toEqual([]);
  });

  it('creates the comment once, updates it in place, and writes nothing when unchanged', async () => {
    // Comments before ours, over two pages, one of them another user's copy of our marker.
    server.issues.addComment(repo, pr, 'LGTM', 'alice');
    const copy = server.issues.addComment(repo, pr, `${MARKER}\nquoted by a person`, 'mallory');
    server.issues.addComment(repo, pr, `${MARKER}\nanother bot`, 'other-app[bot]');
    const request = { octokit, owner: 'acme', repo: 'api', issueNumber: pr, marker: MARKER, logger };

    const first = await publishStickyComment({ ...request, body: `${MARKER}\n✅ complete` });
    expect(first.action).toBe('created');
    expect(first.url).toBe(`${server.webUrl}/acme/api/pull/${pr}#issuecomment-${first.id}`);

    const writes = () => server.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    const second = await publishStickyComment({ ...request, body: `${MARKER}\n❌ failed` });
    expect(second).toMatchObject({ action: 'updated', id: first.id });
    expect(writes()).toBe(before + 1);

    const third = await publishStickyComment({ ...request, body: `${MARKER}\n❌ failed` });
    expect(third).toMatchObject({ action: 'unchanged', id: first.id });
    expect(writes()).toBe(before + 1);

    // A re-run a minute later renders another recorded time, and nothing else: still no write.
    const at = (time: string) =>
      `${MARKER}\n❌ failed · <!-- slipway:recorded -->recorded 2026-07-15 ${time} UTC<!-- /slipway:recorded -->.`;
    const fourth = await publishStickyComment({ ...request, body: at('08:00') });
    expect(fourth.action).toBe('updated');
    const fifth = await publishStickyComment({ ...request, body: at('08:01') });
    expect(fifth).toMatchObject({ action: 'unchanged', id: first.id });
    expect(writes()).toBe(before + 2);

    const comments = server.issues.commentsOn(repo, pr);
    expect(comments.filter((c) => c.author.login === ACTIONS_BOT_LOGIN)).toHaveLength(1);
    expect(comments.find((c) => c.id === first.id)?.body).toBe(at('08:00'));
    // The person's comment carrying the marker was never written to.
    expect(comments.find((c) => c.id === copy.id)?.body).toBe(`${MARKER}\nquoted by a person`);
    expect(server.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/comments/${copy.id}`))).toBe(false);
    expect(server.schemaErrors).toEqual([]);
  });

  it('puts the marker in front when the body does not start with it', async () => {
    const marker = '<!-- slipway:evidence:dev -->';
    const result = await publishStickyComment({
      octokit,
      owner: 'acme',
      repo: 'api',
      issueNumber: pr,
      marker,
      body: 'evidence for dev',
    });
    expect(server.issues.commentsOn(repo, pr).find((c) => c.id === result.id)?.body).toBe(
      `${marker}\nevidence for dev`,
    );
  });

  it('makes one deployment per environment and states the evidence on it', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    for (const environment of ['dev', 'staging']) {
      const result = await publishDeployment({
        octokit,
        owner: 'acme',
        repo: 'api',
        sha: head,
        environment,
        digest,
        recordUrl: 'https://example.test/run/1/artifacts/2',
        state: environment === 'dev' ? 'success' : 'in_progress',
        description: 'Evidence complete',
        logUrl: 'https://example.test/run/1',
        autoInactive: true,
      });
      expect(result).toMatchObject({ environment, reused: false });
    }
    const deployments = server.issues.deploymentsOf(repo);
    expect(deployments.map((d) => [d.environment, d.sha, d.production, d.transient])).toEqual([
      ['dev', head, false, false],
      ['staging', head, false, false],
    ]);
    expect(deployments[0]?.payload).toEqual({ digest, record: 'https://example.test/run/1/artifacts/2' });
    expect(deployments.map((d) => d.statuses.map((s) => s.state))).toEqual([['success'], ['in_progress']]);
    expect(deployments[0]?.statuses[0]).toMatchObject({ logUrl: 'https://example.test/run/1', autoInactive: true });
    const sent = server.requests.find((r) => r.method === 'POST' && r.path === '/repos/acme/api/deployments');
    expect(sent?.body).toMatchObject({ ref: head, auto_merge: false, required_contexts: [] });

    // A re-run for the same digest adds a status to its deployment rather than making another.
    const again = await publishDeployment({
      octokit,
      owner: 'acme',
      repo: 'api',
      sha: head,
      environment: 'staging',
      digest,
      state: 'success',
      description: 'Evidence complete',
      autoInactive: false,
    });
    expect(again).toMatchObject({ reused: true, id: deployments[1]?.id });
    expect(server.issues.deploymentsOf(repo)).toHaveLength(2);
    expect(deployments[1]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(server.schemaErrors).toEqual([]);
  });

  it('auto_inactive: a new success retires the earlier one in that environment, unless turned off', async () => {
    const deploy = (digest: string, autoInactive: boolean) =>
      publishDeployment({
        octokit,
        owner: 'acme',
        repo: 'api',
        sha: head,
        environment: 'preview',
        digest,
        state: 'success',
        description: 'ok',
        autoInactive,
      });
    const one = await deploy(`sha256:${'1'.repeat(64)}`, true);
    const two = await deploy(`sha256:${'2'.repeat(64)}`, false);
    const byId = (id: number) => server.issues.deployments.find((d) => d.id === id);
    expect(byId(one.id)?.statuses.at(-1)?.state).toBe('success');
    await deploy(`sha256:${'3'.repeat(64)}`, true);
    expect(byId(one.id)?.statuses.at(-1)?.state).toBe('inactive');
    expect(byId(two.id)?.statuses.at(-1)?.state).toBe('inactive');
    expect(server.schemaErrors).toEqual([]);
  });

  it('sets the commit status per environment, with a description GitHub takes', async () => {
    const long = `Incomplete: missing ${Array.from({ length: 30 }, (_, i) => `item-${i}`).join(', ')}`;
    const plain = await publishCommitStatus({
      octokit,
      owner: 'acme',
      repo: 'api',
      sha: head,
      state: 'pending',
      description: long,
      targetUrl: 'https://example.test/run/1',
    });
    const prod = await publishCommitStatus({
      octokit,
      owner: 'acme',
      repo: 'api',
      sha: head,
      environment: 'prod',
      state: 'failure',
      description: 'Failed: tests-passed',
    });
    expect([plain.context, prod.context]).toEqual(['slipway/evidence', 'slipway/evidence/prod']);
    expect([...plain.description]).toHaveLength(140);
    expect(plain.description.endsWith('…')).toBe(true);
    const stored = server.issues.statusesOf(repo, head);
    expect(stored.map((s) => [s.context, s.state])).toEqual([
      ['slipway/evidence', 'pending'],
      ['slipway/evidence/prod', 'failure'],
    ]);
    expect(server.schemaErrors).toEqual([]);
  });

  it('cuts descriptions by characters, not bytes', () => {
    expect([...statusDescription('✅'.repeat(200))]).toHaveLength(140);
    expect(statusDescription('  a\n  b ')).toBe('a b');
  });
});

describe('with a personal access token', () => {
  let server: GitHubServer;
  let repo: HostedRepository;
  let octokit: SlipwayOctokit;
  let pr: number;

  beforeAll(async () => {
    server = await startGitHubServer({ token: TOKEN, login: 'release-bot' });
    repo = await server.createRepository({ owner: 'acme', name: 'api', files: { 'README.md': 'api\n' } });
    ({
      pull: { number: pr },
    } = await openPullRequest(server.git, repo, { branch: 'feature', title: 'Add a feature' }));
    octokit = await octokitFor(server);
  });
  afterAll(() => server?.close());

  it('matches by the login GET /user gives, never the Actions bot nor a person', async () => {
    expect(await tokenLogin(octokit)).toBe('release-bot');
    const bots = server.issues.addComment(repo, pr, `${MARKER}\nfrom GITHUB_TOKEN`, ACTIONS_BOT_LOGIN);
    const mine = server.issues.addComment(repo, pr, `${MARKER}\nold`, 'release-bot');
    const result = await publishStickyComment({
      octokit,
      owner: 'acme',
      repo: 'api',
      issueNumber: pr,
      marker: MARKER,
      body: `${MARKER}\nnew`,
    });
    expect(result).toMatchObject({ action: 'updated', id: mine.id });
    expect(server.issues.commentsOn(repo, pr).find((c) => c.id === bots.id)?.body).toBe(`${MARKER}\nfrom GITHUB_TOKEN`);
    expect(server.schemaErrors).toEqual([]);
  });
});

describe('with a read-only token (a pull request from a fork)', () => {
  let server: GitHubServer;
  let repo: HostedRepository;
  let octokit: SlipwayOctokit;

  beforeAll(async () => {
    server = await startGitHubServer({ token: TOKEN });
    repo = await server.createRepository({ owner: 'acme', name: 'api', files: { 'README.md': 'api\n' } });
    await openPullRequest(server.git, repo, { branch: 'feature', title: 'From a fork' });
    server.issues.forbidWrites('acme/api');
    octokit = await octokitFor(server);
  });
  afterAll(() => server?.close());

  it('fails each write with a 403 the caller can recognise', async () => {
    const error = await publishStickyComment({
      octokit,
      owner: 'acme',
      repo: 'api',
      issueNumber: 1,
      marker: MARKER,
      body: 'x',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(403);
    expect((error as GitHubApiError).message).toMatch(/Resource not accessible by integration/);
    expect(server.issues.comments).toEqual([]);
    expect(server.schemaErrors).toEqual([]);
  });
});
