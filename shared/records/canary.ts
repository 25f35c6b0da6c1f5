import type { Decision } from '../canary/decide.js';
import type { Evaluation, MetricReport } from '../canary/evaluate.js';
import type { LintFinding } from '../canary/promql-lint.js';
import type { UserFile } from '../core/files.js';
import { type Recorded, readRecord, recordKind } from './record.js';

// canary.json, the canary action's record; its schema is schemas/canary.schema.json. It says what was decided
// (promote, rollback, inconclusive or continue) and why (reason codes from decide.ts), on what evidence (per
// metric: counts, observed ratio, anytime-valid confidence bounds, e-values against their thresholds), from
// which exact queries over which time range, what exposure it served (canary requests, estimated excess
// errors) and changed (exposure commits, rollback), and the evidence over time for the summary's chart.
// Times are RFC 3339 strings. JSON has no NaN or ∞: a ratio without data, or an unbounded confidence bound,
// is null.

export const CANARY_RECORD = recordKind('canary', 'canary.json');

export type CanaryDecisionKind = Decision['decision'];

/** A number, or null where it is NaN or infinite (no requests, no bound). */
export type MaybeNumber = number | null;

export interface CanaryCountsRecord {
  requests: number;
  /** Errors, or requests slower than the SLO. */
  bad: number;
}

export interface CanarySegmentRecord {
  /** Canary weight in percent during the segment. */
  weight: number;
  from: string;
  to: string;
  canary: CanaryCountsRecord;
  baseline: CanaryCountsRecord;
  /** The exact PromQL (or simulator) queries, each evaluated at `to`. */
  queries: { canary: string[]; baseline: string[] };
}

export interface CanaryMetricRecord {
  name: 'errors' | 'latency';
  canary: CanaryCountsRecord;
  baseline: CanaryCountsRecord;
  observedRatio: MaybeNumber;
  confidence: { lower: MaybeNumber; upper: MaybeNumber; level: number };
  harm: { logE: MaybeNumber; threshold: number; shown: boolean; tolerance: number };
  nonInferiority: { logE: MaybeNumber; threshold: number; shown: boolean; margin: number };
  detectableRatio: MaybeNumber;
  excessBad: number;
  segments: CanarySegmentRecord[];
}

/** One point of the evidence chart: an evaluation at a past time. */
export interface CanaryEvaluationPoint {
  at: string;
  weight: number;
  decision: CanaryDecisionKind;
  metrics: { name: string; logE: MaybeNumber; threshold: number }[];
}

export interface CanaryExposureChange {
  at: string;
  weight: number;
  reason: string;
  changed: boolean;
  commit?: string;
}

export interface CanaryResult {
  decision: CanaryDecisionKind;
  /** The GitOps service, when exposure is edited through a GitOps repository. */
  service?: string;
  environment?: string;
  /** Index into `steps` of the step in force after this run; −1 = not started. */
  step: number;
  /** Canary weight in percent in force after this run. */
  weight: number;
  steps: number[];
  reasons: { code: string; metric?: string; message: string }[];
  diagnosis?: string;
  /** The canary's image and digest, when `since` was the promotion record that pinned it. */
  subject?: { name: string; digest: string };
  /** Where the counts came from: the Prometheus URL without credentials, or the simulator and its scenario. */
  source: string;
  mode: 'once' | 'loop';
  settings: {
    alpha: number;
    tolerance: number;
    promoteMargin: number;
    minStepSeconds: number;
    /** Seconds at the start of each step left out of the counts. */
    warmupSeconds: number;
    deadlineSeconds: number;
    scrapeIntervalSeconds: number;
    intervalSeconds: number;
    sloLatencySeconds?: number;
    metrics: string;
    canary: string;
    baseline: string;
    service?: string;
  };
  /** `since`: when the canary started; `at`: the evaluation time (now − 2 scrapes); `deadline`: since + deadline. */
  timeRange: { since: string; at: string; deadline: string };
  metrics: CanaryMetricRecord[];
  canaryRequests: number;
  baselineRequests: number;
  /** Canary errors beyond what the baseline's error rate predicts: the blast radius so far. */
  excessErrors: number;
  split?: {
    logE: MaybeNumber;
    threshold: number;
    segments: { weight: number; observedShare: MaybeNumber; logE: MaybeNumber }[];
  };
  /** Sequential bands at the latency histogram's bucket bounds, at level alpha: reported, not decided on. */
  latencyBands?: {
    alpha: number;
    regression: boolean;
    regressionAt: number | null;
    points: { le: number; canary: CdfBand; baseline: CdfBand; gap: MaybeNumber }[];
  };
  detectable: {
    secondsLeft: number;
    canaryRps: number;
    baselineRps: number;
    perMetric: { name: string; ratio: MaybeNumber }[];
    text: string;
  };
  evaluations: CanaryEvaluationPoint[];
  exposure: {
    /** The exposure store: the GitOps repository and file, or memory (nothing written). */
    store: string;
    changes: CanaryExposureChange[];
    rollback?: { commits: string[]; promotionCommit?: string; pullRequest?: { number: number; url: string } };
  };
  probes?: {
    canary: CanaryProbeRecord;
    baseline: CanaryProbeRecord;
  };
  lints: LintFinding[];
  timestamps: { started: string; finished: string };
}

/** The share of requests within a bound, and the band's half-width around it. */
export interface CdfBand {
  cdf: MaybeNumber;
  radius: MaybeNumber;
}

export interface CanaryProbeRecord {
  diagnosis: string;
  detail: string;
  selector: string;
  series: number;
  newSeries: number;
}

export type CanaryRecordFile = Recorded<CanaryResult>;

/** Reads canary.json; errors name the file (and the input it came from) and the field. */
export function readCanaryRecord(file: UserFile | string): Promise<CanaryRecordFile> {
  return readRecord<CanaryResult>(CANARY_RECORD, file);
}

export function finite(x: number | undefined): MaybeNumber {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

function metricRecord(m: MetricReport, alpha: number, tolerance: number): CanaryMetricRecord {
  return {
    name: m.name,
    canary: { ...m.canary },
    baseline: { ...m.baseline },
    observedRatio: finite(m.observedRatio),
    // Each bound holds at the metric's share of alpha (decide.ts): the interval at 1 − 2·weight·alpha.
    confidence: {
      lower: finite(m.confidence.lower),
      upper: finite(m.confidence.upper),
      level: 1 - 2 * m.harm.weight * alpha,
    },
    harm: { logE: finite(m.harm.logE), threshold: m.harm.threshold, shown: m.harm.shown, tolerance },
    nonInferiority: {
      logE: finite(m.nonInferiority.logE),
      threshold: m.nonInferiority.threshold,
      shown: m.nonInferiority.shown,
      margin: m.nonInferiority.margin,
    },
    detectableRatio: finite(m.detectableRatio),
    excessBad: m.excessBad,
    segments: m.segments.map((s) => ({
      weight: s.weight,
      from: s.from.toISOString(),
      to: s.to.toISOString(),
      canary: { ...s.canary },
      baseline: { ...s.baseline },
      queries: { canary: [...s.queries.canary], baseline: [...s.queries.baseline] },
    })),
  };
}

/** A chart point from an evaluation. */
export function evaluationPoint(e: Evaluation): CanaryEvaluationPoint {
  return {
    at: e.at.toISOString(),
    weight: e.weight,
    decision: e.decision.decision,
    metrics: e.metrics.map((m) => ({ name: m.name, logE: finite(m.harm.logE), threshold: m.harm.threshold })),
  };
}

/** The evaluation's part of the record: everything but the run's settings, exposure changes and times. */
export function evaluationRecord(
  e: Evaluation,
  options: { alpha: number; tolerance: number; detectableText: string },
): Pick<
  CanaryResult,
  | 'decision'
  | 'reasons'
  | 'diagnosis'
  | 'metrics'
  | 'canaryRequests'
  | 'baselineRequests'
  | 'excessErrors'
  | 'split'
  | 'latencyBands'
  | 'detectable'
  | 'probes'
  | 'lints'
> {
  const probe = (p: NonNullable<Evaluation['probes']>['canary']): CanaryProbeRecord => ({
    diagnosis: p.diagnosis,
    detail: p.detail,
    selector: p.selector,
    series: p.series.length,
    newSeries: p.newSeries.length,
  });
  return {
    decision: e.decision.decision,
    reasons: e.decision.reasons.map((r) => ({
      code: r.code,
      ...(r.metric ? { metric: r.metric } : {}),
      message: r.message,
    })),
    ...(e.diagnosis ? { diagnosis: e.diagnosis } : {}),
    metrics: e.metrics.map((m) => metricRecord(m, options.alpha, options.tolerance)),
    canaryRequests: e.canaryRequests,
    baselineRequests: e.baselineRequests,
    excessErrors: e.excessBadRequests,
    ...(e.split
      ? {
          split: {
            logE: finite(e.split.logE),
            threshold: e.split.threshold,
            segments: e.split.segments.map((s) => ({
              weight: s.weight * 100,
              observedShare: finite(s.observedShare),
              logE: finite(s.logE),
            })),
          },
        }
      : {}),
    ...(e.latencyBands
      ? {
          latencyBands: {
            alpha: options.alpha,
            regression: e.latencyBands.regression,
            regressionAt: finite(e.latencyBands.regressionAt),
            points: e.latencyBands.points.map((p) => ({
              le: p.le,
              canary: { cdf: finite(p.canary.cdf), radius: finite(p.canary.radius) },
              baseline: { cdf: finite(p.baseline.cdf), radius: finite(p.baseline.radius) },
              gap: finite(p.gap),
            })),
          },
        }
      : {}),
    detectable: {
      secondsLeft: e.detectable.secondsLeft,
      canaryRps: e.detectable.canaryRps,
      baselineRps: e.detectable.baselineRps,
      perMetric: e.detectable.perMetric.map((m) => ({ name: m.name, ratio: finite(m.ratio) })),
      text: options.detectableText,
    },
    ...(e.probes ? { probes: { canary: probe(e.probes.canary), baseline: probe(e.probes.baseline) } } : {}),
    lints: e.lints.map((l) => ({ ...l })),
  };
}
