import type { Logger } from '../core/logger.js';
import type { Distro, Package } from '../sbom/types.js';
import type { NotQueried } from './ecosystems.js';
import { type Exception, isExpired } from './exceptions.js';
import { describeFinding, type Finding, sameFinding } from './finding.js';
import { exceptionApplies, vexApplies } from './match.js';
import type { VexStatement } from './openvex.js';
import { type OsvClient, OsvUnavailableError } from './osv.js';
import { type ScanResult, scan } from './scan.js';
import { rank } from './severity.js';

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

/** Holds findings against the user's decisions, the baseline and the threshold. */
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

    const matching = exceptions.filter((e) => exceptionApplies(e, finding));
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
