import { appendFileSync, writeSync } from 'node:fs';
import { SlipwayError } from '../core/errors.js';

// The GitHub runner's two channels, written here rather than through @actions/core: bundled, core 3 costs
// ~17 MiB of peak memory and ~50 ms at start (it pulls in an HTTP client for OIDC), which alone breaks the
// 60 MiB / 100 ms cold-start budget. The formats are small and fixed by the runner's source
// (src/Runner.Worker/FileCommandManager.cs and ActionCommandManager.cs); this file mirrors them exactly.

export type Env = Readonly<Record<string, string | undefined>>;

/** Escapes the message part of a workflow command, as the runner unescapes it. */
export function escapeCommandData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value (`key=value`) of a workflow command; `:` and `,` delimit properties. */
export function escapeCommandProperty(value: string): string {
  return escapeCommandData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Formats `::name key=value,…::message`. */
export function formatWorkflowCommand(
  name: string,
  message: string,
  properties: Record<string, string | number | undefined> = {},
): string {
  const props = Object.entries(properties)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${escapeCommandProperty(String(value))}`)
    .join(',');
  return `::${name}${props ? ` ${props}` : ''}::${escapeCommandData(message)}`;
}

/** Set once a write to fd 1 met EAGAIN; from then on every line goes through process.stdout, in order. */
let stdoutThroughStream = false;

/**
 * Writes workflow commands and log lines to stdout with fs.writeSync on fd 1, not process.stdout: creating the
 * stream loads Node's stream modules, ~5 ms and ~2.5 MiB before a step can print its first error
 * (bench/README.md). Lines come out whole and in order either way. Where the runner's pipe is full, a write waits
 * for it to be read, as Node's stdout does for files and terminals, rather than queueing in memory as it does for
 * pipes; nothing is left unwritten at exit. Should fd 1 be non-blocking and full (EAGAIN, possible only once
 * something has opened process.stdout), the rest of the text and every later line go through process.stdout.
 */
export function writeStdout(text: string): void {
  if (stdoutThroughStream) {
    process.stdout.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    stdoutThroughStream = true;
    process.stdout.write(bytes.subarray(written));
  }
}

/** The file-command variables, so errors can say which one was missing or unwritable. */
export type FileCommand = 'GITHUB_OUTPUT' | 'GITHUB_STATE' | 'GITHUB_ENV' | 'GITHUB_STEP_SUMMARY';

/** Appends `key<<delimiter\nvalue\ndelimiter\n` to the file the runner named in `variable`. */
export function appendKeyValueCommand(env: Env, variable: FileCommand, key: string, value: string): void {
  // node:crypto is fetched here, not imported: loading it costs every step ~6 ms before its inputs are read.
  const delimiter = `ghadelimiter_${process.getBuiltinModule('node:crypto').randomUUID()}`;
  // A value containing the delimiter could end the entry early and inject further keys.
  if (key.includes(delimiter) || value.includes(delimiter)) {
    throw new SlipwayError(`Refusing to write ${key} to ${variable}: the value contains the delimiter.`);
  }
  if (key.includes('\n') || key.includes('\r') || key.includes('=') || key === '') {
    throw new SlipwayError(`Refusing to write ${JSON.stringify(key)} to ${variable}: not a valid name.`);
  }
  appendToCommandFile(env, variable, `${key}<<${delimiter}\n${value}\n${delimiter}\n`);
}

/**
 * Appends text to the file the runner named in `variable`. The runner creates these files before the step
 * starts, so a failure here means the variable was set by hand (or the runner's temp directory went away):
 * the error names the variable, the path and what is wrong with it, not a bare ENOENT.
 */
export function appendToCommandFile(env: Env, variable: FileCommand, text: string): void {
  const path = commandFile(env, variable);
  try {
    appendFileSync(path, text, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === undefined ? undefined : FILE_PROBLEMS[code];
    if (problem === undefined) throw error;
    const wrapped = new SlipwayError(
      `${variable} names ${JSON.stringify(path)}, which cannot be written: ${problem} (${code}). The runner sets ` +
        `${variable} to a file it created for this step; outside the runner, point it at a writable file, or use ` +
        'the slipway CLI.',
    );
    wrapped.cause = error;
    throw wrapped;
  }
}

/** What each file-system error means for a file the runner should have created. */
const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  ENAMETOOLONG: 'the path is too long',
};

export function commandFile(env: Env, variable: FileCommand): string {
  const path = env[variable];
  if (!path) {
    throw new SlipwayError(
      `${variable} is not set: this entry is meant to run as a GitHub Actions step; use the slipway CLI to run it locally.`,
    );
  }
  return path;
}
