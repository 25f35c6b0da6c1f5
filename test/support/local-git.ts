import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './services.js';

// Seeding and inspecting real git repositories for the local GitOps writer's tests: commits with chosen times and
// messages built with plumbing (so a bare repository needs no work tree), refs moved behind a writer's back.
// Synchronous (execFileSync), with a fixed identity and no user or system configuration.

const BASE_ENV = {
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  LC_ALL: 'C',
  GIT_AUTHOR_NAME: 'Mona',
  GIT_AUTHOR_EMAIL: 'mona@example.com',
  GIT_COMMITTER_NAME: 'Mona',
  GIT_COMMITTER_EMAIL: 'mona@example.com',
};

export interface GitRun {
  stdout: string;
  code: number;
}

export async function git(
  dir: string,
  args: readonly string[],
  options: { input?: string; env?: Record<string, string>; allowFailure?: boolean } = {},
): Promise<GitRun> {
  requireTool('git', 'git');
  try {
    const stdout = execFileSync('git', ['-C', dir, ...args], {
      env: { PATH: process.env.PATH ?? '', ...BASE_ENV, ...options.env },
      input: options.input ?? '',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return { stdout, code: 0 };
  } catch (error) {
    const failed = error as { status?: number; stderr?: string };
    if (options.allowFailure) return { stdout: '', code: failed.status ?? 1 };
    throw new Error(`git ${args.join(' ')} failed (${failed.status}): ${String(failed.stderr ?? '').trim()}`);
  }
}

export async function initBare(dir: string, defaultBranch = 'main'): Promise<void> {
  await git(dir, ['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`]);
}

export async function revParse(dir: string, ref: string): Promise<string | undefined> {
  const run = await git(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true });
  return run.code === 0 ? run.stdout.trim() : undefined;
}

export async function readAt(dir: string, commitish: string, path: string): Promise<string | undefined> {
  const run = await git(dir, ['cat-file', 'blob', `${commitish}:${path}`], { allowFailure: true });
  return run.code === 0 ? run.stdout : undefined;
}

function dateEnv(date: Date): Record<string, string> {
  const when = `@${Math.floor(date.getTime() / 1000)} +0000`;
  return { GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when };
}

/** Commits `files` (null deletes) on top of `branch` (created when absent) with a chosen time; returns the commit. */
export async function commitOnBranch(
  dir: string,
  branch: string,
  options: { files: Record<string, string | null>; message: string; date?: Date },
): Promise<string> {
  const ref = `refs/heads/${branch}`;
  const parent = await revParse(dir, ref);
  const scratch = mkdtempSync(join(tmpdir(), 'slipway-test-index-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    await git(dir, parent ? ['read-tree', parent] : ['read-tree', '--empty'], { env });
    const lines: string[] = [];
    for (const [path, text] of Object.entries(options.files)) {
      if (text === null) lines.push(`0 ${'0'.repeat(40)}\t${path}\0`);
      else {
        const blob = (await git(dir, ['hash-object', '-w', '--stdin'], { input: text })).stdout.trim();
        lines.push(`100644 ${blob}\t${path}\0`);
      }
    }
    await git(dir, ['update-index', '-z', '--index-info'], { env, input: lines.join('') });
    const tree = (await git(dir, ['write-tree'], { env })).stdout.trim();
    const commit = (
      await git(dir, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'], {
        input: options.message,
        env: dateEnv(options.date ?? new Date()),
      })
    ).stdout.trim();
    await git(dir, ['update-ref', ref, commit, parent ?? '0'.repeat(40)]);
    return commit;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
