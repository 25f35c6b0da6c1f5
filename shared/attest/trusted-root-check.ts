import type { Bundle } from '@sigstore/bundle';
import { RFC3161Timestamp } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { SlipwayError } from '../core/errors.js';

// What @sigstore/verify takes on trust from a trusted root, checked before the root is used. The library reads
// a missing `validFor.start` as the beginning of time, so a key or CA listed without one is trusted for every
// signature ever made; and it checks a log key's validity period only for entries with an inclusion promise
// (Rekor v1's SET), never for a checkpoint-only entry (Rekor v2, whose inclusion proof's checkpoint is signed by
// the log key), so a retired Rekor v2 key still verifies entries made after its retirement. Both are refused
// here with a reason; trusted-root.ts says where roots come from, this file whether one may be used.

/** The stable code for a trusted root (or a log key in it) that must not be used; verification.json carries it. */
export const TRUSTED_ROOT_INVALID = 'TRUSTED_ROOT_INVALID';

export class TrustedRootError extends SlipwayError {
  override name = 'TrustedRootError';
  readonly code = TRUSTED_ROOT_INVALID;
  constructor(readonly problems: string[]) {
    // Only the problems: callers say which root (the input's file, the TUF root) and that it cannot be used.
    super(problems.join('; '));
  }
}

type TimeRange = { start?: Date; end?: Date } | undefined;

/** What is wrong with a trusted root (protobuf-specs JSON, parsed here); empty when nothing. */
export function trustedRootProblems(root: object): string[] {
  let parsed: TrustedRoot;
  try {
    parsed = TrustedRoot.fromJSON(root);
  } catch (error) {
    return [`it is not a trusted root: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const checkRange = (what: string, range: TimeRange) => {
    const start = range?.start;
    if (start === undefined) {
      // @sigstore/verify would take the beginning of time: trusted for every signature ever made.
      problems.push(`${what} has no validFor.start`);
      return;
    }
    if (Number.isNaN(start.getTime())) {
      problems.push(`${what} has a validFor.start that is not a time`);
      return;
    }
    const end = range?.end;
    if (end !== undefined && (Number.isNaN(end.getTime()) || end < start)) {
      problems.push(`${what} has a validFor.end that is not a time after its start`);
    }
  };
  parsed.certificateAuthorities.forEach((ca, i) => {
    const what = `certificate authority ${i + 1} (${ca.uri || ca.subject?.commonName || 'no URI'})`;
    checkRange(what, ca.validFor);
    if ((ca.certChain?.certificates.length ?? 0) === 0) problems.push(`${what} has no certificate`);
  });
  parsed.timestampAuthorities.forEach((tsa, i) => {
    const what = `timestamp authority ${i + 1} (${tsa.uri || tsa.subject?.commonName || 'no URI'})`;
    checkRange(what, tsa.validFor);
    if ((tsa.certChain?.certificates.length ?? 0) === 0) problems.push(`${what} has no certificate`);
  });
  for (const [kind, logs] of [
    ['transparency log', parsed.tlogs],
    ['certificate transparency log', parsed.ctlogs],
  ] as const) {
    logs.forEach((log, i) => {
      const what = `${kind} ${i + 1} (${log.baseUrl || 'no URL'})`;
      checkRange(`${what}'s key`, log.publicKey?.validFor);
      if ((log.publicKey?.rawBytes?.length ?? 0) === 0) problems.push(`${what} has no public key`);
      if ((log.logId?.keyId.length ?? 0) === 0) problems.push(`${what} has no log ID`);
    });
  }
  return problems;
}

/**
 * Refuses a trusted root that @sigstore/verify would accept on looser terms than it states: every CA, TSA,
 * transparency log and CT log key must say when its validity began (and, if it ends, end after it began).
 */
export function checkTrustedRoot(root: object): void {
  const problems = trustedRootProblems(root);
  if (problems.length > 0) throw new TrustedRootError(problems);
}

/**
 * Refuses unless a transparency log key with this log ID (or checkpoint key ID, as @sigstore/verify matches it)
 * was valid at `time`. Throws TrustedRootError naming the log and its validity period.
 */
export function checkLogKeyValidity(root: object, logId: Uint8Array, time: Date): void {
  const parsed = TrustedRoot.fromJSON(root);
  const id = Buffer.from(logId);
  const logs = parsed.tlogs.filter(
    (log) =>
      (log.logId !== undefined && id.equals(Buffer.from(log.logId.keyId))) ||
      (log.checkpointKeyId !== undefined && id.equals(Buffer.from(log.checkpointKeyId.keyId))),
  );
  const hex = id.toString('hex');
  if (logs.length === 0) throw new TrustedRootError([`no transparency log with log ID ${hex}`]);
  const validAt = (range: TimeRange) =>
    range?.start !== undefined && range.start <= time && (range.end === undefined || time <= range.end);
  if (logs.some((log) => validAt(log.publicKey?.validFor))) return;
  const periods = logs.map((log) => {
    const range = log.publicKey?.validFor;
    return `${log.baseUrl || hex}: ${range?.start?.toISOString() ?? 'no start'} to ${range?.end?.toISOString() ?? 'no end'}`;
  });
  throw new TrustedRootError([
    `the key of transparency log ${hex} was not valid at ${time.toISOString()}, when the entry was timestamped (${periods.join(', ')})`,
  ]);
}

/**
 * The checks @sigstore/verify leaves out for a verified bundle's checkpoint-only (Rekor v2) log entries: the log
 * key must have been valid at every verified timestamp the bundle carries (RFC 3161 signing times and Rekor v1
 * integrated times, which the verifier has already checked). Call it after the verifier accepted the bundle.
 * A checkpoint-only entry in a bundle with no verified timestamp is refused: nothing says when it was made.
 */
export function checkCheckpointLogKeys(bundle: Bundle, root: object): void {
  const checkpointOnly = bundle.verificationMaterial.tlogEntries.filter(
    (entry) => entry.inclusionPromise === undefined && entry.inclusionProof !== undefined,
  );
  if (checkpointOnly.length === 0) return;
  const times: Date[] = [];
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    if (entry.inclusionPromise !== undefined) times.push(new Date(Number(entry.integratedTime) * 1000));
  }
  for (const timestamp of bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []) {
    times.push(RFC3161Timestamp.parse(Buffer.from(timestamp.signedTimestamp)).signingTime);
  }
  for (const entry of checkpointOnly) {
    if (entry.logId === undefined) throw new TrustedRootError(['a transparency log entry has no log ID']);
    if (times.length === 0) {
      throw new TrustedRootError([
        `the checkpoint-only entry of transparency log ${Buffer.from(entry.logId.keyId).toString('hex')} has no verified timestamp to check its log key's validity against`,
      ]);
    }
    for (const time of times) checkLogKeyValidity(root, entry.logId.keyId, time);
  }
}
