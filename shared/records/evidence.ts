import type { UserFile } from '../core/files.js';
import type { EvidenceResult } from '../evidence/types.js';
import { parseRecord, type Recorded, type RecordOrigin, readRecord, recordKind } from './record.js';

// evidence.json, the evidence action's record; its schema is schemas/evidence.schema.json. The fields are the
// evidence result (shared/evidence/types.ts, EvidenceResult), with _type and version in front. The same record
// travels as the predicate of the evidence attestation that promote verifies; promote (gitops/evidence-gate.ts)
// reads that predicate item by item, treating an unreadable item as missing rather than refusing the whole record,
// so it does not go through the schema check here.

export const EVIDENCE_RECORD = recordKind('evidence', 'evidence.json');

export type EvidenceRecordFile = Recorded<EvidenceResult>;

/** Reads evidence.json; errors name the file (and the input it came from) and the field. */
export function readEvidenceRecord(file: UserFile | string): Promise<EvidenceRecordFile> {
  return readRecord<EvidenceResult>(EVIDENCE_RECORD, file);
}

/** Checks a value already parsed (an attestation's predicate) as an evidence record; errors name `origin`. */
export function parseEvidenceRecord(value: unknown, origin: RecordOrigin): Promise<EvidenceRecordFile> {
  return parseRecord<EvidenceResult>(EVIDENCE_RECORD, value, origin);
}
