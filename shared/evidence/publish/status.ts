import type { SlipwayOctokit } from '../../github/octokit.js';
import type { EvidenceStatus } from '../types.js';
import { statusDescription } from './deployments.js';

// The evidence as a commit status, which branch protection and rulesets can require: `slipway/evidence`, or
// `slipway/evidence/<environment>` when the status was computed against an environment's requirements, so that
// each environment's gate is its own required check. A commit status rather than a check run: a check run made
// with GITHUB_TOKEN lands in an arbitrary check suite when several workflows run on one commit
// (EnricoMi/publish-unit-test-result-action#12, dorny/test-reporter#387). A status is a state, not an event: the
// newest per context wins, so a re-run simply states it again.

export const STATUS_CONTEXT = 'slipway/evidence';

export type CommitStatusState = 'success' | 'failure' | 'pending';

/** complete → success; failed → failure; incomplete → pending (something may still arrive). */
export function commitStateFor(status: EvidenceStatus): CommitStatusState {
  return status === 'complete' ? 'success' : status === 'failed' ? 'failure' : 'pending';
}

export function statusContext(environment?: string): string {
  return environment ? `${STATUS_CONTEXT}/${environment}` : STATUS_CONTEXT;
}

export interface CommitStatusRequest {
  octokit: SlipwayOctokit;
  owner: string;
  repo: string;
  sha: string;
  environment?: string;
  state: CommitStatusState;
  /** Cut to 140 characters. */
  description: string;
  /** The comment, the run or the record: what "Details" opens. */
  targetUrl?: string;
}

export interface CommitStatusResult {
  context: string;
  state: CommitStatusState;
  description: string;
  id: number;
}

export async function publishCommitStatus(request: CommitStatusRequest): Promise<CommitStatusResult> {
  const context = statusContext(request.environment);
  const description = statusDescription(request.description);
  const { data } = await request.octokit.rest.repos.createCommitStatus({
    owner: request.owner,
    repo: request.repo,
    sha: request.sha,
    state: request.state,
    context,
    description,
    ...(request.targetUrl ? { target_url: request.targetUrl } : {}),
  });
  return { context, state: request.state, description, id: data.id };
}
