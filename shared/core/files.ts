import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError } from './errors.js';
import { findJsonSyntaxError, lineAndColumn } from './json-syntax.js';

// Every file a user names in an input is read here, so a typo in it reaches the user as one message that
// names the input, what was given, the file and, for JSON and YAML, the line and column: never as
// "Unexpected failure, a bug in Slipway". Content is never quoted (the file may be a key given to the wrong
// input); at most one character is, and what the file looks like instead is said in words.

/** A file named by an action input: what the user wrote and where it resolved. */
export interface UserFile {
  /** The input's action.yml name, e.g. `signing-config`. */
  readonly input: string;
  /** The value as given, e.g. `config/signing.json`. */
  readonly given: string;
  /** The absolute path it resolved to. */
  readonly path: string;
}

/** Files users hand to an action are configuration and records, never bulk data. */
export const MAX_USER_FILE_BYTES = 64 * 1024 * 1024;

/** Resolves a path against the workspace (GITHUB_WORKSPACE on the runner, the current directory in the CLI). */
export function resolveInputPath(workspace: string, given: string): string {
  return isAbsolute(given) ? given : resolve(workspace, given);
}

/**
 * Names the file an input gives and checks now that it is a readable file, so a wrong path fails before any
 * work starts. `expected` describes the file for the message, e.g. "a Sigstore signing config (JSON)".
 */
export function userFile(
  input: string,
  given: string,
  workspace: string,
  expected = 'a file in the workspace',
): UserFile {
  const file = { input, given, path: resolveInputPath(workspace, given) };
  let size: number;
  try {
    const stat = statSync(file.path);
    if (stat.isDirectory()) throw fileError(file, expected, `${file.path} is a directory`);
    size = stat.size;
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw fileError(file, expected, unreadable(file.path, error), error);
  }
  if (size > MAX_USER_FILE_BYTES) {
    throw fileError(file, expected, `${file.path} is ${size} bytes, more than the ${MAX_USER_FILE_BYTES} read`);
  }
  return file;
}

/** The file's text (UTF-8, a leading byte-order mark dropped). */
export function readUserText(file: UserFile, expected = 'a readable text file'): string {
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (error) {
    throw fileError(file, expected, unreadable(file.path, error), error);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The file parsed as JSON; a syntax error names the line and column and what was found. */
export function readUserJson(file: UserFile, expected: string): unknown {
  return parseJsonIn(readUserText(file, expected), { file, expected });
}

/**
 * The file parsed as YAML (1.2, core schema); a syntax error names the line and column. The parser loads only
 * here, so that actions which never read YAML do not pay for it at start.
 */
export async function readUserYaml(file: UserFile, expected: string): Promise<unknown> {
  const text = readUserText(file, expected);
  const { parse: parseYaml, YAMLParseError } = await import('yaml');
  try {
    return parseYaml(text);
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    const at = error.linePos?.[0] ?? (error.pos ? toLineCol(lineAndColumn(text, error.pos[0])) : undefined);
    const where = at ? ` line ${at.line}, column ${at.col}` : '';
    // The library's message ends with the offending lines of the file; only its first sentence is kept.
    const problem = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw fileError(file, expected, `${file.path}${where}: ${problem} (not valid YAML)`, error);
  }
}

const toLineCol = ({ line, column }: { line: number; column: number }) => ({ line, col: column });

/**
 * JSON given in the input itself (a step output passed on as `${{ steps.x.outputs.y }}`); errors name the
 * input and the line and column inside the value.
 */
export function parseInputJson(input: string, text: string, expected: string): unknown {
  return parseJsonIn(text, { input, expected });
}

function parseJsonIn(
  text: string,
  where: { file: UserFile; expected: string } | { input: string; expected: string },
): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const place = 'file' in where ? `${where.file.path} ` : 'the JSON value ';
    const detail = `${place}${describeJsonFailure(text)}`;
    if ('file' in where) throw fileError(where.file, where.expected, detail, error);
    // The value itself is not repeated: the message says where in it the problem is.
    const wrapped = new ConfigurationError(where.input, undefined, where.expected, detail);
    wrapped.cause = error;
    throw wrapped;
  }
}

/** "line 3, column 14: expected ',' or '}' after a property value, found 'x'", or what the text is instead. */
export function describeJsonFailure(text: string): string {
  const kind = notJson(text);
  if (kind) return `is ${kind}, not JSON`;
  const syntax = findJsonSyntaxError(text);
  if (!syntax) return 'is not valid JSON';
  const { line, column } = lineAndColumn(text, syntax.offset);
  return `line ${line}, column ${column}: ${syntax.problem} (not valid JSON)`;
}

/** Says in words what a text that is plainly not JSON is, without quoting it. */
function notJson(text: string): string | undefined {
  const start = text.trimStart();
  if (start === '') return 'empty';
  if (text.includes('\u0000') || text.includes('\ufffd')) return 'binary data';
  if (/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(start)) return 'a PEM private key';
  if (/^-----BEGIN [A-Z0-9 ]+-----/.test(start)) return 'PEM data (a key or certificate)';
  if (/^<(\?xml|!doctype|html)/i.test(start)) return 'XML or HTML';
  return undefined;
}

function unreadable(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${path} does not exist`;
  if (code === 'EACCES' || code === 'EPERM') return `${path} cannot be read (permission denied)`;
  if (code === 'EISDIR') return `${path} is a directory`;
  if (code === 'ENOTDIR') return `${path} is not a file: a part of its path is not a directory`;
  return `${path} cannot be read (${code ?? (error as Error).message})`;
}

/** A problem with a user's file, as the input's error. */
export function fileError(file: UserFile, expected: string, detail: string, cause?: unknown): ConfigurationError {
  const error = new ConfigurationError(file.input, file.given, expected, detail);
  if (cause !== undefined) error.cause = cause;
  return error;
}
