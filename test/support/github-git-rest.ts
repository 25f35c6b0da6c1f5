import {
  type GitHost,
  GitHubError,
  type HostedRepository,
  type LabelState,
  type MergeMethod,
  type PullState,
  type UserState,
} from './github-git.js';

// The REST operations the fake serves over its git repositories: repository, git refs, pulls, labels and
// review requests. The shapes are what api.github.com sends; github-server.ts checks every request and
// response against the OpenAPI description, so a missing field here is a recorded schema error.

export const GIT_OPERATIONS: readonly [string, string][] = [
  ['get', '/repos/{owner}/{repo}'],
  ['get', '/repos/{owner}/{repo}/git/ref/{ref}'],
  ['post', '/repos/{owner}/{repo}/git/refs'],
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['post', '/repos/{owner}/{repo}/pulls'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['patch', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['put', '/repos/{owner}/{repo}/pulls/{pull_number}/merge'],
  ['post', '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/labels'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/labels'],
  ['get', '/repos/{owner}/{repo}/labels'],
  ['post', '/repos/{owner}/{repo}/labels'],
];

export interface RestAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RestUrls {
  /** API base, e.g. http://127.0.0.1:port or …/api/v3. */
  api: string;
  web: string;
}

export const DOCS = 'https://docs.github.com/rest';

export function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function userJson(urls: RestUrls, user: UserState): Record<string, unknown> {
  const login = encodeURIComponent(user.login);
  const api = `${urls.api}/users/${login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: user.nodeId,
    avatar_url: `${urls.web}/avatars/${user.id}`,
    gravatar_id: '',
    url: api,
    html_url: `${urls.web}/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    site_admin: false,
  };
}

const REPO_URLS: Record<string, string> = {
  archive_url: '/{archive_format}{/ref}',
  assignees_url: '/assignees{/user}',
  blobs_url: '/git/blobs{/sha}',
  branches_url: '/branches{/branch}',
  collaborators_url: '/collaborators{/collaborator}',
  comments_url: '/comments{/number}',
  commits_url: '/commits{/sha}',
  compare_url: '/compare/{base}...{head}',
  contents_url: '/contents/{+path}',
  contributors_url: '/contributors',
  deployments_url: '/deployments',
  downloads_url: '/downloads',
  events_url: '/events',
  forks_url: '/forks',
  git_commits_url: '/git/commits{/sha}',
  git_refs_url: '/git/refs{/sha}',
  git_tags_url: '/git/tags{/sha}',
  hooks_url: '/hooks',
  issue_comment_url: '/issues/comments{/number}',
  issue_events_url: '/issues/events{/number}',
  issues_url: '/issues{/number}',
  keys_url: '/keys{/key_id}',
  labels_url: '/labels{/name}',
  languages_url: '/languages',
  merges_url: '/merges',
  milestones_url: '/milestones{/number}',
  notifications_url: '/notifications{?since,all,participating}',
  pulls_url: '/pulls{/number}',
  releases_url: '/releases{/id}',
  stargazers_url: '/stargazers',
  statuses_url: '/statuses/{sha}',
  subscribers_url: '/subscribers',
  subscription_url: '/subscription',
  tags_url: '/tags',
  teams_url: '/teams',
  trees_url: '/git/trees{/sha}',
};

function repositoryJson(urls: RestUrls, r: HostedRepository, full: boolean): Record<string, unknown> {
  const api = `${urls.api}/repos/${r.fullName}`;
  const html = `${urls.web}/${r.fullName}`;
  const links = Object.fromEntries(Object.entries(REPO_URLS).map(([key, suffix]) => [key, `${api}${suffix}`]));
  const openPulls = r.pulls.filter((p) => p.state === 'open').length;
  return {
    id: r.id,
    node_id: r.nodeId,
    name: r.name,
    full_name: r.fullName,
    owner: userJson(urls, r.owner),
    private: true,
    html_url: html,
    description: null,
    fork: false,
    url: api,
    ...links,
    clone_url: `${html}.git`,
    git_url: `${html.replace(/^https?:/, 'git:')}.git`,
    ssh_url: `git@${new URL(urls.web).host}:${r.fullName}.git`,
    svn_url: html,
    mirror_url: null,
    homepage: null,
    language: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 0,
    default_branch: r.defaultBranch,
    open_issues: openPulls,
    open_issues_count: openPulls,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: 'private',
    license: null,
    allow_forking: false,
    pushed_at: iso(new Date()),
    created_at: iso(r.createdAt),
    updated_at: iso(new Date()),
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    ...(full
      ? {
          allow_auto_merge: r.autoMerge !== 'disallowed',
          allow_merge_commit: true,
          allow_squash_merge: true,
          allow_rebase_merge: true,
          delete_branch_on_merge: false,
          network_count: 0,
          subscribers_count: 0,
          organization: r.owner.type === 'Organization' ? userJson(urls, r.owner) : null,
        }
      : {}),
  };
}

function labelJson(urls: RestUrls, r: HostedRepository, label: LabelState): Record<string, unknown> {
  return {
    id: label.id,
    node_id: label.nodeId,
    url: `${urls.api}/repos/${r.fullName}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    // The description says string, not nullable, for labels on pulls and issues.
    description: label.description ?? '',
    color: label.color,
    default: false,
  };
}

async function pullJson(
  host: GitHost,
  urls: RestUrls,
  r: HostedRepository,
  pull: PullState,
  full: boolean,
): Promise<Record<string, unknown>> {
  const api = `${urls.api}/repos/${r.fullName}`;
  const html = `${urls.web}/${r.fullName}/pull/${pull.number}`;
  const headSha = await host.headOf(r, pull);
  const baseSha = (await host.head(r, pull.base)) ?? '';
  const repo = repositoryJson(urls, r, false);
  const author = userJson(urls, host.viewer);
  const side = (ref: string, sha: string) => ({
    label: `${r.owner.login}:${ref}`,
    ref,
    sha,
    user: userJson(urls, r.owner),
    repo,
  });
  const link = (href: string) => ({ href });
  const simple: Record<string, unknown> = {
    url: `${api}/pulls/${pull.number}`,
    id: pull.id,
    node_id: pull.nodeId,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: author,
    body: pull.body,
    labels: pull.labels.flatMap((id) => {
      const label = r.labels.find((l) => l.id === id);
      return label ? [labelJson(urls, r, label)] : [];
    }),
    milestone: null,
    active_lock_reason: null,
    created_at: iso(pull.createdAt),
    updated_at: iso(pull.updatedAt),
    closed_at: pull.closedAt ? iso(pull.closedAt) : null,
    merged_at: pull.merged && pull.closedAt ? iso(pull.closedAt) : null,
    merge_commit_sha: pull.mergeCommit ?? null,
    assignee: null,
    assignees: [],
    requested_reviewers: pull.reviewers.map((login) => userJson(urls, host.user(login))),
    requested_teams: pull.teamReviewers.flatMap((slug) => {
      const team = r.teams.find((t) => t.slug === slug);
      if (!team) return [];
      const teamApi = `${urls.api}/orgs/${r.owner.login}/teams/${slug}`;
      return [
        {
          id: team.id,
          node_id: team.nodeId,
          url: teamApi,
          members_url: `${teamApi}/members{/member}`,
          name: team.name,
          description: null,
          permission: 'pull',
          privacy: 'closed',
          notification_setting: 'notifications_enabled',
          html_url: `${urls.web}/orgs/${r.owner.login}/teams/${slug}`,
          repositories_url: `${teamApi}/repos`,
          parent: null,
          slug,
          type: 'organization',
        },
      ];
    }),
    head: side(pull.head, headSha),
    base: side(pull.base, baseSha),
    _links: {
      self: link(`${api}/pulls/${pull.number}`),
      html: link(html),
      issue: link(`${api}/issues/${pull.number}`),
      comments: link(`${api}/issues/${pull.number}/comments`),
      review_comments: link(`${api}/pulls/${pull.number}/comments`),
      review_comment: link(`${api}/pulls/comments{/number}`),
      commits: link(`${api}/pulls/${pull.number}/commits`),
      statuses: link(`${api}/statuses/${headSha}`),
    },
    author_association: 'NONE',
    auto_merge: pull.autoMerge
      ? { enabled_by: author, merge_method: pull.autoMerge.method, commit_title: '', commit_message: '' }
      : null,
    draft: pull.draft,
  };
  if (!full) return simple;
  return {
    ...simple,
    merged: pull.merged,
    mergeable: pull.state === 'open' ? true : null,
    rebaseable: pull.state === 'open' ? true : null,
    mergeable_state: pull.state === 'open' ? 'clean' : 'unknown',
    merged_by: pull.merged ? author : null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: 0,
    deletions: 0,
    changed_files: 0,
  };
}

function gitRefJson(urls: RestUrls, r: HostedRepository, ref: string, sha: string): Record<string, unknown> {
  const api = `${urls.api}/repos/${r.fullName}`;
  return {
    ref,
    node_id: `REF_${Buffer.from(`${r.id}:${ref}`).toString('base64url')}`,
    url: `${api}/git/${ref}`,
    object: { type: 'commit', sha, url: `${api}/git/commits/${sha}` },
  };
}

function failure(error: GitHubError): RestAnswer {
  return {
    status: error.status,
    body: {
      message: error.errors ? 'Validation Failed' : error.message,
      documentation_url: DOCS,
      ...(error.errors ? { errors: error.errors } : {}),
      ...(error.status === 422 && !error.errors ? { errors: [{ code: 'custom', message: error.message }] } : {}),
    },
  };
}

/** Answers one REST operation of GIT_OPERATIONS; `params` are the path parameters in order. */
export async function handleGitRest(
  host: GitHost,
  urls: RestUrls,
  method: string,
  template: string,
  params: string[],
  query: URLSearchParams,
  body: unknown,
): Promise<RestAnswer> {
  const [owner = '', name = '', third = ''] = params;
  const input = (body ?? {}) as Record<string, unknown>;
  try {
    const r = host.find(owner, name);
    if (!r) return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
    const key = `${method} ${template}`;
    switch (key) {
      case 'GET /repos/{owner}/{repo}':
        return { status: 200, body: repositoryJson(urls, r, true) };
      case 'GET /repos/{owner}/{repo}/git/ref/{ref}': {
        const ref = `refs/${third}`;
        const sha = await host.head(r, ref.replace(/^refs\/heads\//, ''));
        if (!ref.startsWith('refs/heads/') || !sha) {
          return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
        }
        return { status: 200, body: gitRefJson(urls, r, ref, sha) };
      }
      case 'POST /repos/{owner}/{repo}/git/refs': {
        await host.createRef(r, String(input.ref), String(input.sha));
        return { status: 201, body: gitRefJson(urls, r, String(input.ref), String(input.sha)) };
      }
      case 'GET /repos/{owner}/{repo}/pulls': {
        const state = query.get('state') ?? 'open';
        const head = query.get('head');
        const base = query.get('base');
        const perPage = Number(query.get('per_page') ?? 30);
        const page = Number(query.get('page') ?? 1);
        const matching = r.pulls
          .filter((p) => state === 'all' || p.state === state)
          .filter((p) => !head || `${r.owner.login}:${p.head}`.toLowerCase() === head.toLowerCase())
          .filter((p) => !base || p.base === base)
          .sort((a, b) => b.number - a.number);
        const slice = matching.slice((page - 1) * perPage, page * perPage);
        return { status: 200, body: await Promise.all(slice.map((p) => pullJson(host, urls, r, p, false))) };
      }
      case 'POST /repos/{owner}/{repo}/pulls': {
        const pull = await host.createPull(r, {
          title: String(input.title ?? ''),
          body: typeof input.body === 'string' ? input.body : null,
          head: String(input.head),
          base: String(input.base),
          draft: input.draft === true,
        });
        return { status: 201, body: await pullJson(host, urls, r, pull, true) };
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}':
        return { status: 200, body: await pullJson(host, urls, r, host.pull(r, Number(third)), true) };
      case 'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': {
        const pull = host.pull(r, Number(third));
        host.updatePull(pull, {
          title: typeof input.title === 'string' ? input.title : null,
          body: typeof input.body === 'string' ? input.body : null,
          state: typeof input.state === 'string' ? input.state : null,
        });
        return { status: 200, body: await pullJson(host, urls, r, pull, true) };
      }
      case 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge': {
        const sha = await host.merge(r, host.pull(r, Number(third)), {
          sha: typeof input.sha === 'string' ? input.sha : null,
          method: (typeof input.merge_method === 'string' ? input.merge_method : 'merge') as MergeMethod,
          title: typeof input.commit_title === 'string' ? input.commit_title : null,
          message: typeof input.commit_message === 'string' ? input.commit_message : null,
        });
        return { status: 200, body: { sha, merged: true, message: 'Pull Request successfully merged' } };
      }
      case 'POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers': {
        const pull = host.pull(r, Number(third));
        host.requestReviewers(
          r,
          pull,
          (input.reviewers as string[] | undefined) ?? [],
          (input.team_reviewers as string[] | undefined) ?? [],
        );
        return { status: 201, body: await pullJson(host, urls, r, pull, false) };
      }
      case 'GET /repos/{owner}/{repo}/issues/{issue_number}/labels': {
        const pull = host.pull(r, Number(third));
        return {
          status: 200,
          body: pull.labels.flatMap((id) => {
            const label = r.labels.find((l) => l.id === id);
            return label ? [labelJson(urls, r, label)] : [];
          }),
        };
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/labels': {
        const pull = host.pull(r, Number(third));
        const raw = Array.isArray(body) ? body : (input.labels as unknown[] | undefined);
        const names = (raw ?? []).map((l) => (typeof l === 'string' ? l : String((l as { name: string }).name)));
        host.addLabelsByName(r, pull, names);
        return {
          status: 200,
          body: pull.labels.flatMap((id) => {
            const label = r.labels.find((l) => l.id === id);
            return label ? [labelJson(urls, r, label)] : [];
          }),
        };
      }
      case 'GET /repos/{owner}/{repo}/labels':
        return { status: 200, body: r.labels.map((l) => labelJson(urls, r, l)) };
      case 'POST /repos/{owner}/{repo}/labels': {
        const label = host.createLabel(
          r,
          String(input.name),
          typeof input.color === 'string' ? input.color.replace(/^#/, '') : undefined,
          typeof input.description === 'string' ? input.description : null,
        );
        return { status: 201, body: labelJson(urls, r, label) };
      }
      default:
        return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
    }
  } catch (error) {
    if (error instanceof GitHubError) return failure(error);
    throw error;
  }
}
