import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

// Running other programs (buildah, docker buildx, git). Always an argument array, never a shell, so a
// user-supplied value can never become a command. Output is captured for parsing and its lines are
// passed to the logger, which redacts secrets; a failure names the program and its last lines of output.

export interface ExecOptions {
  cwd?: string;
  /** The complete environment of the child; defaults to this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Written to the child's stdin, then closed. */
  input?: string | Uint8Array;
  logger?: Logger;
  /** Log each line of output as it arrives (at info level); otherwise only at debug level. */
  stream?: boolean;
  timeoutMs?: number;
  /** Exit codes that are answers rather than failures; 0 by default. */
  okCodes?: readonly number[];
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const TAIL_LINES = 20;

export class ExecError extends SlipwayError {
  override name = 'ExecError';
  constructor(
    readonly program: string,
    readonly code: number | null,
    readonly output: string,
    detail: string,
  ) {
    super(`${program} ${detail}${output ? `:\n${output}` : ''}`);
  }
}

/** The absolute path of `program` on PATH, or undefined when it is not installed. */
export function findProgram(
  program: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (isAbsolute(program)) return existsSync(program) ? program : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, program);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export async function exec(program: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const env = (options.env ?? process.env) as NodeJS.ProcessEnv;
  const path = findProgram(program, env);
  if (!path) throw new ExecError(program, null, '', `is not installed (not found on PATH)`);
  const child = spawn(path, [...args], {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    shell: false,
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const log = (chunk: Buffer) => {
    const { logger } = options;
    if (!logger) return;
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      if (options.stream) logger.info(line);
      else logger.debug(line);
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
    log(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    log(chunk);
  });
  child.stdin.on('error', () => {
    // A child that exits without reading its input is judged by its exit code, not by EPIPE.
  });
  child.stdin.end(options.input ?? '');
  let timedOut = false;
  const timer = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs)
    : undefined;
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolve(exitCode));
  }).finally(() => clearTimeout(timer));
  const result = {
    code: code ?? -1,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
  if (timedOut) throw new ExecError(program, code, tail(result), `did not finish within ${options.timeoutMs} ms`);
  if (!(options.okCodes ?? [0]).includes(result.code)) {
    throw new ExecError(program, code, tail(result), `failed with exit code ${code ?? 'none (killed)'}`);
  }
  return result;
}

/** The last lines of what a program said, stderr first: enough to see why it failed, not a flood. */
function tail(result: ExecResult): string {
  const lines = `${result.stderr}\n${result.stdout}`.split('\n').filter((line) => line.trim() !== '');
  return lines.slice(-TAIL_LINES).join('\n');
}
