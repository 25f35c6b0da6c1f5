// The anytime-valid e-process for count metrics (errors out of requests, or slow requests out of
// requests), comparing the canary with the baseline: canary.md §2.4, "Count metrics" and its
// one-sided and time-varying-allocation extensions.
//
// Model. Conditional on the requests each arm served, bad events in each arm are (inhomogeneous)
// Poisson, canary ∝ ρ·r·λ(t) and baseline ∝ (1−ρ)·λ(t), where ρ is the canary's share of requests, r
// the ratio of the canary's bad-event rate to the baseline's, and λ(t) is arbitrary: it cancels, so
// load swings and incidents that hit both arms carry no evidence. Given that an event happened, it
// came from the canary with probability
//   q(δ) = ρ·e^δ / (ρ·e^δ + 1 − ρ),   δ = ln r.
//
// Test for rollback: H0 "r ≤ tolerance" (δ ≤ δ0 = ln tolerance) against harm (δ > δ0). The e-process
// is a mixture, with a prior π fixed in advance, over δ0 + η (η > 0) of the likelihood ratio
//   E = Σ_j π_j · Π_segments (q(δ0+η_j)/q(δ0))^{N_c} · ((1−q(δ0+η_j))/(1−q(δ0)))^{N_b}.
// Each term is a martingale with mean 1 under δ = δ0 and, the Bernoulli family having a monotone
// likelihood ratio, a supermartingale for every δ < δ0; so is the mixture, and Ville's inequality
// gives P(ever E ≥ 1/α) ≤ α however often it is looked at (canary.md §2.4, "Guarantee").
//
// Why evidence carries across exposure steps. A segment is a period of constant intended weight (one
// exposure step). Each event's probability of being a canary event uses the share in force when it
// happened, which is fixed before the event (predictable), so the product over segments is still one
// martingale in the common parameter δ: the code under test is the same at 1 % and at 25 %. Counts are
// cumulative within a segment (increase() from the segment's start), so the e-value is recomputed from
// scratch at each evaluation and a stateless scheduled run gets the same answer as a loop.
//
// Prior. canary.md gives the closed form with a Beta(k·θ0, k·(1−θ0)) prior on θ (savvi's k = 100);
// with segments at different shares the parameter shared by all segments is δ, so the prior lives on δ
// instead: a discretised half-normal on η with scale 0.5 by default, roughly the spread in δ that the
// Beta prior with k = 100 has at a 5 % share (sd ≈ 1/sqrt(k·θ0·(1−θ0)) ≈ 0.46). A discrete prior is
// exact, not an approximation: any fixed weights summing to one give a valid mixture.
//
// Approximation. Requests are Bernoulli trials, not Poisson; conditional on the total, the canary's
// count is then (non-central) hypergeometric rather than binomial, which is dominated in convex order
// (Hoeffding 1963), so the binomial likelihood ratio stays conservative; the approximation is tight
// when bad events are a small fraction of requests, the usual case for errors and slow requests.

import { InvalidValueError } from '../../core/errors.js';
import { bisect, logSumExp, softplus } from './special.js';

/** Bad events (errors, or requests slower than the SLO) out of the requests one arm served. */
export interface ArmCounts {
  readonly errors: number;
  readonly requests: number;
}

/** Both arms' counts over one segment (one exposure step, cumulative since it began). */
export interface CountPair {
  readonly canary: ArmCounts;
  readonly baseline: ArmCounts;
}

export interface MixturePrior {
  /** Scale of the half-normal prior on the log rate ratio beyond the null; default 0.5. */
  readonly scale?: number;
  /** Number of grid points of the discretised prior; default 96. */
  readonly points?: number;
}

export interface CountEvidenceOptions {
  /** The rate ratio (canary / baseline) still accepted; 1 = none. Default 1. */
  readonly tolerance?: number;
  readonly prior?: MixturePrior;
}

export interface CountEvidence {
  /** The e-value against the null; ≥ 1/α means the null is rejected at level α, at any look. */
  readonly eValue: number;
  readonly logE: number;
  /** Totals over all segments. */
  readonly canary: ArmCounts;
  readonly baseline: ArmCounts;
  /** Observed rate ratio over all segments (NaN when either arm has no requests, ∞ when the baseline has no events). */
  readonly observedRatio: number;
}

export interface HarmEvidence extends CountEvidence {
  readonly tolerance: number;
  /** True when the evidence of harm beyond the tolerance reaches 1/alpha. */
  rollback(alpha: number): boolean;
  /**
   * A confidence sequence for the rate ratio at level 1 − alpha: each end is valid on its own at
   * alpha, so the two-sided interval holds at 1 − 2·alpha.
   */
  confidence(alpha: number): { lower: number; upper: number };
}

export interface NonInferiorityEvidence extends CountEvidence {
  readonly margin: number;
  /** True when the evidence that the ratio is below the margin reaches 1/alpha. */
  promote(alpha: number): boolean;
}

const DEFAULT_SCALE = 0.5;
const DEFAULT_POINTS = 96;
/** The grid covers η up to this many prior scales; the mass beyond is below 1e-9. */
const GRID_SPAN = 6;
/** Confidence bounds are searched for within e^±LOG_RATIO_RANGE. */
const LOG_RATIO_RANGE = 20;

interface Segment {
  /** logit of the canary's request share. */
  readonly logitShare: number;
  readonly canaryErrors: number;
  readonly baselineErrors: number;
}

interface Grid {
  readonly eta: readonly number[];
  readonly logWeight: readonly number[];
}

function checkCount(what: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidValueError(what, String(value), 'a finite number ≥ 0');
  }
}

function checkPositive(what: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidValueError(what, String(value), 'a finite number > 0');
  }
}

function checkArm(arm: string, counts: ArmCounts): void {
  checkCount(`${arm} errors`, counts.errors);
  checkCount(`${arm} requests`, counts.requests);
  if (counts.errors > counts.requests) {
    throw new InvalidValueError(
      `${arm} errors`,
      String(counts.errors),
      `at most the ${arm} requests (${counts.requests})`,
      'more bad events than requests: the two queries select different series',
    );
  }
}

/** Accepts one pair or a list of segments; validates every count. */
export function toSegments(counts: CountPair | readonly CountPair[]): readonly CountPair[] {
  const list = Array.isArray(counts) ? (counts as readonly CountPair[]) : [counts as CountPair];
  for (const pair of list) {
    checkArm('canary', pair.canary);
    checkArm('baseline', pair.baseline);
  }
  return list;
}

function totals(list: readonly CountPair[]): { canary: ArmCounts; baseline: ArmCounts; observedRatio: number } {
  let ce = 0;
  let cr = 0;
  let be = 0;
  let br = 0;
  for (const p of list) {
    ce += p.canary.errors;
    cr += p.canary.requests;
    be += p.baseline.errors;
    br += p.baseline.requests;
  }
  const observedRatio = cr > 0 && br > 0 ? ce / cr / (be / br) : Number.NaN;
  return { canary: { errors: ce, requests: cr }, baseline: { errors: be, requests: br }, observedRatio };
}

// A segment where either arm served nothing says nothing about the ratio: every event is certain to
// come from the arm that served, under the null and the alternative alike.
function informative(list: readonly CountPair[]): Segment[] {
  return list
    .filter((p) => p.canary.requests > 0 && p.baseline.requests > 0)
    .map((p) => ({
      logitShare: Math.log(p.canary.requests) - Math.log(p.baseline.requests),
      canaryErrors: p.canary.errors,
      baselineErrors: p.baseline.errors,
    }));
}

const gridCache = new Map<string, Grid>();

function grid(prior: MixturePrior | undefined): Grid {
  const scale = prior?.scale ?? DEFAULT_SCALE;
  const points = prior?.points ?? DEFAULT_POINTS;
  checkPositive('prior scale', scale);
  if (!Number.isInteger(points) || points < 1 || points > 10_000) {
    throw new InvalidValueError('prior points', String(points), 'an integer from 1 to 10000');
  }
  const key = `${scale}/${points}`;
  const cached = gridCache.get(key);
  if (cached) return cached;
  const step = (GRID_SPAN * scale) / points;
  const eta: number[] = [];
  const raw: number[] = [];
  for (let j = 0; j < points; j++) {
    const x = (j + 0.5) * step;
    eta.push(x);
    raw.push(-(x * x) / (2 * scale * scale));
  }
  const norm = logSumExp(raw);
  const result = { eta, logWeight: raw.map((w) => w - norm) };
  gridCache.set(key, result);
  return result;
}

/** ln of the likelihood ratio of log-ratio δ0+η against δ0, summed over segments. */
function logLikelihoodRatio(segments: readonly Segment[], delta0: number, eta: number): number {
  let sum = 0;
  for (const s of segments) {
    const x0 = s.logitShare + delta0;
    const x1 = x0 + eta;
    // ln q(x) = −softplus(−x); ln(1 − q(x)) = −softplus(x)
    if (s.canaryErrors > 0) sum += s.canaryErrors * (softplus(-x0) - softplus(-x1));
    if (s.baselineErrors > 0) sum += s.baselineErrors * (softplus(x0) - softplus(x1));
  }
  return sum;
}

/** ln E of the mixture over δ0 + sign·η, η > 0 (sign +1 tests harm, −1 tests non-inferiority). */
function logMixture(segments: readonly Segment[], delta0: number, sign: 1 | -1, g: Grid): number {
  if (segments.length === 0) return 0;
  const terms = g.eta.map((eta, j) => g.logWeight[j]! + logLikelihoodRatio(segments, delta0, sign * eta));
  return logSumExp(terms);
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new InvalidValueError('alpha', String(alpha), 'a number between 0 and 1');
}

/**
 * Evidence that the canary's bad-event rate exceeds the baseline's by more than `tolerance`
 * (one-sided; canary.md §2.4). Pass one pair of cumulative counts, or one pair per exposure step.
 */
export function errorEvidence(
  counts: CountPair | readonly CountPair[],
  options: CountEvidenceOptions = {},
): HarmEvidence {
  const list = toSegments(counts);
  const tolerance = options.tolerance ?? 1;
  checkPositive('tolerance', tolerance);
  const g = grid(options.prior);
  const segments = informative(list);
  const logE = logMixture(segments, Math.log(tolerance), 1, g);
  return {
    ...totals(list),
    tolerance,
    logE,
    eValue: Math.exp(logE),
    rollback: (alpha) => {
      checkAlpha(alpha);
      return logE >= Math.log(1 / alpha);
    },
    confidence: (alpha) => {
      checkAlpha(alpha);
      return confidenceBounds(segments, g, Math.log(1 / alpha));
    },
  };
}

/**
 * Evidence that the canary's rate is below `margin` times the baseline's (non-inferiority, the
 * mirror image of errorEvidence: H0 "r ≥ margin"). With margin 1 this asks for proof that the canary
 * is strictly better, which a healthy canary never gives; promote decisions want a margin above 1.
 */
export function nonInferiorityEvidence(
  counts: CountPair | readonly CountPair[],
  options: { margin: number; prior?: MixturePrior },
): NonInferiorityEvidence {
  const list = toSegments(counts);
  checkPositive('margin', options.margin);
  const g = grid(options.prior);
  const logE = logMixture(informative(list), Math.log(options.margin), -1, g);
  return {
    ...totals(list),
    margin: options.margin,
    logE,
    eValue: Math.exp(logE),
    promote: (alpha) => {
      checkAlpha(alpha);
      return logE >= Math.log(1 / alpha);
    },
  };
}

// Inverting the two one-sided tests gives the confidence sequence: ln E_harm(δ*) falls as δ* rises
// (its derivative is −N·(q(δ*+η) − q(δ*)) < 0), and ln E_noninf(δ*) rises, so each bound is one root.
function confidenceBounds(segments: readonly Segment[], g: Grid, threshold: number): { lower: number; upper: number } {
  const harm = (d: number) => logMixture(segments, d, 1, g) - threshold;
  const better = (d: number) => logMixture(segments, d, -1, g) - threshold;
  const lo = -LOG_RATIO_RANGE;
  const hi = LOG_RATIO_RANGE;
  const lower = harm(lo) < 0 ? 0 : harm(hi) >= 0 ? Number.POSITIVE_INFINITY : Math.exp(bisect(harm, lo, hi, 1e-6));
  const upper =
    better(hi) < 0 ? Number.POSITIVE_INFINITY : better(lo) >= 0 ? 0 : Math.exp(bisect(better, lo, hi, 1e-6));
  return { lower, upper };
}
