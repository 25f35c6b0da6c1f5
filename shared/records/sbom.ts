import { basename } from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import { parseInputJson, type UserFile, userFile } from '../core/files.js';
import type { Digest } from '../oci/types.js';
import type { SbomRecord } from '../sbom/run.js';
import { checkSchema, parseRecord, type Recorded, readRecord, recordKind, SCHEMA_PREFIX } from './record.js';

// sbom.json, the sbom action's record; its schema is schemas/sbom.schema.json. The fields are the sbom
// action's result (shared/sbom/run.ts, SbomRecord), with _type and version in front. The action's `files`
// output is the record's `sboms` list, and the schema's $defs/files is its shape: sign takes it as it is.

export const SBOM_RECORD = recordKind('sbom', 'sbom.json');

export type SbomRecordFile = Recorded<SbomRecord>;

/** Reads sbom.json; errors name the file (and the input it came from) and the field. */
export function readSbomRecord(file: UserFile | string): Promise<SbomRecordFile> {
  return readRecord<SbomRecord>(SBOM_RECORD, file);
}

/** An SBOM file to attest; the platform and its manifest digest are known when it came from the sbom action. */
export interface SbomFileInput {
  path: string;
  format: 'cyclonedx' | 'spdx';
  platform?: string;
  manifestDigest?: Digest;
}

const SBOM_FILES_EXPECTED =
  'SBOM file paths (*.cdx.json, bom.json, *.spdx.json) one per line, the sbom action’s files output, or its record (sbom.json)';

/**
 * Reads an `sbom-files` input: the sbom action's `files` output (a JSON array) as it is, its record (the path
 * of sbom.json, or the record's JSON), or paths one per line whose names tell the format. Every file must exist.
 */
export async function readSbomFilesInput(
  input: string,
  lines: readonly string[],
  workspace: string,
): Promise<SbomFileInput[]> {
  const text = lines.join('\n').trim();
  if (text === '') return [];
  let entries: SbomFileInput[];
  if (text.startsWith('[') || text.startsWith('{')) {
    const value = parseInputJson(input, text, SBOM_FILES_EXPECTED);
    const origin = { label: 'the JSON value', input: { name: input, given: undefined } };
    if (Array.isArray(value)) {
      await checkSchema('sbom files', `${SCHEMA_PREFIX}sbom.schema.json#/$defs/files`, value, origin);
      entries = (value as SbomFileInput[]).map(pick);
    } else {
      entries = (await parseRecord<SbomRecord>(SBOM_RECORD, value, origin)).sboms.map(pick);
    }
  } else {
    entries = [];
    for (const line of lines) {
      if (basename(line) === SBOM_RECORD.fileName) {
        const record = await readSbomRecord(userFile(input, line, workspace, SBOM_FILES_EXPECTED));
        entries.push(...record.sboms.map(pick));
      } else {
        entries.push({ path: line, format: formatFromName(input, line) });
      }
    }
  }
  return entries.map((entry) => ({ ...entry, path: userFile(input, entry.path, workspace, 'an SBOM file').path }));
}

function pick(file: SbomFileInput): SbomFileInput {
  return {
    path: file.path,
    format: file.format,
    ...(file.platform ? { platform: file.platform } : {}),
    ...(file.manifestDigest ? { manifestDigest: file.manifestDigest } : {}),
  };
}

function formatFromName(input: string, path: string): 'cyclonedx' | 'spdx' {
  if (/\.(cdx|cyclonedx)\.json$|(^|\/)bom\.json$/.test(path)) return 'cyclonedx';
  if (/\.spdx\.json$/.test(path)) return 'spdx';
  throw new ConfigurationError(
    input,
    path,
    'a file named *.cdx.json, bom.json or *.spdx.json, or the sbom action’s files output or sbom.json',
    'its format cannot be told from its name',
  );
}
