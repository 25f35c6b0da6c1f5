// One canary evaluation at one time: read the counts of both arms for every exposure segment from a
// MetricsSource, turn them into evidence with stats/*, and let decide.ts decide. Pure apart from the
// source: the same counts, plan, segments and time always give the same evaluation, which is what makes
// a scheduled `mode: once` run agree with `mode: loop` (traffic.ts reads cumulative increase() counts).
//
// What is decided here rather than in decide.ts, and why:
// - Not started (exposure 0) and fully exposed (100 % at the end of the steps) need no evidence.
// - "The selector matches nothing" is a configuration error, but a canary's labelled counters only
//   appear with its first request: an arm is declared mis-labelled only after the grace period
//   (max(4 scrapes, the minimum step time)), and the canary arm only once the baseline's traffic says it
//   should have served at least EXPECTED_CANARY_REQUESTS requests (P(0 | Poisson(10)) ≈ 5e-5).
// - No traffic in either arm is no evidence either way: hold the step through the grace period, then
//   inconclusive with NO_TRAFFIC, instead of the failed check Flagger counts (canary.md §0.4).

import { ConfigurationError, InvalidValueError } from '../core/errors.js';
import { type DecideOptions, type Decision, decide, promoteMargin, type Reason } from './decide.js';
import type { TrafficMetrics } from './presets.js';
import { lintPlan } from './prometheus-source.js';
import type { LintFinding } from './promql-lint.js';
import type { MetricsSource } from './source.js';
import { type CountPair, errorEvidence, nonInferiorityEvidence } from './stats/counts.js';
import { detectableRatio } from './stats/detectable.js';
import { type LatencyBands, latencyBands } from './stats/latency.js';
import { type SrmSegmentResult, sampleRatioEvidence } from './stats/srm.js';
import type { Arm, Probe } from './traffic.js';

/** Everything fixed for the canary's life, from the inputs. */
export interface CanaryPlan {
  metrics: TrafficMetrics;
  canary: Arm;
  baseline: Arm;
  /** Adds the `latency` count metric: a request is bad when slower than this bucket bound. */
  sloLatencySeconds?: number;
  /** Canary weights in percent, strictly increasing, each in (0, 100]. */
  steps: number[];
  alpha: number;
  /** The error-ratio increase still accepted (1 = none). */
  tolerance: number;
  promoteMargin?: number;
  minStepSeconds: number;
  /**
   * Seconds at the start of each step left out of the counts: new pods and cold caches make a healthy canary's
   * first minute worse than its steady state, and counting it rolls healthy canaries back (bench/README.md,
   * "x1 + warm-up"). The windows are fixed by the clock before any count is seen, so the guarantee holds;
   * default 0.
   */
  warmupSeconds?: number;
  minStepRequests?: number;
  minExposureRequests?: number;
  /** Seconds from `since` after which an undecided canary is inconclusive. */
  deadlineSeconds: number;
  /** Evaluations run at now − 2 scrapes; windows shorter than 4 scrapes are linted. */
  scrapeIntervalSeconds: number;
  since: Date;
  /**
   * Relative deviation of the canary's request share from the step's weight that the sample-ratio check
   * still accepts; default 0.2. Flag rollouts bucket users, not requests, and replica-count splits are
   * coarse, so an exact per-request split would call ordinary routing a mismatch.
   */
  splitDeviation?: number;
}

/** A period of constant weight: from the exposure history (gitops commits) or memory. */
export interface ExposureSegment {
  /** Canary weight in percent. */
  weight: number;
  start: Date;
  /** Open when the segment is still in force. */
  end?: Date;
  /**
   * False when the weight does not set the request share (flagd's `internal` targeting step): the
   * sample-ratio check skips the segment. Default true.
   */
  shareKnown?: boolean;
}

/** Requests and bad requests (errors, or requests slower than the SLO) of one arm. */
export interface BadCounts {
  requests: number;
  bad: number;
}

/** One metric's counts over one exposure segment, with the exact queries that produced them. */
export interface SegmentCounts {
  weight: number;
  from: Date;
  to: Date;
  canary: BadCounts;
  baseline: BadCounts;
  queries: { canary: string[]; baseline: string[] };
  /** The latency metric's whole histograms (seconds, +Inf included), where the source has them. */
  histograms?: { canary?: Bucket[]; baseline?: Bucket[] };
}

type Bucket = { le: number; count: number };

export type MetricName = 'errors' | 'latency';

export interface MetricReport {
  name: MetricName;
  segments: SegmentCounts[];
  canary: BadCounts;
  baseline: BadCounts;
  /** Canary bad rate / baseline bad rate over all segments; NaN without requests in an arm. */
  observedRatio: number;
  /** ln E against "ratio ≤ tolerance", its rollback threshold (ln 1/(weight·alpha)), and whether it crossed it. */
  harm: { logE: number; threshold: number; weight: number; shown: boolean };
  /** ln E against "ratio ≥ margin", its promote threshold (ln 1/alpha), and whether it crossed it. */
  nonInferiority: { logE: number; threshold: number; margin: number; shown: boolean };
  /** Anytime-valid confidence bounds for the rate ratio, at the metric's share of alpha. */
  confidence: { lower: number; upper: number };
  /** The smallest ratio detectable (see Evaluation.detectable); undefined: not even 1000×. */
  detectableRatio: number | undefined;
  /** Canary bad requests beyond what the baseline's rate predicts, per segment, ≥ 0. */
  excessBad: number;
}

export type EvaluationDiagnosis = 'no-traffic' | 'no-canary-traffic' | 'no-baseline-traffic' | 'sample-ratio-mismatch';

export interface Evaluation {
  at: Date;
  since: Date;
  elapsedSeconds: number;
  /** Index into plan.steps of the step in force; −1 = not started. */
  step: number;
  /** Canary weight in force, percent. */
  weight: number;
  /** Absent when nothing was read (not started, or nothing to read yet). */
  probes?: { canary: Probe; baseline: Probe };
  lints: LintFinding[];
  diagnosis?: EvaluationDiagnosis;
  decision: Decision;
  metrics: MetricReport[];
  canaryRequests: number;
  baselineRequests: number;
  /** Canary errors − canary requests × baseline error rate (per segment), ≥ 0: the blast radius. */
  excessBadRequests: number;
  /**
   * Sequential bands at the latency histogram's bucket bounds over the whole run (stats/latency.ts), at level
   * alpha: where in the distribution the canary is shown slower. Reported, not decided on: the slow-fraction
   * count test at slo-latency is the latency metric of the decision, and spending alpha twice on one
   * distribution would weaken both.
   */
  latencyBands?: LatencyBands;
  /** The sample-ratio check over the segments whose share is known. */
  split?: { logE: number; threshold: number; segments: SrmSegmentResult[] };
  /**
   * What the test can still detect by the deadline at the current traffic (a plug-in estimate,
   * stats/detectable.ts); once the deadline has passed, what the whole run could have detected.
   */
  detectable: {
    secondsLeft: number;
    canaryRps: number;
    baselineRps: number;
    perMetric: { name: MetricName; ratio: number | undefined }[];
  };
}

const EXPECTED_CANARY_REQUESTS = 10;
const DEFAULT_SPLIT_DEVIATION = 0.2;

export function checkPlan(plan: CanaryPlan): void {
  const { steps } = plan;
  if (steps.length === 0) throw new InvalidValueError('steps', '', 'percentages such as 1,5,25,100');
  steps.forEach((s, i) => {
    if (!(Number.isFinite(s) && s > 0 && s <= 100) || (i > 0 && s <= (steps[i - 1] as number))) {
      throw new InvalidValueError(
        'steps',
        steps.join(','),
        'strictly increasing percentages, each above 0 and at most 100, such as 1,5,25,100',
      );
    }
  });
  if (!(plan.alpha > 0 && plan.alpha < 1)) {
    throw new InvalidValueError('alpha', String(plan.alpha), 'a number between 0 and 1');
  }
  if (!(Number.isFinite(plan.tolerance) && plan.tolerance >= 1)) {
    throw new InvalidValueError('tolerance', String(plan.tolerance), 'a finite number ≥ 1');
  }
  const positive: [string, number][] = [
    ['deadline', plan.deadlineSeconds],
    ['scrape-interval', plan.scrapeIntervalSeconds],
  ];
  for (const [what, value] of positive) {
    if (!(Number.isFinite(value) && value > 0)) throw new InvalidValueError(what, String(value), 'a duration > 0');
  }
  if (plan.warmupSeconds !== undefined && !(Number.isFinite(plan.warmupSeconds) && plan.warmupSeconds >= 0)) {
    throw new InvalidValueError('warmup', String(plan.warmupSeconds), 'a duration ≥ 0, e.g. 1m');
  }
  if (!(Number.isFinite(plan.minStepSeconds) && plan.minStepSeconds >= 0)) {
    throw new InvalidValueError('min-step-duration', String(plan.minStepSeconds), 'a duration ≥ 0');
  }
  if ((plan.warmupSeconds ?? 0) > 0 && plan.minStepSeconds > 0 && (plan.warmupSeconds ?? 0) >= plan.minStepSeconds) {
    throw new InvalidValueError(
      'warmup',
      `${plan.warmupSeconds}s`,
      `a duration shorter than min-step-duration (${plan.minStepSeconds}s), or 0s`,
      'a step would advance before anything of it was counted',
    );
  }
  if (plan.sloLatencySeconds !== undefined && !(plan.sloLatencySeconds > 0)) {
    throw new InvalidValueError('slo-latency', String(plan.sloLatencySeconds), 'a duration > 0, e.g. 0.5s');
  }
  if (Number.isNaN(plan.since.getTime())) throw new InvalidValueError('since', 'Invalid Date', 'an RFC 3339 time');
}

/** The index of the largest step at or below `weight`; −1 when exposure is below the first step. */
export function stepIndex(steps: readonly number[], weight: number): number {
  let index = -1;
  steps.forEach((s, i) => {
    if (s <= weight + 1e-9) index = i;
  });
  return index;
}

/** Seconds from `since` during which no traffic, or no series, is not yet a finding. */
export function graceSeconds(plan: Pick<CanaryPlan, 'scrapeIntervalSeconds' | 'minStepSeconds'>): number {
  return Math.max(4 * plan.scrapeIntervalSeconds, plan.minStepSeconds);
}

const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;

/** The segments in force at `at`, ordered, and the weight in force. */
function inForce(segments: readonly ExposureSegment[], at: Date): { ordered: ExposureSegment[]; weight: number } {
  const ordered = segments.filter((s) => s.start.getTime() <= at.getTime());
  ordered.sort((a, b) => a.start.getTime() - b.start.getTime());
  const last = ordered[ordered.length - 1];
  const open = last !== undefined && (last.end === undefined || last.end.getTime() > at.getTime());
  return { ordered, weight: open ? last.weight : 0 };
}

/** A count that must be a finite number ≥ 0; an empty reading (undefined) is 0 requests. */
function countValue(value: number | undefined, query: string): number {
  if (value === undefined) return 0;
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidValueError(`reading of ${query}`, String(value), 'a finite count ≥ 0');
  }
  return value;
}

/** Bad ≤ requests, allowing for the rounding of two extrapolated sums. */
function badCounts(requests: number, bad: number): BadCounts {
  return { requests, bad: bad > requests && bad - requests <= 1e-9 * Math.max(1, requests) ? requests : bad };
}

interface Window {
  weight: number;
  from: Date;
  to: Date;
  shareKnown: boolean;
  current: boolean;
}

/** The comparison windows: segments within [since, at] whose weight leaves both arms traffic. */
function windows(ordered: readonly ExposureSegment[], since: Date, at: Date, warmupSeconds: number): Window[] {
  const result: Window[] = [];
  ordered.forEach((s, i) => {
    const next = ordered[i + 1];
    const endMs = Math.min(
      s.end?.getTime() ?? Number.POSITIVE_INFINITY,
      next?.start.getTime() ?? Number.POSITIVE_INFINITY,
      at.getTime(),
    );
    const from = new Date(Math.max(s.start.getTime(), since.getTime()) + warmupSeconds * 1000);
    const to = new Date(endMs);
    if (!(s.weight > 0 && s.weight < 100) || seconds(from, to) < 1) return;
    result.push({
      weight: s.weight,
      from,
      to,
      shareKnown: s.shareKnown !== false,
      current: i === ordered.length - 1 && endMs === at.getTime(),
    });
  });
  return result;
}

async function readMetric(
  source: MetricsSource,
  plan: CanaryPlan,
  name: MetricName,
  list: readonly Window[],
): Promise<SegmentCounts[]> {
  return Promise.all(
    list.map(async (w): Promise<SegmentCounts> => {
      if (name === 'errors') {
        const [c, b] = await Promise.all([
          source.counts(plan.canary, w.from, w.to),
          source.counts(plan.baseline, w.from, w.to),
        ]);
        return {
          weight: w.weight,
          from: w.from,
          to: w.to,
          canary: badCounts(countValue(c.requests, c.queries.requests), countValue(c.errors, c.queries.errors)),
          baseline: badCounts(countValue(b.requests, b.queries.requests), countValue(b.errors, b.queries.errors)),
          queries: { canary: [c.queries.requests, c.queries.errors], baseline: [b.queries.requests, b.queries.errors] },
        };
      }
      const slo = plan.sloLatencySeconds as number;
      const [c, b] = await Promise.all([
        source.latencyCounts(plan.canary, slo, w.from, w.to),
        source.latencyCounts(plan.baseline, slo, w.from, w.to),
      ]);
      return {
        weight: w.weight,
        from: w.from,
        to: w.to,
        canary: badCounts(countValue(c.total, c.query), c.total === undefined ? 0 : countValue(c.slow, c.query)),
        baseline: badCounts(countValue(b.total, b.query), b.total === undefined ? 0 : countValue(b.slow, b.query)),
        queries: { canary: [c.query], baseline: [b.query] },
        ...(c.buckets || b.buckets
          ? {
              histograms: {
                ...(c.buckets ? { canary: c.buckets } : {}),
                ...(b.buckets ? { baseline: b.buckets } : {}),
              },
            }
          : {}),
      };
    }),
  );
}

const pairs = (segments: readonly SegmentCounts[]): CountPair[] =>
  segments.map((s) => ({
    canary: { errors: s.canary.bad, requests: s.canary.requests },
    baseline: { errors: s.baseline.bad, requests: s.baseline.requests },
  }));

function sum(segments: readonly SegmentCounts[], arm: 'canary' | 'baseline'): BadCounts {
  return segments.reduce((t, s) => ({ requests: t.requests + s[arm].requests, bad: t.bad + s[arm].bad }), {
    requests: 0,
    bad: 0,
  });
}

function excess(segments: readonly SegmentCounts[]): number {
  let total = 0;
  for (const s of segments) {
    if (s.baseline.requests > 0) total += s.canary.bad - (s.canary.requests * s.baseline.bad) / s.baseline.requests;
  }
  return Math.max(0, total);
}

/** The decision when no evidence is needed or none can be had. */
function fixedDecision(
  plan: CanaryPlan,
  decision: Decision['decision'],
  reasons: Reason[],
  nextStep?: number,
): Decision {
  return {
    decision,
    ...(nextStep !== undefined ? { nextStep } : {}),
    margin: promoteMargin(plan),
    reasons,
    perMetric: [],
  };
}

function emptyDetectable(secondsLeft: number): Evaluation['detectable'] {
  return { secondsLeft, canaryRps: 0, baselineRps: 0, perMetric: [] };
}

function noMatchError(input: string, probe: Probe, since: Date, at: Date): ConfigurationError {
  return new ConfigurationError(
    input,
    probe.selector,
    `a selector that matches series of the metrics between ${since.toISOString()} and ${at.toISOString()}`,
    `the selector matches nothing: ${probe.detail}`,
  );
}

export async function evaluate(
  source: MetricsSource,
  plan: CanaryPlan,
  segments: ExposureSegment[],
  at: Date,
): Promise<Evaluation> {
  checkPlan(plan);
  const { since, steps } = plan;
  const elapsedSeconds = seconds(since, at);
  const secondsLeft = Math.max(0, plan.deadlineSeconds - elapsedSeconds);
  const { ordered, weight } = inForce(segments, at);
  const step = stepIndex(steps, weight);
  const grace = graceSeconds(plan);
  const base = {
    at,
    since,
    elapsedSeconds,
    step,
    weight,
    lints: [] as LintFinding[],
    metrics: [] as MetricReport[],
    canaryRequests: 0,
    baselineRequests: 0,
    excessBadRequests: 0,
    detectable: emptyDetectable(secondsLeft),
  };

  if (step === -1) {
    return {
      ...base,
      decision: fixedDecision(
        plan,
        'continue',
        [{ code: 'NOT_STARTED', message: `exposure is ${weight}%: the first step, ${steps[0]}%, is next` }],
        0,
      ),
    };
  }
  // The 100 step has no baseline left to compare with: the canary was promoted at the step before it.
  const compared = steps.filter((s) => s < 100);
  if (step >= compared.length) {
    return {
      ...base,
      decision: fixedDecision(plan, 'promote', [
        { code: 'FULL_EXPOSURE', message: `exposure is already ${weight}%, the last step` },
      ]),
    };
  }
  const hold = (message: string): Evaluation => ({
    ...base,
    diagnosis: 'no-traffic',
    decision: fixedDecision(plan, 'continue', [{ code: 'NO_TRAFFIC', message }], step),
  });
  if (elapsedSeconds < 1) {
    return hold(
      `nothing to read yet: the evaluation time ${at.toISOString()} is not after the start ${since.toISOString()}`,
    );
  }

  const [canaryProbe, baselineProbe] = await Promise.all([
    source.probe(plan.canary, since, at),
    source.probe(plan.baseline, since, at),
  ]);
  const probes = { canary: canaryProbe, baseline: baselineProbe };
  const pastGrace = elapsedSeconds >= grace;
  const canaryMissing = canaryProbe.diagnosis === 'no-match';
  const baselineMissing = baselineProbe.diagnosis === 'no-match';
  if (pastGrace && canaryMissing && baselineMissing) {
    // Both arms empty: the part they share (the service matcher, or the metric itself) is wrong.
    throw noMatchError(plan.canary.service.length > 0 ? 'service' : 'metrics', canaryProbe, since, at);
  }
  if (pastGrace && baselineMissing) throw noMatchError('baseline', baselineProbe, since, at);

  const list = windows(ordered, since, at, plan.warmupSeconds ?? 0);
  const names: MetricName[] = plan.sloLatencySeconds === undefined ? ['errors'] : ['errors', 'latency'];
  const readings = await Promise.all(names.map((name) => readMetric(source, plan, name, list)));
  const errors = readings[0] as SegmentCounts[];
  const canaryTotal = sum(errors, 'canary');
  const baselineTotal = sum(errors, 'baseline');
  // The canary requests the baseline's traffic predicts at these weights: below EXPECTED_CANARY_REQUESTS, a
  // silent or missing canary is chance, not broken labels or routing.
  const expectedCanary = errors.reduce((e, s) => e + (s.baseline.requests * s.weight) / (100 - s.weight), 0);
  if (pastGrace && canaryMissing && expectedCanary >= EXPECTED_CANARY_REQUESTS) {
    throw noMatchError(
      'canary',
      {
        ...canaryProbe,
        detail: `${canaryProbe.detail} (the baseline's traffic at these weights predicts ${Math.round(expectedCanary)} canary requests)`,
      },
      since,
      at,
    );
  }

  // The whole run's window, not each segment's: a segment just begun is short by nature, not a trap.
  const lints = lintPlan(plan, probes, at);
  const current = list.find((w) => w.current);
  const currentErrors = current ? errors[list.indexOf(current)] : undefined;
  const stepStart = ordered[ordered.length - 1]?.start ?? since;
  const stepElapsedSeconds = seconds(new Date(Math.max(stepStart.getTime(), since.getTime())), at);

  // Traffic now: the current segment's rates; past the deadline, the whole run's (what it could have detected).
  const pastDeadline = elapsedSeconds >= plan.deadlineSeconds;
  const ratesFrom = pastDeadline ? errors : currentErrors ? [currentErrors] : [];
  const rateSeconds = ratesFrom.reduce((t, s) => t + seconds(s.from, s.to), 0);
  const canaryRps = rateSeconds > 0 ? sum(ratesFrom, 'canary').requests / rateSeconds : 0;
  const baselineRps = rateSeconds > 0 ? sum(ratesFrom, 'baseline').requests / rateSeconds : 0;
  const horizon = pastDeadline ? rateSeconds : secondsLeft;
  const perMetricDetectable = names.map((name, i) => {
    const segs = readings[i] as SegmentCounts[];
    const b = sum(segs, 'baseline');
    const ratio = detectableRatio({
      seen: pastDeadline ? [] : pairs(segs),
      canaryRps,
      baselineRps,
      baselineRate: b.requests > 0 ? b.bad / b.requests : 0,
      secondsLeft: horizon,
      alpha: plan.alpha / names.length,
      tolerance: plan.tolerance,
    });
    return { name, ratio };
  });

  const margin = promoteMargin(plan);
  const splitSegments = errors
    .filter((s, i) => list[i]?.shareKnown !== false && s.canary.requests + s.baseline.requests > 0)
    .map((s) => ({ canaryRequests: s.canary.requests, baselineRequests: s.baseline.requests, weight: s.weight / 100 }));
  const srm =
    splitSegments.length > 0
      ? sampleRatioEvidence(splitSegments, { allowedDeviation: plan.splitDeviation ?? DEFAULT_SPLIT_DEVIATION })
      : undefined;
  const options: DecideOptions = {
    alpha: plan.alpha,
    tolerance: plan.tolerance,
    ...(plan.promoteMargin !== undefined ? { promoteMargin: plan.promoteMargin } : {}),
    ...(plan.minExposureRequests !== undefined ? { minExposure: { requests: plan.minExposureRequests } } : {}),
    minStepExposure: {
      seconds: plan.minStepSeconds,
      ...(plan.minStepRequests !== undefined ? { requests: plan.minStepRequests } : {}),
    },
  };
  let decision = decide(
    {
      metrics: names.map((name, i) => {
        const p = pairs(readings[i] as SegmentCounts[]);
        return {
          name,
          harm: errorEvidence(p, { tolerance: plan.tolerance }),
          nonInferiority: nonInferiorityEvidence(p, { margin }),
          detectable: { ratio: perMetricDetectable[i]?.ratio },
        };
      }),
      ...(srm ? { split: srm } : {}),
      exposure: {
        step,
        steps: compared,
        elapsedSeconds,
        stepElapsedSeconds,
        deadlineSeconds: plan.deadlineSeconds,
        canaryRequests: canaryTotal.requests,
        stepCanaryRequests: currentErrors?.canary.requests ?? 0,
      },
    },
    options,
  );

  let diagnosis: EvaluationDiagnosis | undefined;
  if (canaryTotal.requests === 0 && baselineTotal.requests === 0) diagnosis = 'no-traffic';
  else if (canaryTotal.requests === 0) diagnosis = 'no-canary-traffic';
  else if (baselineTotal.requests === 0) diagnosis = 'no-baseline-traffic';
  else if (decision.reasons.some((r) => r.code === 'SAMPLE_RATIO_MISMATCH')) diagnosis = 'sample-ratio-mismatch';
  const waited = `${Math.round(elapsedSeconds)}s since ${since.toISOString()}`;
  // One arm silent past the grace is its own diagnosis, not a sample-ratio finding: for the canary, only once
  // the baseline's traffic says it should have served EXPECTED_CANARY_REQUESTS (at 1 % of a quiet service,
  // no canary request in a minute is chance, not broken routing).
  const silent =
    diagnosis === 'no-traffic'
      ? `neither arm served a request in ${waited} (canary: ${canaryProbe.detail}; baseline: ${baselineProbe.detail}): there is no evidence either way`
      : diagnosis === 'no-canary-traffic' && expectedCanary >= EXPECTED_CANARY_REQUESTS
        ? `the canary served no request in ${waited} while the baseline's traffic at these weights predicts ${Math.round(expectedCanary)} (${canaryProbe.detail}): routing does not reach the canary`
        : diagnosis === 'no-baseline-traffic'
          ? `the baseline served no request in ${waited} (${baselineProbe.detail}): there is nothing to compare the canary with`
          : undefined;
  if (silent !== undefined && pastGrace) {
    const { nextStep: _none, ...rest } = decision;
    decision = { ...rest, decision: 'inconclusive', reasons: [{ code: 'NO_TRAFFIC', message: silent }] };
  } else if (!pastGrace && diagnosis !== undefined && diagnosis !== 'sample-ratio-mismatch') {
    // An arm without traffic this early is a pod that has not been scraped twice yet, not a finding:
    // without the hold, the sample-ratio check would read it as broken routing.
    const arms =
      diagnosis === 'no-traffic' ? 'either arm' : diagnosis === 'no-canary-traffic' ? 'the canary' : 'the baseline';
    decision = {
      ...decision,
      decision: 'continue',
      nextStep: step,
      reasons: [
        {
          code: 'NO_TRAFFIC',
          message: `no traffic yet in ${arms} after ${waited}: holding step ${steps[step]}% for up to ${Math.round(grace)}s`,
        },
      ],
    };
  }

  const metrics: MetricReport[] = names.map((name, i) => {
    const segs = readings[i] as SegmentCounts[];
    const d = decision.perMetric[i];
    if (!d) throw new Error(`decide returned no result for ${name}`);
    return {
      name,
      segments: segs,
      canary: sum(segs, 'canary'),
      baseline: sum(segs, 'baseline'),
      observedRatio: d.observedRatio,
      harm: { ...d.harm },
      nonInferiority: { ...d.nonInferiority },
      confidence: { ...d.confidence },
      detectableRatio: perMetricDetectable[i]?.ratio,
      excessBad: excess(segs),
    };
  });

  const bands = bandsOf(readings[names.indexOf('latency')], plan.alpha);
  return {
    ...base,
    probes,
    lints,
    ...(bands ? { latencyBands: bands } : {}),
    ...(diagnosis ? { diagnosis } : {}),
    decision,
    metrics,
    canaryRequests: canaryTotal.requests,
    baselineRequests: baselineTotal.requests,
    excessBadRequests: metrics[0]?.excessBad ?? 0,
    ...(srm ? { split: { logE: srm.logE, threshold: Math.log(1 / plan.alpha), segments: [...srm.segments] } } : {}),
    detectable: { secondsLeft, canaryRps, baselineRps, perMetric: perMetricDetectable },
  };
}

/** The arms' histograms summed over the segments; undefined without latency, or where a source has none. */
function bandsOf(segments: readonly SegmentCounts[] | undefined, alpha: number): LatencyBands | undefined {
  if (!segments || segments.length === 0) return undefined;
  const total = (arm: 'canary' | 'baseline'): Bucket[] | undefined => {
    const byBound = new Map<number, number>();
    for (const s of segments) {
      const buckets = s.histograms?.[arm];
      if (!buckets) return undefined;
      for (const b of buckets) byBound.set(b.le, (byBound.get(b.le) ?? 0) + b.count);
    }
    return [...byBound.entries()].map(([le, count]) => ({ le, count }));
  };
  const canary = total('canary');
  const baseline = total('baseline');
  if (!canary || !baseline || !canary.some((b) => b.le === Number.POSITIVE_INFINITY)) return undefined;
  if (!baseline.some((b) => b.le === Number.POSITIVE_INFINITY)) return undefined;
  return latencyBands({ canary: { buckets: canary }, baseline: { buckets: baseline } }, { alpha });
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(3)).toString();
}

function duration(totalSeconds: number): string {
  const s = Math.round(totalSeconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}

/** What the evaluation can still detect in the time left at the current traffic; logged before each step. */
export function describeDetectable(e: Evaluation): string {
  const { detectable } = e;
  if (detectable.perMetric.length === 0) {
    return e.step < 0 ? 'not started: nothing measured yet' : `exposure ${e.weight}%: nothing to measure against`;
  }
  const traffic = `${fmt(detectable.canaryRps)} canary and ${fmt(detectable.baselineRps)} baseline requests/s`;
  const what = detectable.perMetric
    .map((m) =>
      m.ratio === undefined ? `${m.name}: not even a 1000× increase` : `${m.name} ≥ ${fmt(m.ratio)}× the baseline rate`,
    )
    .join('; ');
  if (detectable.secondsLeft === 0) {
    return `at exposure ${e.weight}%, ${traffic}, the whole run could have detected ${what}`;
  }
  return `at exposure ${e.weight}%, ${traffic}, in the ${duration(detectable.secondsLeft)} left it can detect ${what}`;
}
