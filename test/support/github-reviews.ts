import { git } from './git-plumbing.js';
import type { GitHost, HostedRepository } from './github-git.js';
import { DOCS, handleGitRest, iso, type RestAnswer, type RestUrls, userJson } from './github-git-rest.js';
import { listingPage, notFound } from './github-issues.js';

// What the evidence action reads from GitHub, served by the fake over its hosted repositories: the pull requests
// associated with a commit, a pull request's reviews (paginated), and a workflow run. github-server.ts checks every
// request and response against the OpenAPI description. Pull requests are github-git.ts's own (the pull request
// JSON comes from github-git-rest.ts, so both views agree, author included: the token's identity, which opens
// every pull request in the fake); reviews and runs are seeded by tests.
//
// As GitHub does: `commits/{sha}/pulls` lists the pull requests whose merge commit or head is the commit (GitHub
// also lists a merged pull request that introduced the commit by rebase; `associate` seeds that); reviews list in
// submission order, and dismissing a review rewrites its state to DISMISSED in place.

export const REVIEW_OPERATIONS: readonly [string, string][] = [
  ['get', '/repos/{owner}/{repo}/commits/{commit_sha}/pulls'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews'],
  ['get', '/repos/{owner}/{repo}/actions/runs/{run_id}'],
];

export type ReviewStateName = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

export interface ReviewSeed {
  login: string;
  state: ReviewStateName;
  /** Default: one second after the previous review of the pull request. */
  submittedAt?: Date;
  /** The commit reviewed; default: the pull request's head. */
  commit?: string;
  body?: string;
}

export interface ReviewState {
  id: number;
  repository: string;
  pull: number;
  login: string;
  state: ReviewStateName;
  submittedAt: Date;
  commit: string;
  body: string;
}

export interface RunSeed {
  id: number;
  /** The latest attempt; default 1. */
  attempt?: number;
  /** The workflow's name; default "release". */
  name?: string;
  /** The workflow file; default .github/workflows/release.yml. */
  path?: string;
  event?: string;
  headBranch?: string;
  headSha: string;
  actor?: string;
  triggeringActor?: string;
  status?: string;
  conclusion?: string | null;
  createdAt?: Date;
}

/**
 * The description says format email, which the bot's noreply address (41898282+github-actions[bot]@…) fails in
 * ajv-formats' reading: the fake drops the brackets so that its answer passes the check (GitHub sends them as they are).
 */
const emailOf = (email: string) => email.replace(/[[\]]/g, '');

export class ReviewStore {
  readonly reviews: ReviewState[] = [];
  readonly runs = new Map<string, RunSeed & { repository: string }>();
  /** Extra commit → pull request associations (a rebase merge's copies), by repository. */
  readonly #associations = new Map<string, Set<number>>();
  #nextId = 9000;

  constructor(
    private readonly host: GitHost,
    private readonly options: { pageSize?: number } = {},
  ) {}

  #repository(repository: HostedRepository | string): HostedRepository {
    if (typeof repository !== 'string') return repository;
    const [owner = '', name = ''] = repository.split('/');
    return this.host.get(owner, name);
  }

  /** Seeds a review of a pull request, as `login` submitted it. */
  async addReview(repository: HostedRepository | string, pull: number, seed: ReviewSeed): Promise<ReviewState> {
    const r = this.#repository(repository);
    const pullState = this.host.pull(r, pull);
    const previous = this.reviews.filter((review) => review.repository === r.fullName && review.pull === pull).at(-1);
    const review: ReviewState = {
      id: this.#nextId++,
      repository: r.fullName,
      pull,
      login: seed.login,
      state: seed.state,
      submittedAt:
        seed.submittedAt ?? new Date((previous?.submittedAt.getTime() ?? Date.parse('2026-07-15T06:00:00Z')) + 1000),
      commit: seed.commit ?? (await this.host.headOf(r, pullState)),
      body: seed.body ?? '',
    };
    this.host.user(seed.login);
    this.reviews.push(review);
    return review;
  }

  /** Dismisses `login`'s latest approval or change request, as a maintainer's dismissal does: its state becomes DISMISSED. */
  dismiss(repository: HostedRepository | string, pull: number, login: string): void {
    const r = this.#repository(repository);
    const review = this.reviews
      .filter(
        (candidate) =>
          candidate.repository === r.fullName &&
          candidate.pull === pull &&
          candidate.login.toLowerCase() === login.toLowerCase() &&
          (candidate.state === 'APPROVED' || candidate.state === 'CHANGES_REQUESTED'),
      )
      .at(-1);
    if (!review) throw new Error(`${login} has no decision on ${r.fullName}#${pull} to dismiss`);
    review.state = 'DISMISSED';
  }

  /** Makes GitHub list pull request `pull` for `commit` (a merged pull request that introduced it by rebase). */
  associate(repository: HostedRepository | string, commit: string, pull: number): void {
    const r = this.#repository(repository);
    const key = `${r.fullName}@${commit}`;
    this.#associations.set(key, new Set([...(this.#associations.get(key) ?? []), pull]));
  }

  /** Seeds a workflow run. */
  addRun(repository: HostedRepository | string, seed: RunSeed): void {
    const r = this.#repository(repository);
    this.runs.set(`${r.fullName}#${seed.id}`, { ...seed, repository: r.fullName });
    for (const login of [seed.actor, seed.triggeringActor]) if (login) this.host.user(login);
  }

  /** Answers one operation of REVIEW_OPERATIONS; `params` are the path parameters in order. */
  async handle(
    urls: RestUrls,
    method: string,
    template: string,
    params: string[],
    query: URLSearchParams,
    self: URL,
  ): Promise<RestAnswer> {
    const [owner = '', name = '', third = ''] = params;
    const r = this.host.find(owner, name);
    if (!r) return notFound();
    switch (`${method} ${template}`) {
      case 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls': {
        const commit = third.toLowerCase();
        const extra = this.#associations.get(`${r.fullName}@${commit}`) ?? new Set<number>();
        const matching = [];
        for (const pull of r.pulls) {
          const head = (await this.host.headOf(r, pull)).toLowerCase();
          if (pull.mergeCommit?.toLowerCase() === commit || head === commit || extra.has(pull.number)) {
            matching.push(pull);
          }
        }
        if (matching.length === 0 && !(await this.#hasCommit(r, commit))) {
          return {
            status: 422,
            body: { message: `No commit found for SHA: ${third}`, documentation_url: DOCS, status: '422' },
          };
        }
        const bodies = [];
        for (const pull of matching.sort((a, b) => b.number - a.number))
          bodies.push(await this.#pullJson(urls, r, pull.number));
        return listingPage(bodies, query, self, (body) => body, this.options.pageSize);
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews': {
        const number = Number(third);
        if (!r.pulls.some((pull) => pull.number === number)) return notFound();
        const reviews = this.reviews.filter((review) => review.repository === r.fullName && review.pull === number);
        return listingPage(reviews, query, self, (review) => this.#reviewJson(urls, r, review), this.options.pageSize);
      }
      case 'GET /repos/{owner}/{repo}/actions/runs/{run_id}': {
        const run = this.runs.get(`${r.fullName}#${third}`);
        if (!run) return notFound();
        return { status: 200, body: await this.#runJson(urls, r, run) };
      }
      default:
        return notFound();
    }
  }

  async #hasCommit(r: HostedRepository, commit: string): Promise<boolean> {
    const found = await git(r.dir, ['cat-file', '-e', `${commit}^{commit}`], { allowFailure: true });
    return found.code === 0;
  }

  /** The pull request as github-git-rest.ts serves it, so that both endpoints describe it alike. */
  async #pullJson(urls: RestUrls, r: HostedRepository, number: number): Promise<unknown> {
    const answer = await handleGitRest(
      this.host,
      urls,
      'GET',
      '/repos/{owner}/{repo}/pulls/{pull_number}',
      [r.owner.login, r.name, String(number)],
      new URLSearchParams(),
      undefined,
    );
    return answer.body;
  }

  #reviewJson(urls: RestUrls, r: HostedRepository, review: ReviewState): Record<string, unknown> {
    const html = `${urls.web}/${r.fullName}/pull/${review.pull}`;
    const pullUrl = `${urls.api}/repos/${r.fullName}/pulls/${review.pull}`;
    return {
      id: review.id,
      node_id: `PRR_${Buffer.from(`slipway-fake:${review.id}`).toString('base64url')}`,
      user: userJson(urls, this.host.user(review.login)),
      body: review.body,
      state: review.state,
      html_url: `${html}#pullrequestreview-${review.id}`,
      pull_request_url: pullUrl,
      _links: { html: { href: `${html}#pullrequestreview-${review.id}` }, pull_request: { href: pullUrl } },
      // A pending review has not been submitted.
      ...(review.state === 'PENDING' ? {} : { submitted_at: iso(review.submittedAt) }),
      commit_id: review.commit,
      author_association: 'COLLABORATOR',
    };
  }

  async #runJson(urls: RestUrls, r: HostedRepository, run: RunSeed & { repository: string }): Promise<unknown> {
    const api = `${urls.api}/repos/${r.fullName}`;
    const runApi = `${api}/actions/runs/${run.id}`;
    const repository = (
      await handleGitRest(
        this.host,
        urls,
        'GET',
        '/repos/{owner}/{repo}',
        [r.owner.login, r.name],
        new URLSearchParams(),
        undefined,
      )
    ).body;
    const shown = await git(r.dir, ['show', '-s', '--format=%T%n%cI%n%an%n%ae%n%cn%n%ce%n%B', run.headSha], {
      allowFailure: true,
    });
    const [
      tree = '',
      time = '',
      authorName = '',
      authorEmail = '',
      committerName = '',
      committerEmail = '',
      ...message
    ] = shown.code === 0 ? shown.stdout.split('\n') : [];
    const created = iso(run.createdAt ?? new Date('2026-07-15T08:00:00Z'));
    const actor = userJson(urls, this.host.user(run.actor ?? 'dev'));
    const path = run.path ?? '.github/workflows/release.yml';
    return {
      id: run.id,
      name: run.name ?? 'release',
      node_id: `WFR_${Buffer.from(`slipway-fake:${run.id}`).toString('base64url')}`,
      check_suite_id: run.id + 1,
      check_suite_node_id: `CS_${Buffer.from(`slipway-fake:${run.id + 1}`).toString('base64url')}`,
      head_branch: run.headBranch ?? r.defaultBranch,
      head_sha: run.headSha,
      path,
      run_number: run.id % 1000,
      run_attempt: run.attempt ?? 1,
      display_title: message[0] || 'release',
      event: run.event ?? 'push',
      status: run.status ?? 'in_progress',
      conclusion: run.conclusion ?? null,
      workflow_id: 161335,
      url: runApi,
      html_url: `${urls.web}/${r.fullName}/actions/runs/${run.id}`,
      pull_requests: [],
      created_at: created,
      updated_at: created,
      run_started_at: created,
      actor,
      triggering_actor: run.triggeringActor ? userJson(urls, this.host.user(run.triggeringActor)) : actor,
      jobs_url: `${runApi}/jobs`,
      logs_url: `${runApi}/logs`,
      check_suite_url: `${api}/check-suites/${run.id + 1}`,
      artifacts_url: `${runApi}/artifacts`,
      cancel_url: `${runApi}/cancel`,
      rerun_url: `${runApi}/rerun`,
      previous_attempt_url: (run.attempt ?? 1) > 1 ? `${runApi}/attempts/${(run.attempt ?? 1) - 1}` : null,
      workflow_url: `${api}/actions/workflows/161335`,
      head_commit:
        shown.code === 0
          ? {
              id: run.headSha,
              tree_id: tree,
              message: message.join('\n').trim(),
              timestamp: time,
              author: { name: authorName, email: emailOf(authorEmail) },
              committer: { name: committerName, email: emailOf(committerEmail) },
            }
          : null,
      repository,
      head_repository: repository,
    };
  }
}
