import { createHash } from 'node:crypto';
import { globSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { ConfigurationError } from '../../core/errors.js';
import { fileError, type UserFile, userFile } from '../../core/files.js';

// The evidence action's file inputs (`records`, `test-reports`) take paths or globs, one per line, the way
// upload-artifact does. No other action expands globs, so the expansion lives here, on node:fs globSync (Node 22+)
// rather than a package. A pattern that matches nothing is an error naming it: an empty list of test reports would
// otherwise read as "no test failed", and a missing record as "nothing was signed".

/** A file a pattern matched: the input, the pattern as given, the absolute path and the workspace-relative one. */
export interface MatchedFile extends UserFile {
  /** Relative to the workspace when inside it (what records and messages show), else absolute. */
  readonly relative: string;
  /** Matched by a glob rather than named: a reader may pass over a globbed file that is not of its kind. */
  readonly globbed: boolean;
}

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * Expands paths and globs against the workspace; each file once, in the order of the patterns and, within a glob,
 * sorted by path. A literal path must be a readable file; a glob must match at least one file (directories it
 * matches are passed over).
 */
export function expandPatterns(
  input: string,
  patterns: readonly string[],
  workspace: string,
  expected: string,
): MatchedFile[] {
  const seen = new Set<string>();
  const files: MatchedFile[] = [];
  for (const raw of patterns) {
    const pattern = raw.trim();
    if (pattern === '') continue;
    const globbed = GLOB_CHARACTERS.test(pattern);
    const paths = globbed ? matchGlob(input, pattern, workspace, expected) : [pattern];
    // userFile checks each one is a readable file under the size cap that every user file has.
    for (const path of paths.map((match) => userFile(input, match, workspace, expected).path)) {
      if (seen.has(path)) continue;
      seen.add(path);
      files.push({ input, given: pattern, path, relative: relativeToWorkspace(workspace, path), globbed });
    }
  }
  return files;
}

function matchGlob(input: string, pattern: string, workspace: string, expected: string): string[] {
  let matches: string[];
  try {
    matches = globSync(pattern, { cwd: workspace });
  } catch (error) {
    const wrapped = new ConfigurationError(input, pattern, expected, 'it is not a valid glob');
    wrapped.cause = error;
    throw wrapped;
  }
  const files = matches
    .map((match) => (isAbsolute(match) ? match : resolve(workspace, match)))
    .filter((path) => {
      try {
        return statSync(path).isFile();
      } catch {
        return false;
      }
    })
    .sort();
  if (files.length === 0) {
    throw new ConfigurationError(input, pattern, expected, `no file in ${workspace} matches it`);
  }
  return files;
}

function relativeToWorkspace(workspace: string, path: string): string {
  const inside = relative(workspace, path);
  return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}

/** A matched file's bytes as text (UTF-8, a byte-order mark dropped) and their sha256, read once. */
export function readMatched(file: MatchedFile, expected: string): { text: string; sha256: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fileError(file, expected, `${file.relative} cannot be read (${code ?? (error as Error).message})`, error);
  }
  const text = bytes.toString('utf8');
  return {
    text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
