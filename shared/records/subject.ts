import { ConfigurationError, InvalidValueError } from '../core/errors.js';
import { parseInputJson, readUserJson, userFile } from '../core/files.js';
import { type ImageReference, parsePinnedReference } from '../oci/reference.js';
import type { Subject } from '../oci/subject.js';
import type { Digest } from '../oci/types.js';
import { ATTESTATIONS_RECORD } from './attestations.js';
import { BUILD_RECORD } from './build.js';
import { checkSchema, claimedKind, parseRecord, type RecordOrigin, recordProblem, SCHEMA_PREFIX } from './record.js';
import { SBOM_RECORD } from './sbom.js';
import { VERIFICATION_RECORD } from './verification.js';

// The `subject` input of sbom, sign and verify: what to work on, taken from an earlier step instead of an
// `image` reference. It accepts what a workflow has at hand, as it is: the build action's `record` output
// (the path of build.json) or its `subject` output (the subject's JSON), and any later record (sbom.json,
// attestations.json, verification.json, as a path or as JSON), each of which names its subject.

export const SUBJECT_EXPECTED =
  'a Slipway record (the path of build.json, sbom.json or attestations.json, or its JSON) or the build action’s subject output';

const KINDS = {
  build: BUILD_RECORD,
  sbom: SBOM_RECORD,
  attestations: ATTESTATIONS_RECORD,
  verification: VERIFICATION_RECORD,
} as const;

export interface SubjectInput {
  /** The image, pinned by digest. */
  reference: ImageReference & { digest: Digest };
  /** The full subject (media type, size, platforms), when the source carries it: build and sign records, subject. */
  subject?: Subject;
  /** What it came from, for logs: "build record /…/build.json". */
  from: string;
}

/** Exactly one of `image` and `subject` (sbom, sign and verify take either). */
export function requireImageOrSubject(image: unknown, subject: string | undefined): void {
  if ((image === undefined) === (subject === undefined)) {
    throw new ConfigurationError(
      'image',
      '',
      'exactly one of image and subject',
      image === undefined ? 'neither was given' : 'both were given',
    );
  }
}

/** Reads a `subject` input (a path, or JSON when it starts with `{`); errors name the input, the file and the field. */
export async function readSubjectInput(input: string, given: string, workspace: string): Promise<SubjectInput> {
  const text = given.trim();
  let value: unknown;
  let origin: RecordOrigin;
  if (text.startsWith('{')) {
    value = parseInputJson(input, text, SUBJECT_EXPECTED);
    origin = { label: 'the JSON value', input: { name: input, given: undefined } };
  } else {
    const file = userFile(input, text, workspace, SUBJECT_EXPECTED);
    value = readUserJson(file, SUBJECT_EXPECTED);
    origin = { label: file.path, input: { name: input, given: text } };
  }
  const kindName = claimedKind(value);
  if (kindName) {
    const kind = KINDS[kindName];
    const record = await parseRecord<{ subject: Subject | { name: string; digest: Digest } }>(kind, value, origin);
    const full = kindName === 'build' || kindName === 'attestations';
    return {
      reference: pinned(record.subject, `${kind.name} record`, origin, 'subject.name'),
      ...(full ? { subject: record.subject as Subject } : {}),
      from: `${kind.name} record ${origin.label}`,
    };
  }
  if (value !== null && typeof value === 'object' && '_type' in value) {
    throw recordProblem('record', origin, {
      field: '_type',
      found: JSON.stringify((value as { _type: unknown })._type),
      expected: `${SUBJECT_EXPECTED}; Slipway's records have _type https://slipway.dev/records/<build|sbom|attestations|verification>`,
    });
  }
  if (value !== null && typeof value === 'object' && 'subject' in value) {
    throw recordProblem('record', origin, {
      field: '_type',
      found: 'missing',
      expected: `${SUBJECT_EXPECTED}; a record without _type was written by another tool or an older Slipway`,
    });
  }
  await checkSchema('subject', `${SCHEMA_PREFIX}subject.schema.json`, value, origin);
  const subject = value as Subject;
  return { reference: pinned(subject, 'subject', origin, 'name'), subject, from: `subject ${origin.label}` };
}

/** The subject's name and digest as a reference; the name is checked as an image name. */
function pinned(
  subject: { name: string; digest: Digest },
  what: string,
  origin: RecordOrigin,
  field: string,
): ImageReference & { digest: Digest } {
  try {
    return parsePinnedReference(`${subject.name}@${subject.digest}`);
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    const wrapped = recordProblem(what, origin, {
      field,
      found: JSON.stringify(subject.name),
      expected: `an image name without tag or digest, e.g. ghcr.io/acme/api (${error.detail ?? error.message})`,
    });
    wrapped.cause = error;
    throw wrapped;
  }
}
