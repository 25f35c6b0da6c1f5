// Several metrics at once with family-wise error control (canary.md §6.8).
//
// Choice: weighted Bonferroni on e-values. Metric i is rejected when wᵢ·Eᵢ ≥ 1/α (equal weights:
// Eᵢ ≥ m/α). By Ville's inequality each e-process crosses 1/(wᵢα) with probability ≤ wᵢα under its
// null, so P(any metric ever falsely rejected) ≤ Σ wᵢα = α, at any number of looks and under any
// dependence between the metrics (errors and latency of the same requests are dependent). It names
// which metric failed, which an average of e-values (also valid under dependence) cannot. Weights
// are fixed before looking; a "critical" metric gets a larger weight, i.e. more of the α budget.

import { InvalidValueError } from '../../core/errors.js';

export interface MetricEvidence {
  readonly name: string;
  readonly logE: number;
  /** Share of alpha given to this metric; default equal shares. All given weights must sum to 1. */
  readonly weight?: number;
}

export interface CombinedEvidence {
  /** Metrics rejected at family-wise level alpha, in input order. */
  readonly rejected: readonly string[];
  readonly perMetric: readonly { name: string; logE: number; weight: number; threshold: number; rejected: boolean }[];
  /** ln of the weighted mean e-value: an e-value for "some metric is off", valid under dependence. */
  readonly logMeanE: number;
}

export function combineEvidence(metrics: readonly MetricEvidence[], alpha: number): CombinedEvidence {
  if (!(alpha > 0 && alpha < 1)) throw new InvalidValueError('alpha', String(alpha), 'a number between 0 and 1');
  if (metrics.length === 0) return { rejected: [], perMetric: [], logMeanE: 0 };
  const given = metrics.filter((m) => m.weight !== undefined);
  if (given.length > 0 && given.length !== metrics.length) {
    throw new InvalidValueError(
      'metric weights',
      `${given.length} of ${metrics.length}`,
      'a weight for every metric or none',
    );
  }
  const weights = metrics.map((m) => m.weight ?? 1 / metrics.length);
  for (const [i, w] of weights.entries()) {
    if (!(w > 0)) throw new InvalidValueError(`weight of ${metrics[i]!.name}`, String(w), 'a number > 0');
  }
  const total = weights.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-9) throw new InvalidValueError('metric weights', String(total), 'weights summing to 1');
  const perMetric = metrics.map((m, i) => {
    const weight = weights[i]!;
    const threshold = Math.log(1 / (weight * alpha));
    return { name: m.name, logE: m.logE, weight, threshold, rejected: m.logE >= threshold };
  });
  const max = Math.max(...perMetric.map((p) => p.logE + Math.log(p.weight)));
  const logMeanE =
    max === Number.POSITIVE_INFINITY
      ? max
      : max + Math.log(perMetric.reduce((s, p) => s + Math.exp(p.logE + Math.log(p.weight) - max), 0));
  return { rejected: perMetric.filter((p) => p.rejected).map((p) => p.name), perMetric, logMeanE };
}
