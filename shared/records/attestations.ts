import type { SignRecord } from '../attest/run-sign.js';
import type { UserFile } from '../core/files.js';
import { type Recorded, readRecord, recordKind } from './record.js';

// attestations.json, the sign action's record; its schema is schemas/attestations.schema.json. The fields are
// sign's result (shared/attest/run-sign.ts, SignRecord), with _type and version in front.

export const ATTESTATIONS_RECORD = recordKind('attestations', 'attestations.json');

export type AttestationsRecordFile = Recorded<SignRecord>;

/** Reads attestations.json; errors name the file (and the input it came from) and the field. */
export function readAttestationsRecord(file: UserFile | string): Promise<AttestationsRecordFile> {
  return readRecord<SignRecord>(ATTESTATIONS_RECORD, file);
}
