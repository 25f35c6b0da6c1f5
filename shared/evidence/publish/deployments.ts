import type { SlipwayOctokit } from '../../github/octokit.js';
import type { EvidenceStatus } from '../types.js';

// GitHub deployments as the evidence's view of an environment: one deployment per environment for the commit the
// image was built from, carrying the digest and where the full record is, and a deployment status saying what the
// evidence says (complete → success, failed → failure, incomplete → in_progress). The deployment is made through the
// API, never by a job's `environment:` key (that one would be a second, empty deployment: github/docs#60278).
//
// - `required_contexts: []`: left out, GitHub refuses the deployment (409) until every status on the commit is
//   success — including slipway/evidence itself while it is pending. The evidence reports; it does not gate here.
// - `auto_merge: false`: left on, GitHub merges the default branch into the ref when it is behind, which for a
//   commit sha is nonsense and for a branch a surprise commit.
// - `auto_inactive` (a status field, GitHub's default true): a success marks the environment's earlier successful
//   deployments inactive, so the environment shows one live deployment. GitHub does this only for non-transient,
//   non-production environments. Turn it off where one environment name holds several live deployments (per-PR
//   previews sharing a name, bobheadxi/deployments#25; two jobs on one environment, actions/runner#1001).
// A re-run finds the deployment it made for this commit, environment and digest and adds a status to it, rather
// than making another.

export const EVIDENCE_TASK = 'deploy:slipway-evidence';

export type DeploymentStatusState = 'success' | 'failure' | 'in_progress';

export function deploymentStateFor(status: EvidenceStatus): DeploymentStatusState {
  return status === 'complete' ? 'success' : status === 'failed' ? 'failure' : 'in_progress';
}

export interface DeploymentRequest {
  octokit: SlipwayOctokit;
  owner: string;
  repo: string;
  /** The commit deployed: the image's source commit. */
  sha: string;
  environment: string;
  digest?: string;
  /** Where the full evidence record is (the run's artifact or the run itself). */
  recordUrl?: string;
  state: DeploymentStatusState;
  /** At most 140 characters (cut here otherwise). */
  description: string;
  /** The run's URL: the status's log_url. */
  logUrl?: string;
  /** Where the environment is reached, when known. */
  environmentUrl?: string;
  autoInactive: boolean;
  /** GitHub's default: true only for an environment named production. */
  production?: boolean;
  transient?: boolean;
}

export interface DeploymentResult {
  environment: string;
  id: number;
  statusId: number;
  state: DeploymentStatusState;
  /** True when an earlier run's deployment was reused. */
  reused: boolean;
}

export const MAX_STATUS_DESCRIPTION = 140;

/** Cuts a description to GitHub's 140 characters (counted as code points, as GitHub counts them), ending with …. */
export function statusDescription(text: string): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  if (chars.length <= MAX_STATUS_DESCRIPTION) return chars.join('');
  return `${chars.slice(0, MAX_STATUS_DESCRIPTION - 1).join('')}…`;
}

export async function publishDeployment(request: DeploymentRequest): Promise<DeploymentResult> {
  const { octokit, owner, repo, sha, environment } = request;
  const existing = await octokit.rest.repos.listDeployments({
    owner,
    repo,
    sha,
    environment,
    task: EVIDENCE_TASK,
    per_page: 100,
  });
  const reuse = existing.data.find((d) => {
    const payload = typeof d.payload === 'object' && d.payload !== null ? (d.payload as { digest?: unknown }) : {};
    return (payload.digest ?? undefined) === (request.digest ?? undefined);
  });
  let id = reuse?.id;
  if (id === undefined) {
    const created = await octokit.rest.repos.createDeployment({
      owner,
      repo,
      ref: sha,
      task: EVIDENCE_TASK,
      environment,
      auto_merge: false,
      required_contexts: [],
      payload: {
        ...(request.digest ? { digest: request.digest } : {}),
        ...(request.recordUrl ? { record: request.recordUrl } : {}),
      },
      description: statusDescription(`Slipway evidence for ${request.digest ?? sha}`),
      production_environment: request.production ?? environment === 'production',
      transient_environment: request.transient ?? false,
    });
    // 202 is GitHub's "merged the default branch instead": impossible with auto_merge false, but typed as possible.
    if (created.status !== 201 || !('id' in created.data)) {
      throw new Error(`GitHub made no deployment for ${environment}: ${JSON.stringify(created.data)}`);
    }
    id = created.data.id;
  }
  const { data: status } = await octokit.rest.repos.createDeploymentStatus({
    owner,
    repo,
    deployment_id: id,
    state: request.state,
    description: statusDescription(request.description),
    ...(request.logUrl ? { log_url: request.logUrl } : {}),
    ...(request.environmentUrl ? { environment_url: request.environmentUrl } : {}),
    auto_inactive: request.autoInactive,
  });
  return { environment, id, statusId: status.id, state: request.state, reused: reuse !== undefined };
}
