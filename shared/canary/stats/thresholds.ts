// The threshold rules of Argo Rollouts and Flagger (canary.md §2.1 and §2.2), as pure functions over
// a series of per-interval measurements, so users can migrate their AnalysisTemplates and Canary
// specs and compare the outcome with the sequential tests. These rules do not correct for repeated
// looks and ignore sample size; they are here to reproduce, not to recommend.

/** One Prometheus answer as Argo sees it: a vector as a list of values, or a query failure. */
export type ArgoResult = readonly number[] | { readonly error: string };

export type ArgoPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error' | 'Running';

export interface ArgoMetric {
  /** A condition over `result`; throwing (e.g. result[0] on an empty vector) makes the measurement an Error. */
  readonly successCondition?: (result: readonly number[]) => boolean;
  readonly failureCondition?: (result: readonly number[]) => boolean;
  /** Failed once failed measurements exceed it; default 0; −1 disables. */
  readonly failureLimit?: number;
  /** Inconclusive once inconclusive measurements exceed it; default 0; −1 disables. */
  readonly inconclusiveLimit?: number;
  /** Error once consecutive errors exceed it; default 4; −1 disables. */
  readonly consecutiveErrorLimit?: number;
  /** Successful once this many consecutive successes are seen (> 0 to enable). */
  readonly consecutiveSuccessLimit?: number;
  /** Measurements to take; undefined runs until stopped (background analysis). */
  readonly count?: number;
}

/** `result[0]` as expr-lang evaluates it: an empty vector is an evaluation error, not a number. */
export function first(result: readonly number[]): number {
  const value = result[0];
  if (value === undefined) throw new RangeError('index out of range: 0 (the query returned no series)');
  return value;
}

/** Argo's EvaluateResult for one measurement. */
export function evaluateArgoMeasurement(metric: ArgoMetric, result: ArgoResult): Exclude<ArgoPhase, 'Running'> {
  if (!Array.isArray(result)) return 'Error';
  const values = result as readonly number[];
  try {
    const { successCondition, failureCondition } = metric;
    if (!successCondition && !failureCondition) return 'Successful';
    if (successCondition && !failureCondition) return successCondition(values) ? 'Successful' : 'Failed';
    if (!successCondition && failureCondition) return failureCondition(values) ? 'Failed' : 'Successful';
    if (failureCondition!(values)) return 'Failed';
    if (successCondition!(values)) return 'Successful';
    return 'Inconclusive';
  } catch {
    return 'Error';
  }
}

export interface ArgoAssessment {
  readonly phase: ArgoPhase;
  /** Index of the measurement that decided the phase, or undefined while Running. */
  readonly decidedAt: number | undefined;
  readonly counts: { successful: number; failed: number; inconclusive: number; error: number; count: number };
}

/**
 * Argo's metric assessment (assessMetricStatus / assessMetricFailureInconclusiveOrError) applied after
 * each measurement in turn. Errors are not counted in `count` (Argo increments Count only for
 * Successful, Failed and Inconclusive measurements) and a non-error measurement resets the error streak.
 */
export function assessArgoMetric(metric: ArgoMetric, results: readonly ArgoResult[]): ArgoAssessment {
  const failureLimit = metric.failureLimit ?? 0;
  const inconclusiveLimit = metric.inconclusiveLimit ?? 0;
  const errorLimit = metric.consecutiveErrorLimit ?? 4;
  const successLimit = metric.consecutiveSuccessLimit ?? 0;
  const counts = { successful: 0, failed: 0, inconclusive: 0, error: 0, count: 0 };
  let consecutiveErrors = 0;
  let consecutiveSuccesses = 0;
  for (const [i, result] of results.entries()) {
    const phase = evaluateArgoMeasurement(metric, result);
    if (phase === 'Error') {
      counts.error++;
      consecutiveErrors++;
    } else {
      consecutiveErrors = 0;
      counts.count++;
      if (phase === 'Successful') {
        counts.successful++;
        consecutiveSuccesses++;
      } else {
        consecutiveSuccesses = 0;
        if (phase === 'Failed') counts.failed++;
        else counts.inconclusive++;
      }
    }
    const decided = (p: ArgoPhase): ArgoAssessment => ({ phase: p, decidedAt: i, counts: { ...counts } });
    if (failureLimit >= 0 && counts.failed > failureLimit) return decided('Failed');
    if (inconclusiveLimit >= 0 && counts.inconclusive > inconclusiveLimit) return decided('Inconclusive');
    if (errorLimit >= 0 && consecutiveErrors > errorLimit) return decided('Error');
    if (metric.count !== undefined && counts.count >= metric.count) {
      return decided(successLimit > 0 && consecutiveSuccesses < successLimit ? 'Inconclusive' : 'Successful');
    }
    if (successLimit > 0 && consecutiveSuccesses >= successLimit) return decided('Successful');
  }
  return { phase: 'Running', decidedAt: undefined, counts };
}

/** What a rollout does with an AnalysisRun phase (rollout/analysis.go). */
export function argoRolloutAction(phase: ArgoPhase): 'continue' | 'pause' | 'abort' | 'wait' {
  switch (phase) {
    case 'Successful':
      return 'continue';
    case 'Inconclusive':
      return 'pause';
    case 'Failed':
    case 'Error':
      return 'abort';
    default:
      return 'wait';
  }
}

export interface FlaggerCheck {
  /** Passing range of the metric's value; either end may be omitted. */
  readonly thresholdRange: { readonly min?: number; readonly max?: number };
}

export interface FlaggerAnalysis {
  readonly checks: readonly FlaggerCheck[];
  /** Failed checks that trigger rollback; default 1. */
  readonly threshold?: number;
  /** Intervals needed to promote, e.g. maxWeight / stepWeight; each passing interval advances one step. */
  readonly steps: number;
}

export interface FlaggerOutcome {
  readonly decision: 'promote' | 'rollback' | 'running';
  readonly failedChecks: number;
  /** Index of the interval that decided, or undefined while running. */
  readonly decidedAt: number | undefined;
}

/**
 * Flagger's loop (scheduler.go): each interval, every check's value must lie within its range; a NaN
 * or missing value is "no values found" and fails. On the first failing check of an interval,
 * failedChecks is incremented (cumulatively, never reset within a revision) and the weight is held; at
 * failedChecks ≥ threshold it rolls back. A fully passing interval advances one step; after `steps`
 * advances it promotes. `intervals[i][j]` is check j's value in interval i.
 */
export function flaggerAnalysis(
  spec: FlaggerAnalysis,
  intervals: readonly (readonly (number | undefined)[])[],
): FlaggerOutcome {
  const threshold = spec.threshold ?? 1;
  let failedChecks = 0;
  let advanced = 0;
  for (const [i, values] of intervals.entries()) {
    const failed = spec.checks.some((check, j) => {
      const v = values[j];
      if (v === undefined || Number.isNaN(v)) return true;
      const { min, max } = check.thresholdRange;
      return (min !== undefined && v < min) || (max !== undefined && v > max);
    });
    if (failed) {
      failedChecks++;
      if (failedChecks >= threshold) return { decision: 'rollback', failedChecks, decidedAt: i };
    } else {
      advanced++;
      if (advanced >= spec.steps) return { decision: 'promote', failedChecks, decidedAt: i };
    }
  }
  return { decision: 'running', failedChecks, decidedAt: undefined };
}
