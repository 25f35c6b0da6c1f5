import type { Logger } from '../../core/logger.js';
import { GitHubApiError } from '../../github/errors.js';
import type { SlipwayOctokit } from '../../github/octokit.js';
import { withoutRecordedTime } from '../render.js';

// The sticky evidence comment: one comment per pull request and evidence key, found again on every run by its hidden
// marker and updated in place, so a pull request carries the latest evidence rather than one comment per run.
// Only a comment that starts with the marker AND that we wrote is ours: anyone can paste the marker into a comment
// (quoting ours, or on purpose), and editing a person's comment would put our text under their name — so the author
// must be the token's own identity (marocchino/sticky-pull-request-comment#332). An unchanged body is not written
// again: an edit notifies subscribers and moves nothing forward (marocchino/sticky-pull-request-comment#1064).

/** The login GitHub's Actions app writes as: the job's GITHUB_TOKEN is an installation token of that app. */
export const ACTIONS_BOT_LOGIN = 'github-actions[bot]';

export interface StickyCommentRequest {
  octokit: SlipwayOctokit;
  owner: string;
  repo: string;
  issueNumber: number;
  /** `<!-- slipway:evidence:<key> -->`; the body starts with it (it is put in front when it does not). */
  marker: string;
  body: string;
  /** The token's login, when the caller already knows it (tokenLogin); looked up otherwise. */
  login?: string;
  logger?: Logger;
}

export interface StickyCommentResult {
  url: string;
  id: number;
  action: 'created' | 'updated' | 'unchanged';
}

/**
 * Who the token writes as. A personal access token (or an OAuth token) belongs to a user, whom GET /user names. An
 * installation token — the job's GITHUB_TOKEN included — belongs to an app, not a user: GET /user answers 403
 * "Resource not accessible by integration", and what it writes is authored by the app's bot, which for
 * GITHUB_TOKEN is github-actions[bot]. (Another app's installation token writes as `<app-slug>[bot]`, which the
 * token cannot look up without the app's own key: such a token's earlier comments are not recognised and a new one
 * is made, never someone else's edited.)
 */
export async function tokenLogin(octokit: SlipwayOctokit): Promise<string> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    return data.login;
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 403) return ACTIONS_BOT_LOGIN;
    throw error;
  }
}

/**
 * Same evidence: equal but for line endings and the time each was recorded (a re-run is not news). GitHub stores
 * what it is sent, but answers with CRLF line ends where a browser edited; compare without them.
 */
function sameBody(a: string | undefined, b: string): boolean {
  const comparable = (body: string) => withoutRecordedTime(body.replace(/\r\n/g, '\n'));
  return a !== undefined && comparable(a) === comparable(b);
}

/** Creates the evidence comment on a pull request, or updates ours in place, or leaves it when it already says this. */
export async function publishStickyComment(request: StickyCommentRequest): Promise<StickyCommentResult> {
  const { octokit, owner, repo, issueNumber, marker } = request;
  const body = request.body.startsWith(marker) ? request.body : `${marker}\n${request.body}`;
  const login = request.login ?? (await tokenLogin(octokit));
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: issueNumber,
    per_page: 100,
  });
  const others: number[] = [];
  const ours = comments.find((comment) => {
    if (!comment.body?.startsWith(marker)) return false;
    if (comment.user?.login.toLowerCase() === login.toLowerCase()) return true;
    others.push(comment.id);
    return false;
  });
  if (others.length) {
    request.logger?.debug(
      `Pull request #${issueNumber}: comment(s) ${others.join(', ')} carry the evidence marker but were written by ` +
        `someone other than ${login}; they are left alone.`,
    );
  }
  if (ours && sameBody(ours.body, body)) {
    return { url: ours.html_url, id: ours.id, action: 'unchanged' };
  }
  if (ours) {
    const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: ours.id, body });
    return { url: data.html_url, id: data.id, action: 'updated' };
  }
  const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
  return { url: data.html_url, id: data.id, action: 'created' };
}
