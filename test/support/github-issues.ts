import { commitOnBranch, git, revParse } from './git-plumbing.js';
import type { GitHost, HostedRepository, PullState, UserState } from './github-git.js';
import { DOCS, iso, type RestAnswer, type RestUrls, userJson } from './github-git-rest.js';

// What the evidence action writes to GitHub, served by the fake over its hosted repositories: issue comments (the
// sticky evidence comment on pull requests), the token's identity (GET /user), deployments with their statuses, and
// commit statuses. github-server.ts checks every request and response against the OpenAPI description.
//
// Identity, as GitHub has it: a personal access token belongs to a user, whom GET /user returns and who authors
// what the token writes; an installation token (the job's GITHUB_TOKEN) belongs to an app, so GET /user answers 403
// "Resource not accessible by integration" and what it writes is authored by github-actions[bot]. `login` in the
// server's options picks the first; without it the token is a GITHUB_TOKEN. `forbidWrites(repo)` makes the token
// read-only there, as the GITHUB_TOKEN of a pull request from a fork is: every write answers 403.

export const ISSUE_OPERATIONS: readonly [string, string][] = [
  ['get', '/user'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['patch', '/repos/{owner}/{repo}/issues/comments/{comment_id}'],
  ['get', '/repos/{owner}/{repo}/deployments'],
  ['post', '/repos/{owner}/{repo}/deployments'],
  ['get', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses'],
  ['post', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses'],
  ['post', '/repos/{owner}/{repo}/statuses/{sha}'],
  ['get', '/repos/{owner}/{repo}/commits/{ref}/statuses'],
];

export interface IssuesOptions {
  /** The user a personal access token belongs to; absent: the token is an installation token (GITHUB_TOKEN). */
  login?: string;
  /** Largest page a listing returns. */
  pageSize?: number;
}

export interface CommentState {
  id: number;
  repository: string;
  issue: number;
  body: string;
  author: UserState;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeploymentStatusState {
  id: number;
  state: string;
  description: string;
  environment: string;
  environmentUrl: string;
  logUrl: string;
  creator: UserState;
  createdAt: Date;
  /** The request's auto_inactive, as sent (undefined when left out: GitHub's default, true). */
  autoInactive?: boolean;
}

export interface DeploymentState {
  id: number;
  repository: string;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  payload: unknown;
  description: string | null;
  transient: boolean;
  production: boolean;
  creator: UserState;
  createdAt: Date;
  statuses: DeploymentStatusState[];
}

export interface CommitStatusState {
  id: number;
  repository: string;
  sha: string;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: UserState;
  createdAt: Date;
}

const NOT_ACCESSIBLE = 'Resource not accessible by integration';

export const notFound = (): RestAnswer => ({
  status: 404,
  body: { message: 'Not Found', documentation_url: DOCS, status: '404' },
});
const forbidden = (message = NOT_ACCESSIBLE): RestAnswer => ({
  status: 403,
  body: { message, documentation_url: DOCS, status: '403' },
});
const unprocessable = (message: string, field?: string): RestAnswer => ({
  status: 422,
  body: {
    message: 'Validation Failed',
    documentation_url: DOCS,
    errors: [{ resource: 'Resource', code: 'custom', message, ...(field ? { field } : {}) }],
  },
});

export class IssueStore {
  readonly comments: CommentState[] = [];
  readonly deployments: DeploymentState[] = [];
  readonly commitStatuses: CommitStatusState[] = [];
  /** owner/repo (lower case) → the 403 message every write there gets. */
  readonly #readOnly = new Map<string, string>();
  #nextId = 500_000;

  constructor(
    readonly host: GitHost,
    readonly options: IssuesOptions = {},
  ) {}

  /** Who the token is: the PAT's user, or github-actions[bot] for an installation token. */
  get identity(): UserState {
    return this.options.login ? this.host.user(this.options.login) : this.host.viewer;
  }

  /** Makes every write to `repository` answer 403, as a fork pull request's read-only GITHUB_TOKEN gets. */
  forbidWrites(repository: string, message = NOT_ACCESSIBLE): void {
    this.#readOnly.set(repository.toLowerCase(), message);
  }

  /** A comment written by someone else (or by us, with our login), to seed what a re-run meets. */
  addComment(repository: HostedRepository, issue: number, body: string, login: string): CommentState {
    const now = new Date();
    const comment: CommentState = {
      id: this.#id(),
      repository: repository.fullName.toLowerCase(),
      issue,
      body,
      author: this.host.user(login, login.endsWith('[bot]') ? 'Bot' : 'User'),
      createdAt: now,
      updatedAt: now,
    };
    this.comments.push(comment);
    return comment;
  }

  commentsOn(repository: HostedRepository, issue: number): CommentState[] {
    const key = repository.fullName.toLowerCase();
    return this.comments.filter((c) => c.repository === key && c.issue === issue);
  }

  deploymentsOf(repository: HostedRepository): DeploymentState[] {
    const key = repository.fullName.toLowerCase();
    return this.deployments.filter((d) => d.repository === key);
  }

  statusesOf(repository: HostedRepository, sha: string): CommitStatusState[] {
    const key = repository.fullName.toLowerCase();
    return this.commitStatuses.filter((s) => s.repository === key && s.sha === sha);
  }

  #id(): number {
    return this.#nextId++;
  }

  /** Answers one operation of ISSUE_OPERATIONS; `params` are the path parameters in order. */
  async handle(
    urls: RestUrls,
    method: string,
    template: string,
    params: string[],
    query: URLSearchParams,
    body: unknown,
    /** The request's own URL, for Link headers. */
    self: URL,
  ): Promise<RestAnswer> {
    const key = `${method} ${template}`;
    if (key === 'GET /user') {
      if (!this.options.login) {
        return forbidden();
      }
      const user = this.identity;
      return {
        status: 200,
        body: {
          ...userJson(urls, user),
          name: null,
          company: null,
          blog: '',
          location: null,
          email: null,
          hireable: null,
          bio: null,
          public_repos: 0,
          public_gists: 0,
          followers: 0,
          following: 0,
          created_at: '2020-01-01T00:00:00Z',
          updated_at: '2020-01-01T00:00:00Z',
        },
      };
    }
    const [owner = '', name = '', third = ''] = params;
    const r = this.host.find(owner, name);
    if (!r) return notFound();
    const repository = r.fullName.toLowerCase();
    const refusal = this.#readOnly.get(repository);
    if (refusal !== undefined && method !== 'GET') {
      return forbidden(refusal);
    }
    const input = (body ?? {}) as Record<string, unknown>;
    const api = `${urls.api}/repos/${r.fullName}`;

    switch (key) {
      case 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const issue = issueOf(r, third);
        if (!issue) return notFound();
        const all = this.commentsOn(r, issue.number).sort((a, b) => a.id - b.id);
        return listingPage(all, query, self, (c) => this.#commentJson(urls, r, c), this.options.pageSize);
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const issue = issueOf(r, third);
        if (!issue) return notFound();
        const text = String(input.body);
        if (text.length > 65_536) return unprocessable('Body is too long (maximum is 65536 characters)', 'body');
        const now = new Date();
        const comment: CommentState = {
          id: this.#id(),
          repository,
          issue: issue.number,
          body: text,
          author: this.identity,
          createdAt: now,
          updatedAt: now,
        };
        this.comments.push(comment);
        return {
          status: 201,
          body: this.#commentJson(urls, r, comment),
          headers: { location: `${api}/issues/comments/${comment.id}` },
        };
      }
      case 'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}': {
        const comment = this.comments.find((c) => c.repository === repository && c.id === Number(third));
        if (!comment) return notFound();
        // GitHub lets a token edit only what its identity wrote (unless it administers the repository, which the
        // tokens the evidence action meets do not): someone else's comment is refused.
        if (comment.author.id !== this.identity.id) {
          return forbidden();
        }
        const text = String(input.body);
        if (text.length > 65_536) return unprocessable('Body is too long (maximum is 65536 characters)', 'body');
        comment.body = text;
        comment.updatedAt = new Date();
        return { status: 200, body: this.#commentJson(urls, r, comment) };
      }
      case 'GET /repos/{owner}/{repo}/deployments': {
        const matching = this.deploymentsOf(r)
          .filter((d) => !query.has('sha') || d.sha === query.get('sha'))
          .filter((d) => !query.has('ref') || d.ref === query.get('ref'))
          .filter((d) => !query.has('task') || d.task === query.get('task'))
          .filter((d) => !query.has('environment') || d.environment === query.get('environment'))
          .sort((a, b) => b.id - a.id);
        return listingPage(matching, query, self, (d) => this.#deploymentJson(urls, r, d), this.options.pageSize);
      }
      case 'POST /repos/{owner}/{repo}/deployments': {
        const ref = String(input.ref);
        const sha = await revParse(r.dir, ref);
        if (!sha) return { status: 422, body: { message: `No ref found for: ${ref}`, documentation_url: DOCS } };
        // Left out, required_contexts means every context on the commit must be success (GitHub's default);
        // `[]` skips the check. A client that forgets it meets 409 as soon as a status is pending or failed.
        const required = Array.isArray(input.required_contexts) ? (input.required_contexts as string[]) : undefined;
        const latest = latestStatuses(this.statusesOf(r, sha));
        const failing = [...latest.values()].filter(
          (s) => (required === undefined || required.includes(s.context)) && s.state !== 'success',
        );
        const absent = (required ?? []).filter((c) => !latest.has(c));
        if (failing.length || absent.length) {
          return {
            status: 409,
            body: {
              message: `Conflict: Commit status checks failed for ${ref}.`,
              documentation_url: DOCS,
            },
          };
        }
        const environment = typeof input.environment === 'string' ? input.environment : 'production';
        const deployment: DeploymentState = {
          id: this.#id(),
          repository,
          sha,
          ref,
          task: typeof input.task === 'string' ? input.task : 'deploy',
          environment,
          payload: input.payload ?? {},
          description: typeof input.description === 'string' ? input.description : null,
          transient: input.transient_environment === true,
          production:
            typeof input.production_environment === 'boolean'
              ? input.production_environment
              : environment === 'production',
          creator: this.identity,
          createdAt: new Date(),
          statuses: [],
        };
        this.deployments.push(deployment);
        return { status: 201, body: this.#deploymentJson(urls, r, deployment) };
      }
      case 'GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses': {
        const deployment = this.deploymentsOf(r).find((d) => d.id === Number(third));
        if (!deployment) return notFound();
        const statuses = [...deployment.statuses].sort((a, b) => b.id - a.id);
        return listingPage(
          statuses,
          query,
          self,
          (s) => this.#deploymentStatusJson(urls, r, deployment, s),
          this.options.pageSize,
        );
      }
      case 'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses': {
        const deployment = this.deploymentsOf(r).find((d) => d.id === Number(third));
        if (!deployment) return notFound();
        const description = typeof input.description === 'string' ? input.description : '';
        if (description.length > 140) {
          return unprocessable('description is too long (maximum is 140 characters)', 'description');
        }
        const logUrl = typeof input.log_url === 'string' ? input.log_url : String(input.target_url ?? '');
        const previous = deployment.statuses[deployment.statuses.length - 1];
        const status: DeploymentStatusState = {
          id: this.#id(),
          state: String(input.state),
          description,
          environment:
            typeof input.environment === 'string'
              ? input.environment
              : (previous?.environment ?? deployment.environment),
          environmentUrl: typeof input.environment_url === 'string' ? input.environment_url : '',
          logUrl,
          creator: this.identity,
          createdAt: new Date(),
          ...(typeof input.auto_inactive === 'boolean' ? { autoInactive: input.auto_inactive } : {}),
        };
        deployment.statuses.push(status);
        // auto_inactive (default true), as GitHub documents it: a success marks earlier successful deployments of
        // the same environment inactive, unless they are transient or production ones.
        if (status.state === 'success' && input.auto_inactive !== false) {
          for (const earlier of this.deploymentsOf(r)) {
            const last = earlier.statuses[earlier.statuses.length - 1];
            if (earlier.id >= deployment.id || earlier.environment !== deployment.environment) continue;
            if (earlier.transient || earlier.production || last?.state !== 'success') continue;
            earlier.statuses.push({
              ...last,
              id: this.#id(),
              state: 'inactive',
              description: '',
              createdAt: new Date(),
            });
          }
        }
        return { status: 201, body: this.#deploymentStatusJson(urls, r, deployment, status) };
      }
      case 'POST /repos/{owner}/{repo}/statuses/{sha}': {
        const sha = await revParse(r.dir, third);
        if (!sha || !/^[0-9a-f]{40}$/.test(third)) return unprocessable(`No commit found for SHA: ${third}`);
        const description = typeof input.description === 'string' ? input.description : null;
        if (description && description.length > 140) {
          return unprocessable('description is too long (maximum is 140 characters)', 'description');
        }
        const status: CommitStatusState = {
          id: this.#id(),
          repository,
          sha,
          state: String(input.state),
          context: typeof input.context === 'string' ? input.context : 'default',
          description,
          targetUrl: typeof input.target_url === 'string' ? input.target_url : null,
          creator: this.identity,
          createdAt: new Date(),
        };
        this.commitStatuses.push(status);
        return { status: 201, body: this.#commitStatusJson(urls, r, status) };
      }
      case 'GET /repos/{owner}/{repo}/commits/{ref}/statuses': {
        const sha = await revParse(r.dir, third);
        if (!sha) return notFound();
        const statuses = this.statusesOf(r, sha).sort((a, b) => b.id - a.id);
        return listingPage(statuses, query, self, (s) => this.#commitStatusJson(urls, r, s), this.options.pageSize);
      }
      default:
        return notFound();
    }
  }

  #commentJson(urls: RestUrls, r: HostedRepository, c: CommentState): Record<string, unknown> {
    const api = `${urls.api}/repos/${r.fullName}`;
    return {
      id: c.id,
      node_id: `IC_${Buffer.from(`slipway-fake:${c.id}`).toString('base64url')}`,
      url: `${api}/issues/comments/${c.id}`,
      html_url: `${urls.web}/${r.fullName}/pull/${c.issue}#issuecomment-${c.id}`,
      body: c.body,
      user: userJson(urls, c.author),
      created_at: iso(c.createdAt),
      updated_at: iso(c.updatedAt),
      issue_url: `${api}/issues/${c.issue}`,
      author_association: c.author.id === r.owner.id ? 'OWNER' : 'NONE',
    };
  }

  #deploymentJson(urls: RestUrls, r: HostedRepository, d: DeploymentState): Record<string, unknown> {
    const api = `${urls.api}/repos/${r.fullName}`;
    return {
      url: `${api}/deployments/${d.id}`,
      id: d.id,
      node_id: `DE_${Buffer.from(`slipway-fake:${d.id}`).toString('base64url')}`,
      sha: d.sha,
      ref: d.ref,
      task: d.task,
      payload: d.payload,
      original_environment: d.environment,
      environment: d.environment,
      description: d.description,
      creator: userJson(urls, d.creator),
      created_at: iso(d.createdAt),
      updated_at: iso(d.statuses[d.statuses.length - 1]?.createdAt ?? d.createdAt),
      statuses_url: `${api}/deployments/${d.id}/statuses`,
      repository_url: api,
      transient_environment: d.transient,
      production_environment: d.production,
    };
  }

  #deploymentStatusJson(
    urls: RestUrls,
    r: HostedRepository,
    d: DeploymentState,
    s: DeploymentStatusState,
  ): Record<string, unknown> {
    const api = `${urls.api}/repos/${r.fullName}`;
    return {
      url: `${api}/deployments/${d.id}/statuses/${s.id}`,
      id: s.id,
      node_id: `DES_${Buffer.from(`slipway-fake:${s.id}`).toString('base64url')}`,
      state: s.state,
      creator: userJson(urls, s.creator),
      description: s.description,
      environment: s.environment,
      // GitHub answers "" for URLs never given, which the description's `format: uri` refuses: the optional ones
      // are left out, and the required target_url falls back to the deployment's own URL.
      target_url: s.logUrl || `${api}/deployments/${d.id}`,
      ...(s.logUrl ? { log_url: s.logUrl } : {}),
      ...(s.environmentUrl ? { environment_url: s.environmentUrl } : {}),
      created_at: iso(s.createdAt),
      updated_at: iso(s.createdAt),
      deployment_url: `${api}/deployments/${d.id}`,
      repository_url: api,
    };
  }

  #commitStatusJson(urls: RestUrls, r: HostedRepository, s: CommitStatusState): Record<string, unknown> {
    return {
      url: `${urls.api}/repos/${r.fullName}/statuses/${s.sha}`,
      avatar_url: `${urls.web}/avatars/${s.creator.id}`,
      id: s.id,
      node_id: `SC_${Buffer.from(`slipway-fake:${s.id}`).toString('base64url')}`,
      state: s.state,
      description: s.description,
      target_url: s.targetUrl,
      context: s.context,
      created_at: iso(s.createdAt),
      updated_at: iso(s.createdAt),
      creator: userJson(urls, s.creator),
    };
  }
}

/**
 * A page of a listing, paged as GitHub pages: page and per_page (at most 100, and at most `pageSize` when a test
 * asks for small pages), with a Link to the next page.
 */
export function listingPage<T>(
  all: T[],
  query: URLSearchParams,
  self: URL,
  json: (item: T) => unknown,
  pageSize = 100,
): RestAnswer {
  const perPage = Math.min(Number(query.get('per_page') ?? 30), 100, pageSize);
  const page = Number(query.get('page') ?? 1);
  const slice = all.slice((page - 1) * perPage, page * perPage);
  const headers: Record<string, string> = {};
  if (page * perPage < all.length) {
    const next = new URL(self);
    next.searchParams.set('page', String(page + 1));
    headers.link = `<${next}>; rel="next"`;
  }
  return { status: 200, body: slice.map(json), headers };
}

/** Issues are pull requests here: the fake hosts no plain issues. */
function issueOf(r: HostedRepository, number: string): PullState | undefined {
  return r.pulls.find((p) => p.number === Number(number));
}

/** The newest status per context, as GitHub's combined status counts them. */
function latestStatuses(statuses: CommitStatusState[]): Map<string, CommitStatusState> {
  const latest = new Map<string, CommitStatusState>();
  for (const s of [...statuses].sort((a, b) => a.id - b.id)) latest.set(s.context, s);
  return latest;
}

/**
 * Test helper: a pull request from a new branch with one commit on top of the default branch; returns it with its
 * head commit.
 */
export async function openPullRequest(
  host: GitHost,
  repository: HostedRepository,
  options: { branch: string; title: string; files?: Record<string, string> },
): Promise<{ pull: PullState; head: string }> {
  const base = await revParse(repository.dir, `refs/heads/${repository.defaultBranch}`);
  if (!base) throw new Error(`${repository.fullName} has no ${repository.defaultBranch} to branch from`);
  await git(repository.dir, ['update-ref', `refs/heads/${options.branch}`, base]);
  const head = await commitOnBranch(repository.dir, options.branch, {
    files: options.files ?? { [`${options.branch.replace(/\W/g, '-')}.txt`]: `${options.title}\n` },
    message: options.title,
  });
  const pull = await host.createPull(repository, {
    title: options.title,
    body: null,
    head: options.branch,
    base: repository.defaultBranch,
  });
  return { pull, head };
}
