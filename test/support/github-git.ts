import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BOT_IDENTITY,
  commitOnBranch,
  git,
  initBare,
  readAt,
  revParse,
  updateRef,
  writeCommit,
  ZERO_OID,
} from './git-plumbing.js';

// The repositories behind the fake GitHub: each is a real bare git repository in a temp dir, so trees,
// commits and refs are real git objects, plus what GitHub keeps beside git (pull requests, labels,
// collaborators, teams). REST (github-server.ts) and GraphQL (github-graphql.ts) both act through the
// operations here, so a rule such as compare-and-swap on refs is enforced once and the same way whichever
// API a client uses. Errors carry both the REST status and the GraphQL error type GitHub gives for them.

export class GitHubError extends Error {
  constructor(
    /** REST status. */
    readonly status: number,
    /** GraphQL error `type`, e.g. STALE_DATA, NOT_FOUND, UNPROCESSABLE. */
    readonly type: string,
    message: string,
    /** REST `errors` entries for 422s. */
    readonly errors?: { resource?: string; field?: string; code: string; message?: string }[],
  ) {
    super(message);
  }
}

export type AutoMergeMode = 'enabled' | 'clean' | 'disallowed';
export type MergeMethod = 'merge' | 'squash' | 'rebase';

export interface LabelState {
  id: number;
  nodeId: string;
  name: string;
  color: string;
  description: string | null;
}

export interface PullState {
  id: number;
  nodeId: string;
  number: number;
  title: string;
  body: string | null;
  head: string;
  base: string;
  state: 'open' | 'closed';
  draft: boolean;
  merged: boolean;
  mergeCommit?: string;
  /** Head commit when the pull request was last changed, for when the branch is gone. */
  headSha: string;
  labels: number[];
  reviewers: string[];
  teamReviewers: string[];
  autoMerge?: { method: MergeMethod };
  createdAt: Date;
  updatedAt: Date;
  closedAt?: Date;
}

export interface UserState {
  id: number;
  nodeId: string;
  login: string;
  type: 'User' | 'Organization' | 'Bot';
}

export interface TeamState {
  id: number;
  nodeId: string;
  slug: string;
  name: string;
}

export interface CreateRepositoryOptions {
  owner: string;
  name: string;
  defaultBranch?: string;
  /** Files of the first commit on the default branch; none leaves the repository empty. */
  files?: Record<string, string>;
  message?: string;
  date?: Date;
  /** An Organization owner can have teams (reviewers `org/team`). */
  ownerType?: 'Organization' | 'User';
  teams?: string[];
  /** Users who may be requested as reviewers. */
  collaborators?: string[];
  labels?: string[];
  /** What enablePullRequestAutoMerge does: enable, answer "clean status", or refuse. */
  autoMerge?: AutoMergeMode;
}

export interface HostedRepository {
  owner: UserState;
  name: string;
  fullName: string;
  id: number;
  nodeId: string;
  /** The bare git repository. */
  dir: string;
  defaultBranch: string;
  teams: TeamState[];
  collaborators: string[];
  labels: LabelState[];
  pulls: PullState[];
  autoMerge: AutoMergeMode;
  createdAt: Date;
}

export interface FileChangesInput {
  additions?: { path: string; contents: string }[];
  deletions?: { path: string }[];
}

/** GitHub's node ids are opaque; these carry their kind and key so the fake can resolve them back. */
export function nodeId(prefix: string, key: string | number): string {
  return `${prefix}_${Buffer.from(`slipway-fake:${key}`).toString('base64url')}`;
}

function nodeKey(id: string, prefix: string): string | undefined {
  if (!id.startsWith(`${prefix}_`)) return undefined;
  const decoded = Buffer.from(id.slice(prefix.length + 1), 'base64url').toString('utf8');
  return decoded.startsWith('slipway-fake:') ? decoded.slice('slipway-fake:'.length) : undefined;
}

const LABEL_COLOR = 'ededed';

export class GitHost {
  readonly repositories: HostedRepository[] = [];
  readonly users = new Map<string, UserState>();
  /** The identity the token belongs to: authors pull requests, commits through the API. */
  readonly viewer: UserState;
  private nextId = 1000;

  constructor(readonly root: string) {
    this.viewer = this.user('github-actions[bot]', 'Bot');
  }

  private id(): number {
    return this.nextId++;
  }

  user(login: string, type: UserState['type'] = 'User'): UserState {
    const key = login.toLowerCase();
    let found = this.users.get(key);
    if (!found) {
      const id = this.id();
      found = { id, nodeId: nodeId(type === 'Organization' ? 'O' : type === 'Bot' ? 'BOT' : 'U', id), login, type };
      this.users.set(key, found);
    }
    return found;
  }

  async createRepository(options: CreateRepositoryOptions): Promise<HostedRepository> {
    const fullName = `${options.owner}/${options.name}`;
    if (this.find(options.owner, options.name)) throw new Error(`fake GitHub already has ${fullName}`);
    const id = this.id();
    const dir = join(this.root, `${options.owner}+${options.name}.git`);
    await mkdir(dir, { recursive: true });
    const defaultBranch = options.defaultBranch ?? 'main';
    await initBare(dir, defaultBranch);
    const repository: HostedRepository = {
      owner: this.user(options.owner, options.ownerType ?? 'Organization'),
      name: options.name,
      fullName,
      id,
      nodeId: nodeId('R', id),
      dir,
      defaultBranch,
      teams: (options.teams ?? []).map((slug) => {
        const teamId = this.id();
        return { id: teamId, nodeId: nodeId('T', teamId), slug, name: slug };
      }),
      collaborators: options.collaborators ?? [],
      labels: [],
      pulls: [],
      autoMerge: options.autoMerge ?? 'enabled',
      createdAt: new Date(),
    };
    for (const login of repository.collaborators) this.user(login);
    for (const label of options.labels ?? []) this.createLabel(repository, label);
    if (options.files) {
      await commitOnBranch(dir, defaultBranch, {
        files: options.files,
        message: options.message ?? 'Initial commit',
        ...(options.date ? { date: options.date } : {}),
      });
    }
    this.repositories.push(repository);
    return repository;
  }

  find(owner: string, name: string): HostedRepository | undefined {
    const fullName = `${owner}/${name}`.toLowerCase();
    return this.repositories.find((r) => r.fullName.toLowerCase() === fullName);
  }

  get(owner: string, name: string): HostedRepository {
    const found = this.find(owner, name);
    if (!found)
      throw new GitHubError(404, 'NOT_FOUND', `Could not resolve to a Repository with the name '${owner}/${name}'.`);
    return found;
  }

  repositoryByNodeId(id: string): HostedRepository {
    const key = nodeKey(id, 'R');
    const found = this.repositories.find((r) => String(r.id) === key);
    if (!found) throw new GitHubError(404, 'NOT_FOUND', `Could not resolve to a node with the global id of '${id}'`);
    return found;
  }

  pullByNodeId(id: string): { repository: HostedRepository; pull: PullState } {
    for (const repository of this.repositories) {
      const pull = repository.pulls.find((p) => p.nodeId === id);
      if (pull) return { repository, pull };
    }
    throw new GitHubError(404, 'NOT_FOUND', `Could not resolve to a node with the global id of '${id}'`);
  }

  pull(repository: HostedRepository, number: number): PullState {
    const pull = repository.pulls.find((p) => p.number === number);
    if (!pull) throw new GitHubError(404, 'NOT_FOUND', 'Not Found');
    return pull;
  }

  // --- refs and commits ---------------------------------------------------------------------------

  async head(repository: HostedRepository, branch: string): Promise<string | undefined> {
    return revParse(repository.dir, `refs/heads/${branch}`);
  }

  async headOf(repository: HostedRepository, pull: PullState): Promise<string> {
    if (pull.state === 'open') pull.headSha = (await this.head(repository, pull.head)) ?? pull.headSha;
    return pull.headSha;
  }

  async readFile(repository: HostedRepository, commitish: string, path: string): Promise<string | undefined> {
    return readAt(repository.dir, commitish, path);
  }

  /** Commits straight onto a branch, as a push from elsewhere would: for seeding history and races. */
  async push(
    repository: HostedRepository,
    branch: string,
    files: Record<string, string | null>,
    options: { message?: string; date?: Date } = {},
  ): Promise<string> {
    return commitOnBranch(repository.dir, branch, {
      files,
      message: options.message ?? 'Update files',
      author: { name: 'Someone Else', email: 'someone@example.com' },
      ...(options.date ? { date: options.date } : {}),
    });
  }

  private checkRefName(name: string): void {
    if (!/^refs\/[^/]+\/.+/.test(name) || name.includes('..') || /[\s~^:?*[\\]/.test(name) || name.endsWith('/')) {
      throw new GitHubError(
        422,
        'UNPROCESSABLE',
        `Reference name must start with 'refs/' and have at least two slashes.`,
      );
    }
  }

  async createRef(repository: HostedRepository, name: string, oid: string): Promise<void> {
    this.checkRefName(name);
    if (!/^[0-9a-f]{40}$/.test(oid) || !(await revParse(repository.dir, oid))) {
      throw new GitHubError(422, 'UNPROCESSABLE', 'Object does not exist');
    }
    // An empty old value makes git refuse when the ref exists: creation is compare-and-swap too.
    if (!(await updateRef(repository.dir, name, oid, undefined))) {
      throw new GitHubError(422, 'UNPROCESSABLE', 'Reference already exists');
    }
  }

  /** GraphQL updateRefs: all or nothing; beforeOid is compare-and-swap, force allows non-fast-forward. */
  async updateRefs(
    repository: HostedRepository,
    updates: { name: string; beforeOid?: string | null; afterOid: string; force?: boolean | null }[],
  ): Promise<void> {
    const lines: string[] = [];
    for (const update of updates) {
      this.checkRefName(update.name);
      const current = await revParse(repository.dir, update.name);
      if (update.beforeOid != null && (current ?? ZERO_OID) !== update.beforeOid) {
        throw new GitHubError(
          409,
          'STALE_DATA',
          `Expected ${update.name} to point to "${update.beforeOid}" but it points to "${current ?? ZERO_OID}".`,
        );
      }
      if (update.afterOid !== ZERO_OID && !(await revParse(repository.dir, update.afterOid))) {
        throw new GitHubError(422, 'UNPROCESSABLE', `Object ${update.afterOid} does not exist`);
      }
      if (!update.force && current && update.afterOid !== ZERO_OID) {
        const ff = await git(repository.dir, ['merge-base', '--is-ancestor', current, update.afterOid], {
          allowFailure: true,
        });
        if (ff.code !== 0) {
          throw new GitHubError(422, 'UNPROCESSABLE', `Update to ${update.name} is not a fast forward`);
        }
      }
      const old = update.beforeOid ?? current ?? ZERO_OID;
      lines.push(
        update.afterOid === ZERO_OID
          ? `delete ${update.name} ${old}`
          : `update ${update.name} ${update.afterOid} ${old}`,
      );
    }
    // One `update-ref --stdin` run is one transaction: every old value is checked under the ref locks.
    const run = await git(repository.dir, ['update-ref', '--stdin'], {
      input: `${lines.join('\n')}\n`,
      allowFailure: true,
    });
    if (run.code !== 0) {
      throw new GitHubError(409, 'STALE_DATA', 'A reference was updated by another request. Pull and try again.');
    }
  }

  /** createCommitOnBranch: a commit made by GitHub from whole-file additions and deletions, moved in with CAS. */
  async commitOnBranch(
    repository: HostedRepository,
    branch: string,
    expectedHeadOid: string,
    message: { headline: string; body?: string | null },
    changes: FileChangesInput,
  ): Promise<string> {
    const ref = `refs/heads/${branch}`;
    const current = await revParse(repository.dir, ref);
    if (!current) throw new GitHubError(404, 'NOT_FOUND', `Could not resolve to a branch with the name '${branch}'.`);
    const stale = () =>
      new GitHubError(
        409,
        'STALE_DATA',
        `Expected branch to point to "${expectedHeadOid}" but it did not.  Pull and try again.`,
      );
    if (current !== expectedHeadOid) throw stale();
    if (!message.headline.trim()) throw new GitHubError(422, 'UNPROCESSABLE', 'A commit message headline is required');
    const files: Record<string, string | Uint8Array | null> = {};
    for (const deletion of changes.deletions ?? []) {
      if ((await readAt(repository.dir, current, deletion.path)) === undefined) {
        throw new GitHubError(
          422,
          'UNPROCESSABLE',
          `A path was requested for deletion which does not exist as of commit oid \`${current}\``,
        );
      }
      files[deletion.path] = null;
    }
    for (const addition of changes.additions ?? []) {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(addition.contents)) {
        throw new GitHubError(422, 'UNPROCESSABLE', `The contents of ${addition.path} are not valid base64`);
      }
      files[addition.path] = Buffer.from(addition.contents, 'base64');
    }
    const text = message.body ? `${message.headline}\n\n${message.body}` : message.headline;
    const commit = await writeCommit(repository.dir, {
      parent: current,
      files,
      message: text,
      author: BOT_IDENTITY,
      date: new Date(),
    });
    if (!(await updateRef(repository.dir, ref, commit, current))) throw stale();
    return commit;
  }

  // --- labels ---------------------------------------------------------------------------------------

  createLabel(
    repository: HostedRepository,
    name: string,
    color = LABEL_COLOR,
    description: string | null = null,
  ): LabelState {
    if (repository.labels.some((l) => l.name.toLowerCase() === name.toLowerCase())) {
      throw new GitHubError(422, 'UNPROCESSABLE', 'Validation Failed', [
        { resource: 'Label', field: 'name', code: 'already_exists' },
      ]);
    }
    const id = this.id();
    const label = { id, nodeId: nodeId('LA', id), name, color, description };
    repository.labels.push(label);
    return label;
  }

  label(repository: HostedRepository, name: string): LabelState | undefined {
    return repository.labels.find((l) => l.name.toLowerCase() === name.toLowerCase());
  }

  /** REST adds labels by name and, as GitHub does, creates the ones the repository lacks. */
  addLabelsByName(repository: HostedRepository, pull: PullState, names: string[]): void {
    for (const name of names) {
      const label = this.label(repository, name) ?? this.createLabel(repository, name);
      if (!pull.labels.includes(label.id)) pull.labels.push(label.id);
    }
    pull.updatedAt = new Date();
  }

  addLabelsById(repository: HostedRepository, pull: PullState, ids: string[]): void {
    const labels = ids.map((id) => {
      const label = repository.labels.find((l) => l.nodeId === id);
      if (!label) throw new GitHubError(404, 'NOT_FOUND', `Could not resolve to a node with the global id of '${id}'`);
      return label;
    });
    for (const label of labels) if (!pull.labels.includes(label.id)) pull.labels.push(label.id);
    pull.updatedAt = new Date();
  }

  // --- pull requests --------------------------------------------------------------------------------

  async createPull(
    repository: HostedRepository,
    input: { title: string; body?: string | null; head: string; base: string; draft?: boolean },
  ): Promise<PullState> {
    const head = input.head.includes(':') ? input.head.slice(input.head.indexOf(':') + 1) : input.head;
    const invalid = (field: string, message?: string) =>
      new GitHubError(422, 'UNPROCESSABLE', message ?? 'Validation Failed', [
        { resource: 'PullRequest', field, code: 'invalid', ...(message ? { message } : {}) },
      ]);
    if (input.title.length > 256) throw invalid('title', 'title is too long (maximum is 256 characters)');
    if ((input.body ?? '').length > 65_536) throw invalid('body', 'body is too long (maximum is 65536 characters)');
    const headSha = await this.head(repository, head);
    const baseSha = await this.head(repository, input.base);
    if (!headSha) throw invalid('head');
    if (!baseSha) throw invalid('base');
    if (repository.pulls.some((p) => p.state === 'open' && p.head === head && p.base === input.base)) {
      throw new GitHubError(
        422,
        'UNPROCESSABLE',
        `A pull request already exists for ${repository.owner.login}:${head}.`,
        [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${repository.owner.login}:${head}.`,
          },
        ],
      );
    }
    const ahead = await git(repository.dir, ['rev-list', '--count', `${baseSha}..${headSha}`]);
    if (ahead.stdout.trim() === '0') {
      throw new GitHubError(422, 'UNPROCESSABLE', `No commits between ${input.base} and ${head}`, [
        { resource: 'PullRequest', code: 'custom', message: `No commits between ${input.base} and ${head}` },
      ]);
    }
    const id = this.id();
    const now = new Date();
    const pull: PullState = {
      id,
      nodeId: nodeId('PR', id),
      number: this.nextNumber(repository),
      title: input.title,
      body: input.body ?? null,
      head,
      base: input.base,
      state: 'open',
      draft: input.draft ?? false,
      merged: false,
      headSha,
      labels: [],
      reviewers: [],
      teamReviewers: [],
      createdAt: now,
      updatedAt: now,
    };
    repository.pulls.push(pull);
    return pull;
  }

  private nextNumber(repository: HostedRepository): number {
    return repository.pulls.reduce((max, p) => Math.max(max, p.number), 0) + 1;
  }

  updatePull(pull: PullState, input: { title?: string | null; body?: string | null; state?: string | null }): void {
    if (input.title != null) {
      if (input.title.length > 256) {
        throw new GitHubError(422, 'UNPROCESSABLE', 'title is too long (maximum is 256 characters)');
      }
      pull.title = input.title;
    }
    if (input.body != null) {
      if (input.body.length > 65_536) {
        throw new GitHubError(422, 'UNPROCESSABLE', 'body is too long (maximum is 65536 characters)');
      }
      pull.body = input.body;
    }
    if (input.state != null) {
      const state = input.state.toLowerCase();
      if (state === 'closed' && pull.state === 'open') pull.closedAt = new Date();
      if (state === 'open' && pull.merged)
        throw new GitHubError(422, 'UNPROCESSABLE', 'Cannot reopen a merged pull request');
      pull.state = state === 'closed' ? 'closed' : 'open';
    }
    pull.updatedAt = new Date();
  }

  requestReviewers(repository: HostedRepository, pull: PullState, users: string[], teams: string[]): void {
    const unknown =
      users.some((u) => !repository.collaborators.some((c) => c.toLowerCase() === u.toLowerCase())) ||
      teams.some((t) => !repository.teams.some((team) => team.slug === t));
    if (unknown) {
      throw new GitHubError(
        422,
        'UNPROCESSABLE',
        `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${repository.fullName} repository.`,
      );
    }
    for (const user of users) if (!pull.reviewers.includes(user)) pull.reviewers.push(user);
    for (const team of teams) if (!pull.teamReviewers.includes(team)) pull.teamReviewers.push(team);
    pull.updatedAt = new Date();
  }

  enableAutoMerge(repository: HostedRepository, pull: PullState, method: MergeMethod): void {
    if (repository.autoMerge === 'disallowed') {
      throw new GitHubError(422, 'UNPROCESSABLE', 'Pull request Auto merge is not allowed for this repository');
    }
    // GitHub refuses auto-merge on a pull request that could merge right now (no required checks or
    // reviews pending); the text is what clients match on (peter-evans/enable-pull-request-automerge#1118).
    if (repository.autoMerge === 'clean') {
      throw new GitHubError(422, 'UNPROCESSABLE', 'Pull request Pull request is in clean status');
    }
    pull.autoMerge = { method };
    pull.updatedAt = new Date();
  }

  /** Merges with a real merge (merge-tree) and compare-and-swap on the base; `sha` must be the head. */
  async merge(
    repository: HostedRepository,
    pull: PullState,
    options: { sha?: string | null; method?: MergeMethod; title?: string | null; message?: string | null },
  ): Promise<string> {
    if (pull.state !== 'open') throw new GitHubError(405, 'UNPROCESSABLE', 'Pull Request is not mergeable');
    const head = await this.headOf(repository, pull);
    if (options.sha && options.sha !== head) {
      throw new GitHubError(409, 'UNPROCESSABLE', 'Head branch was modified. Review and try the merge again.');
    }
    const base = await this.head(repository, pull.base);
    if (!base) throw new GitHubError(405, 'UNPROCESSABLE', 'Pull Request is not mergeable');
    const merged = await git(repository.dir, ['merge-tree', '--write-tree', '--no-messages', base, head], {
      allowFailure: true,
    });
    if (merged.code !== 0) throw new GitHubError(405, 'UNPROCESSABLE', 'Pull Request is not mergeable');
    const tree = merged.stdout.split('\n')[0]?.trim() ?? '';
    const method = options.method ?? 'merge';
    const title =
      options.title ??
      (method === 'merge'
        ? `Merge pull request #${pull.number} from ${repository.owner.login}/${pull.head}`
        : `${pull.title} (#${pull.number})`);
    const message = options.message
      ? `${title}\n\n${options.message}`
      : method === 'merge'
        ? `${title}\n\n${pull.title}`
        : title;
    const when = `${Math.floor(Date.now() / 1000)} +0000`;
    const parents = method === 'merge' ? ['-p', base, '-p', head] : ['-p', base];
    const commit = (
      await git(repository.dir, ['commit-tree', tree, ...parents, '-F', '-'], {
        input: message,
        env: {
          GIT_AUTHOR_NAME: BOT_IDENTITY.name,
          GIT_AUTHOR_EMAIL: BOT_IDENTITY.email,
          GIT_AUTHOR_DATE: when,
          GIT_COMMITTER_NAME: 'GitHub',
          GIT_COMMITTER_EMAIL: 'noreply@github.com',
          GIT_COMMITTER_DATE: when,
        },
      })
    ).stdout.trim();
    if (!(await updateRef(repository.dir, `refs/heads/${pull.base}`, commit, base))) {
      throw new GitHubError(405, 'UNPROCESSABLE', 'Base branch was modified. Review and try the merge again.');
    }
    pull.merged = true;
    pull.mergeCommit = commit;
    pull.state = 'closed';
    pull.closedAt = new Date();
    pull.updatedAt = new Date();
    return commit;
  }
}
