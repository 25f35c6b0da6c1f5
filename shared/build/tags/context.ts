import { InvalidValueError, SlipwayError } from '../../core/errors.js';

// The facts about a run that tags and labels are computed from, read once from the runner's GITHUB_*
// variables and the event payload.

/** What the tags and labels are computed from; built from the runner's environment by gitContextFromEnv. */
export interface GitContext {
  /** GITHUB_EVENT_NAME. */
  eventName: string;
  /** GITHUB_REF: refs/heads/main, refs/tags/v1.2.3, refs/pull/42/merge; '' when the event has none. */
  ref: string;
  /** The commit the image is built from: for pull request events the PR head, never the merge commit. */
  sha: string;
  /** payload.repository.default_branch, or the run's branch for events that only run on the default branch. */
  defaultBranch?: string;
  prNumber?: number;
  /** `{{base_ref}}`: the branch a tag was pushed from (payload.base_ref), or a pull request's base branch. */
  baseRef?: string;
  /** RFC 3339 time of the built commit: from the payload (head_commit), else read from the checkout. */
  commitTime?: string;
  /** Where commitTime came from; unset means the event payload. */
  commitTimeSource?: 'event' | 'git';
  /** `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}`. */
  repositoryUrl: string;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

// GitHub runs these events only for the last commit of the default branch, and their payloads do not
// always say which branch that is (a schedule payload is just the cron line). metadata-action counts
// them as the default branch the same way, so `type=edge` and `enable={{is_default_branch}}` fire.
const DEFAULT_BRANCH_EVENTS = new Set(['schedule', 'create', 'discussion', 'discussion_comment', 'issues']);

/** Builds the context from GITHUB_* variables and the event payload (the parsed GITHUB_EVENT_PATH file). */
export function gitContextFromEnv(env: Readonly<Record<string, string | undefined>>, payload: unknown): GitContext {
  const eventName = required(env, 'GITHUB_EVENT_NAME');
  const repository = required(env, 'GITHUB_REPOSITORY');
  const serverUrl = required(env, 'GITHUB_SERVER_URL').replace(/\/+$/, '');
  const ref = env.GITHUB_REF ?? '';

  const pullRequest = field(payload, 'pull_request');
  let sha: string;
  let prNumber: number | undefined;
  if (eventName.startsWith('pull_request')) {
    // GITHUB_SHA is a merge commit GitHub made for the run (or, for pull_request_target, the base branch's
    // head); the image must name the commit the author pushed, or its revision label points at a commit
    // that is not what was built (metadata-action#206).
    const head = field(field(pullRequest, 'head'), 'sha');
    if (typeof head !== 'string' || !SHA.test(head)) {
      throw new SlipwayError(
        `The ${eventName} event payload has no pull_request.head.sha; it is needed because GITHUB_SHA is the merge commit, not the commit to build.`,
      );
    }
    sha = head;
    const number = field(pullRequest, 'number') ?? field(payload, 'number');
    if (typeof number === 'number' && Number.isSafeInteger(number) && number > 0) prNumber = number;
  } else {
    sha = required(env, 'GITHUB_SHA');
    if (!SHA.test(sha)) {
      throw new InvalidValueError('GITHUB_SHA', sha, '40 or 64 lowercase hex digits');
    }
  }

  const context: GitContext = { eventName, ref, sha, repositoryUrl: `${serverUrl}/${repository}` };
  const defaultBranch = stringField(field(payload, 'repository'), 'default_branch');
  const runBranch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  if (defaultBranch !== undefined) context.defaultBranch = defaultBranch;
  else if (DEFAULT_BRANCH_EVENTS.has(eventName) && runBranch !== undefined) context.defaultBranch = runBranch;
  if (prNumber !== undefined) context.prNumber = prNumber;
  const baseRef = ref.startsWith('refs/tags/')
    ? stringField(payload, 'base_ref')?.replace(/^refs\/heads\//, '')
    : eventName.startsWith('pull_request')
      ? stringField(field(pullRequest, 'base'), 'ref')
      : undefined;
  if (baseRef !== undefined && baseRef !== '') context.baseRef = baseRef;
  const commitTime = stringField(field(payload, 'head_commit'), 'timestamp');
  if (commitTime !== undefined) context.commitTime = commitTime;
  return context;
}

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new SlipwayError(`${name} is not set; it is set by the GitHub Actions runner in every job.`);
  }
  return value;
}

/** Reads one property of an untyped JSON value, undefined when it is not an object or lacks the key. */
function field(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return (value as Record<string, unknown>)[key];
}

function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === 'string' && found !== '' ? found : undefined;
}

/**
 * The ref tags are computed from. A pull_request_target run has GITHUB_REF set to the base branch, but it
 * is about the pull request: it counts as `refs/pull/<n>/merge`, as metadata-action counts it, so it gets
 * the `pr-<n>` tag and never the base branch's tag, `edge` or `{{is_default_branch}}`, which the
 * pull request's author could otherwise overwrite.
 */
export function tagRef(ctx: GitContext): string {
  if (ctx.eventName.startsWith('pull_request') && ctx.prNumber !== undefined) return `refs/pull/${ctx.prNumber}/merge`;
  return ctx.ref;
}

/** The branch of a branch run; undefined for tags and pull requests. */
export function branchOf(ctx: GitContext): string | undefined {
  const ref = tagRef(ctx);
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

export function gitTagOf(ctx: GitContext): string | undefined {
  const ref = tagRef(ctx);
  return ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
}

/** The pull request number of a pull request run. */
export function pullRequestOf(ctx: GitContext): string | undefined {
  const match = /^refs\/pull\/(.+?)(?:\/merge)?$/.exec(tagRef(ctx));
  return match?.[1];
}

/** `{{is_default_branch}}`: the run's branch is the default branch, or the event only runs there. */
export function isDefaultBranch(ctx: GitContext): boolean {
  const ref = tagRef(ctx);
  if (ref === '') return false;
  if (ctx.defaultBranch !== undefined && branchOf(ctx) === ctx.defaultBranch) return true;
  return DEFAULT_BRANCH_EVENTS.has(ctx.eventName);
}
