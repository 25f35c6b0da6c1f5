import { InvalidValueError } from '../core/errors.js';
import type { EvidenceException, EvidenceItem, EvidenceResult, EvidenceStatus, RequirementResult } from './types.js';

// What an environment requires of a release's evidence (`require-evidence:` in .slipway.yaml, after Kosli's
// environment policies and Chainloop's contracts) and whether a record meets it. Pure: the evidence action computes
// a record's status with it, and promote recomputes the status against the TARGET environment's list from the signed
// record's items, never trusting the status the record carries. An exception (`evidence-exceptions:`) is an audited
// decision, valid only before its `until`, always written into the result: nothing is skipped silently.

/** Every requirement name, in the order results list them (the order of a release: source, build, tests, …). */
export const REQUIREMENT_NAMES = [
  'approved-pr',
  'build',
  'tests-passed',
  'sbom',
  'vulnerability-gate',
  'signature',
  'verification',
  'canary',
] as const;

export type RequirementName = (typeof REQUIREMENT_NAMES)[number];

export type Requirement =
  | { name: 'approved-pr'; minApprovals: number }
  | { name: 'canary'; environment?: string }
  | { name: Exclude<RequirementName, 'approved-pr' | 'canary'> };

/** The options a requirement may be written with, as a map (`approved-pr: {min-approvals: 2}`). */
export const REQUIREMENT_OPTIONS: Readonly<Record<RequirementName, readonly string[]>> = {
  'approved-pr': ['min-approvals'],
  build: [],
  'tests-passed': [],
  sbom: [],
  'vulnerability-gate': [],
  signature: [],
  verification: [],
  canary: ['environment'],
};

/** GitHub's own cap on required approving reviews in branch protection; more could never be met. */
export const MAX_APPROVALS = 10;

/** Without an environment, or for one that lists nothing: everything a release produces on its own is required. */
export const DEFAULT_REQUIREMENTS: readonly Requirement[] = [
  { name: 'build' },
  { name: 'tests-passed' },
  { name: 'sbom' },
  { name: 'vulnerability-gate' },
  { name: 'signature' },
  { name: 'verification' },
];

export function isRequirementName(name: string): name is RequirementName {
  return (REQUIREMENT_NAMES as readonly string[]).includes(name);
}

/** The requirements of an environment (its `require-evidence:`), or the default list. */
export function requirementsFor(environment?: { requireEvidence?: readonly Requirement[] }): Requirement[] {
  const listed = environment?.requireEvidence;
  return [...(listed !== undefined && listed.length > 0 ? listed : DEFAULT_REQUIREMENTS)];
}

/** How a requirement is written, for messages: `approved-pr (min-approvals 2)`, `canary (environment staging)`. */
export function describeRequirement(requirement: Requirement): string {
  if (requirement.name === 'approved-pr' && requirement.minApprovals !== 1) {
    return `approved-pr (min-approvals ${requirement.minApprovals})`;
  }
  if (requirement.name === 'canary' && requirement.environment !== undefined) {
    return `canary (environment ${requirement.environment})`;
  }
  return requirement.name;
}

const EXPECTED_ENTRY = `a requirement name (${REQUIREMENT_NAMES.join(', ')}) or a map of one name to its options`;

/**
 * `require-evidence:` as plain data (JSON, or YAML already parsed): for callers that have no file positions.
 * .slipway.yaml is read by config.ts, which reports line and column and applies the same rules.
 */
export function parseRequirements(value: unknown, what = 'require-evidence'): Requirement[] {
  if (!Array.isArray(value))
    throw new InvalidValueError(what, JSON.stringify(value) ?? '', `a list of ${EXPECTED_ENTRY}s`);
  const result: Requirement[] = [];
  for (const [index, entry] of value.entries()) {
    const at = `${what}[${index}]`;
    let name: string;
    let options: Record<string, unknown> = {};
    if (typeof entry === 'string') {
      name = entry;
    } else if (
      entry !== null &&
      typeof entry === 'object' &&
      !Array.isArray(entry) &&
      Object.keys(entry).length === 1
    ) {
      name = Object.keys(entry)[0]!;
      const given = (entry as Record<string, unknown>)[name];
      if (given !== null && (typeof given !== 'object' || Array.isArray(given))) {
        throw new InvalidValueError(`${at}.${name}`, JSON.stringify(given) ?? '', 'a map of options');
      }
      options = (given ?? {}) as Record<string, unknown>;
    } else {
      throw new InvalidValueError(at, JSON.stringify(entry) ?? '', EXPECTED_ENTRY);
    }
    if (!isRequirementName(name)) throw new InvalidValueError(at, name, EXPECTED_ENTRY);
    for (const key of Object.keys(options)) {
      if (!REQUIREMENT_OPTIONS[name].includes(key)) {
        const known = REQUIREMENT_OPTIONS[name];
        throw new InvalidValueError(
          `${at}.${name}`,
          key,
          known.length === 0 ? `no options for ${name}` : `one of the options ${known.join(', ')}`,
        );
      }
    }
    if (result.some((r) => r.name === name)) throw new InvalidValueError(at, name, 'each requirement once');
    result.push(requirementOf(name, options, `${at}.${name}`));
  }
  return result;
}

function requirementOf(name: RequirementName, options: Record<string, unknown>, at: string): Requirement {
  if (name === 'approved-pr') {
    const given = options['min-approvals'] ?? 1;
    if (typeof given !== 'number' || !Number.isInteger(given) || given < 1 || given > MAX_APPROVALS) {
      throw new InvalidValueError(`${at}.min-approvals`, String(given), `a whole number from 1 to ${MAX_APPROVALS}`);
    }
    return { name, minApprovals: given };
  }
  if (name === 'canary') {
    const environment = options.environment;
    if (environment === undefined) return { name };
    if (typeof environment !== 'string' || environment === '') {
      throw new InvalidValueError(`${at}.environment`, String(environment), 'an environment name');
    }
    return { name, environment };
  }
  return { name };
}

// --- checking a record ----------------------------------------------------------------------------------------

export interface RequirementsCheck {
  status: EvidenceStatus;
  requirements: RequirementResult[];
  /** Short names of what is missing or failed (excepted ones are not), in the order required. */
  missing: string[];
  /** Of `missing`, those that are failed rather than absent: they make the status `failed`. */
  failed: string[];
  /** The exceptions that were applied, each to a requirement that was not met: recorded, never silent. */
  exceptions: EvidenceException[];
}

type Verdict = { outcome: 'met' | 'missing' | 'failed'; detail: string };

/**
 * The status of `result` against `requirements`: failed when a required item is failed, incomplete when one is
 * missing, complete otherwise. Reads only the items, never `result.status` nor `result.requirements`. An exception
 * whose `until` is after `now` stands in for an unmet requirement and is named in its detail; an expired one is
 * ignored and the detail says so.
 */
export function checkRequirements(
  result: EvidenceItems,
  requirements: readonly Requirement[],
  exceptions: readonly EvidenceException[],
  now: Date,
): RequirementsCheck {
  const checked: RequirementResult[] = [];
  const missing: string[] = [];
  const failed: string[] = [];
  const applied: EvidenceException[] = [];
  for (const requirement of requirements) {
    const verdict = judge(result, requirement);
    const name = requirement.name;
    if (verdict.outcome === 'met') {
      checked.push({ requirement: name, met: true, detail: verdict.detail });
      continue;
    }
    const own = exceptions.filter((e) => e.requirement === name);
    const valid = own.find((e) => isBefore(now, e.until));
    if (valid !== undefined) {
      applied.push(valid);
      checked.push({
        requirement: name,
        met: true,
        detail: `${verdict.detail}; excepted by ${valid.by} until ${valid.until}: ${valid.reason}`,
        exception: valid,
      });
      continue;
    }
    const expired = own.map((e) => `an exception by ${e.by} expired at ${e.until} and was ignored`);
    checked.push({ requirement: name, met: false, detail: [verdict.detail, ...expired].join('; ') });
    missing.push(name);
    if (verdict.outcome === 'failed') failed.push(name);
  }
  const status: EvidenceStatus = failed.length > 0 ? 'failed' : missing.length > 0 ? 'incomplete' : 'complete';
  return { status, requirements: checked, missing, failed, exceptions: applied };
}

/** `now` is before `until`; an unreadable `until` is no exception at all (fail closed). */
function isBefore(now: Date, until: string): boolean {
  const end = Date.parse(until);
  return Number.isFinite(end) && now.getTime() < end;
}

/** The items a requirement reads; the rest of a record (its own status, its requirements) is never read. */
export type EvidenceItems = Pick<
  EvidenceResult,
  'pullRequest' | 'build' | 'tests' | 'sbom' | 'vulnerabilities' | 'signatures' | 'verification' | 'canary'
>;

/** Whether one requirement is met by the items; written defensively, since a record may come from anywhere. */
function judge(result: EvidenceItems, requirement: Requirement): Verdict {
  switch (requirement.name) {
    case 'approved-pr':
      return item(result.pullRequest, 'the pull request', (pr) => {
        const author = String(pr.author ?? '').toLowerCase();
        const approvers = new Set(
          (Array.isArray(pr.approvers) ? pr.approvers : [])
            .map((login) => String(login))
            .filter((login) => login.toLowerCase() !== author),
        );
        const need = requirement.minApprovals;
        const who = approvers.size > 0 ? ` (${[...approvers].join(', ')})` : '';
        return approvers.size >= need
          ? met(`pull request #${pr.number} approved by ${approvers.size}${who}`)
          : missed(
              `pull request #${pr.number} has ${approvers.size} of the ${need} approval${need === 1 ? '' : 's'} ` +
                `required from someone other than its author${who}`,
            );
      });
    case 'build':
      return item(result.build, 'the build record', (build) => met(`built ${build.image}@${build.digest}`));
    case 'tests-passed':
      return item(result.tests, 'a test report', (tests) => {
        const failing = count(tests.failed) + count(tests.errored);
        if (failing > 0) {
          const named = (Array.isArray(tests.failures) ? tests.failures : [])
            .slice(0, 5)
            .map((f) => `${f.suite} › ${f.name}`);
          return fail(
            `${count(tests.failed)} failed and ${count(tests.errored)} errored of ${count(tests.total)} tests` +
              (named.length > 0 ? ` (${named.join(', ')}${failing > named.length ? ', …' : ''})` : ''),
          );
        }
        if (count(tests.total) === 0) return missed('the test reports hold no test');
        return met(`${count(tests.passed)} of ${count(tests.total)} tests passed, none failed`);
      });
    case 'sbom':
      return item(result.sbom, 'an SBOM', (sbom) => {
        const files = Array.isArray(sbom.files) ? sbom.files.length : 0;
        const attached = Array.isArray(sbom.attached) ? sbom.attached.length : 0;
        return files + attached > 0 ? met(`${files} SBOM file(s), ${attached} attached`) : missed('no SBOM is listed');
      });
    case 'vulnerability-gate':
      return item(result.vulnerabilities, 'the vulnerability gate result', (gate) => {
        if (gate.verdict === 'passed') return met('the vulnerability gate passed');
        if (gate.verdict === 'failed') return fail('the vulnerability gate failed');
        return missed('the vulnerability gate could not decide');
      });
    case 'signature':
      return item(result.signatures, 'the signing record', (signatures) => {
        const signed = Array.isArray(signatures.attestations) ? signatures.attestations.length : 0;
        if (signed === 0) return missed('no attestation was signed');
        const verification = result.verification;
        if (verification?.state === 'missing') {
          return missed(`${signed} attestation(s) signed, but their verification is missing: ${verification.reason}`);
        }
        if (verification?.state !== 'present' && verification?.state !== 'failed') {
          return missed(`${signed} attestation(s) signed, but their verification is missing`);
        }
        if (verification.state === 'failed' || verification.value?.verified !== true) {
          return fail(`${signed} attestation(s) signed by ${signatures.signer}, but they did not verify`);
        }
        return met(`${signed} attestation(s) signed by ${signatures.signer}, verified`);
      });
    case 'verification':
      return item(result.verification, 'the verification record', (verification) =>
        verification.verified === true
          ? met('verified')
          : fail(
              `not verified${Array.isArray(verification.reasons) && verification.reasons.length > 0 ? `: ${verification.reasons.join('; ')}` : ''}`,
            ),
      );
    case 'canary': {
      const where = requirement.environment;
      return item(result.canary, `a canary decision${where ? ` in ${where}` : ''}`, (canary) => {
        if (where !== undefined && canary.environment !== where) {
          return missed(
            `the canary decision is ${canary.environment ? `for ${canary.environment}` : 'for no named environment'}, not ${where}`,
          );
        }
        if (canary.decision === 'promote') return met(`the canary${where ? ` in ${where}` : ''} decided promote`);
        if (canary.decision === 'rollback') return fail(`the canary${where ? ` in ${where}` : ''} decided rollback`);
        return missed(`the canary${where ? ` in ${where}` : ''} has not decided promote (${canary.decision})`);
      });
    }
  }
}

/**
 * One item: missing says where it was looked for, failed is failed whatever its value says, present is judged.
 * Anything else (a record from an older or foreign writer) is missing, never taken as present.
 */
function item<T>(value: EvidenceItem<T> | undefined, what: string, judgePresent: (value: T) => Verdict): Verdict {
  if (value === undefined || value === null || typeof value !== 'object') return missed(`${what} is missing`);
  if (value.state === 'missing') return missed(`${what} is missing${value.reason ? `: ${value.reason}` : ''}`);
  if (value.state === 'failed') {
    const verdict = value.value !== undefined && value.value !== null ? judgePresent(value.value) : undefined;
    return fail(
      verdict?.outcome === 'failed' ? verdict.detail : `${what} failed${value.reason ? `: ${value.reason}` : ''}`,
    );
  }
  if (value.state !== 'present' || value.value === undefined || value.value === null) {
    return missed(`${what} is missing`);
  }
  return judgePresent(value.value);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

const met = (detail: string): Verdict => ({ outcome: 'met', detail });
const missed = (detail: string): Verdict => ({ outcome: 'missing', detail });
const fail = (detail: string): Verdict => ({ outcome: 'failed', detail });
