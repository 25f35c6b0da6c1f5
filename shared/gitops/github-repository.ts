import { SlipwayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SlipwayOctokit } from '../github/octokit.js';
import { ConcurrentUpdateError } from './errors.js';
import type {
  GitOpsRepository,
  PinHistoryEntry,
  ReadRequest,
  RepositorySnapshot,
  WriteRequest,
  WriteResult,
} from './types.js';

// A GitOps repository on GitHub, read and written through the API without a clone. Commits are made with
// GraphQL createCommitOnBranch, so GitHub signs them (verified) and every one is compare-and-swap on the branch
// head (expectedHeadOid); branches are created with createRef (fails if the branch exists) and reset with
// updateRefs (beforeOid). A lost race throws ConcurrentUpdateError and the caller re-reads and re-plans.
//
// The call budget (at most 5 per environment promotion, PROMOTE-DESIGN.md): readFile 1, read 1, and
//   direct commit:   1  createCommitOnBranch on the default branch                              total 3
//   new PR:          1  createRef + createCommitOnBranch (one request; its payload looks up the label,
//                       team and user ids the next requests need)
//                    2  createPullRequest (+ createLabel for each label the repository lacks, same request)
//                    3  addLabelsToLabelable + requestReviews + enablePullRequestAutoMerge (those needed)  total 5
//   orphan branch:   as new PR, call 1 being updateRefs (reset to the default head) + createCommitOnBranch
//   re-run:          0  the read returns the texts of a branch with an open PR too, so a branch already holding
//                       the plan's texts is seen by the planner and nothing is written         total 2
//   update in place: 1  createCommitOnBranch on the promotion branch (expectedHeadOid = its head)
//                    2  updatePullRequest + addLabelsToLabelable (+ enablePullRequestAutoMerge)    total 4
// Beyond the budget, and only when GitHub leaves no other way: merging (1 call, REST with `sha`) when
// auto-merge is refused because the PR is already in clean status; in place, labels that did not exist yet
// (1 call); a user reviewer GitHub does not list as assignable (1 REST call by login); after another run opened the
// pull request of a branch this run had just committed to (a lost race), 1 query to find it before describing it.

export interface GitHubRepositoryOptions {
  owner: string;
  repo: string;
  octokit: SlipwayOctokit;
  logger: Logger;
}

/** GitHub's limits (reference/promotion.md §5): longer titles and bodies are refused with a 422. */
export const MAX_TITLE = 256;
export const MAX_BODY = 65_536;
/** `first` on a GraphQL connection is at most 100. */
const MAX_HISTORY = 100;
const LABEL_COLOR = 'ededed';

/** What a read learnt that a write needs but a snapshot does not carry. */
interface ReadContext {
  repositoryId: string;
  /** The open pull request of the promotion branch already has auto-merge on. */
  autoMergeEnabled?: boolean;
}

interface GraphQLFailure {
  type?: string;
  path?: (string | number)[];
  message: string;
}

interface BlobText {
  object: { text?: string | null; isTruncated?: boolean } | null;
}

export function githubRepository(options: GitHubRepositoryOptions): GitOpsRepository & { calls(): number } {
  const { owner, repo, octokit, logger } = options;
  const nameWithOwner = `${owner}/${repo}`;
  const contexts = new WeakMap<RepositorySnapshot, ReadContext>();
  let latest: ReadContext | undefined;
  let calls = 0;

  const where = (): string => {
    const base = new URL(String(octokit.request.endpoint.DEFAULTS.baseUrl));
    return `${base.hostname.replace(/^api\./, '')}/${nameWithOwner}`;
  };

  /** One GraphQL request; errors come back beside the partial data instead of being thrown. */
  async function graphql<T>(
    what: string,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<{ data: T | undefined; errors: GraphQLFailure[] }> {
    calls++;
    logger.debug(`GitHub GraphQL: ${what} (${nameWithOwner})`);
    try {
      return { data: await octokit.graphql<T>(query, variables), errors: [] };
    } catch (error) {
      const failed = error as { name?: string; errors?: GraphQLFailure[]; data?: T };
      if (failed?.name !== 'GraphqlResponseError' || !Array.isArray(failed.errors)) throw error;
      return { data: failed.data ?? undefined, errors: failed.errors };
    }
  }

  const fail = (what: string, errors: GraphQLFailure[]): never => {
    throw new SlipwayError(`GitHub refused to ${what} in ${where()}: ${errors.map((e) => e.message).join('; ')}`);
  };

  const textOf = (path: string, entry: BlobText | null | undefined): string | undefined => {
    if (!entry?.object) return undefined;
    const { text, isTruncated } = entry.object;
    if (text === undefined) return undefined; // a directory (a Tree) at that path: no file
    if (text === null) throw new SlipwayError(`${path} in ${where()} is a binary file, not text.`);
    if (isTruncated) {
      throw new SlipwayError(`${path} in ${where()} is larger than GitHub returns through its API (512 KB).`);
    }
    return text;
  };

  // --- reading --------------------------------------------------------------------------------------------

  async function readFile(path: string): Promise<{ text: string | undefined; head: string; defaultBranch: string }> {
    const { data, errors } = await graphql<{
      repository: {
        id: string;
        defaultBranchRef: { name: string; target: { oid: string; file?: BlobText | null } } | null;
      } | null;
    }>(
      'read the policy file',
      `query SlipwayReadFile($owner: String!, $name: String!, $path: String!) {
        repository(owner: $owner, name: $name) {
          id
          defaultBranchRef { name target { oid ... on Commit { file(path: $path) { object { ... on Blob { text isTruncated } } } } } }
        }
      }`,
      { owner, name: repo, path },
    );
    if (errors.length || !data?.repository) fail(`read ${path}`, errors);
    const repository = data?.repository as NonNullable<NonNullable<typeof data>['repository']>;
    const branch = repository.defaultBranchRef;
    if (!branch) throw new SlipwayError(`${where()} is empty: its default branch has no commit yet.`);
    latest = { repositoryId: repository.id };
    return { text: textOf(path, branch.target.file), head: branch.target.oid, defaultBranch: branch.name };
  }

  async function read(request: ReadRequest): Promise<RepositorySnapshot> {
    const depth = Math.max(0, Math.min(request.historyDepth, MAX_HISTORY));
    const historyPaths = depth > 0 ? request.historyPaths : [];
    const variables: Record<string, unknown> = { owner, name: repo, branch: `refs/heads/${request.branch}` };
    const declarations = ['$owner: String!', '$name: String!', '$branch: String!'];
    const fileFields: string[] = [];
    request.paths.forEach((path, i) => {
      variables[`p${i}`] = path;
      declarations.push(`$p${i}: String!`);
      fileFields.push(`f${i}: file(path: $p${i}) { object { ... on Blob { text isTruncated } } }`);
    });
    const fields = [...fileFields];
    if (historyPaths.length) {
      variables.depth = depth;
      declarations.push('$depth: Int!');
    }
    historyPaths.forEach((path, i) => {
      variables[`h${i}`] = path;
      declarations.push(`$h${i}: String!`);
      fields.push(
        `h${i}: history(path: $h${i}, first: $depth) { nodes { oid committedDate message file(path: $h${i}) { object { ... on Blob { text isTruncated } } } } }`,
      );
    });
    // Everything is read from one commit object (the default branch's head), so files and history agree. The
    // same paths are read at the promotion branch's head too, in the same query: a re-run whose branch already
    // holds the planned texts then writes nothing.
    const query = `query SlipwayRead(${declarations.join(', ')}) {
      repository(owner: $owner, name: $name) {
        id
        defaultBranchRef { name target { oid ${fields.length ? `... on Commit { ${fields.join('\n')} }` : ''} } }
        branch: ref(qualifiedName: $branch) {
          name
          target { oid ${fileFields.length ? `... on Commit { ${fileFields.join('\n')} }` : ''} }
          associatedPullRequests(states: OPEN, first: 10) { nodes { id number url headRefOid baseRefName autoMergeRequest { enabledAt } } }
        }
      }
    }`;
    type HistoryNode = { oid: string; committedDate: string; message: string; file: BlobText | null };
    const { data, errors } = await graphql<{
      repository: {
        id: string;
        defaultBranchRef: { name: string; target: Record<string, unknown> & { oid: string } } | null;
        branch: {
          name: string;
          target: Record<string, unknown> & { oid: string };
          associatedPullRequests: {
            nodes: {
              id: string;
              number: number;
              url: string;
              headRefOid: string;
              baseRefName: string;
              autoMergeRequest: { enabledAt: string } | null;
            }[];
          };
        } | null;
      } | null;
    }>('read the files, their history and the promotion branch', query, variables);
    if (errors.length || !data?.repository) fail('read the repository', errors);
    const repository = data?.repository as NonNullable<NonNullable<typeof data>['repository']>;
    const branchRef = repository.defaultBranchRef;
    if (!branchRef) throw new SlipwayError(`${where()} is empty: its default branch has no commit yet.`);
    const target = branchRef.target;

    const files = new Map<string, string | undefined>();
    request.paths.forEach((path, i) => {
      files.set(path, textOf(path, target[`f${i}`] as BlobText | null));
    });
    const history = new Map<string, PinHistoryEntry[]>();
    historyPaths.forEach((path, i) => {
      const nodes = ((target[`h${i}`] as { nodes: HistoryNode[] } | undefined)?.nodes ?? []).map((node) => ({
        commit: node.oid,
        time: new Date(node.committedDate),
        text: textOf(path, node.file),
        message: node.message,
      }));
      history.set(path, nodes);
    });

    const snapshot: RepositorySnapshot = { defaultBranch: branchRef.name, head: target.oid, files, history };
    const context: ReadContext = { repositoryId: repository.id };
    if (repository.branch) {
      const open = repository.branch.associatedPullRequests.nodes.find((p) => p.baseRefName === branchRef.name);
      const branchTarget = repository.branch.target;
      snapshot.branch = {
        name: request.branch,
        head: branchTarget.oid,
        ...(open
          ? {
              pullRequest: { number: open.number, url: open.url, id: open.id, headOid: open.headRefOid },
              // Only a branch with its pull request open is a promotion in flight: one whose pull request was
              // closed is reset and opened again, so its texts must not make a re-run look done.
              files: new Map(
                request.paths.map((path, i) => {
                  // Compared with the planned texts only: a binary or truncated file there just differs.
                  const object = (branchTarget[`f${i}`] as BlobText | null | undefined)?.object;
                  return [path, typeof object?.text === 'string' && !object.isTruncated ? object.text : undefined];
                }),
              ),
            }
          : {}),
      };
      if (open) context.autoMergeEnabled = open.autoMergeRequest !== null;
    }
    contexts.set(snapshot, context);
    latest = context;
    return snapshot;
  }

  // --- writing --------------------------------------------------------------------------------------------

  async function write(request: WriteRequest): Promise<WriteResult> {
    const before = calls;
    const { snapshot } = request;
    const context = contexts.get(snapshot) ?? latest;
    if (!context) throw new SlipwayError(`write to ${where()} before reading it: the repository id is unknown.`);
    const message = commitMessage(request.message);
    const fileChanges = {
      additions: request.changes.map((change) => ({
        path: change.path,
        contents: Buffer.from(change.text, 'utf8').toString('base64'),
      })),
    };
    const commitInput = (branchName: string, expectedHeadOid: string) => ({
      branch: { repositoryNameWithOwner: nameWithOwner, branchName },
      expectedHeadOid,
      message,
      fileChanges,
    });

    if (request.direct) {
      const { data, errors } = await graphql<{ commit: { commit: { oid: string } } | null }>(
        `commit to ${snapshot.defaultBranch}`,
        `mutation SlipwayCommit($input: CreateCommitOnBranchInput!) { commit: createCommitOnBranch(input: $input) { commit { oid } } }`,
        { input: commitInput(snapshot.defaultBranch, snapshot.head) },
      );
      const oid = data?.commit?.commit.oid;
      if (!oid) throwCommitFailure(snapshot.defaultBranch, errors);
      return { commit: oid as string, calls: calls - before };
    }

    const pr = request.pullRequest;
    if (!pr) throw new SlipwayError(`a promotion through a pull request needs its title and body (${request.branch})`);
    const title = clipTitle(pr.title);
    const body = clipBody(pr.body);
    const lookups = lookupFields(owner, pr.labels, pr.reviewers, logger);
    const branch = snapshot.branch?.name === request.branch ? snapshot.branch : undefined;

    // --- update in place: one commit on the branch, then the PR's title and body.
    if (branch?.pullRequest) {
      const { data, errors } = await graphql<{ commit: { commit: { oid: string; repository: LookupResult } } | null }>(
        `commit to ${request.branch}`,
        `mutation SlipwayUpdateBranch($input: CreateCommitOnBranchInput!${lookups.declarations}) {
          commit: createCommitOnBranch(input: $input) { commit { oid repository { ${lookups.fields} } } }
        }`,
        { input: commitInput(request.branch, branch.head), ...lookups.variables },
      );
      const commit = data?.commit?.commit;
      if (!commit) return throwCommitFailure(request.branch, errors);
      return describe(branch.pullRequest, commit.oid, lookups.read(commit.repository), context.autoMergeEnabled);
    }

    /**
     * Gives an open pull request this promotion's title, body and labels (and auto-merge). createPullRequest and
     * updatePullRequest take no expected head, so the head the pull request has once its text is written is read back
     * in the same request: another run's commit there means the text may describe a branch it no longer is, and the
     * run re-reads and re-applies (the last writer leaves the branch and the text agreeing).
     */
    async function describe(
      pull: { id: string; number: number; url: string },
      head: string,
      found: ReturnType<Lookups['read']>,
      autoMergeEnabled: boolean | undefined,
    ): Promise<WriteResult> {
      const mutations = [
        `update: updatePullRequest(input: { pullRequestId: $pr, title: $title, body: $body }) { pullRequest { headRef { target { oid } } } }`,
      ];
      const variables: Record<string, unknown> = { pr: pull.id, title, body };
      const declarations = ['$pr: ID!', '$title: String!', '$body: String!'];
      if (found.labelIds.length) {
        mutations.push(
          `labels: addLabelsToLabelable(input: { labelableId: $pr, labelIds: $labels }) { clientMutationId }`,
        );
        declarations.push('$labels: [ID!]!');
        variables.labels = found.labelIds;
      }
      if (pr?.autoMerge && !autoMergeEnabled) {
        mutations.push(
          `auto: enablePullRequestAutoMerge(input: { pullRequestId: $pr, expectedHeadOid: $head }) { clientMutationId }`,
        );
        declarations.push('$head: GitObjectID!');
        variables.head = head;
      }
      const update = await graphql<{ update?: { pullRequest: HeadRef } | null }>(
        `update pull request #${pull.number}`,
        `mutation SlipwayUpdatePullRequest(${declarations.join(', ')}) { ${mutations.join('\n')} }`,
        variables,
      );
      const problems = update.errors.filter((e) => e.path?.[0] !== 'auto');
      if (problems.length) fail(`update pull request #${pull.number}`, problems);
      movedUnder(pull.number, head, update.data?.update?.pullRequest);
      if (found.missingLabels.length) await addLabelsByName(pull.number, found.missingLabels);
      const merged = pr?.autoMerge
        ? await afterAutoMerge(
            update.errors.find((e) => e.path?.[0] === 'auto'),
            pull.number,
            head,
          )
        : false;
      return {
        commit: head,
        pullRequest: { number: pull.number, url: pull.url },
        ...(pr?.autoMerge ? { merged } : {}),
        calls: calls - before,
      };
    }

    /**
     * The branch is no longer at the commit the pull request's text was just written for: another run committed
     * since. The branch itself is asked, not the pull request's headRefOid, which GitHub updates after a push with a
     * delay.
     */
    function movedUnder(number: number, head: string, pull: HeadRef | undefined): void {
      const now = pull?.headRef?.target.oid;
      if (now !== undefined && now !== head) {
        throw new ConcurrentUpdateError(
          `refs/heads/${request.branch}`,
          `${request.branch} in ${where()} moved to ${now} while pull request #${number} was being written for ${head}`,
        );
      }
    }

    // --- a new pull request: the branch (created, or an orphan reset to the default head), its commit ...
    const refName = `refs/heads/${request.branch}`;
    const prepare = branch
      ? `reset: updateRefs(input: { repositoryId: $repo, refUpdates: [{ name: $ref, beforeOid: $old, afterOid: $base, force: true }] }) { clientMutationId }`
      : `create: createRef(input: { repositoryId: $repo, name: $ref, oid: $base }) { ref { id } }`;
    const { data, errors } = await graphql<{ commit: { commit: { oid: string; repository: LookupResult } } | null }>(
      branch ? `reset ${request.branch} and commit to it` : `create ${request.branch} and commit to it`,
      // updateRefs names the ref as a GitRefname, createRef as a String: the schema checks the difference.
      `mutation SlipwayBranch($repo: ID!, $ref: ${branch ? 'GitRefname' : 'String'}!, $base: GitObjectID!${branch ? ', $old: GitObjectID!' : ''}, $input: CreateCommitOnBranchInput!${lookups.declarations}) {
        ${prepare}
        commit: createCommitOnBranch(input: $input) { commit { oid repository { ${lookups.fields} } } }
      }`,
      {
        repo: context.repositoryId,
        ref: refName,
        base: snapshot.head,
        ...(branch ? { old: branch.head } : {}),
        input: commitInput(request.branch, snapshot.head),
        ...lookups.variables,
      },
    );
    const commit = data?.commit?.commit;
    if (!commit) {
      const refused = errors.find((e) => e.path?.[0] === 'create' || e.path?.[0] === 'reset');
      if (refused && /already exists|STALE|point to/i.test(`${refused.type} ${refused.message}`)) {
        throw new ConcurrentUpdateError(
          refName,
          `${request.branch} in ${where()} changed under us: ${refused.message}`,
        );
      }
      return throwCommitFailure(request.branch, errors);
    }
    // createRef may have lost to another run that created the same branch at the same head: the commit still
    // landed on top of that head (compare-and-swap held), so the branch is ours to open the PR for.
    const found = lookups.read(commit.repository);

    // ... then the pull request, creating the labels the repository lacks in the same request ...
    const createLabels = found.missingLabels.map(
      (_, i) =>
        `l${i}: createLabel(input: { repositoryId: $repo, name: $ln${i}, color: "${LABEL_COLOR}" }) { label { id } }`,
    );
    const created = await graphql<{
      pull: { pullRequest: { id: string; number: number; url: string } & HeadRef } | null;
      [label: `l${number}`]: { label: { id: string } } | null;
    }>(
      `open a pull request from ${request.branch}`,
      `mutation SlipwayOpen($repo: ID!, $base: String!, $head: String!, $title: String!, $body: String!${found.missingLabels
        .map((_, i) => `, $ln${i}: String!`)
        .join('')}) {
        pull: createPullRequest(input: { repositoryId: $repo, baseRefName: $base, headRefName: $head, title: $title, body: $body }) {
          pullRequest { id number url headRef { target { oid } } }
        }
        ${createLabels.join('\n')}
      }`,
      {
        repo: context.repositoryId,
        base: snapshot.defaultBranch,
        head: request.branch,
        title,
        body,
        ...Object.fromEntries(found.missingLabels.map((name, i) => [`ln${i}`, name])),
      },
    );
    const pull = created.data?.pull?.pullRequest;
    if (!pull) {
      const refused = created.errors.find((e) => e.path?.[0] === 'pull');
      // Our commit was on the branch: with nothing between it and the base, another run reset it meanwhile.
      if (refused && /No commits between/i.test(refused.message)) {
        throw new ConcurrentUpdateError(
          refName,
          `${request.branch} in ${where()} was reset by another run before its pull request was opened: ${refused.message}`,
        );
      }
      if (refused && /already exists/i.test(refused.message)) {
        // Another run opened it between our read and now, for the commit it made there. The branch is ours when
        // our commit is still its head (we reset it after that run committed): then its pull request must
        // describe our commit. Otherwise that run's commit is the head, and reading again decides.
        const open = await openPullRequest(request.branch, snapshot.defaultBranch);
        if (open?.head !== commit.oid) {
          throw new ConcurrentUpdateError(
            refName,
            `another run opened the pull request for ${request.branch} first: ${refused.message}`,
          );
        }
        logger.info(
          `Another run opened pull request #${open.pull.number} for ${request.branch} while this run committed there; it now describes this run's commit.`,
        );
        return describe(open.pull, commit.oid, found, open.autoMergeEnabled);
      }
      fail(`open a pull request from ${request.branch}`, created.errors);
    }
    const openedPull = pull as { id: string; number: number; url: string } & HeadRef;
    const labelIds = [...found.labelIds];
    found.missingLabels.forEach((name, i) => {
      const id = created.data?.[`l${i}`]?.label.id;
      if (id) labelIds.push(id);
      else logger.warning(`Could not create the label ${name} in ${where()}; the pull request goes without it.`);
    });

    // ... then labels, reviewers and auto-merge, in one request.
    const extras: string[] = [];
    const variables: Record<string, unknown> = { pr: openedPull.id };
    const declarations = ['$pr: ID!'];
    if (labelIds.length) {
      extras.push(`labels: addLabelsToLabelable(input: { labelableId: $pr, labelIds: $labels }) { clientMutationId }`);
      declarations.push('$labels: [ID!]!');
      variables.labels = labelIds;
    }
    if (found.userIds.length || found.teamIds.length) {
      extras.push(
        `reviews: requestReviews(input: { pullRequestId: $pr, userIds: $users, teamIds: $teams, union: true }) { clientMutationId }`,
      );
      declarations.push('$users: [ID!]', '$teams: [ID!]');
      variables.users = found.userIds;
      variables.teams = found.teamIds;
    }
    if (pr.autoMerge) {
      extras.push(
        `auto: enablePullRequestAutoMerge(input: { pullRequestId: $pr, expectedHeadOid: $head }) { clientMutationId }`,
      );
      declarations.push('$head: GitObjectID!');
      variables.head = commit.oid;
    }
    let autoMergeError: GraphQLFailure | undefined;
    if (extras.length) {
      const done = await graphql<Record<string, unknown>>(
        `label, request reviews and auto-merge pull request #${openedPull.number}`,
        `mutation SlipwayDress(${declarations.join(', ')}) { ${extras.join('\n')} }`,
        variables,
      );
      autoMergeError = done.errors.find((e) => e.path?.[0] === 'auto');
      // The PR exists and is correct: a label or a reviewer GitHub refuses is told, not fatal.
      for (const error of done.errors.filter((e) => e.path?.[0] !== 'auto')) {
        logger.warning(
          `Pull request #${openedPull.number}: GitHub refused to ${error.path?.[0] === 'labels' ? 'add labels' : 'request reviews'}: ${error.message}`,
        );
      }
    }
    if (found.unlistedUsers.length) await requestReviewersByLogin(openedPull.number, found.unlistedUsers);
    // Dressed all the same (labels and reviewers are the environment's, whoever's commit is the head); the text may
    // not be: see describe().
    movedUnder(openedPull.number, commit.oid, openedPull);
    const merged = pr.autoMerge ? await afterAutoMerge(autoMergeError, openedPull.number, commit.oid) : false;
    return {
      commit: commit.oid,
      pullRequest: { number: openedPull.number, url: openedPull.url },
      ...(pr.autoMerge ? { merged } : {}),
      calls: calls - before,
    };
  }

  /** The branch's head and its open pull request into `base`: one query, spent only after losing a race. */
  async function openPullRequest(
    branchName: string,
    base: string,
  ): Promise<
    { head: string; pull: { id: string; number: number; url: string }; autoMergeEnabled: boolean } | undefined
  > {
    const { data, errors } = await graphql<{
      repository: {
        ref: {
          target: { oid: string };
          associatedPullRequests: {
            nodes: {
              id: string;
              number: number;
              url: string;
              baseRefName: string;
              autoMergeRequest: { enabledAt: string } | null;
            }[];
          };
        } | null;
      } | null;
    }>(
      `find the open pull request of ${branchName}`,
      `query SlipwayOpenPullRequest($owner: String!, $name: String!, $ref: String!) {
        repository(owner: $owner, name: $name) {
          ref(qualifiedName: $ref) {
            target { oid }
            associatedPullRequests(states: OPEN, first: 10) { nodes { id number url baseRefName autoMergeRequest { enabledAt } } }
          }
        }
      }`,
      { owner, name: repo, ref: `refs/heads/${branchName}` },
    );
    if (errors.length) fail(`find the open pull request of ${branchName}`, errors);
    const ref = data?.repository?.ref;
    const open = ref?.associatedPullRequests.nodes.find((p) => p.baseRefName === base);
    if (!ref || !open) return undefined;
    return {
      head: ref.target.oid,
      pull: { id: open.id, number: open.number, url: open.url },
      autoMergeEnabled: open.autoMergeRequest !== null,
    };
  }

  /** Auto-merge refused because nothing is pending: GitHub says merge now, so merge, at exactly our commit. */
  async function afterAutoMerge(error: GraphQLFailure | undefined, number: number, head: string): Promise<boolean> {
    if (!error) return false;
    if (!/clean status/i.test(error.message)) {
      logger.warning(`Pull request #${number}: GitHub refused auto-merge: ${error.message}. It stays open for review.`);
      return false;
    }
    calls++;
    try {
      await octokit.rest.pulls.merge({ owner, repo, pull_number: number, sha: head, merge_method: 'merge' });
      return true;
    } catch (failure) {
      const status = (failure as { status?: number }).status;
      if (status === 409 || status === 405) {
        throw new ConcurrentUpdateError(
          `refs/pull/${number}/head`,
          `pull request #${number} in ${where()} could not be merged at ${head}: ${(failure as Error).message}`,
        );
      }
      throw failure;
    }
  }

  async function addLabelsByName(number: number, labels: string[]): Promise<void> {
    calls++;
    // REST creates the labels a repository lacks; GraphQL would need their ids first.
    await octokit.rest.issues.addLabels({ owner, repo, issue_number: number, labels });
  }

  async function requestReviewersByLogin(number: number, reviewers: string[]): Promise<void> {
    calls++;
    try {
      await octokit.rest.pulls.requestReviewers({ owner, repo, pull_number: number, reviewers });
    } catch (error) {
      logger.warning(
        `Pull request #${number}: could not request reviews from ${reviewers.join(', ')}: ${(error as Error).message}`,
      );
    }
  }

  function throwCommitFailure(branchName: string, errors: GraphQLFailure[]): never {
    const commitError = errors.find((e) => e.path?.[0] === 'commit') ?? errors[0];
    if (
      commitError &&
      (commitError.type === 'STALE_DATA' || /Expected branch to point to/i.test(commitError.message))
    ) {
      throw new ConcurrentUpdateError(
        `refs/heads/${branchName}`,
        `${branchName} in ${where()} moved since it was read: ${commitError.message}`,
      );
    }
    return fail(`commit to ${branchName}`, errors);
  }

  return {
    describe: where,
    readFile,
    read,
    write,
    calls: () => calls,
  };
}

// --- helpers ------------------------------------------------------------------------------------------------

type LookupResult = Record<string, unknown>;

/** A pull request's head branch as it is now (null once deleted). */
interface HeadRef {
  headRef: { target: { oid: string } } | null;
}

interface Lookups {
  declarations: string;
  fields: string;
  variables: Record<string, unknown>;
  read(repository: LookupResult): {
    labelIds: string[];
    missingLabels: string[];
    userIds: string[];
    teamIds: string[];
    /** Users GitHub did not list as assignable: requested by login over REST. */
    unlistedUsers: string[];
  };
}

/**
 * GraphQL takes node ids for labels and reviewers. They are looked up in the payload of the first mutation
 * (its commit's repository), so no call is spent on them: labels by name, teams by slug under the owner
 * (a team of another organisation cannot review here anyway), users among the assignable ones.
 */
function lookupFields(owner: string, labels: string[], reviewers: string[], logger: Logger): Lookups {
  const variables: Record<string, unknown> = {};
  const declarations: string[] = [];
  const fields = ['id'];
  const uniqueLabels = [...new Set(labels)];
  uniqueLabels.forEach((name, i) => {
    variables[`lk${i}`] = name;
    declarations.push(`$lk${i}: String!`);
    fields.push(`lk${i}: label(name: $lk${i}) { id }`);
  });
  const teams: string[] = [];
  const users: string[] = [];
  for (const reviewer of new Set(reviewers)) {
    const slash = reviewer.indexOf('/');
    if (slash < 0) users.push(reviewer);
    else if (reviewer.slice(0, slash).toLowerCase() === owner.toLowerCase()) teams.push(reviewer.slice(slash + 1));
    else
      logger.warning(`Reviewer ${reviewer} is a team of another organisation than ${owner}; GitHub cannot request it.`);
  }
  if (teams.length) {
    teams.forEach((slug, i) => {
      variables[`tk${i}`] = slug;
      declarations.push(`$tk${i}: String!`);
    });
    fields.push(
      `owner { ... on Organization { ${teams.map((_, i) => `tk${i}: team(slug: $tk${i}) { id }`).join(' ')} } }`,
    );
  }
  users.forEach((login, i) => {
    variables[`uk${i}`] = login;
    declarations.push(`$uk${i}: String!`);
    fields.push(`uk${i}: assignableUsers(query: $uk${i}, first: 20) { nodes { id login } }`);
  });
  return {
    declarations: declarations.length ? `, ${declarations.join(', ')}` : '',
    fields: fields.join('\n'),
    variables,
    read(repository) {
      const labelIds: string[] = [];
      const missingLabels: string[] = [];
      uniqueLabels.forEach((name, i) => {
        const id = (repository[`lk${i}`] as { id: string } | null)?.id;
        if (id) labelIds.push(id);
        else missingLabels.push(name);
      });
      const ownerNode = (repository.owner ?? {}) as Record<string, { id: string } | null | undefined>;
      const teamIds: string[] = [];
      teams.forEach((slug, i) => {
        const id = ownerNode[`tk${i}`]?.id;
        if (id) teamIds.push(id);
        else logger.warning(`Reviewer ${owner}/${slug}: no such team is visible to the token; not requested.`);
      });
      const userIds: string[] = [];
      const unlistedUsers: string[] = [];
      users.forEach((login, i) => {
        const nodes = (repository[`uk${i}`] as { nodes: { id: string; login: string }[] } | null)?.nodes ?? [];
        const match = nodes.find((n) => n.login.toLowerCase() === login.toLowerCase());
        if (match) userIds.push(match.id);
        else unlistedUsers.push(login);
      });
      return { labelIds, missingLabels, userIds, teamIds, unlistedUsers };
    },
  };
}

/** createCommitOnBranch takes a headline and a body; the message's first line is the headline. */
export function commitMessage(message: string): { headline: string; body?: string } {
  const [headline = '', ...rest] = message.replace(/\r\n/g, '\n').split('\n');
  const body = rest.join('\n').replace(/^\n+/, '').replace(/\s+$/, '');
  return body ? { headline, body } : { headline };
}

/** GitHub refuses titles over 256 characters. */
export function clipTitle(title: string): string {
  const chars = [...title];
  return chars.length <= MAX_TITLE ? title : `${chars.slice(0, MAX_TITLE - 1).join('')}…`;
}

const TRUNCATED = '\n\n_… truncated to fit GitHub’s limit; promotion.json holds the whole record._\n\n';

/**
 * GitHub refuses bodies over 65,536 characters. The human text is cut, with a note; a trailing HTML comment
 * (the machine-readable metadata) is kept whole so tools reading the PR still find it.
 */
export function clipBody(body: string): string {
  if (body.length <= MAX_BODY) return body;
  const metadata = /\n?<!--[\s\S]*-->\s*$/.exec(body);
  const tail = metadata && metadata[0].length < MAX_BODY / 4 ? metadata[0] : '';
  const room = MAX_BODY - TRUNCATED.length - tail.length;
  let head = body.slice(0, room);
  // Do not leave half a surrogate pair at the cut.
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}${TRUNCATED}${tail.replace(/^\n/, '')}`;
}
