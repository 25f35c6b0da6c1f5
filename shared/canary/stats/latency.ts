// Latency from Prometheus classic histograms, tested without interpolating quantiles.
//
// 1. Slow fraction: requests slower than the `slo-latency` bucket bound are bad events,
//    slow = count(le=+Inf) − count(le=slo), and go through the count e-process of counts.ts
//    (canary.md §2.4: "the same formula works for slow requests"; §3 "Slow fraction").
// 2. Sequential bands at the bucket bounds (canary.md §2.4, Howard & Ramdas 2022, Theorem 2): with
//    probability ≥ 1 − α, for all t ≥ m at once, sup_x |F̂_t(x) − F(x)| ≤ A·sqrt((ln(1 + ln(t/m)) + C)/t),
//    A = 0.85 and C solved numerically for α as confseq's empirical_process_lil_bound does. F̂ at a
//    bound `le` is exactly count(le)/count(+Inf), and the band holds for the supremum over all x, so
//    it holds at the bucket bounds. Each arm gets its band at α/2; a regression is declared when, at
//    some bound, the canary's upper band lies below the baseline's lower band (fewer canary requests
//    finish within that bound). Assumes requests are iid within an arm.

import { InvalidValueError } from '../../core/errors.js';
import { type CountEvidenceOptions, type CountPair, errorEvidence, type HarmEvidence } from './counts.js';
import { bisect, goldenMinimum } from './special.js';

/** A cumulative histogram: observation counts at each `le` bound, +Inf included. */
export interface Histogram {
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

export interface HistogramPair {
  readonly canary: Histogram;
  readonly baseline: Histogram;
}

function sortedBuckets(what: string, h: Histogram): { le: number; count: number }[] {
  const buckets = [...h.buckets].sort((a, b) => a.le - b.le);
  if (buckets.length === 0 || buckets[buckets.length - 1]!.le !== Number.POSITIVE_INFINITY) {
    throw new InvalidValueError(`${what} histogram`, `${buckets.length} buckets`, 'buckets including le="+Inf"');
  }
  let previous = 0;
  for (const b of buckets) {
    if (!Number.isFinite(b.count) || b.count < previous) {
      throw new InvalidValueError(
        `${what} histogram bucket le=${b.le}`,
        String(b.count),
        'a finite count, not below the count of any smaller bound (buckets are cumulative)',
      );
    }
    previous = b.count;
  }
  return buckets;
}

// Bucket bounds come back from Prometheus as strings and are parsed to floats; compare with a relative
// tolerance so "0.5" from the user and 0.5 from a label match.
// The +Inf bucket never matches: ∞ − x is ∞, which a relative tolerance of ∞ would accept.
function sameBound(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Requests slower than `slo` seconds, out of all requests, for one arm. */
export function slowCounts(what: string, histogram: Histogram, slo: number): { errors: number; requests: number } {
  const buckets = sortedBuckets(what, histogram);
  const bucket = buckets.find((b) => sameBound(b.le, slo));
  if (!bucket) {
    throw new InvalidValueError(
      'slo-latency',
      `${slo}s`,
      `one of the histogram's bucket bounds (${buckets
        .filter((b) => Number.isFinite(b.le))
        .map((b) => `${b.le}s`)
        .join(', ')})`,
      'the slow fraction is read from a bucket, never interpolated',
    );
  }
  const requests = buckets[buckets.length - 1]!.count;
  return { errors: requests - bucket.count, requests };
}

/** The count e-process on slow requests; one pair of histograms, or one per exposure step. */
export function slowEvidence(
  histograms: HistogramPair | readonly HistogramPair[],
  options: CountEvidenceOptions & { slo: number },
): HarmEvidence {
  const list = Array.isArray(histograms) ? (histograms as readonly HistogramPair[]) : [histograms as HistogramPair];
  const pairs: CountPair[] = list.map((h) => ({
    canary: slowCounts('canary', h.canary, options.slo),
    baseline: slowCounts('baseline', h.baseline, options.slo),
  }));
  return errorEvidence(pairs, options);
}

const DEFAULT_A = 0.85;
const constantCache = new Map<string, number>();

/**
 * C for the Howard–Ramdas bound at level alpha: the smallest C whose crossing-probability bound,
 * minimised over the epoch spacing η, is alpha (the construction in confseq's find_optimal_C).
 */
export function lilConstant(alpha: number, a = DEFAULT_A): number {
  const key = `${alpha}/${a}`;
  const cached = constantCache.get(key);
  if (cached !== undefined) return cached;
  const errorBound = (c: number, eta: number): number => {
    const gammaSq = (2 / eta) * (a - Math.sqrt((2 * (eta - 1)) / c)) ** 2;
    if (gammaSq <= 1) return Number.POSITIVE_INFINITY;
    return 4 * Math.exp(-gammaSq * c) * (1 + 1 / ((gammaSq - 1) * Math.log(eta)));
  };
  const optimumError = (c: number): number => {
    const etaUpper = bisect((eta) => Math.sqrt(eta / 2) + Math.sqrt((2 * (eta - 1)) / c) - a, 1, 2 * a * a, 1e-12);
    return goldenMinimum((eta) => errorBound(c, eta), 1, etaUpper);
  };
  // The optimum error falls as C grows; bracket, then bisect on its logarithm.
  let hi = 5;
  while (optimumError(hi) > alpha) hi *= 2;
  const c = bisect((x) => Math.log(optimumError(x)) - Math.log(alpha), 1e-6, hi, 1e-10);
  constantCache.set(key, c);
  return c;
}

/** The band's half-width after t observations (∞ before tMin), valid for all t ≥ tMin at once. */
export function lilRadius(t: number, alpha: number, tMin = 1, a = DEFAULT_A): number {
  if (!(t >= tMin) || t <= 0) return Number.POSITIVE_INFINITY;
  return a * Math.sqrt((Math.log(1 + Math.log(t / tMin)) + lilConstant(alpha, a)) / t);
}

export interface BandPoint {
  readonly le: number;
  readonly canary: { readonly cdf: number; readonly radius: number };
  readonly baseline: { readonly cdf: number; readonly radius: number };
  /** baseline lower band − canary upper band; > 0 means the canary is shown slower at this bound. */
  readonly gap: number;
}

export interface LatencyBands {
  readonly points: readonly BandPoint[];
  /** The bound where the canary is most clearly slower, when it is shown slower anywhere. */
  readonly regressionAt: number | undefined;
  readonly regression: boolean;
}

/** Sequential one-sided stochastic-dominance check at the bucket bounds, at level alpha overall. */
export function latencyBands(pair: HistogramPair, options: { alpha: number; tMin?: number }): LatencyBands {
  const { alpha } = options;
  if (!(alpha > 0 && alpha < 1)) throw new InvalidValueError('alpha', String(alpha), 'a number between 0 and 1');
  const canary = sortedBuckets('canary', pair.canary);
  const baseline = sortedBuckets('baseline', pair.baseline);
  const nc = canary[canary.length - 1]!.count;
  const nb = baseline[baseline.length - 1]!.count;
  const rc = lilRadius(nc, alpha / 2, options.tMin);
  const rb = lilRadius(nb, alpha / 2, options.tMin);
  const points: BandPoint[] = [];
  for (const c of canary) {
    if (!Number.isFinite(c.le)) continue;
    const b = baseline.find((x) => sameBound(x.le, c.le));
    if (!b) continue;
    const cdfC = nc > 0 ? c.count / nc : Number.NaN;
    const cdfB = nb > 0 ? b.count / nb : Number.NaN;
    const gap = nc > 0 && nb > 0 ? cdfB - rb - (cdfC + rc) : Number.NEGATIVE_INFINITY;
    points.push({ le: c.le, canary: { cdf: cdfC, radius: rc }, baseline: { cdf: cdfB, radius: rb }, gap });
  }
  let worst: BandPoint | undefined;
  for (const p of points) if (p.gap > 0 && (!worst || p.gap > worst.gap)) worst = p;
  return { points, regressionAt: worst?.le, regression: worst !== undefined };
}
