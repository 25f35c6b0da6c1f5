import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distRoot } from './runner-harness.js';

// The slipway CLI as shipped (dist/cli/index.mjs, or SLIPWAY_DIST's), run as a user runs it, and the kind of
// directory a user runs it in.

export const cliEntry = join(distRoot, 'cli/index.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `slipway <args>` in `cwd`, with this machine's PATH and nothing else of its environment: HOME is `cwd`,
 * so no docker credentials of this machine are read. `env` adds to that.
 */
export function runCli(
  args: string[],
  cwd: string,
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): CliResult {
  const result = spawnSync(process.execPath, [cliEntry, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: cwd, ...options.env },
    timeout: options.timeoutMs,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A fresh git repository (branch main, one commit) holding app/server.js, in a temp dir named after `prefix`.
 * `date` fixes the commit's author date and `tag` tags the commit, for a build whose version and time come
 * from git.
 */
export function appCheckout(prefix: string, options: { date?: string; tag?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app/server.js'), 'console.log("hi")\n');
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  const date = options.date ? ['--date', options.date] : [];
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'app', ...date);
  if (options.tag) git('tag', options.tag);
  return dir;
}
