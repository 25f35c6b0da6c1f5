import { SlipwayError } from '../core/errors.js';
import { epochToRfc3339 } from '../core/time.js';
import { ExecError, exec } from '../process/exec.js';
import type { GitContext } from './tags.js';

// Facts about the source checkout, read with git itself (argv arrays, never a shell). On the runner the
// event payload says most of this; what it leaves out (the commit time on pull_request, workflow_dispatch,
// schedule and release events) and everything in a local `slipway build` comes from here.

type Env = Readonly<Record<string, string | undefined>>;

async function git(dir: string, args: string[], env: Env): Promise<string | undefined> {
  try {
    // safe.directory: the runner's workspace is often owned by another uid than the container's root.
    const result = await exec('git', ['-c', 'safe.directory=*', '-C', dir, ...args], { env });
    return result.stdout.trim() || undefined;
  } catch (error) {
    if (error instanceof ExecError) return undefined;
    throw error;
  }
}

/** The committer time of `sha` as RFC 3339 in UTC, or undefined when dir is not a checkout holding it. */
export async function commitTime(dir: string, sha: string, env: Env = process.env): Promise<string | undefined> {
  const seconds = await git(dir, ['log', '-1', '--format=%ct', sha], env);
  if (!seconds || !/^\d+$/.test(seconds)) return undefined;
  return epochToRfc3339(Number(seconds));
}

/**
 * A GitContext for a build outside GitHub Actions, from the checkout at `dir`: HEAD's commit and time, the
 * tag pointing at HEAD (which counts as a tag push, so semver rules apply) or else the branch.
 */
export async function gitContextFromCheckout(dir: string, env: Env = process.env): Promise<GitContext> {
  const sha = await git(dir, ['rev-parse', 'HEAD'], env);
  if (!sha) {
    throw new SlipwayError(
      `${dir} is not a git checkout with a commit: tags and labels are computed from the commit. Run from a checkout, or set the tags input to type=raw rules and SOURCE_DATE_EPOCH.`,
    );
  }
  const tag = await git(dir, ['describe', '--tags', '--exact-match', 'HEAD'], env);
  const branch = await git(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD'], env);
  const ref = tag ? `refs/tags/${tag}` : branch ? `refs/heads/${branch}` : '';
  const time = await commitTime(dir, sha, env);
  const remote = await git(dir, ['remote', 'get-url', 'origin'], env);
  return {
    eventName: tag ? 'push' : 'local',
    ref,
    sha,
    ...(time ? { commitTime: time, commitTimeSource: 'git' as const } : {}),
    repositoryUrl: remote ? publicRepositoryUrl(remote) : `file://${dir}`,
  };
}

/** A remote URL fit for an image label: https, no credentials, no `.git`. */
export function publicRepositoryUrl(remote: string): string {
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(remote);
  // The URL setter cannot turn ssh: into https: (special and non-special schemes), so the text is rewritten.
  const url = scp ? `https://${scp[1]}/${scp[2]}` : remote.replace(/^(?:ssh|git):\/\/(?:[^@/]+@)?/, 'https://');
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\.git$/, '');
  } catch {
    return url.replace(/\.git$/, '');
  }
}

/**
 * The context with the commit time filled in from the first of `dirs` that is a checkout holding the
 * commit, when the event carried none: workflow_dispatch, schedule and release payloads have no head
 * commit, and pull request payloads none for the head. Unchanged when no checkout has it.
 */
export async function withCommitTime(
  ctx: GitContext,
  dirs: readonly string[],
  env: Env = process.env,
): Promise<GitContext> {
  if (ctx.commitTime !== undefined) return ctx;
  for (const dir of new Set(dirs)) {
    const time = await commitTime(dir, ctx.sha, env);
    if (time !== undefined) return { ...ctx, commitTime: time, commitTimeSource: 'git' };
  }
  return ctx;
}
