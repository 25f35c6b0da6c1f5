import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostedRepository } from '../../support/github-git.js';
import { openPullRequest } from '../../support/github-issues.js';
import { type GitHubServer, startGitHubServer } from '../../support/github-server.js';
import { type PhaseResult, repositoryRoot, runActionYml } from '../../support/runner-harness.js';

// The BUILT evidence action (SLIPWAY_DIST, or dist/) as the runner runs it, against the fake GitHub API: the sticky
// comment across re-runs, someone else's copy of the marker, deployments and statuses per environment, a fork's
// read-only token, and an oversized record cut within GitHub's limit.

const TOKEN = 'ghs_evidence-action-test';
const evidenceYml = join(repositoryRoot, 'actions/evidence/action.yml');
const COMMENT_LIMIT = 65_536;

let server: GitHubServer;
let repo: HostedRepository;
let pr: number;
let head: string;

beforeAll(async () => {
  server = await startGitHubServer({ token: TOKEN });
  repo = await server.createRepository({ owner: 'acme', name: 'app', files: { 'README.md': 'app\n' } });
  ({
    pull: { number: pr },
    head,
  } = await openPullRequest(server.git, repo, { branch: 'feature', title: 'Add a feature' }));
  // The run the harness says the job is in (GITHUB_RUN_ID 1), as GitHub's API describes it.
  server.reviews.addRun(repo, { id: 1, headSha: head, headBranch: 'feature', event: 'pull_request', actor: 'alice' });
}, 60_000);
afterAll(() => server?.close());

function junit(cases: { name: string; failed?: boolean }[]): string {
  const failures = cases.filter((c) => c.failed).length;
  const body = cases
    .map((c) =>
      c.failed
        ? `<testcase classname="app" name="${c.name}"><failure message="boom">trace</failure></testcase>`
        : `<testcase classname="app" name="${c.name}"/>`,
    )
    .join('\n');
  return `<?xml version="1.0"?>\n<testsuite name="app" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">\n${body}\n</testsuite>\n`;
}

function workspaceWith(report: string): string {
  const workspace = mkdtempSync(join(tmpdir(), 'slipway-evidence-'));
  writeFileSync(join(workspace, 'junit.xml'), report);
  return workspace;
}

function runEvidence(inputs: Record<string, string>, workspace: string): Promise<PhaseResult> {
  return runActionYml(evidenceYml, {
    workspace,
    inputs: { token: TOKEN, 'test-reports': 'junit.xml', 'pull-request': String(pr), ...inputs },
    env: {
      GITHUB_API_URL: server.url,
      GITHUB_GRAPHQL_URL: server.graphqlUrl,
      GITHUB_SERVER_URL: server.webUrl,
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_REPOSITORY_OWNER: 'acme',
      GITHUB_SHA: head,
      GITHUB_ACTOR: 'alice',
    },
  }).then((r) => r.main);
}

const writes = (path: RegExp) => server.requests.filter((r) => r.method !== 'GET' && path.test(r.path)).length;

describe('the sticky comment', () => {
  it('is created once, updated in place on a re-run, and not written when unchanged', async () => {
    const copy = server.issues.addComment(repo, pr, '<!-- slipway:evidence:release -->\nmine, not yours', 'mallory');
    const passing = workspaceWith(junit([{ name: 'works' }]));
    const first = await runEvidence({}, passing);
    expect(first.errors).toEqual([]);
    expect(first.exitCode).toBe(0);
    const ours = server.issues.commentsOn(repo, pr).filter((c) => c.author.login === 'github-actions[bot]');
    expect(ours).toHaveLength(1);
    expect(first.outputs['comment-url']).toBe(`${server.webUrl}/acme/app/pull/${pr}#issuecomment-${ours[0]?.id}`);
    expect(first.summary).toContain('<!-- slipway:evidence:release -->');
    // The pull request and the run, as GitHub's API tells them.
    const record = JSON.parse(readFileSync(first.outputs.record!, 'utf8'));
    expect(record.pullRequest).toMatchObject({ state: 'present', value: { number: pr, title: 'Add a feature' } });
    expect(record.run).toMatchObject({
      state: 'present',
      from: [{ kind: 'github-api', location: 'GET /repos/acme/app/actions/runs/1' }],
      value: { runId: '1', commit: head, event: 'pull_request' },
    });

    const failing = workspaceWith(junit([{ name: 'works' }, { name: 'breaks', failed: true }]));
    const second = await runEvidence({}, failing);
    expect(second.exitCode).toBe(0);
    expect(second.outputs.status).toBe('failed');
    const after = server.issues.commentsOn(repo, pr).filter((c) => c.author.login === 'github-actions[bot]');
    expect(after.map((c) => c.id)).toEqual([ours[0]?.id]);
    expect(after[0]?.body).toContain('breaks');

    const patches = writes(/\/issues\/comments\//);
    const third = await runEvidence({}, failing);
    expect(third.exitCode).toBe(0);
    expect(writes(/\/issues\/comments\//)).toBe(patches);
    expect(writes(/\/issues\/\d+\/comments$/)).toBe(1);

    // Someone else's comment with our marker was never touched.
    expect(server.issues.commentsOn(repo, pr).find((c) => c.id === copy.id)?.body).toContain('mine, not yours');
    expect(server.schemaErrors).toEqual([]);
  }, 120_000);
});

describe('deployments and statuses', () => {
  it('are made per environment, stating the evidence', async () => {
    const workspace = workspaceWith(junit([{ name: 'works' }]));
    const records: Record<string, { deployments: unknown }> = {};
    for (const environment of ['dev', 'staging']) {
      const result = await runEvidence(
        { environment, publish: 'deployment,status', 'auto-inactive': 'false' },
        workspace,
      );
      expect(result.errors).toEqual([]);
      expect(result.exitCode).toBe(0);
      records[environment] = JSON.parse(readFileSync(result.outputs.record!, 'utf8'));
    }
    // Each record holds the deployment events GitHub had for the commit when it was made: none before the first
    // run, dev's in the second (the record is written before this run publishes its own).
    expect(records.dev?.deployments).toMatchObject({
      state: 'missing',
      reason: `GitHub has no deployment of ${head.slice(0, 12)}`,
    });
    expect(records.staging?.deployments).toMatchObject({
      state: 'present',
      from: [{ kind: 'github-api', location: `GET /repos/acme/app/deployments?sha=${head}` }],
      value: [{ environment: 'dev', state: 'in_progress' }],
    });
    const deployments = server.issues.deploymentsOf(repo);
    expect(deployments.map((d) => [d.environment, d.sha])).toEqual([
      ['dev', head],
      ['staging', head],
    ]);
    for (const d of deployments) {
      // No build record: the default requirements are not met, so the deployment is in progress.
      expect(d.statuses.map((s) => [s.state, s.autoInactive])).toEqual([['in_progress', false]]);
      expect(d.statuses[0]?.logUrl).toBe(`${server.webUrl}/acme/app/actions/runs/1`);
    }
    const statuses = server.issues.statusesOf(repo, head);
    expect(statuses.map((s) => [s.context, s.state])).toEqual([
      ['slipway/evidence/dev', 'pending'],
      ['slipway/evidence/staging', 'pending'],
    ]);
    expect(statuses.every((s) => [...(s.description ?? '')].length <= 140)).toBe(true);
    expect(server.schemaErrors).toEqual([]);
  }, 120_000);
});

describe('an oversized record', () => {
  it('is cut within the comment limit and says so', async () => {
    const cases = Array.from({ length: 10_000 }, (_, i) => ({
      name: `test number ${i} with a rather long descriptive name ${'x'.repeat(40)}`,
      failed: true,
    }));
    const result = await runEvidence({ environment: 'big' }, workspaceWith(junit(cases)));
    expect(result.errors).toEqual([]);
    const comment = server.issues.commentsOn(repo, pr).find((c) => c.body.startsWith('<!-- slipway:evidence:big -->'));
    expect(comment).toBeDefined();
    expect(comment!.body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(comment!.body).toMatch(/truncated|left out|too long/i);
    expect(server.schemaErrors).toEqual([]);
  }, 180_000);
});

describe('a read-only token (a pull request from a fork)', () => {
  let readOnly: GitHubServer;
  beforeAll(async () => {
    readOnly = server;
    readOnly.issues.forbidWrites('acme/app');
  });

  it('warns once, naming the permission and the workflow_run pattern, and passes; the record is written', async () => {
    const result = await runEvidence(
      { environment: 'fork', publish: 'comment,summary,status' },
      workspaceWith(junit([{ name: 'works' }])),
    );
    expect(result.exitCode).toBe(0);
    const warnings = result.commands.filter((c) => c.command === 'warning').map((c) => c.message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/pull-requests: write/);
    expect(warnings[0]).toMatch(/statuses: write/);
    expect(warnings[0]).toMatch(/workflow_run/);
    expect(result.outputs.record).toMatch(/evidence\.json$/);
    expect(result.summary).toContain('<!-- slipway:evidence:fork -->');
  }, 120_000);

  it('fails the step with fail-on-publish-error', async () => {
    const result = await runEvidence(
      { environment: 'fork', 'fail-on-publish-error': 'true' },
      workspaceWith(junit([{ name: 'works' }])),
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/pull-requests: write/);
    expect(result.outputs.record).toMatch(/evidence\.json$/);
  }, 120_000);
});
