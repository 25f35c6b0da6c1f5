import { InvalidValueError } from '../core/errors.js';
import type { BuildSecret } from './builder.js';

// Parsers for the values build inputs carry, one line at a time. Each throws InvalidValueError with the
// expected form, which the runner layer turns into an error naming the input.

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[^\s=]+$/;

/** `KEY=VALUE` for build args and environment variables; the value may contain `=` and newlines. */
export function parseAssignment(line: string, what: 'build argument' | 'environment variable'): [string, string] {
  const eq = line.indexOf('=');
  const key = eq === -1 ? line : line.slice(0, eq);
  if (eq === -1 || !ENV_NAME.test(key)) {
    throw new InvalidValueError(
      what,
      line,
      'NAME=value, NAME made of letters, digits and _',
      eq === -1 ? 'there is no =' : `${JSON.stringify(key)} is not a name`,
    );
  }
  return [key, line.slice(eq + 1)];
}

/** `key=value` for labels: any key without spaces or `=`, as docker accepts. */
export function parseLabel(line: string): [string, string] {
  const eq = line.indexOf('=');
  const key = eq === -1 ? line : line.slice(0, eq);
  if (eq === -1 || !LABEL_KEY.test(key))
    throw new InvalidValueError('label', line, 'key=value, e.g. org.opencontainers.image.title=api');
  return [key, line.slice(eq + 1)];
}

/**
 * A build secret as buildx and buildah take it: `id=NAME,src=PATH` (a file) or `id=NAME,env=VARIABLE`.
 * Only where the secret is, never its value, is written here, so no input ever carries a secret in clear.
 */
export function parseSecret(line: string): BuildSecret {
  const expected = 'id=NAME,src=PATH or id=NAME,env=VARIABLE';
  const fields = new Map<string, string>();
  for (const part of line.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq === -1 || !['id', 'src', 'source', 'env'].includes(key) || fields.has(key)) {
      throw new InvalidValueError('secret', line, expected, `${JSON.stringify(part)} is not one of id=, src=, env=`);
    }
    fields.set(key === 'source' ? 'src' : key, part.slice(eq + 1).trim());
  }
  const id = fields.get('id');
  const src = fields.get('src');
  const env = fields.get('env');
  if (!id || !/^[A-Za-z0-9_.-]+$/.test(id))
    throw new InvalidValueError('secret', line, expected, 'the id is missing or not a plain name');
  if ((src === undefined) === (env === undefined))
    throw new InvalidValueError('secret', line, expected, 'give exactly one of src= and env=');
  if (env !== undefined && !ENV_NAME.test(env))
    throw new InvalidValueError('secret', line, expected, `${JSON.stringify(env)} is not a variable name`);
  return { id, ...(src !== undefined ? { src } : {}), ...(env !== undefined ? { env } : {}) };
}

/** `SOURCE:/TARGET`: a directory (relative to the build context) and where it lands in the image. */
export function parseDirectory(line: string): { dir: string; target: string } {
  const colon = line.lastIndexOf(':/');
  if (colon <= 0) {
    throw new InvalidValueError(
      'directory',
      line,
      'SOURCE:/TARGET, e.g. dist:/app',
      'the target must be an absolute path after a colon',
    );
  }
  return { dir: line.slice(0, colon), target: line.slice(colon + 1) };
}

/** A command as a JSON array (`["node", "server.js"]`, exact) or words separated by spaces (no quoting). */
export function parseCommand(text: string): string[] {
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((word) => typeof word === 'string')) {
      throw new InvalidValueError(
        'command',
        text,
        'a JSON array of strings, e.g. ["node", "server.js"], or words separated by spaces',
      );
    }
    return parsed;
  }
  return text.split(/\s+/).filter(Boolean);
}

/** Seconds since the epoch, as SOURCE_DATE_EPOCH is written. */
export function parseEpochSeconds(text: string): number {
  if (!/^\d{1,12}$/.test(text))
    throw new InvalidValueError('epoch', text, 'whole seconds since 1970-01-01, e.g. 1767225600');
  return Number(text);
}
