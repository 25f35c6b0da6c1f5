// Sample-ratio mismatch: does the canary get the share of requests the exposure step asked for?
// canary.md §6.6 proposes the Lindon–Malek test on request counts against the intended weight; this is
// the closed-form Beta-binomial mixture of §2.4 with θ0 = the intended weight, two-sided, because a
// split off in either direction means routing is not what the step set (sticky sessions, a mesh rule
// not applied, pods counted instead of requests), and then every comparison between the arms is
// suspect. A mismatch is therefore its own diagnosis, not a verdict on the canary.
//
// Steps at different weights are separate segments. Each segment's e-process starts at 1 when the
// step begins, given everything before it, so the product over segments is again an e-process
// (a test martingale restarted at predictable times).

import { InvalidValueError } from '../../core/errors.js';
import { betaMixtureLogE, DEFAULT_CONCENTRATION } from './beta-mixture.js';

export interface SplitSegment {
  readonly canaryRequests: number;
  readonly baselineRequests: number;
  /** The intended canary share of requests during this segment, in [0, 1] (a 5 % step is 0.05). */
  readonly weight: number;
}

export interface SrmOptions {
  /** Beta prior concentration k; default 100. */
  readonly concentration?: number;
  /**
   * Relative deviation of the share still accepted, e.g. 0.05 accepts 4.75 %–5.25 % for a 5 % step
   * (splitting by replica counts is coarse); default 0, an exact per-request split.
   */
  readonly allowedDeviation?: number;
}

export interface SrmSegmentResult {
  readonly weight: number;
  readonly observedShare: number;
  readonly logE: number;
}

export interface SrmEvidence {
  readonly eValue: number;
  readonly logE: number;
  readonly segments: readonly SrmSegmentResult[];
  /** True when the split is shown, at level alpha, not to match the intended weights. */
  mismatch(alpha: number): boolean;
}

function check(what: string, value: number, ok: boolean, expected: string): void {
  if (!ok) throw new InvalidValueError(what, String(value), expected);
}

export function sampleRatioEvidence(segments: readonly SplitSegment[], options: SrmOptions = {}): SrmEvidence {
  const k = options.concentration ?? DEFAULT_CONCENTRATION;
  const deviation = options.allowedDeviation ?? 0;
  check('concentration', k, Number.isFinite(k) && k > 0, 'a finite number > 0');
  check('allowed deviation', deviation, deviation >= 0 && deviation < 1, 'a number in [0, 1)');
  const results = segments.map((s): SrmSegmentResult => {
    check(
      'canary requests',
      s.canaryRequests,
      Number.isFinite(s.canaryRequests) && s.canaryRequests >= 0,
      'a finite number ≥ 0',
    );
    check(
      'baseline requests',
      s.baselineRequests,
      Number.isFinite(s.baselineRequests) && s.baselineRequests >= 0,
      'a finite number ≥ 0',
    );
    check('weight', s.weight, s.weight >= 0 && s.weight <= 1, 'a share in [0, 1]');
    const n = s.canaryRequests + s.baselineRequests;
    const observedShare = n > 0 ? s.canaryRequests / n : Number.NaN;
    let logE: number;
    if (s.weight === 0 || s.weight === 1) {
      // A 0 % (or 100 %) step admits no traffic on one side at all: any request there is a mismatch.
      const stray = s.weight === 0 ? s.canaryRequests : s.baselineRequests;
      logE = stray > 0 ? Number.POSITIVE_INFINITY : 0;
    } else {
      const interval =
        deviation > 0
          ? { lo: s.weight * (1 - deviation), hi: Math.min(s.weight * (1 + deviation), 1 - 1e-12) }
          : undefined;
      logE = betaMixtureLogE(s.canaryRequests, s.baselineRequests, s.weight, k, interval);
    }
    return { weight: s.weight, observedShare, logE };
  });
  const logE = results.reduce((sum, r) => sum + r.logE, 0);
  return {
    logE,
    eValue: Math.exp(logE),
    segments: results,
    mismatch: (alpha) => {
      check('alpha', alpha, alpha > 0 && alpha < 1, 'a number between 0 and 1');
      return logE >= Math.log(1 / alpha);
    },
  };
}
