// What the test can still detect: the smallest rate ratio whose expected counts, added to the counts
// already seen, would carry the e-value to 1/α by the deadline at the current traffic. Expected
// counts stand in for the data (a plug-in, roughly the median case), so half of the real runs at
// that ratio would be detected later than the deadline; the figure is for planning and for the
// "inconclusive: could have detected ≥ r×" message, not a guarantee (canary.md §0.5, §6.3).

import { InvalidValueError } from '../../core/errors.js';
import { type CountPair, errorEvidence, type MixturePrior } from './counts.js';
import { bisect } from './special.js';

export interface DetectableInput {
  /** Counts seen so far (segments already run); empty at the start. */
  readonly seen: readonly CountPair[];
  /** Current requests per second in each arm. */
  readonly canaryRps: number;
  readonly baselineRps: number;
  /** The baseline's current bad-event fraction (errors or slow requests per request). */
  readonly baselineRate: number;
  /** Seconds left before the deadline. */
  readonly secondsLeft: number;
  readonly alpha: number;
  readonly tolerance?: number;
  readonly prior?: MixturePrior;
}

/** The largest ratio reported; beyond it the answer is "nothing detectable". */
const MAX_RATIO = 1000;

function check(what: string, value: number, ok: boolean, expected: string): void {
  if (!ok) throw new InvalidValueError(what, String(value), expected);
}

function projectedLogE(input: DetectableInput, ratio: number, seconds: number): number {
  const future: CountPair = {
    canary: {
      errors: Math.min(input.canaryRps * seconds * input.baselineRate * ratio, input.canaryRps * seconds),
      requests: input.canaryRps * seconds,
    },
    baseline: { errors: input.baselineRps * seconds * input.baselineRate, requests: input.baselineRps * seconds },
  };
  return errorEvidence([...input.seen, future], { tolerance: input.tolerance ?? 1, prior: input.prior }).logE;
}

/**
 * The smallest ratio (canary rate / baseline rate) detectable by the deadline, or undefined when even
 * a ratio of 1000 would not be (no traffic, no baseline errors, or no time).
 */
export function detectableRatio(input: DetectableInput): number | undefined {
  check('alpha', input.alpha, input.alpha > 0 && input.alpha < 1, 'a number between 0 and 1');
  check('canary rps', input.canaryRps, input.canaryRps >= 0 && Number.isFinite(input.canaryRps), 'a finite number ≥ 0');
  check(
    'baseline rps',
    input.baselineRps,
    input.baselineRps >= 0 && Number.isFinite(input.baselineRps),
    'a finite number ≥ 0',
  );
  check(
    'baseline rate',
    input.baselineRate,
    input.baselineRate >= 0 && input.baselineRate <= 1,
    'a fraction in [0, 1]',
  );
  check('seconds left', input.secondsLeft, input.secondsLeft >= 0, 'a number ≥ 0');
  const target = Math.log(1 / input.alpha);
  const tolerance = input.tolerance ?? 1;
  const f = (logRatio: number) => projectedLogE(input, Math.exp(logRatio), input.secondsLeft) - target;
  const lo = Math.log(tolerance);
  const hi = Math.log(MAX_RATIO);
  if (f(hi) < 0) return undefined;
  if (f(lo) >= 0) return tolerance;
  return Math.exp(bisect(f, lo, hi, 1e-4));
}

/** Seconds until a given ratio would be detected at the current traffic, or undefined beyond `maxSeconds`. */
export function secondsToDetect(
  input: Omit<DetectableInput, 'secondsLeft'>,
  ratio: number,
  maxSeconds: number,
): number | undefined {
  check('ratio', ratio, ratio > 0 && Number.isFinite(ratio), 'a finite number > 0');
  const target = Math.log(1 / input.alpha);
  const full = { ...input, secondsLeft: maxSeconds };
  const f = (s: number) => projectedLogE(full, ratio, s) - target;
  if (f(maxSeconds) < 0) return undefined;
  if (f(0) >= 0) return 0;
  return bisect(f, 0, maxSeconds, 0.5);
}
