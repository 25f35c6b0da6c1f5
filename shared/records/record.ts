import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError, SlipwayError, showValue } from '../core/errors.js';
import { readUserJson, type UserFile } from '../core/files.js';
import { refuseSecrets, type SecretRegistry } from '../core/secrets.js';

// The records actions hand each other (DESIGN.md, "Data that flows between actions"). Each carries `_type`,
// a URI naming the kind of record and nothing else (https://slipway.dev/records/<kind>, fixed forever), and
// `version`, the record format's major version as a whole number. A reader refuses a version it does not
// know, since a new major version may have changed what a field means; fields it does not know are fine,
// because minor releases add fields without a new version. Every record is read through readRecord, which
// names the file and the field when something is wrong, and checks the record against its JSON schema
// (schemas/<kind>.schema.json, draft 2020-12).

export interface RecordKind {
  /** The kind as people say it: "build" reads as "build record". */
  readonly name: 'build' | 'sbom' | 'attestations' | 'verification' | 'promotion' | 'canary' | 'evidence';
  /** The file the writing action names it. */
  readonly fileName: string;
  readonly type: string;
  /** The major version this Slipway writes and reads. */
  readonly version: number;
  /** The schema's $id. */
  readonly schema: string;
}

export const RECORD_TYPE_PREFIX = 'https://slipway.dev/records/';
export const SCHEMA_PREFIX = 'https://slipway.dev/schemas/';

export function recordKind(name: RecordKind['name'], fileName: string): RecordKind {
  return {
    name,
    fileName,
    type: `${RECORD_TYPE_PREFIX}${name}`,
    version: 1,
    schema: `${SCHEMA_PREFIX}${name}.schema.json`,
  };
}

/** The fields every record starts with. */
export interface RecordHeader {
  _type: string;
  version: number;
}

/** A record as written: the header, then the action's own result. */
export type Recorded<T> = RecordHeader & T;

/** The action's result with `_type` and `version` in front (they are the first thing a person reads). */
export function stampRecord<T extends object>(kind: RecordKind, body: T): Recorded<T> {
  const { _type: _ignoredType, version: _ignoredVersion, ...rest } = body as T & Partial<RecordHeader>;
  return { _type: kind.type, version: kind.version, ...(rest as T) };
}

/** Writes `<directory>/<kind's file name>` and returns its path, the value of the action's `record` output. */
export function writeRecord(directory: string, kind: RecordKind, body: object, secrets: SecretRegistry): string {
  return writeRecordFile(directory, kind.fileName, stampRecord(kind, body), secrets);
}

/**
 * Where a record came from, for messages: a file (from an input or not) or a JSON value given in an input.
 * `label` is what messages call it: the file's path, or "the JSON value".
 */
export interface RecordOrigin {
  label: string;
  input?: { name: string; given: string | undefined };
}

export function originOfFile(file: UserFile | string): RecordOrigin {
  if (typeof file === 'string') return { label: file };
  return { label: file.path, input: { name: file.input, given: file.given } };
}

/** A record that is not what its reader needs; names the record, the field, what it is and what was expected. */
export class RecordError extends SlipwayError {
  override name = 'RecordError';
}

/** The error for a problem in a record: a ConfigurationError naming the input when it came from one. */
export function recordProblem(
  what: string,
  origin: RecordOrigin,
  problem: { field?: string; found?: string; expected: string; detail?: string },
): SlipwayError {
  const about = problem.field
    ? `field ${problem.field} is ${problem.found ?? 'invalid'}`
    : (problem.detail ?? 'it is invalid');
  if (origin.input) {
    return new ConfigurationError(
      origin.input.name,
      origin.input.given,
      problem.expected,
      `${what} ${origin.label}: ${about}`,
    );
  }
  return new RecordError(`${what} ${origin.label}: ${about}: expected ${problem.expected}.`);
}

/** The kinds that name a subject, which the subject input accepts (promotion.json names several services). */
type SubjectRecordKind = Exclude<RecordKind['name'], 'promotion' | 'canary' | 'evidence'>;

const KINDS_BY_TYPE = new Map<string, SubjectRecordKind>(
  (['build', 'sbom', 'attestations', 'verification'] as const).map((name) => [`${RECORD_TYPE_PREFIX}${name}`, name]),
);

/** The record kind a value claims by its `_type`, when it is one of Slipway's. */
export function claimedKind(value: unknown): SubjectRecordKind | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const type = (value as { _type?: unknown })._type;
  return typeof type === 'string' ? KINDS_BY_TYPE.get(type) : undefined;
}

/** The action that writes each kind whose action is not named after it. */
const WRITTEN_BY: Partial<Record<RecordKind['name'], string>> = {
  attestations: 'sign',
  verification: 'verify',
  promotion: 'promote',
};

/** Checks the header (kind, then version) before the schema, so a newer record is refused for its version. */
export function checkHeader(kind: RecordKind, value: unknown, origin: RecordOrigin): void {
  const what = `${kind.name} record`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw recordProblem(what, origin, {
      expected: `a JSON object with _type ${kind.type}`,
      detail: `it is ${Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`}, not an object`,
    });
  }
  const { _type: type, version } = value as Partial<Record<keyof RecordHeader, unknown>>;
  if (type !== kind.type) {
    const other = claimedKind(value);
    throw recordProblem(what, origin, {
      expected: `_type ${kind.type} (the ${kind.fileName} the ${WRITTEN_BY[kind.name] ?? kind.name} action writes)`,
      ...(other
        ? { detail: `it is a ${other} record, not a ${kind.name} record` }
        : { field: '_type', found: type === undefined ? 'missing' : showValue(String(type)) }),
    });
  }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw recordProblem(what, origin, {
      field: 'version',
      found: version === undefined ? 'missing' : showValue(String(version)),
      expected: 'a whole number from 1',
    });
  }
  if (version !== kind.version) {
    throw recordProblem(what, origin, {
      expected: `version ${kind.version}; a record of version ${version} needs a Slipway release that reads it`,
      detail: `it has version ${version}, which this Slipway does not read`,
    });
  }
}

/** Checks a parsed value as a record of `kind`: header, then schema. */
export async function parseRecord<T>(kind: RecordKind, value: unknown, origin: RecordOrigin): Promise<Recorded<T>> {
  checkHeader(kind, value, origin);
  await checkSchema(`${kind.name} record`, kind.schema, value, origin);
  return value as Recorded<T>;
}

/** Validates against a schema ($id, optionally #/$defs/…); ajv loads on first use. */
export async function checkSchema(
  what: string,
  schemaRef: string,
  value: unknown,
  origin: RecordOrigin,
): Promise<void> {
  const { findProblem } = await import('./validate.js');
  const problem = findProblem(schemaRef, value);
  if (problem) throw recordProblem(what, origin, problem);
}

/** Reads a record file: a file an input named (errors name the input) or a path (errors name the file). */
export async function readRecord<T>(kind: RecordKind, file: UserFile | string): Promise<Recorded<T>> {
  const userFile: UserFile =
    typeof file === 'string' ? { input: `${kind.name} record`, given: file, path: file } : file;
  const expected = `a ${kind.name} record (${kind.fileName})`;
  if (typeof file === 'string') {
    // Not from an input: a read or parse error names the file alone.
    try {
      return await parseRecord<T>(kind, readUserJson(userFile, expected), originOfFile(file));
    } catch (error) {
      if (error instanceof ConfigurationError) {
        const wrapped = new RecordError(`${kind.name} record ${file}: ${error.detail ?? error.message}.`);
        wrapped.cause = error;
        throw wrapped;
      }
      throw error;
    }
  }
  return parseRecord<T>(kind, readUserJson(userFile, expected), originOfFile(file));
}

/**
 * Writes a record file (build.json, sbom.json, …) that later steps read by path. Large values travel as
 * files because inputs are environment variables (E2BIG past ~128 KiB) and job outputs stop at 1 MB.
 */
export function writeRecordFile(directory: string, fileName: string, record: unknown, secrets: SecretRegistry): string {
  refuseSecrets(secrets, `The record ${fileName}`, record);
  const text = JSON.stringify(record, null, 2);
  mkdirSync(directory, { recursive: true });
  const path = join(directory, fileName);
  writeFileSync(path, `${text}\n`, 'utf8');
  return path;
}
