import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './services.js';

// Git plumbing for tests that need real repositories: the fake GitHub keeps its repositories as bare git
// repositories and writes commits with these, and tests seed history (files, dates, messages) and move refs
// behind a writer's back with them. Everything runs `git` with an argument array, never a shell, and with a
// fixed identity and no user or system configuration, so results do not depend on the machine.

export interface GitRun {
  stdout: string;
  stderr: string;
  code: number;
}

export interface GitOptions {
  input?: string | Uint8Array;
  env?: Record<string, string>;
  /** Resolve with the exit code instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

export const BOT_IDENTITY = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com',
};

export const ZERO_OID = '0000000000000000000000000000000000000000';

/** Runs git in `cwd` (a bare repository's directory works: git finds it). */
let gitFound = false;

export function git(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitRun> {
  if (!gitFound) {
    requireTool('git', 'git');
    gitFound = true;
  }
  return new Promise((done, fail) => {
    const child = spawn('git', args, {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: cwd,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
        LC_ALL: 'C',
        ...options.env,
      },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', fail);
    child.on('close', (code) => {
      const run = {
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? 1,
      };
      if (run.code !== 0 && !options.allowFailure) {
        fail(new Error(`git ${args.join(' ')} failed (${run.code}): ${run.stderr.trim()}`));
      } else done(run);
    });
    if (child.stdin) {
      // git may exit before reading all of its input (a failed update-ref): that is its answer, not a fault.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}

/** A new bare repository whose HEAD names `defaultBranch` (which has no commit yet). */
export async function initBare(dir: string, defaultBranch = 'main'): Promise<void> {
  await git(dir, ['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`, dir]);
}

/** The commit a ref points to, or undefined when it does not exist. */
export async function revParse(dir: string, ref: string): Promise<string | undefined> {
  if (ref.startsWith('-')) return undefined;
  const run = await git(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true });
  return run.code === 0 ? run.stdout.trim() : undefined;
}

/** A file's text at a commit-ish, or undefined when the path holds no file there. */
export async function readAt(dir: string, commitish: string, path: string): Promise<string | undefined> {
  const run = await git(dir, ['cat-file', 'blob', `${commitish}:${path}`], { allowFailure: true });
  return run.code === 0 ? run.stdout : undefined;
}

export interface CommitOptions {
  /** Parent commit; none makes a root commit. */
  parent?: string;
  /** Whole new contents by path; null deletes the path. */
  files: Record<string, string | Uint8Array | null>;
  message: string;
  author?: { name: string; email: string };
  /** Author and committer date; now when absent. */
  date?: Date;
}

/**
 * Writes a commit object from `parent`'s tree with `files` applied, through a private index file, and
 * returns its oid. No ref moves: callers move refs with compare-and-swap (`updateRef`).
 */
export async function writeCommit(dir: string, options: CommitOptions): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'slipway-git-index-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    if (options.parent) await git(dir, ['read-tree', options.parent], { env });
    else await git(dir, ['read-tree', '--empty'], { env });
    const lines: string[] = [];
    for (const [path, content] of Object.entries(options.files)) {
      if (content === null) {
        lines.push(`0 ${ZERO_OID}\t${path}`);
        continue;
      }
      const blob = (await git(dir, ['hash-object', '-w', '--stdin'], { input: content })).stdout.trim();
      lines.push(`100644 ${blob}\t${path}`);
    }
    // --index-info takes paths verbatim (no shell, no globbing); mode 0 removes the entry.
    if (lines.length) await git(dir, ['update-index', '--index-info'], { env, input: `${lines.join('\n')}\n` });
    const tree = (await git(dir, ['write-tree'], { env })).stdout.trim();
    const who = options.author ?? BOT_IDENTITY;
    const when = `${Math.floor((options.date ?? new Date()).getTime() / 1000)} +0000`;
    const args = ['commit-tree', tree, ...(options.parent ? ['-p', options.parent] : []), '-F', '-'];
    const run = await git(dir, args, {
      input: options.message,
      env: {
        ...env,
        GIT_AUTHOR_NAME: who.name,
        GIT_AUTHOR_EMAIL: who.email,
        GIT_AUTHOR_DATE: when,
        GIT_COMMITTER_NAME: BOT_IDENTITY.name,
        GIT_COMMITTER_EMAIL: BOT_IDENTITY.email,
        GIT_COMMITTER_DATE: when,
      },
    });
    return run.stdout.trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Compare-and-swap on a ref: moves `ref` to `next` only if it points at `expected` now (ZERO_OID or
 * undefined: only if it does not exist). Returns false when another writer got there first.
 */
export async function updateRef(
  dir: string,
  ref: string,
  next: string,
  expected: string | undefined,
): Promise<boolean> {
  const run = await git(dir, ['update-ref', ref, next, expected ?? ZERO_OID], { allowFailure: true });
  return run.code === 0;
}

/** Commits `files` on `branch` (creating it from nothing when absent) and moves the branch; returns the commit. */
export async function commitOnBranch(
  dir: string,
  branch: string,
  options: Omit<CommitOptions, 'parent'>,
): Promise<string> {
  const ref = `refs/heads/${branch}`;
  const parent = await revParse(dir, ref);
  const commit = await writeCommit(dir, { ...options, ...(parent ? { parent } : {}) });
  if (!(await updateRef(dir, ref, commit, parent))) throw new Error(`${ref} moved while committing to it`);
  return commit;
}
