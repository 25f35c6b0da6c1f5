import type { BuildRecord as BuildResult } from '../build/build.js';
import type { UserFile } from '../core/files.js';
import { type Recorded, readRecord, recordKind } from './record.js';

// build.json, the build action's record; its schema is schemas/build.schema.json. The fields are the build's
// result (shared/build/build.ts, BuildRecord), with _type and version in front.

export const BUILD_RECORD = recordKind('build', 'build.json');

export type BuildRecordFile = Recorded<BuildResult>;

/** Reads build.json; errors name the file (and the input it came from) and the field. */
export function readBuildRecord(file: UserFile | string): Promise<BuildRecordFile> {
  return readRecord<BuildResult>(BUILD_RECORD, file);
}
