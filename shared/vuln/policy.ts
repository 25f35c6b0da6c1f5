import { PackageURL } from 'packageurl-js';
import { parse as parseYaml } from 'yaml';
import { InvalidValueError } from '../runner/errors.js';
import { type Logger, silentLogger } from '../runner/logger.js';
import type { Distro, Package } from '../sbom/types.js';
import { type NotQueried, planQueries } from './ecosystems.js';
import { type OsvClient, type OsvRecord, OsvUnavailableError } from './osv.js';
import { fixedVersions, rank, type SeverityLevel, severityOf } from './severity.js';

// The vulnerability gate: findings from OSV, filtered by what the user has decided about them (exceptions
// with a reason and an expiry, OpenVEX statements), compared with the baseline (the image currently promoted)
// so that only what is NEW can block, then held against a severity threshold.
//
// Decisions a demanding user would ask about:
// - unknown severity blocks at every threshold except `none`: a record nobody has scored yet is not evidence
//   of harmlessness, and letting it through a `high` gate silently would hide exactly the fresh advisories.
//   The reasons say so whenever it happens.
// - an exception is in force through its expiry date (UTC) and lapses the day after; a lapsed exception
//   suppresses nothing, and the reasons name it and its date.
// - a scan that could not complete (OSV unavailable) is 'undecided', never 'pass', whatever the threshold.

export type FailOn = 'none' | 'low' | 'medium' | 'high' | 'critical';

export interface Finding {
  /** The OSV id of the record (GHSA-…, DSA-…, CVE-…). */
  id: string;
  /** Other ids of the same vulnerability: OSV aliases, plus `upstream` ids of distro records (CVE-…). */
  aliases: string[];
  /** `ecosystem` is the OSV ecosystem the package was queried as, e.g. `Debian:12`, `npm`. */
  package: { purl: string; name: string; version: string; ecosystem: string };
  severity: SeverityLevel;
  score?: number;
  fixedIn: string[];
  summary: string;
}

export interface Exception {
  id: string;
  reason: string;
  /** YYYY-MM-DD; the exception holds through this day (UTC). */
  expires: string;
  /** purls (with or without version and qualifiers) or plain package names; absent means every package. */
  packages?: string[];
  /** Where it came from, for messages: `file` and the entry's index. */
  source: { file: string; index: number };
}

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

export interface VexStatement {
  vulnerability: string;
  aliases: string[];
  /** Each product's ids (`@id` and `identifiers.purl`) and its subcomponents' ids. */
  products: { ids: string[]; subcomponents: string[] }[];
  status: VexStatus;
  justification?: string;
  impactStatement?: string;
  /** RFC 3339; the statement's own or the document's. Later statements override earlier ones. */
  timestamp?: string;
  source: { file: string; index: number };
}

export type SuppressedBy =
  | { kind: 'exception'; id: string; reason: string; expires: string; file: string; index: number }
  | { kind: 'vex'; status: 'not_affected' | 'fixed'; justification?: string; file: string; index: number };

export interface Evaluation {
  decision: 'pass' | 'fail' | 'undecided';
  blocking: Finding[];
  suppressed: { finding: Finding; by: SuppressedBy }[];
  /** With a baseline: baseline findings that are gone now. Empty without a baseline. */
  fixedSinceBaseline: Finding[];
  /** With a baseline: findings the baseline did not have. Empty without a baseline. */
  newSinceBaseline: Finding[];
  reasons: string[];
}

export interface EvaluateInput {
  findings: readonly Finding[];
  failOn: FailOn;
  /** Only findings with a fixed version can block. */
  onlyFixed: boolean;
  exceptions: readonly Exception[];
  vex: readonly VexStatement[];
  /** Findings of the image currently promoted; only findings it did not have can block. */
  baseline?: readonly Finding[];
  /** Ids (purls) of the image being gated: a VEX statement about it with no subcomponents covers every package. */
  subjects?: readonly string[];
  now: Date;
}

const FAIL_ON: readonly FailOn[] = ['none', 'low', 'medium', 'high', 'critical'];

/** Reads a fail-on value; throws InvalidValueError for anything else. */
export function parseFailOn(value: string): FailOn {
  const lowered = value.trim().toLowerCase();
  if ((FAIL_ON as readonly string[]).includes(lowered)) return lowered as FailOn;
  throw new InvalidValueError('severity threshold', value, FAIL_ON.join(', '));
}

// ---------------------------------------------------------------------------------------------------------
// Exceptions file

/** Parses the exceptions YAML; every entry needs an id, a non-empty reason and a YYYY-MM-DD expiry. */
export function parseExceptions(text: string, file: string): Exception[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new InvalidValueError(`exceptions file ${file}`, '', 'YAML', (error as Error).message);
  }
  if (document === null || document === undefined) return [];
  const list = (document as { exceptions?: unknown }).exceptions;
  if (typeof document !== 'object' || (list !== undefined && !Array.isArray(list))) {
    throw new InvalidValueError(`exceptions file ${file}`, '', 'a mapping with an `exceptions:` list');
  }
  return (list ?? []).map((entry: unknown, index: number) => parseException(entry, file, index));
}

function parseException(entry: unknown, file: string, index: number): Exception {
  const field = (name: string) => `field '${name}' of exceptions[${index}] in ${file}`;
  if (typeof entry !== 'object' || entry === null) {
    throw new InvalidValueError(`exceptions[${index}] in ${file}`, String(entry), 'a mapping with id, reason, expires');
  }
  const raw = entry as Record<string, unknown>;
  const id = raw.id;
  if (typeof id !== 'string' || !/^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9:._-]*$/.test(id.trim())) {
    throw new InvalidValueError(
      field('id'),
      String(id ?? ''),
      'a vulnerability id such as CVE-2024-1234 or GHSA-xxxx-xxxx-xxxx',
      id === undefined ? 'missing' : undefined,
    );
  }
  const reason = raw.reason;
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new InvalidValueError(
      field('reason'),
      typeof reason === 'string' ? reason : '',
      'a non-empty reason',
      reason === undefined ? 'missing' : 'empty',
    );
  }
  const expires = expiryDate(raw.expires);
  if (expires === undefined) {
    throw new InvalidValueError(
      field('expires'),
      raw.expires === undefined ? '' : String(raw.expires),
      'a date YYYY-MM-DD',
      raw.expires === undefined ? 'missing (every exception must expire)' : 'not a valid calendar date',
    );
  }
  let packages: string[] | undefined;
  if (raw.packages !== undefined) {
    if (!Array.isArray(raw.packages) || raw.packages.some((p) => typeof p !== 'string' || p.trim() === '')) {
      throw new InvalidValueError(field('packages'), JSON.stringify(raw.packages), 'a list of purls or package names');
    }
    packages = (raw.packages as string[]).map((p) => p.trim());
  }
  return { id: id.trim(), reason: reason.trim(), expires, ...(packages ? { packages } : {}), source: { file, index } };
}

function expiryDate(value: unknown): string | undefined {
  // YAML 1.1 loaders turn an unquoted date into a Date; accept that as well as the string.
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value.trim())) return undefined;
  const date = new Date(`${value.trim()}T00:00:00Z`);
  // Date rolls 2025-02-30 over to March; the round trip catches dates that do not exist.
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value.trim() ? value.trim() : undefined;
}

/** Whether an exception has lapsed: it holds through its expiry day in UTC. */
export function isExpired(exception: Exception, now: Date): boolean {
  return now.getTime() > Date.parse(`${exception.expires}T23:59:59.999Z`);
}

// ---------------------------------------------------------------------------------------------------------
// OpenVEX

const VEX_STATUSES: readonly VexStatus[] = ['not_affected', 'affected', 'fixed', 'under_investigation'];

/** Parses an OpenVEX document (v0.2.0; the older string forms of vulnerability and product are accepted). */
export function parseVex(text: string, file: string): VexStatement[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InvalidValueError(`OpenVEX file ${file}`, '', 'JSON', (error as Error).message);
  }
  const doc = document as { '@context'?: unknown; statements?: unknown; timestamp?: unknown } | null;
  if (
    !doc ||
    typeof doc !== 'object' ||
    typeof doc['@context'] !== 'string' ||
    !doc['@context'].startsWith('https://openvex.dev/ns')
  ) {
    throw new InvalidValueError(
      `OpenVEX file ${file}`,
      String(doc?.['@context'] ?? ''),
      'an @context of https://openvex.dev/ns/v0.2.0',
    );
  }
  if (!Array.isArray(doc.statements)) {
    throw new InvalidValueError(`OpenVEX file ${file}`, '', 'a `statements` list', 'no statements');
  }
  const docTimestamp = typeof doc.timestamp === 'string' ? doc.timestamp : undefined;
  return doc.statements.map((statement: unknown, index: number) =>
    parseStatement(statement, file, index, docTimestamp),
  );
}

function parseStatement(value: unknown, file: string, index: number, docTimestamp: string | undefined): VexStatement {
  const field = (name: string) => `field '${name}' of statements[${index}] in ${file}`;
  const raw = (value ?? {}) as Record<string, unknown>;
  let vulnerability: string | undefined;
  let aliases: string[] = [];
  if (typeof raw.vulnerability === 'string') vulnerability = raw.vulnerability;
  else if (raw.vulnerability && typeof raw.vulnerability === 'object') {
    const v = raw.vulnerability as { name?: unknown; aliases?: unknown };
    if (typeof v.name === 'string') vulnerability = v.name;
    if (Array.isArray(v.aliases)) aliases = v.aliases.filter((a): a is string => typeof a === 'string');
  }
  if (!vulnerability) throw new InvalidValueError(field('vulnerability.name'), '', 'a vulnerability id', 'missing');

  if (!Array.isArray(raw.products) || raw.products.length === 0) {
    throw new InvalidValueError(field('products'), '', 'a list of products with @id', 'missing');
  }
  const products = raw.products.map((product: unknown) => {
    if (typeof product === 'string') return { ids: [product], subcomponents: [] };
    const p = (product ?? {}) as { '@id'?: unknown; identifiers?: { purl?: unknown }; subcomponents?: unknown };
    const ids = [p['@id'], p.identifiers?.purl].filter((id): id is string => typeof id === 'string');
    const subcomponents = Array.isArray(p.subcomponents)
      ? p.subcomponents.flatMap((s: unknown) => {
          if (typeof s === 'string') return [s];
          const sub = (s ?? {}) as { '@id'?: unknown; identifiers?: { purl?: unknown } };
          return [sub['@id'], sub.identifiers?.purl].filter((id): id is string => typeof id === 'string');
        })
      : [];
    if (ids.length === 0) throw new InvalidValueError(field('products[].@id'), '', 'a product id (purl)', 'missing');
    return { ids, subcomponents };
  });

  const status = raw.status;
  if (typeof status !== 'string' || !(VEX_STATUSES as readonly string[]).includes(status)) {
    throw new InvalidValueError(field('status'), String(status ?? ''), VEX_STATUSES.join(', '));
  }
  const justification = typeof raw.justification === 'string' ? raw.justification : undefined;
  const impactStatement = typeof raw.impact_statement === 'string' ? raw.impact_statement : undefined;
  // The spec requires one of them for not_affected; a bare "not affected" is an unexplained suppression.
  if (status === 'not_affected' && !justification && !impactStatement) {
    throw new InvalidValueError(
      field('justification'),
      '',
      'a justification or impact_statement for not_affected',
      'missing',
    );
  }
  const timestamp = typeof raw.timestamp === 'string' ? raw.timestamp : docTimestamp;
  return {
    vulnerability,
    aliases,
    products,
    status: status as VexStatus,
    ...(justification ? { justification } : {}),
    ...(impactStatement ? { impactStatement } : {}),
    ...(timestamp ? { timestamp } : {}),
    source: { file, index },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Matching

function idsOf(finding: Finding): Set<string> {
  return new Set([finding.id, ...finding.aliases].map((id) => id.toUpperCase()));
}

function namesVulnerability(finding: Finding, names: readonly string[]): boolean {
  const ids = idsOf(finding);
  return names.some((name) => ids.has(name.toUpperCase()));
}

function parsePurl(text: string): PackageURL | undefined {
  try {
    return PackageURL.fromString(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pattern` names the finding's package: a plain name compares with the name; a purl matches when
 * type, namespace and name agree and, if the pattern has them, the version and each of its qualifiers. So
 * `pkg:deb/debian/openssl` matches every version and architecture, and a qualifier-free purl matches one with
 * `?arch=amd64&distro=debian-12`.
 */
export function matchesPackage(pattern: string, pkg: Finding['package']): boolean {
  if (!pattern.startsWith('pkg:')) return pattern === pkg.name;
  const want = parsePurl(pattern);
  const have = parsePurl(pkg.purl);
  if (!want || !have) return pattern === pkg.purl;
  if (want.type !== have.type || (want.namespace ?? '') !== (have.namespace ?? '') || want.name !== have.name)
    return false;
  if (want.version !== undefined && want.version !== have.version) return false;
  for (const [key, value] of Object.entries(want.qualifiers ?? {})) {
    if (have.qualifiers?.[key] !== value) return false;
  }
  return true;
}

function vexApplies(statement: VexStatement, finding: Finding, subjects: readonly string[]): boolean {
  if (!namesVulnerability(finding, [statement.vulnerability, ...statement.aliases])) return false;
  return statement.products.some((product) => {
    if (product.ids.some((id) => matchesPackage(id, finding.package))) return true;
    if (product.subcomponents.some((id) => matchesPackage(id, finding.package))) return true;
    // A statement about the image itself, with no subcomponents, covers everything in it.
    return (
      product.subcomponents.length === 0 &&
      product.ids.some((id) => subjects.some((subject) => id === subject || matchesSubject(id, subject)))
    );
  });
}

function matchesSubject(pattern: string, subject: string): boolean {
  const parsed = parsePurl(subject);
  if (!parsed) return false;
  return matchesPackage(pattern, { purl: subject, name: parsed.name, version: parsed.version ?? '', ecosystem: '' });
}

/** The same vulnerability in the same package: package name equal and ids (aliases counted) intersecting. */
function sameFinding(a: Finding, b: Finding): boolean {
  if (a.package.name !== b.package.name) return false;
  const ids = idsOf(a);
  return [...idsOf(b)].some((id) => ids.has(id));
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

function describeFinding(f: Finding): string {
  const score = f.score === undefined ? '' : ` ${f.score.toFixed(1)}`;
  const fix = f.fixedIn.length ? `fixed in ${f.fixedIn.join(', ')}` : 'no fix available';
  return `${f.id} (${f.severity}${score}) in ${f.package.name} ${f.package.version}: ${fix}`;
}

export function evaluate(input: EvaluateInput): Evaluation {
  const { findings, failOn, onlyFixed, exceptions, vex, baseline, now } = input;
  const subjects = input.subjects ?? [];
  const blocking: Finding[] = [];
  const suppressed: Evaluation['suppressed'] = [];
  const reasons: string[] = [];
  const newSinceBaseline: Finding[] = [];
  let unfixedIgnored = 0;
  let inBaseline = 0;
  let unknownBlocking = 0;

  for (const finding of findings) {
    const known = baseline?.some((old) => sameFinding(old, finding)) ?? false;
    if (baseline && !known) newSinceBaseline.push(finding);

    const matching = exceptions.filter(
      (e) =>
        namesVulnerability(finding, [e.id]) &&
        (e.packages === undefined || e.packages.some((p) => matchesPackage(p, finding.package))),
    );
    const active = matching.find((e) => !isExpired(e, now));
    if (active) {
      const { file, index } = active.source;
      suppressed.push({
        finding,
        by: { kind: 'exception', id: active.id, reason: active.reason, expires: active.expires, file, index },
      });
      continue;
    }
    for (const expired of matching) {
      reasons.push(
        `Exception for ${expired.id} (${expired.source.file}, entry ${expired.source.index}) expired on ${expired.expires}; it no longer suppresses ${finding.id} in ${finding.package.name}.`,
      );
    }

    // Later statements override earlier ones (OpenVEX); equal or missing timestamps keep file order.
    const statements = vex.filter((s) => vexApplies(s, finding, subjects));
    const latest = [...statements].sort((a, b) => (a.timestamp ?? '').localeCompare(b.timestamp ?? '')).at(-1);
    if (latest && (latest.status === 'not_affected' || latest.status === 'fixed')) {
      const { file, index } = latest.source;
      suppressed.push({
        finding,
        by: {
          kind: 'vex',
          status: latest.status,
          ...((latest.justification ?? latest.impactStatement)
            ? { justification: latest.justification ?? latest.impactStatement }
            : {}),
          file,
          index,
        },
      });
      continue;
    }

    if (known) {
      inBaseline++;
      continue;
    }
    if (onlyFixed && finding.fixedIn.length === 0) {
      unfixedIgnored++;
      continue;
    }
    if (failOn === 'none') continue;
    if (finding.severity === 'unknown') {
      unknownBlocking++;
      blocking.push(finding);
    } else if (rank(finding.severity) >= rank(failOn)) {
      blocking.push(finding);
    }
  }

  const fixedSinceBaseline = baseline ? baseline.filter((old) => !findings.some((f) => sameFinding(old, f))) : [];

  if (failOn === 'none') reasons.push('fail-on is none: findings are reported but never fail the gate.');
  if (unknownBlocking > 0) {
    reasons.push(
      `${unknownBlocking} finding(s) have no severity rating; unknown severity counts as blocking at fail-on ${failOn}, so an unscored advisory cannot pass silently.`,
    );
  }
  if (inBaseline > 0) reasons.push(`${inBaseline} finding(s) are already in the baseline and do not block.`);
  if (unfixedIgnored > 0)
    reasons.push(`${unfixedIgnored} finding(s) have no fixed version and do not block (only-fixed).`);
  if (baseline && fixedSinceBaseline.length > 0) {
    reasons.push(`${fixedSinceBaseline.length} finding(s) of the baseline are gone.`);
  }
  for (const finding of blocking) reasons.push(`Blocking: ${describeFinding(finding)}.`);
  const decision = blocking.length > 0 ? 'fail' : 'pass';
  if (decision === 'pass' && failOn !== 'none') {
    reasons.push(`No finding at or above ${failOn} blocks.`);
  }
  return { decision, blocking, suppressed, fixedSinceBaseline, newSinceBaseline, reasons };
}

// ---------------------------------------------------------------------------------------------------------
// Scanning

export interface ScanResult {
  findings: Finding[];
  notQueried: NotQueried[];
}

export interface ScanOptions {
  logger?: Logger;
  /** Record fetches in flight at once. */
  concurrency?: number;
}

/**
 * Queries OSV for every mappable package and turns the records into findings, one per vulnerability and
 * installed package (records that alias each other are merged). Throws OsvUnavailableError when OSV could not
 * answer completely; `gate` turns that into 'undecided'.
 */
export async function scan(
  packages: readonly Package[],
  distro: Distro | undefined,
  client: OsvClient,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const logger = options.logger ?? silentLogger;
  const plan = planQueries(packages, distro);
  const results = await client.queryBatch(plan.queries.map((q) => q.query));

  const refs = new Map<string, { id: string; modified: string }>();
  for (const result of results) for (const ref of result) refs.set(`${ref.id}\u0000${ref.modified}`, ref);
  const records = new Map<string, OsvRecord>();
  const queue = [...refs.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      records.set(next[0], await client.getVulnerability(next[1].id, next[1].modified));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));

  const byPackage = new Map<string, Finding[]>();
  plan.queries.forEach((entry, i) => {
    const found = [...(results[i] ?? [])]
      .map((ref) => records.get(`${ref.id}\u0000${ref.modified}`))
      .filter((r): r is OsvRecord => r !== undefined)
      .sort((a, b) => a.id.localeCompare(b.id));
    for (const record of found) {
      if (record.withdrawn) {
        logger.debug(`${record.id} was withdrawn on ${record.withdrawn}; ignored.`);
        continue;
      }
      const severity = severityOf(record, entry.query);
      const fixedIn = fixedVersions(record, entry.query);
      for (const pkg of entry.packages) {
        const finding: Finding = {
          id: record.id,
          aliases: [...new Set([...(record.aliases ?? []), ...(record.upstream ?? [])])].filter((a) => a !== record.id),
          package: { purl: pkg.purl, name: pkg.name, version: pkg.version, ecosystem: entry.query.package.ecosystem },
          severity: severity.level,
          ...(severity.score !== undefined ? { score: severity.score } : {}),
          fixedIn,
          summary: record.summary ?? record.details?.split('\n')[0]?.slice(0, 200) ?? '',
        };
        addMerged(byPackage, finding);
      }
    }
  });
  return { findings: [...byPackage.values()].flat(), notQueried: plan.notQueried };
}

/** Records that alias each other (GHSA and PYSEC, DSA and CVE) are one vulnerability: merge, keep the worst. */
function addMerged(byPackage: Map<string, Finding[]>, finding: Finding): void {
  const list = byPackage.get(finding.package.purl) ?? [];
  byPackage.set(finding.package.purl, list);
  const ids = idsOf(finding);
  const existing = list.find((f) => [...idsOf(f)].some((id) => ids.has(id)));
  if (!existing) {
    list.push(finding);
    return;
  }
  for (const id of [finding.id, ...finding.aliases]) {
    if (id !== existing.id && !existing.aliases.includes(id)) existing.aliases.push(id);
  }
  for (const v of finding.fixedIn) if (!existing.fixedIn.includes(v)) existing.fixedIn.push(v);
  const worse =
    existing.severity === 'unknown'
      ? finding.severity !== 'unknown'
      : finding.severity !== 'unknown' && rank(finding.severity) > rank(existing.severity);
  if (worse) {
    existing.severity = finding.severity;
    if (finding.score !== undefined) existing.score = finding.score;
    else delete existing.score;
  }
}

export interface GateInput extends Omit<EvaluateInput, 'findings'> {
  packages: readonly Package[];
  distro: Distro | undefined;
  client: OsvClient;
  logger?: Logger;
}

export interface GateResult extends Evaluation {
  findings: Finding[];
  notQueried: NotQueried[];
}

/** Scan and evaluate; when OSV could not answer completely the decision is 'undecided', never 'pass'. */
export async function gate(input: GateInput): Promise<GateResult> {
  const { packages, distro, client, logger, ...policy } = input;
  let result: ScanResult;
  try {
    result = await scan(packages, distro, client, logger ? { logger } : {});
  } catch (error) {
    if (!(error instanceof OsvUnavailableError)) throw error;
    return {
      decision: 'undecided',
      blocking: [],
      suppressed: [],
      fixedSinceBaseline: [],
      newSinceBaseline: [],
      reasons: [error.message, 'The gate is undecided: without a complete answer from OSV no result can pass.'],
      findings: [],
      notQueried: [],
    };
  }
  const evaluation = evaluate({ ...policy, findings: result.findings });
  if (result.notQueried.length > 0) {
    evaluation.reasons.push(
      `${result.notQueried.length} package(s) could not be queried (no OSV ecosystem); see notQueried.`,
    );
  }
  return { ...evaluation, findings: result.findings, notQueried: result.notQueried };
}
