import {
  buildSchema,
  defaultFieldResolver,
  execute,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  parse,
  validate,
} from 'graphql';
import { git } from './git-plumbing.js';
import {
  type GitHost,
  GitHubError,
  type HostedRepository,
  type LabelState,
  nodeId,
  type PullState,
} from './github-git.js';

// GitHub's GraphQL API as the fake serves it: every document is parsed and validated against GitHub's real
// schema (@octokit/graphql-schema's schema.graphql), so a misspelt field or a wrong argument type fails here
// as it would on github.com, and is recorded as a schema error. Execution runs graphql-js over that same
// schema with resolvers backed by the bare repositories of github-git.ts. A field the fake does not resolve
// is an error too (recorded), never a silent null: the fake must not let a query pass that GitHub answers
// differently. Errors look like GitHub's: `{ type, path, locations, message }` beside partial data, status 200.

let schema: Promise<GraphQLSchema> | undefined;

/** Builds GitHub's schema once per process (~0.3 s), on the first GraphQL request. */
export function githubSchema(): Promise<GraphQLSchema> {
  schema ??= import('@octokit/graphql-schema').then(({ schema: published }) =>
    // The published SDL repeats two enterprise fields and deprecates interface implementations in ways
    // graphql-js 17 rejects; neither touches what is validated here, so the SDL checks are skipped.
    buildSchema(published.idl, { assumeValidSDL: true, assumeValid: true }),
  );
  return schema;
}

export interface GraphQLContext {
  host: GitHost;
  /** Web origin for `url` fields. */
  webUrl: string;
  schemaErrors: string[];
}

interface GraphQLBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

type Node = Record<string, unknown>;

interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
}

function connection<T>(field: string, items: T[], args: ConnectionArgs): Node {
  if (args.first == null && args.last == null) {
    throw new GitHubError(
      400,
      'MISSING_PAGINATION_BOUNDARIES',
      `You must provide a \`first\` or \`last\` value to properly paginate the \`${field}\` connection.`,
    );
  }
  const limit = args.first ?? args.last ?? 0;
  if (limit > 100) {
    throw new GitHubError(
      400,
      'EXCESSIVE_PAGINATION',
      `Requesting ${limit} records on the \`${field}\` connection exceeds the \`${args.first != null ? 'first' : 'last'}\` limit of 100 records.`,
    );
  }
  const nodes = args.first != null ? items.slice(0, limit) : items.slice(Math.max(0, items.length - limit));
  return {
    nodes,
    edges: nodes.map((node, i) => ({ node, cursor: Buffer.from(`cursor:${i}`).toString('base64') })),
    totalCount: items.length,
    pageInfo: {
      hasNextPage: args.first != null && items.length > limit,
      hasPreviousPage: args.last != null && items.length > limit,
      startCursor: nodes.length ? Buffer.from('cursor:0').toString('base64') : null,
      endCursor: nodes.length ? Buffer.from(`cursor:${nodes.length - 1}`).toString('base64') : null,
    },
  };
}

/** GitHub's DateTime: ISO 8601 in UTC without milliseconds. */
function dateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function states(value: unknown): string[] | undefined {
  if (value == null) return undefined;
  return (Array.isArray(value) ? value : [value]).map(String);
}

function pullState(pull: PullState): 'OPEN' | 'CLOSED' | 'MERGED' {
  return pull.merged ? 'MERGED' : pull.state === 'open' ? 'OPEN' : 'CLOSED';
}

const MERGE_METHODS = { MERGE: 'merge', SQUASH: 'squash', REBASE: 'rebase' } as const;

function resolvers(context: GraphQLContext): Node {
  const { host, webUrl } = context;
  const repoUrl = (r: HostedRepository) => `${webUrl}/${r.fullName}`;

  const labelNode = (r: HostedRepository, label: LabelState): Node => ({
    __typename: 'Label',
    id: label.nodeId,
    name: label.name,
    color: label.color,
    description: label.description,
    url: `${repoUrl(r)}/labels/${encodeURIComponent(label.name)}`,
    isDefault: false,
  });

  const userNode = (login: string): Node => {
    const user = host.user(login);
    return {
      __typename: user.type === 'Bot' ? 'Bot' : 'User',
      id: user.nodeId,
      databaseId: user.id,
      login: user.login,
      url: `${webUrl}/${user.login}`,
    };
  };

  const ownerNode = (r: HostedRepository): Node => ({
    __typename: r.owner.type === 'Organization' ? 'Organization' : 'User',
    id: r.owner.nodeId,
    login: r.owner.login,
    url: `${webUrl}/${r.owner.login}`,
    team: ({ slug }: { slug: string }) => {
      const team = r.teams.find((t) => t.slug === slug);
      return team
        ? {
            __typename: 'Team',
            id: team.nodeId,
            slug: team.slug,
            name: team.name,
            combinedSlug: `${r.owner.login}/${team.slug}`,
          }
        : null;
    },
  });

  const blobNode = (r: HostedRepository, oid: string): Node => {
    let content: Promise<Buffer> | undefined;
    const load = () => {
      content ??= git(r.dir, ['cat-file', 'blob', oid]).then((run) => Buffer.from(run.stdout, 'utf8'));
      return content;
    };
    return {
      __typename: 'Blob',
      id: nodeId('B', `${r.id}:${oid}`),
      oid,
      abbreviatedOid: oid.slice(0, 7),
      byteSize: async () => (await load()).length,
      isBinary: async () => (await load()).includes(0),
      // GitHub truncates Blob.text past 512 KB and says so in isTruncated.
      isTruncated: async () => (await load()).length > 512 * 1024,
      text: async () => {
        const bytes = await load();
        return bytes.includes(0) ? null : bytes.subarray(0, 512 * 1024).toString('utf8');
      },
      repository: () => repoNode(r),
    };
  };

  const objectNode = async (r: HostedRepository, oid: string): Promise<Node | null> => {
    const type = (await git(r.dir, ['cat-file', '-t', oid], { allowFailure: true })).stdout.trim();
    if (type === 'blob') return blobNode(r, oid);
    if (type === 'commit') return commitNode(r, oid);
    if (type === 'tree')
      return { __typename: 'Tree', id: nodeId('TR', `${r.id}:${oid}`), oid, abbreviatedOid: oid.slice(0, 7) };
    return null;
  };

  const commitNode = (r: HostedRepository, oid: string): Node => {
    let meta: Promise<string[]> | undefined;
    const load = () => {
      meta ??= git(r.dir, [
        'show',
        '-s',
        '--format=%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
        oid,
      ]).then((run) => run.stdout.split('\0'));
      return meta;
    };
    const message = async () => ((await load())[8] ?? '').replace(/\n+$/, '');
    return {
      __typename: 'Commit',
      id: nodeId('C', `${r.id}:${oid}`),
      oid,
      abbreviatedOid: oid.slice(0, 7),
      url: `${repoUrl(r)}/commit/${oid}`,
      commitUrl: `${repoUrl(r)}/commit/${oid}`,
      message,
      messageHeadline: async () => (await message()).split('\n')[0] ?? '',
      messageBody: async () => (await message()).split('\n').slice(1).join('\n').replace(/^\n+/, ''),
      committedDate: async () => dateTime(new Date((await load())[7] ?? '')),
      authoredDate: async () => dateTime(new Date((await load())[4] ?? '')),
      author: async () => {
        const m = await load();
        return { name: m[2], email: m[3], date: m[4] };
      },
      committer: async () => {
        const m = await load();
        return { name: m[5], email: m[6], date: m[7] };
      },
      tree: async () => ({
        __typename: 'Tree',
        oid: (await load())[0],
        id: nodeId('TR', `${r.id}:${(await load())[0]}`),
      }),
      parents: async (args: ConnectionArgs) => {
        const parents = ((await load())[1] ?? '').split(' ').filter(Boolean);
        return connection(
          'parents',
          parents.map((p) => commitNode(r, p)),
          args,
        );
      },
      history: async (args: ConnectionArgs & { path?: string | null }) => {
        const limit = args.first ?? 100;
        const list = await git(r.dir, [
          'log',
          '--format=%H',
          `--max-count=${limit + 1}`,
          oid,
          ...(args.path ? ['--', args.path] : []),
        ]);
        const oids = list.stdout.split('\n').filter(Boolean);
        return connection(
          'history',
          oids.map((c) => commitNode(r, c)),
          args,
        );
      },
      file: async ({ path }: { path: string }) => {
        const clean = path.replace(/^\/+|\/+$/g, '');
        const entry = (await git(r.dir, ['ls-tree', '-z', oid, '--', clean], { allowFailure: true })).stdout.split(
          '\0',
        )[0];
        const match = entry ? /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(entry) : null;
        if (!match || match[4] !== clean) return null;
        const [, mode, type, objectOid] = match;
        return {
          __typename: 'TreeEntry',
          name: clean.split('/').pop(),
          path: clean,
          oid: objectOid,
          mode: Number.parseInt(mode ?? '0', 8),
          type,
          object: () => objectNode(r, objectOid ?? ''),
        };
      },
      repository: () => repoNode(r),
    };
  };

  const pullNode = (r: HostedRepository, pull: PullState): Node => ({
    __typename: 'PullRequest',
    id: pull.nodeId,
    databaseId: pull.id,
    number: pull.number,
    url: `${repoUrl(r)}/pull/${pull.number}`,
    permalink: `${repoUrl(r)}/pull/${pull.number}`,
    title: pull.title,
    body: pull.body ?? '',
    state: pullState(pull),
    merged: pull.merged,
    closed: pull.state === 'closed',
    isDraft: pull.draft,
    headRefName: pull.head,
    baseRefName: pull.base,
    headRefOid: () => host.headOf(r, pull),
    // The branch as it is now (null once deleted), where headRefOid is what the pull request last recorded.
    headRef: () => findRef(r, `refs/heads/${pull.head}`),
    baseRefOid: async () => (await host.head(r, pull.base)) ?? '',
    mergeCommit: () => (pull.mergeCommit ? commitNode(r, pull.mergeCommit) : null),
    mergeable: 'MERGEABLE',
    createdAt: dateTime(pull.createdAt),
    updatedAt: dateTime(pull.updatedAt),
    autoMergeRequest: pull.autoMerge
      ? { mergeMethod: pull.autoMerge.method.toUpperCase(), enabledAt: dateTime(pull.updatedAt), pullRequest: null }
      : null,
    labels: (args: ConnectionArgs) =>
      connection(
        'labels',
        pull.labels.flatMap((id) => {
          const label = r.labels.find((l) => l.id === id);
          return label ? [labelNode(r, label)] : [];
        }),
        args,
      ),
    reviewRequests: (args: ConnectionArgs) =>
      connection(
        'reviewRequests',
        [
          ...pull.reviewers.map((login) => ({ __typename: 'ReviewRequest', requestedReviewer: userNode(login) })),
          ...pull.teamReviewers.map((slug) => ({
            __typename: 'ReviewRequest',
            requestedReviewer: (ownerNode(r).team as (a: { slug: string }) => Node)({ slug }),
          })),
        ],
        args,
      ),
    repository: () => repoNode(r),
    baseRepository: () => repoNode(r),
    headRepository: () => repoNode(r),
  });

  const refNode = (r: HostedRepository, qualifiedName: string, oid: string): Node => ({
    __typename: 'Ref',
    id: nodeId('REF', `${r.id}:${qualifiedName}`),
    name: qualifiedName.replace(/^refs\/[^/]+\//, ''),
    prefix: /^refs\/[^/]+\//.exec(qualifiedName)?.[0] ?? 'refs/',
    target: () => objectNode(r, oid),
    repository: () => repoNode(r),
    associatedPullRequests: (args: ConnectionArgs & { states?: unknown; headRefName?: string | null }) => {
      const wanted = states(args.states);
      const branch = qualifiedName.replace(/^refs\/heads\//, '');
      const pulls = r.pulls
        .filter((p) => p.head === branch && (!wanted || wanted.includes(pullState(p))))
        .map((p) => pullNode(r, p));
      return connection('associatedPullRequests', pulls, args);
    },
  });

  const findRef = async (r: HostedRepository, name: string): Promise<Node | null> => {
    const candidates = name.startsWith('refs/') ? [name] : [`refs/heads/${name}`, `refs/tags/${name}`];
    for (const candidate of candidates) {
      const oid = (
        await git(r.dir, ['rev-parse', '--verify', '--quiet', candidate], { allowFailure: true })
      ).stdout.trim();
      if (oid) return refNode(r, candidate, oid);
    }
    return null;
  };

  const repoNode = (r: HostedRepository): Node => ({
    __typename: 'Repository',
    id: r.nodeId,
    databaseId: r.id,
    name: r.name,
    nameWithOwner: r.fullName,
    url: repoUrl(r),
    isPrivate: true,
    owner: () => ownerNode(r),
    defaultBranchRef: () => findRef(r, `refs/heads/${r.defaultBranch}`),
    ref: ({ qualifiedName }: { qualifiedName: string }) => findRef(r, qualifiedName),
    object: async ({ expression, oid }: { expression?: string | null; oid?: string | null }) => {
      const spec = oid ?? expression ?? '';
      if (!spec || spec.startsWith('-')) return null;
      const resolved = (
        await git(r.dir, ['rev-parse', '--verify', '--quiet', spec], { allowFailure: true })
      ).stdout.trim();
      return resolved ? objectNode(r, resolved) : null;
    },
    label: ({ name }: { name: string }) => {
      const label = host.label(r, name);
      return label ? labelNode(r, label) : null;
    },
    labels: (args: ConnectionArgs & { query?: string | null }) =>
      connection(
        'labels',
        r.labels
          .filter((l) => !args.query || l.name.toLowerCase().includes(args.query.toLowerCase()))
          .map((l) => labelNode(r, l)),
        args,
      ),
    assignableUsers: (args: ConnectionArgs & { query?: string | null }) =>
      connection(
        'assignableUsers',
        r.collaborators
          .filter((login) => !args.query || login.toLowerCase().includes(args.query.toLowerCase()))
          .map((login) => userNode(login)),
        args,
      ),
    pullRequest: ({ number }: { number: number }) => {
      const pull = r.pulls.find((p) => p.number === number);
      return pull ? pullNode(r, pull) : null;
    },
    pullRequests: (
      args: ConnectionArgs & { states?: unknown; headRefName?: string | null; baseRefName?: string | null },
    ) => {
      const wanted = states(args.states);
      return connection(
        'pullRequests',
        r.pulls
          .filter((p) => !wanted || wanted.includes(pullState(p)))
          .filter((p) => !args.headRefName || p.head === args.headRefName)
          .filter((p) => !args.baseRefName || p.base === args.baseRefName)
          .map((p) => pullNode(r, p)),
        args,
      );
    },
  });

  const pullById = (id: string) => host.pullByNodeId(id);

  return {
    repository: ({ owner, name }: { owner: string; name: string }) => repoNode(host.get(owner, name)),
    viewer: () => userNode(host.viewer.login),

    createRef: async ({
      input,
    }: {
      input: { repositoryId: string; name: string; oid: string; clientMutationId?: string };
    }) => {
      const r = host.repositoryByNodeId(input.repositoryId);
      await host.createRef(r, input.name, input.oid);
      return { clientMutationId: input.clientMutationId ?? null, ref: refNode(r, input.name, input.oid) };
    },
    updateRefs: async ({
      input,
    }: {
      input: {
        repositoryId: string;
        refUpdates: { name: string; beforeOid?: string | null; afterOid: string; force?: boolean | null }[];
        clientMutationId?: string;
      };
    }) => {
      await host.updateRefs(host.repositoryByNodeId(input.repositoryId), input.refUpdates);
      return { clientMutationId: input.clientMutationId ?? null };
    },
    createCommitOnBranch: async ({
      input,
    }: {
      input: {
        branch: { repositoryNameWithOwner?: string | null; branchName?: string | null; id?: string | null };
        expectedHeadOid: string;
        message: { headline: string; body?: string | null };
        fileChanges?: { additions?: { path: string; contents: string }[]; deletions?: { path: string }[] } | null;
        clientMutationId?: string;
      };
    }) => {
      const { repositoryNameWithOwner, branchName } = input.branch;
      if (!repositoryNameWithOwner || !branchName) {
        throw new GitHubError(
          422,
          'UNPROCESSABLE',
          'fake GitHub: branch must be given by repositoryNameWithOwner and branchName',
        );
      }
      const [owner = '', name = ''] = repositoryNameWithOwner.split('/');
      const r = host.get(owner, name);
      const commit = await host.commitOnBranch(
        r,
        branchName,
        input.expectedHeadOid,
        input.message,
        input.fileChanges ?? {},
      );
      return {
        clientMutationId: input.clientMutationId ?? null,
        commit: commitNode(r, commit),
        ref: refNode(r, `refs/heads/${branchName}`, commit),
      };
    },
    createPullRequest: async ({
      input,
    }: {
      input: {
        repositoryId: string;
        baseRefName: string;
        headRefName: string;
        title: string;
        body?: string | null;
        draft?: boolean;
      };
    }) => {
      const r = host.repositoryByNodeId(input.repositoryId);
      const pull = await host.createPull(r, {
        title: input.title,
        body: input.body ?? null,
        head: input.headRefName,
        base: input.baseRefName,
        ...(input.draft !== undefined ? { draft: input.draft } : {}),
      });
      return { clientMutationId: null, pullRequest: pullNode(r, pull) };
    },
    updatePullRequest: ({
      input,
    }: {
      input: {
        pullRequestId: string;
        title?: string | null;
        body?: string | null;
        state?: string | null;
        labelIds?: string[] | null;
      };
    }) => {
      const { repository, pull } = pullById(input.pullRequestId);
      host.updatePull(pull, input);
      if (input.labelIds) {
        pull.labels = [];
        host.addLabelsById(repository, pull, input.labelIds);
      }
      return { clientMutationId: null, pullRequest: pullNode(repository, pull) };
    },
    addLabelsToLabelable: ({ input }: { input: { labelableId: string; labelIds: string[] } }) => {
      const { repository, pull } = pullById(input.labelableId);
      host.addLabelsById(repository, pull, input.labelIds);
      return { clientMutationId: null, labelable: pullNode(repository, pull) };
    },
    requestReviews: ({
      input,
    }: {
      input: { pullRequestId: string; userIds?: string[] | null; teamIds?: string[] | null; union?: boolean | null };
    }) => {
      const { repository, pull } = pullById(input.pullRequestId);
      const users = (input.userIds ?? []).map((id) => {
        const user = [...host.users.values()].find((u) => u.nodeId === id);
        if (!user) throw new GitHubError(404, 'NOT_FOUND', `Could not resolve to a node with the global id of '${id}'`);
        return user.login;
      });
      const teams = (input.teamIds ?? []).map((id) => {
        const team = repository.teams.find((t) => t.nodeId === id);
        if (!team) throw new GitHubError(404, 'NOT_FOUND', `Could not resolve to a node with the global id of '${id}'`);
        return team.slug;
      });
      if (!input.union) {
        pull.reviewers = [];
        pull.teamReviewers = [];
      }
      host.requestReviewers(repository, pull, users, teams);
      return { clientMutationId: null, pullRequest: pullNode(repository, pull) };
    },
    enablePullRequestAutoMerge: async ({
      input,
    }: {
      input: {
        pullRequestId: string;
        mergeMethod?: keyof typeof MERGE_METHODS | null;
        expectedHeadOid?: string | null;
      };
    }) => {
      const { repository, pull } = pullById(input.pullRequestId);
      if (input.expectedHeadOid && input.expectedHeadOid !== (await host.headOf(repository, pull))) {
        throw new GitHubError(409, 'UNPROCESSABLE', 'Head branch was modified. Review and try the merge again.');
      }
      host.enableAutoMerge(repository, pull, MERGE_METHODS[input.mergeMethod ?? 'MERGE']);
      return { clientMutationId: null, pullRequest: pullNode(repository, pull) };
    },
    mergePullRequest: async ({
      input,
    }: {
      input: {
        pullRequestId: string;
        expectedHeadOid?: string | null;
        mergeMethod?: keyof typeof MERGE_METHODS | null;
        commitHeadline?: string | null;
        commitBody?: string | null;
      };
    }) => {
      const { repository, pull } = pullById(input.pullRequestId);
      await host.merge(repository, pull, {
        sha: input.expectedHeadOid ?? null,
        method: MERGE_METHODS[input.mergeMethod ?? 'MERGE'],
        title: input.commitHeadline ?? null,
        message: input.commitBody ?? null,
      });
      return { clientMutationId: null, pullRequest: pullNode(repository, pull) };
    },
    createLabel: ({
      input,
    }: {
      input: { repositoryId: string; name: string; color: string; description?: string | null };
    }) => {
      const r = host.repositoryByNodeId(input.repositoryId);
      return {
        clientMutationId: null,
        label: labelNode(r, host.createLabel(r, input.name, input.color, input.description ?? null)),
      };
    },
  };
}

/** Executes one GraphQL request body the way GitHub answers it (always 200, errors beside partial data). */
export async function executeGraphQL(
  body: unknown,
  context: GraphQLContext,
): Promise<{ status: number; body: unknown }> {
  const request = (body ?? {}) as GraphQLBody;
  const refuse = (errors: { message: string; locations?: unknown; extensions?: unknown }[]) => {
    for (const e of errors) context.schemaErrors.push(`GraphQL: ${e.message}`);
    return { status: 200, body: { errors } };
  };
  if (typeof request.query !== 'string')
    return refuse([{ message: 'A query attribute must be specified and must be a string.' }]);
  const variables = request.variables ?? {};
  if (typeof variables !== 'object' || Array.isArray(variables))
    return refuse([{ message: 'Variables are invalid JSON.' }]);

  let document: ReturnType<typeof parse>;
  try {
    document = parse(request.query);
  } catch (error) {
    const e = error as GraphQLError;
    return refuse([{ message: e.message, locations: e.locations }]);
  }
  const schemaObject = await githubSchema();
  const invalid = validate(schemaObject, document);
  if (invalid.length) {
    return refuse(
      invalid.map((e) => ({ message: e.message, locations: e.locations, extensions: { code: 'undefinedField' } })),
    );
  }

  // A field the resolvers do not provide would read as null; GitHub would answer it, so it is a gap in
  // the fake that must show, not a quiet difference.
  const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, ctx, info) => {
    if (
      source !== null &&
      typeof source === 'object' &&
      !(info.fieldName in (source as object)) &&
      info.fieldName !== '__typename'
    ) {
      throw new GraphQLError(`fake GitHub does not implement ${info.parentType.name}.${info.fieldName}`);
    }
    return defaultFieldResolver(source, args, ctx, info);
  };

  const result = await execute({
    schema: schemaObject,
    document,
    rootValue: resolvers(context),
    variableValues: variables as Record<string, unknown>,
    ...(typeof request.operationName === 'string' ? { operationName: request.operationName } : {}),
    fieldResolver,
  });
  const errors = (result.errors ?? []).map((e) => {
    const original = e.originalError;
    if (original instanceof GitHubError) {
      return { type: original.type, path: e.path, locations: e.locations, message: original.message };
    }
    // Not GitHub's answer to a client mistake: a variable that does not coerce, or a gap in the fake.
    context.schemaErrors.push(`GraphQL: ${e.message}${e.path ? ` at ${e.path.join('.')}` : ''}`);
    return { path: e.path, locations: e.locations, message: e.message };
  });
  const out: Record<string, unknown> = {};
  if ('data' in result) out.data = result.data ?? null;
  if (errors.length) out.errors = errors;
  return { status: 200, body: out };
}
