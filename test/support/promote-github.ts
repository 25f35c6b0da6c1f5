import { execFileSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { PromotionRecordFile } from '../../shared/records/promotion.js';
import { findProblem } from '../../shared/records/validate.js';
import type { HostedRepository } from './github-git.js';
import type { GitHubServer, RecordedRequest } from './github-server.js';
import { type PhaseResult, repositoryRoot, runActionYml } from './runner-harness.js';

// What the tests of the built promote action against the fake GitHub share: running it (and sign, to give it
// something to verify), reading the hosted GitOps repository as git sees it, the promotion record with its schema
// and call budget, and the one check every refusal must pass: refused with its code, and nothing written.

export const promoteYml = join(repositoryRoot, 'actions/promote/action.yml');
export const signYml = join(repositoryRoot, 'actions/sign/action.yml');
/** GitHub API calls one environment promotion may cost (DESIGN.md, budgets). */
export const MAX_PROMOTION_CALLS = 5;
export const PROMOTION_SCHEMA = 'https://slipway.dev/schemas/promotion.schema.json';

export const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ type, format: 'pem' }).toString();

export const hostedGit = (hosted: HostedRepository, ...args: string[]) =>
  execFileSync('git', ['-C', hosted.dir, ...args], { encoding: 'utf8' });

/**
 * Every ref of the hosted repository and every pull request: what a refusal or a re-run must leave untouched. An open
 * pull request's head is its branch, in refs (the fake's cached headSha is refreshed by reads, so it is left out).
 */
export const hostedState = (hosted: HostedRepository) =>
  JSON.stringify({
    refs: hostedGit(hosted, 'for-each-ref', '--format=%(refname) %(objectname)'),
    pulls: hosted.pulls.map((p) => [p.number, p.state, p.state === 'open' ? '' : p.headSha, p.title, p.body, p.labels]),
  });

export const fileAt = (hosted: HostedRepository, ref: string, path: string) =>
  hostedGit(hosted, 'show', `${ref}:${path}`);

/** The `images:` of a kustomization at a ref. */
export const pinnedIn = (hosted: HostedRepository, ref: string, path: string) =>
  parseYaml(fileAt(hosted, ref, path)).images;

export interface PromoteOnGitHubOptions {
  github: GitHubServer;
  workspace: string;
  token: string;
  /** The trusted root the keyless signers of the policy are checked against. */
  trustedRoot: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs the built promote action, as its own process, against the fake GitHub's acme/gitops. */
export function promoteOnGitHub(options: PromoteOnGitHubOptions, inputs: Record<string, string>): Promise<PhaseResult> {
  const { github } = options;
  return runActionYml(promoteYml, {
    workspace: options.workspace,
    env: { GITHUB_API_URL: github.url, GITHUB_GRAPHQL_URL: github.graphqlUrl, ...options.env },
    inputs: { 'gitops-repo': 'acme/gitops', token: options.token, 'trusted-root': options.trustedRoot, ...inputs },
    timeoutMs: options.timeoutMs ?? 120_000,
  }).then((result) => result.main);
}

/** promotion.json of a run, checked against its schema and, unless told otherwise, the call budget. */
export function readPromotionRecord(result: PhaseResult, maxCalls = MAX_PROMOTION_CALLS): PromotionRecordFile {
  const value = JSON.parse(readFileSync(result.outputs.record!, 'utf8')) as PromotionRecordFile;
  expect(findProblem(PROMOTION_SCHEMA, value)).toBeUndefined();
  expect(value.calls.total).toBeLessThanOrEqual(maxCalls);
  return value;
}

/** A refusal: exit 1, one error naming the code and matching `says`, a record saying so, and `state` unchanged. */
export async function expectPromotionRefused(
  run: () => Promise<PhaseResult>,
  state: () => string,
  code: string,
  says: RegExp,
): Promise<PromotionRecordFile> {
  const before = state();
  const result = await run();
  expect(result.stdout).not.toContain('a bug in Slipway');
  expect(result.exitCode).toBe(1);
  expect(result.errors).toHaveLength(1);
  expect(result.errors[0]).toContain(`Promotion refused (${code}`);
  expect(result.errors[0]).toMatch(says);
  expect(state()).toBe(before);
  const written = readPromotionRecord(result);
  expect(written.outcome).toBe('refused');
  expect(written.refusal?.code).toBe(code);
  expect(result.outputs.changed).toBe('false');
  return written;
}

/** Signs `image` (provenance, into a referrer) with a key through the built sign action. */
export async function signWithKey(workspace: string, image: string, key: KeyObject): Promise<void> {
  const { main } = await runActionYml(signYml, {
    workspace,
    env: { GITHUB_WORKFLOW_REF: 'acme/api/.github/workflows/release.yml@refs/heads/main', GITHUB_REPOSITORY_ID: '1' },
    inputs: { image, key: pem(key, 'pkcs8'), storage: 'referrer' },
  });
  expect(main.errors).toEqual([]);
}

/** A GraphQL request whose document holds `field` (createCommitOnBranch, createPullRequest…). */
export const graphqlCalls = (field: string) => (request: RecordedRequest) =>
  request.path.endsWith('/graphql') && String((request.body as { query?: unknown } | undefined)?.query).includes(field);
