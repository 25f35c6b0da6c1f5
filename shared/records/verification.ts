import type { VerificationRecord } from '../attest/run-verify.js';
import type { UserFile } from '../core/files.js';
import { type Recorded, readRecord, recordKind } from './record.js';

// verification.json, the verify action's record; its schema is schemas/verification.schema.json. The fields are
// verify's result (shared/attest/run-verify.ts, VerificationRecord), with _type and version in front.

export const VERIFICATION_RECORD = recordKind('verification', 'verification.json');

export type VerificationRecordFile = Recorded<VerificationRecord>;

/** Reads verification.json; errors name the file (and the input it came from) and the field. */
export function readVerificationRecord(file: UserFile | string): Promise<VerificationRecordFile> {
  return readRecord<VerificationRecord>(VERIFICATION_RECORD, file);
}
