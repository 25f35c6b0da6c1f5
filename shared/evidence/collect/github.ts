import { ConfigurationError } from '../../core/errors.js';
import { GitHubApiError } from '../../github/errors.js';
import type { SlipwayOctokit } from '../../github/octokit.js';
import type { DeploymentEvidence, EvidenceItem, Provenance, PullRequestEvidence, RunEvidence } from '../types.js';

// What GitHub knows about a release: the pull request that brought the commit in, its reviews, and the run that
// built it. Three to four API calls: the pull requests of the commit (or the one the `pull-request` input names),
// the merged pull request itself (only it says who merged), its reviews (paginated), and the run.
//
// Which pull request: GitHub's `commits/{sha}/pulls` lists the merged pull request that introduced a commit on the
// default branch, and the open ones whose head it is elsewhere. The release is of the commit, so a merged pull
// request whose merge commit IS the commit comes first (a merge or squash), then an open one whose head is the
// commit (a release from a pull request's build), then any merged one GitHub associates (a rebase merge, whose
// commits are copies). Anything else is not this commit's pull request, and the item is missing, saying so.
//
// Reviews: the latest decision per reviewer, in the order GitHub lists them (submission order). COMMENTED is not a
// decision and replaces nothing; DISMISSED is (GitHub rewrites a dismissed review's state), so a dismissed approval
// no longer approves. Approvers are the reviewers whose latest decision is APPROVED, without the author: nobody
// approves their own change.
//
// The run: from the API when it answers; otherwise from the runner's GITHUB_* variables with provenance `event`,
// since a job always knows its own run even when its token cannot read Actions (a fork's read-only token).

export interface CollectGitHubOptions {
  octokit: SlipwayOctokit;
  owner: string;
  repo: string;
  /** The released commit (the build record's source commit, or GITHUB_SHA). */
  commit: string;
  /** The `pull-request` input: this pull request rather than the commit's. */
  pullRequest?: number;
  /** GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT of the job. */
  runId?: number;
  attempt?: number;
  /** The runner's variables, for the run when the API cannot be asked (GITHUB_SERVER_URL, GITHUB_WORKFLOW, …). */
  env?: Readonly<Record<string, string | undefined>>;
}

export type GitHubEvidence = {
  pullRequest: EvidenceItem<PullRequestEvidence>;
  run: EvidenceItem<RunEvidence>;
  deployments: EvidenceItem<DeploymentEvidence[]>;
};

type PullSimple = Awaited<
  ReturnType<SlipwayOctokit['rest']['repos']['listPullRequestsAssociatedWithCommit']>
>['data'][number];
type PullFull = Awaited<ReturnType<SlipwayOctokit['rest']['pulls']['get']>>['data'];
type Review = Awaited<ReturnType<SlipwayOctokit['rest']['pulls']['listReviews']>>['data'][number];

const PULL_REQUEST_INPUT = 'pull-request';

export async function collectGitHub(options: CollectGitHubOptions): Promise<GitHubEvidence> {
  const [pullRequest, run, deployments] = await Promise.all([
    collectPullRequest(options),
    collectRun(options),
    collectDeployments(options),
  ]);
  return { pullRequest, run, deployments };
}

/** The most environments whose deployments of the commit are read; each costs a call for its latest status. */
const MAX_DEPLOYMENTS = 20;

/**
 * The deployment events GitHub has for the commit, newest first: one per environment, with its latest status
 * (this action's own earlier runs, or any other tool's). The ones this run creates are published after the record
 * is written, so they show in the next run's record and in the step's log.
 */
async function collectDeployments(options: CollectGitHubOptions): Promise<EvidenceItem<DeploymentEvidence[]>> {
  const { octokit, owner, repo, commit } = options;
  const location = `GET /repos/${owner}/${repo}/deployments?sha=${commit}`;
  try {
    const { data } = await octokit.rest.repos.listDeployments({ owner, repo, sha: commit, per_page: 100 });
    // Newest first, as GitHub lists them: the first of each environment is the one in force.
    const latest = new Map<string, (typeof data)[number]>();
    for (const deployment of data)
      if (!latest.has(deployment.environment)) latest.set(deployment.environment, deployment);
    const chosen = [...latest.values()].slice(0, MAX_DEPLOYMENTS);
    if (chosen.length === 0) return { state: 'missing', reason: `GitHub has no deployment of ${commit.slice(0, 12)}` };
    const events = await Promise.all(
      chosen.map(async (deployment): Promise<DeploymentEvidence> => {
        const { data: statuses } = await octokit.rest.repos.listDeploymentStatuses({
          owner,
          repo,
          deployment_id: deployment.id,
          per_page: 1,
        });
        const status = statuses[0];
        return {
          environment: deployment.environment,
          id: deployment.id,
          // A deployment without a status yet is pending, as GitHub shows it; so is a queued one.
          state: (!status || status.state === 'queued' ? 'pending' : status.state) as DeploymentEvidence['state'],
          ...(status?.environment_url ? { url: status.environment_url } : {}),
          at: status?.created_at ?? deployment.created_at,
        };
      }),
    );
    return {
      state: events.some((e) => e.state === 'failure' || e.state === 'error') ? 'failed' : 'present',
      from: [{ kind: 'github-api', location }],
      value: events,
    };
  } catch (error) {
    if (!(error instanceof GitHubApiError)) throw error;
    return { state: 'missing', reason: `${location} failed (${error.status || 'no answer'})` };
  }
}

async function collectPullRequest(options: CollectGitHubOptions): Promise<EvidenceItem<PullRequestEvidence>> {
  const { octokit, owner, repo, commit } = options;
  const from: Provenance[] = [];
  let pull: PullSimple | PullFull;
  if (options.pullRequest !== undefined) {
    from.push({ kind: 'input', location: PULL_REQUEST_INPUT });
    pull = await getPull(options, options.pullRequest, from, true);
  } else {
    const location = `GET /repos/${owner}/${repo}/commits/${commit}/pulls`;
    let pulls: PullSimple[];
    try {
      ({ data: pulls } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
        owner,
        repo,
        commit_sha: commit,
        per_page: 100,
      }));
    } catch (error) {
      if (!(error instanceof GitHubApiError)) throw error;
      return { state: 'missing', reason: `the pull request of ${commit} could not be asked: ${error.message}` };
    }
    from.push({ kind: 'github-api', location });
    const chosen = choosePull(pulls, commit);
    if (!chosen) {
      return {
        state: 'missing',
        reason:
          pulls.length === 0
            ? `no pull request is associated with ${commit} (${location}): was it pushed without one?`
            : `none of the pull requests associated with ${commit} (${pulls.map((p) => `#${p.number}`).join(', ')}) merged it or has it as head`,
      };
    }
    pull = chosen;
    // Only the pull request itself says who merged it.
    if (pull.merged_at) pull = await getPull(options, pull.number, from, false);
  }

  let reviews: Review[];
  const reviewsLocation = `GET /repos/${owner}/${repo}/pulls/${pull.number}/reviews`;
  try {
    reviews = await octokit.paginate(octokit.rest.pulls.listReviews, {
      owner,
      repo,
      pull_number: pull.number,
      per_page: 100,
    });
  } catch (error) {
    if (!(error instanceof GitHubApiError)) throw error;
    return { state: 'missing', reason: `the reviews of #${pull.number} could not be read: ${error.message}` };
  }
  from.push({ kind: 'github-api', location: reviewsLocation });

  const author = pull.user?.login ?? 'ghost';
  const decisions = latestDecisions(reviews);
  const value: PullRequestEvidence = {
    number: pull.number,
    title: pull.title,
    url: pull.html_url,
    author,
    headRef: pull.head.ref,
    baseRef: pull.base.ref,
    headSha: pull.head.sha,
    ...(pull.merged_at ? { mergedAt: pull.merged_at } : {}),
    ...('merged_by' in pull && pull.merged_by ? { mergedBy: pull.merged_by.login } : {}),
    reviews: decisions,
    approvers: decisions
      .filter((review) => review.state === 'APPROVED' && review.login.toLowerCase() !== author.toLowerCase())
      .map((review) => review.login),
  };
  return { state: 'present', from, value };
}

async function getPull(
  options: CollectGitHubOptions,
  number: number,
  from: Provenance[],
  fromInput: boolean,
): Promise<PullFull> {
  const { octokit, owner, repo } = options;
  try {
    const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: number });
    from.push({ kind: 'github-api', location: `GET /repos/${owner}/${repo}/pulls/${number}` });
    return data;
  } catch (error) {
    if (fromInput && error instanceof GitHubApiError && error.status === 404) {
      const wrapped = new ConfigurationError(
        PULL_REQUEST_INPUT,
        String(number),
        `the number of a pull request of ${owner}/${repo}, or empty to find the commit's`,
        `${owner}/${repo} has no pull request #${number} the token can see`,
      );
      wrapped.cause = error;
      throw wrapped;
    }
    throw error;
  }
}

/** The commit's own pull request among those GitHub associates with it (see the header). */
export function choosePull<
  P extends Pick<PullSimple, 'state' | 'merged_at' | 'merge_commit_sha'> & { head: { sha: string } },
>(pulls: readonly P[], commit: string): P | undefined {
  const same = (sha: string | null | undefined) => sha?.toLowerCase() === commit.toLowerCase();
  return (
    pulls.find((pull) => pull.merged_at && same(pull.merge_commit_sha)) ??
    pulls.find((pull) => pull.state === 'open' && same(pull.head.sha)) ??
    pulls.find((pull) => pull.merged_at)
  );
}

/** The latest decision per reviewer (see the header), oldest first. */
export function latestDecisions(
  reviews: readonly Pick<Review, 'user' | 'state' | 'submitted_at' | 'commit_id'>[],
): PullRequestEvidence['reviews'] {
  const latest = new Map<string, PullRequestEvidence['reviews'][number]>();
  for (const review of reviews) {
    const login = review.user?.login;
    const state = review.state;
    if (!login || (state !== 'APPROVED' && state !== 'CHANGES_REQUESTED' && state !== 'DISMISSED')) continue;
    // A later decision replaces the earlier one: delete first, so the map's order is the order of decisions.
    const key = login.toLowerCase();
    latest.delete(key);
    latest.set(key, {
      login,
      state,
      submittedAt: review.submitted_at ?? '',
      ...(review.commit_id ? { commit: review.commit_id } : {}),
    });
  }
  return [...latest.values()];
}

async function collectRun(options: CollectGitHubOptions): Promise<EvidenceItem<RunEvidence>> {
  const { octokit, owner, repo, runId, attempt, env = {} } = options;
  if (runId === undefined) return runFromEnvironment(env, 'no run id was given (GITHUB_RUN_ID)');
  const location = `GET /repos/${owner}/${repo}/actions/runs/${runId}`;
  try {
    const { data: run } = await octokit.rest.actions.getWorkflowRun({ owner, repo, run_id: runId });
    const runAttempt = attempt ?? run.run_attempt ?? 1;
    const value: RunEvidence = {
      repository: run.repository.full_name,
      ...(run.name ? { workflow: run.name } : {}),
      runId: String(run.id),
      attempt: runAttempt,
      url: runAttempt > 1 ? `${run.html_url}/attempts/${runAttempt}` : run.html_url,
      event: run.event,
      ...(run.triggering_actor?.login || run.actor?.login
        ? { actor: run.triggering_actor?.login ?? run.actor?.login }
        : {}),
      // The API gives the branch or tag name only (head_branch), not whether it is a branch or a tag.
      ...(run.head_branch ? { ref: run.head_branch } : {}),
      commit: run.head_sha,
    };
    return { state: 'present', from: [{ kind: 'github-api', location }], value };
  } catch (error) {
    if (!(error instanceof GitHubApiError)) throw error;
    return runFromEnvironment(env, `${location} failed (${error.status || 'no answer'})`, runId, attempt);
  }
}

/** The run as the runner describes it to the job: what the job can vouch for even when the API does not answer. */
export function runFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  why: string,
  runId?: number,
  attempt?: number,
): EvidenceItem<RunEvidence> {
  const id = runId === undefined ? env.GITHUB_RUN_ID : String(runId);
  const repository = env.GITHUB_REPOSITORY;
  if (!id || !/^\d+$/.test(id) || !repository) {
    return { state: 'missing', reason: `${why}, and GITHUB_RUN_ID and GITHUB_REPOSITORY are not set` };
  }
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const runAttempt = attempt ?? (Number(env.GITHUB_RUN_ATTEMPT) || 1);
  const url = `${server}/${repository}/actions/runs/${id}${runAttempt > 1 ? `/attempts/${runAttempt}` : ''}`;
  const optional = (name: keyof RunEvidence, variable: string) => (env[variable] ? { [name]: env[variable] } : {});
  return {
    state: 'present',
    from: [{ kind: 'event', location: 'GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_REPOSITORY' }],
    reason: `${why}: taken from the runner's environment`,
    value: {
      repository,
      runId: id,
      attempt: runAttempt,
      url,
      ...optional('workflow', 'GITHUB_WORKFLOW'),
      ...optional('event', 'GITHUB_EVENT_NAME'),
      ...optional('actor', 'GITHUB_TRIGGERING_ACTOR'),
      ...(env.GITHUB_TRIGGERING_ACTOR ? {} : optional('actor', 'GITHUB_ACTOR')),
      ...optional('ref', 'GITHUB_REF'),
      ...optional('commit', 'GITHUB_SHA'),
    },
  };
}
