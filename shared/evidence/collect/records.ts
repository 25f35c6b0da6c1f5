import { PREDICATE_TYPES } from '../../attest/types.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { ConfigurationError, showValue } from '../../core/errors.js';
import { describeJsonFailure, fileError } from '../../core/files.js';
import { ATTESTATIONS_RECORD, type AttestationsRecordFile } from '../../records/attestations.js';
import { BUILD_RECORD, type BuildRecordFile } from '../../records/build.js';
import { CANARY_RECORD, type CanaryRecordFile } from '../../records/canary.js';
import { PROMOTION_RECORD, type PromotionRecordFile } from '../../records/promotion.js';
import { parseRecord, RECORD_TYPE_PREFIX, type RecordKind, type RecordOrigin } from '../../records/record.js';
import { SBOM_RECORD, type SbomRecordFile } from '../../records/sbom.js';
import { VERIFICATION_RECORD, type VerificationRecordFile } from '../../records/verification.js';
import type {
  BuildEvidence,
  CanaryEvidence,
  EvidenceItem,
  EvidenceResult,
  PromotionEvidence,
  Provenance,
  SbomEvidence,
  SignatureEvidence,
  VerificationEvidence,
  VulnerabilityEvidence,
} from '../types.js';
import { expandPatterns, type MatchedFile, readMatched } from './globs.js';

// The other actions' records (the `records` input: paths or globs of build.json, sbom.json, attestations.json,
// verification.json, promotion.json, canary.json), each identified by its `_type`, never by its file name, checked
// against its schema, and mapped to the evidence items it proves, each item naming the files it came from and their
// sha256. Records written by other jobs reach this job as files downloaded from their artifacts
// (actions/download-artifact): nothing here differs for them, the globs find them where they were downloaded.
//
// One release is one image: every record must name the same digest as the build record (or, without one, as the
// first record naming a subject), and one that names another is refused, naming both files, rather than mixed into
// the evidence. A kind found twice is kept once when both files say the same thing (a record downloaded twice, or
// an idempotent re-run) and refused otherwise, naming both: which of two different gate results is the evidence is
// not ours to guess. Promotion records are the exception: a release moves through several environments, and each
// promotion (or rollback) is an event of its own.
//
// A glob also matches files that are not records (the SBOM files the sbom action writes next to sbom.json): those
// are passed over and listed in `ignored`; a path named on its own that is not a record is an error. An earlier
// evidence.json among them is passed over too, since a re-run with `records: out/*.json` would otherwise read its
// own previous output.

export const RECORDS_INPUT = 'records';
const EXPECTED =
  'Slipway records (build.json, sbom.json, attestations.json, verification.json, promotion.json, canary.json): paths or globs, one per line';

const KINDS = {
  build: BUILD_RECORD,
  sbom: SBOM_RECORD,
  attestations: ATTESTATIONS_RECORD,
  verification: VERIFICATION_RECORD,
  promotion: PROMOTION_RECORD,
  canary: CANARY_RECORD,
} as const satisfies Partial<Record<RecordKind['name'], RecordKind>>;

type CollectedKind = keyof typeof KINDS;

/** The order records of one subject are trusted to name it: the build first. */
const SUBJECT_ORDER: readonly CollectedKind[] = ['build', 'attestations', 'sbom', 'verification'];

/** What the records prove, the subject they are about, and the matched files that were not records. */
export type CollectedRecords = Pick<
  EvidenceResult,
  'build' | 'sbom' | 'vulnerabilities' | 'signatures' | 'verification' | 'promotions' | 'canary'
> & {
  subject: EvidenceResult['subject'];
  source: EvidenceResult['source'];
  /** Files a glob matched that are not Slipway records (SBOM documents, an earlier evidence.json), and why. */
  ignored: { file: string; reason: string }[];
};

interface ReadRecord {
  kind: CollectedKind;
  file: MatchedFile;
  value: Record<string, unknown>;
  sha256: string;
  /** The value as canonical JSON, to tell identical duplicates from different ones. */
  canonical: string;
}

/** Reads the records the patterns match and maps them to evidence items; absent kinds are `missing`, saying so. */
export async function collectRecords(patterns: readonly string[], workspace: string): Promise<CollectedRecords> {
  const given = patterns.map((pattern) => pattern.trim()).filter((pattern) => pattern !== '');
  const files = given.length === 0 ? [] : expandPatterns(RECORDS_INPUT, given, workspace, EXPECTED);
  const ignored: CollectedRecords['ignored'] = [];
  const records: ReadRecord[] = [];
  for (const file of files) {
    const read = await readOne(file, ignored);
    if (read) records.push(read);
  }

  const subjectRecord = SUBJECT_ORDER.map((kind) => records.find((record) => record.kind === kind)).find(Boolean);
  const subjectDigest = subjectRecord ? subjectOf(subjectRecord)?.digest : undefined;
  if (subjectRecord && subjectDigest) {
    for (const record of records) checkSubject(record, subjectRecord, subjectDigest);
  }

  const byKind = new Map<CollectedKind, ReadRecord[]>();
  for (const record of records) byKind.set(record.kind, [...(byKind.get(record.kind) ?? []), record]);
  const one = (kind: CollectedKind) => single(byKind.get(kind) ?? []);
  const absent = (kind: CollectedKind): { state: 'missing'; reason: string } => ({
    state: 'missing',
    reason:
      given.length === 0
        ? `no records were given (input ${RECORDS_INPUT})`
        : `no ${kind} record (${KINDS[kind].fileName}) among the files the ${RECORDS_INPUT} input matched`,
  });

  const build = one('build');
  const sbom = one('sbom');
  const attestations = one('attestations');
  const verification = one('verification');
  const canary = one('canary');
  const promotions = dedupe(byKind.get('promotion') ?? []);
  const buildValue = build?.record.value as unknown as BuildRecordFile | undefined;
  const subjectValue = subjectRecord ? subjectOf(subjectRecord) : undefined;

  return {
    subject: subjectValue ? { image: subjectValue.name, digest: subjectValue.digest } : {},
    source: buildValue
      ? { repository: buildValue.source.repository, commit: buildValue.source.commit, ref: buildValue.source.ref }
      : {},
    build: build ? item(build.from, buildEvidence(build.record.value as unknown as BuildRecordFile)) : absent('build'),
    sbom: sbom ? item(sbom.from, sbomEvidence(sbom.record.value as unknown as SbomRecordFile)) : absent('sbom'),
    vulnerabilities: sbom
      ? vulnerabilityItem(sbom.from, sbom.record.value as unknown as SbomRecordFile)
      : absent('sbom'),
    signatures: attestations
      ? item(attestations.from, signatureEvidence(attestations.record.value as unknown as AttestationsRecordFile))
      : absent('attestations'),
    verification: verification
      ? verificationItem(verification.from, verification.record.value as unknown as VerificationRecordFile)
      : absent('verification'),
    promotions: promotions.length > 0 ? promotionsItem(promotions) : absent('promotion'),
    canary: canary ? canaryItem(canary.from, canary.record.value as unknown as CanaryRecordFile) : absent('canary'),
    ignored,
  };
}

async function readOne(file: MatchedFile, ignored: CollectedRecords['ignored']): Promise<ReadRecord | undefined> {
  const { text, sha256 } = readMatched(file, EXPECTED);
  const { globbed } = file;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (globbed) {
      ignored.push({ file: file.relative, reason: 'not JSON' });
      return undefined;
    }
    throw fileError(file, EXPECTED, `${file.relative} ${describeJsonFailure(text)}`, error);
  }
  const type = value !== null && typeof value === 'object' ? (value as { _type?: unknown })._type : undefined;
  const kind = (Object.keys(KINDS) as CollectedKind[]).find((name) => KINDS[name].type === type);
  if (!kind) {
    const reason =
      type === `${RECORD_TYPE_PREFIX}evidence`
        ? 'an evidence record (this action’s own output)'
        : typeof type === 'string'
          ? `_type ${showValue(type)} is not a record kind evidence reads`
          : 'no _type: not a Slipway record';
    if (globbed) {
      ignored.push({ file: file.relative, reason });
      return undefined;
    }
    throw fileError(file, EXPECTED, `${file.relative} has ${reason}`);
  }
  const origin: RecordOrigin = { label: file.relative, input: { name: RECORDS_INPUT, given: file.given } };
  const record = await parseRecord<Record<string, unknown>>(KINDS[kind], value, origin);
  return { kind, file, value: record, sha256, canonical: canonicalJson(record) };
}

/** The image a record is about: the subject of build, sbom, attestations and verification records. */
function subjectOf(record: ReadRecord): { name: string; digest: string } | undefined {
  const subject = record.value.subject as { name?: unknown; digest?: unknown } | undefined;
  if (subject && typeof subject.name === 'string' && typeof subject.digest === 'string') {
    return { name: subject.name, digest: subject.digest };
  }
  return undefined;
}

/** The digests a record is about, to compare with the release's; undefined when it names none. */
function digestsOf(record: ReadRecord): string[] | undefined {
  if (record.kind === 'promotion') {
    // A promotion names each service's new digest; a rollback is about the digest it took out as well.
    const promotion = record.value as unknown as PromotionRecordFile;
    return promotion.services.flatMap((service) => [
      service.next.digest,
      ...(promotion.rollback && service.previous ? [service.previous.digest] : []),
    ]);
  }
  if (record.kind === 'canary') {
    const canary = record.value as { subject?: { digest?: unknown }; digest?: unknown };
    const digest = typeof canary.subject?.digest === 'string' ? canary.subject.digest : canary.digest;
    return typeof digest === 'string' ? [digest] : undefined;
  }
  const subject = subjectOf(record);
  return subject ? [subject.digest] : undefined;
}

function checkSubject(record: ReadRecord, reference: ReadRecord, digest: string): void {
  const digests = digestsOf(record);
  if (!digests || digests.includes(digest)) return;
  const whose = reference.kind === 'build' ? 'the build’s' : `the ${reference.kind} record’s`;
  const about = digests.length === 1 ? digests[0] : `${digests.join(', ')} (none of them it)`;
  throw new ConfigurationError(
    RECORDS_INPUT,
    record.file.given,
    'records of one image: every record’s digest must be the build’s',
    `the ${record.kind} record ${record.file.relative} is about ${about}, not ${whose} ${digest} (${reference.file.relative})`,
  );
}

/** One record of a kind: duplicates identical in content collapse into one, different ones are an error. */
function single(records: readonly ReadRecord[]): { record: ReadRecord; from: Provenance[] } | undefined {
  const [first, ...rest] = records;
  if (!first) return undefined;
  for (const other of rest) {
    if (other.canonical !== first.canonical) {
      throw new ConfigurationError(
        RECORDS_INPUT,
        other.file.given,
        `one ${first.kind} record per release (or copies identical in content)`,
        `${first.file.relative} and ${other.file.relative} are both ${first.kind} records of the same image, and they differ`,
      );
    }
  }
  return { record: first, from: records.map(provenance) };
}

/** Promotion records, identical copies collapsed, oldest first. */
function dedupe(records: readonly ReadRecord[]): { record: ReadRecord; from: Provenance[] }[] {
  const groups = new Map<string, ReadRecord[]>();
  for (const record of records) groups.set(record.canonical, [...(groups.get(record.canonical) ?? []), record]);
  return [...groups.values()]
    .map((group) => ({ record: group[0]!, from: group.map(provenance) }))
    .sort((a, b) => finished(a.record).localeCompare(finished(b.record)));
}

const finished = (record: ReadRecord) => (record.value as unknown as PromotionRecordFile).timestamps?.finished ?? '';

function provenance(record: ReadRecord): Provenance {
  return { kind: 'record', location: record.file.relative, sha256: record.sha256 };
}

function item<T>(from: Provenance[], value: T): EvidenceItem<T> {
  return { state: 'present', from, value };
}

function buildEvidence(record: BuildRecordFile): BuildEvidence {
  return {
    image: record.subject.name,
    digest: record.subject.digest,
    tags: record.tags,
    platforms: Object.keys(record.subject.platforms ?? {}),
    source: { repository: record.source.repository, commit: record.source.commit, ref: record.source.ref },
  };
}

function sbomEvidence(record: SbomRecordFile): SbomEvidence {
  return {
    files: record.sboms.map((file) => ({
      format: file.format,
      path: file.path,
      platform: file.platform,
      ...(file.digest.startsWith('sha256:') ? { sha256: file.digest.slice('sha256:'.length) } : {}),
    })),
    attached: record.sboms.flatMap((file) =>
      file.attached
        ? [
            {
              platform: file.platform,
              manifestDigest: file.manifestDigest,
              predicateType: file.format === 'cyclonedx' ? PREDICATE_TYPES.cyclonedx : PREDICATE_TYPES.spdx,
              location: `referrer ${file.attached.referrer} (${file.attached.via})`,
            },
          ]
        : [],
    ),
  };
}

function vulnerabilityItem(from: Provenance[], record: SbomRecordFile): EvidenceItem<VulnerabilityEvidence> {
  const counts: Record<string, number> = {};
  const exceptions = new Map<string, VulnerabilityEvidence['exceptions'][number]>();
  for (const platform of record.platforms) {
    for (const finding of platform.gate.blocking) counts[finding.severity] = (counts[finding.severity] ?? 0) + 1;
    for (const { by } of platform.gate.suppressed) {
      if (by.kind === 'exception') exceptions.set(by.id, { id: by.id, reason: by.reason, expires: by.expires });
    }
  }
  const verdict = record.decision === 'pass' ? 'passed' : record.decision === 'fail' ? 'failed' : 'undecided';
  const value: VulnerabilityEvidence = {
    verdict,
    counts,
    exceptions: [...exceptions.values()],
    failOn: record.policy.failOn,
  };
  if (verdict === 'passed') return { state: 'present', from, value };
  const reasons = record.platforms.flatMap((platform) => platform.gate.reasons);
  return {
    state: 'failed',
    from,
    value,
    reason:
      verdict === 'failed'
        ? `the vulnerability gate failed${reasons[0] ? `: ${reasons[0]}` : ''}`
        : `the vulnerability gate could not decide${reasons[0] ? `: ${reasons[0]}` : ''}`,
  };
}

function signatureEvidence(record: AttestationsRecordFile): SignatureEvidence {
  return {
    signer: record.signer,
    attestations: record.attestations.map((attestation) => ({
      predicateType: attestation.predicateType,
      bundleDigest: attestation.bundleDigest,
      stored: attestation.stored.map(describeLocation),
      reused: attestation.reused,
    })),
  };
}

function describeLocation(location: AttestationsRecordFile['attestations'][number]['stored'][number]): string {
  const where = location as { kind: string; manifest?: string; via?: string; tag?: string; id?: number; url?: string };
  if (where.kind === 'referrer') return `referrer of ${where.manifest} (${where.via})`;
  if (where.kind === 'cosign-legacy') return `cosign tag ${where.tag}`;
  if (where.kind === 'github') return where.url ?? `GitHub attestations${where.id ? ` #${where.id}` : ''}`;
  return where.kind;
}

function verificationItem(from: Provenance[], record: VerificationRecordFile): EvidenceItem<VerificationEvidence> {
  const { policy } = record;
  const value: VerificationEvidence = {
    verified: record.verified,
    formats: Object.entries(record.formats as unknown as Record<string, boolean>).map(([format, verified]) => ({
      format,
      verified,
    })),
    policy: {
      ...(policy.issuer ? { issuer: policy.issuer } : {}),
      ...(policy.repository ? { repository: policy.repository } : {}),
      ...(policy.workflow ? { workflow: policy.workflow } : {}),
      ...(policy.san ? { san: policy.san } : {}),
    },
    reasons: record.outcome.reasons.map((reason) => `${reason.code}: ${reason.message}`),
  };
  return record.verified
    ? { state: 'present', from, value }
    : { state: 'failed', from, value, reason: value.reasons[0] ?? 'the verification failed' };
}

function promotionsItem(promotions: { record: ReadRecord; from: Provenance[] }[]): EvidenceItem<PromotionEvidence[]> {
  const value = promotions.map(({ record }): PromotionEvidence => {
    const promotion = record.value as unknown as PromotionRecordFile;
    return {
      environment: promotion.environment,
      outcome: promotion.outcome,
      rollback: promotion.rollback,
      ...(promotion.commit ? { commit: promotion.commit } : {}),
      ...(promotion.pullRequest ? { pullRequest: promotion.pullRequest } : {}),
      ...(promotion.refusal ? { refusal: `${promotion.refusal.code}: ${promotion.refusal.message}` } : {}),
      ...(promotion.timestamps?.finished ? { at: promotion.timestamps.finished } : {}),
    };
  });
  const from = promotions.flatMap((promotion) => promotion.from);
  // The latest word per environment counts: a refusal later overcome by a promotion is history, not a failure.
  const latest = new Map<string, PromotionEvidence>();
  for (const promotion of value) latest.set(promotion.environment, promotion);
  const refused = [...latest.values()].filter((promotion) => promotion.outcome === 'refused');
  return refused.length === 0
    ? { state: 'present', from, value }
    : {
        state: 'failed',
        from,
        value,
        reason: `promotion refused for ${refused.map((promotion) => promotion.environment).join(', ')}`,
      };
}

/**
 * canary.json as its schema holds it (shared/records/canary.ts). A metric whose ratio or bounds are null (no data,
 * unbounded) is kept out of `metrics`, which holds numbers, and said in `reasons`.
 */
function canaryItem(from: Provenance[], record: CanaryRecordFile): EvidenceItem<CanaryEvidence> {
  const reasons = record.reasons.map((reason) => `${reason.code}: ${reason.message}`);
  const metrics: CanaryEvidence['metrics'] = [];
  for (const metric of record.metrics) {
    const { observedRatio, confidence } = metric;
    if (observedRatio !== null && confidence.lower !== null && confidence.upper !== null) {
      metrics.push({ name: metric.name, observedRatio, lower: confidence.lower, upper: confidence.upper });
    } else {
      reasons.push(`${metric.name}: no bounded ratio yet (too little data)`);
    }
  }
  const value: CanaryEvidence = {
    decision: record.decision,
    ...(record.environment !== undefined ? { environment: record.environment } : {}),
    step: record.step,
    weight: record.weight,
    reasons,
    metrics,
    canaryRequests: record.canaryRequests,
    excessErrors: record.excessErrors,
  };
  return value.decision === 'rollback'
    ? {
        state: 'failed',
        from,
        value,
        reason: `the canary decided to roll back${value.reasons[0] ? `: ${value.reasons[0]}` : ''}`,
      }
    : { state: 'present', from, value };
}
