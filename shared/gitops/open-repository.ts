import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { GitHubContext } from '../github/context.js';
import type { GitOpsRepository } from './types.js';

// Where the GitOps repository is: `owner/name` on GitHub, or a local path to a git repository. The two forms
// overlap (`gitops/repo` could be either), so a local path must say it is one: it starts with `/`, `./` or `../`
// (or is `.`), as the CLI examples write it. The writers are imported only once chosen, so a local promotion
// never loads Octokit and a GitHub one never spawns git.

export type GitOpsLocation = { kind: 'local'; path: string } | { kind: 'github'; owner: string; repo: string };

const EXPECTED = 'owner/name (a repository on GitHub) or a local path starting with ./, ../ or /';
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Reads the `gitops-repo` input; a local path is resolved against the workspace. */
export function gitopsLocation(given: string, workspace: string, input = 'gitops-repo'): GitOpsLocation {
  if (given === '.' || given === '..' || /^\.{1,2}[/\\]/.test(given) || isAbsolute(given)) {
    return { kind: 'local', path: resolve(workspace, given) };
  }
  const parts = given.split('/');
  if (parts.length === 2 && OWNER.test(parts[0]!) && NAME.test(parts[1]!) && parts[1] !== '.' && parts[1] !== '..') {
    return { kind: 'github', owner: parts[0]!, repo: parts[1]!.replace(/\.git$/, '') };
  }
  const hint = /^https?:\/\//.test(given)
    ? 'give owner/name rather than a URL; the GitHub host comes from the run (GITHUB_SERVER_URL)'
    : parts.length === 1
      ? 'a local directory must start with ./ (./gitops), so it cannot be mistaken for a GitHub repository'
      : 'it is neither owner/name nor a path starting with ./, ../ or /';
  throw new ConfigurationError(input, given, EXPECTED, hint);
}

export interface OpenRepositoryOptions {
  location: GitOpsLocation;
  token: string | undefined;
  context: GitHubContext;
  logger: Logger;
}

export interface OpenedRepository {
  repository: GitOpsRepository;
  /** GitHub API calls made so far, read before and after each step; undefined for a local repository. */
  apiCalls?: () => number;
}

export async function openRepository(options: OpenRepositoryOptions): Promise<OpenedRepository> {
  const { location, logger } = options;
  if (location.kind === 'local') {
    const { localRepository } = await import('./local-repository.js');
    return { repository: localRepository(location.path, { logger }) };
  }
  if (!options.token) {
    throw new ConfigurationError(
      'token',
      '',
      'a token that can write contents and pull requests of the GitOps repository',
      `${location.owner}/${location.repo} is on GitHub, and promoting into it needs a token`,
    );
  }
  const [{ createOctokit, countCalls }, { githubRepository }] = await Promise.all([
    import('../github/octokit.js'),
    import('./github-repository.js'),
  ]);
  const octokit = await createOctokit({ token: options.token, context: options.context, logger });
  const counter = countCalls(octokit);
  return {
    repository: githubRepository({ owner: location.owner, repo: location.repo, octokit, logger }),
    apiCalls: () => counter.calls,
  };
}
