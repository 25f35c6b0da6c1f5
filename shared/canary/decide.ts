// The canary decision: promote, rollback, inconclusive or continue, from the per-metric evidence of
// shared/canary/stats/ and the exposure state (canary.md §6.1, three-way decisions with the burden of
// proof on the canary). Pure: the same evidence and state always give the same decision, so a
// scheduled `mode: once` run and a `loop` agree.
//
// Order of the rules, and why:
// 1. Rollback as soon as harm beyond the tolerance is shown on any metric. The metrics are one family
//    (combine.ts: weighted Bonferroni on e-values), so P(any false rollback, at any look) ≤ alpha. Harm
//    comes first even when the split is off: the count test conditions on the requests each arm really
//    served, not on the intended weight, so its evidence stays valid under a sample-ratio mismatch.
// 2. A sample-ratio mismatch is its own diagnosis: routing is not what the step set, so "no harm shown"
//    means little. Inconclusive, never promote.
// 3. Promote at the last step, after the minimum exposure, when non-inferiority is shown on every
//    metric. Promote needs all nulls rejected (an intersection-union test), so each metric is tested at
//    the full alpha and the family still errs with probability ≤ alpha; no Bonferroni split is needed.
//    The margin is max(tolerance, promoteMargin ?? 1.2): at tolerance 1 non-inferiority at margin 1
//    means proving the canary strictly better, which a healthy canary never does, so it could never be
//    promoted. 1.2 means "no more than 20 % worse", a default, not a derived figure; the tolerance
//    raises it, never lowers it, so the promote claim is never stricter than what rollback accepts.
// 4. Past the deadline: inconclusive, stating the smallest effect the test could have detected
//    (detectable.ts), rather than promoting on absence of evidence as Argo Rollouts and Flagger do.
// 5. Otherwise continue: advance to the next step once the current step's minimum exposure is met,
//    else hold the step.

import { InvalidValueError } from '../core/errors.js';
import { combineEvidence } from './stats/combine.js';
import type { HarmEvidence, NonInferiorityEvidence } from './stats/counts.js';
import type { SrmEvidence } from './stats/srm.js';

export const DEFAULT_PROMOTE_MARGIN = 1.2;

/** One metric's evidence: the outputs of errorEvidence / slowEvidence and nonInferiorityEvidence. */
export interface MetricInput {
  readonly name: string;
  readonly harm: Pick<HarmEvidence, 'logE' | 'tolerance' | 'observedRatio' | 'confidence'>;
  readonly nonInferiority: Pick<NonInferiorityEvidence, 'logE' | 'margin'>;
  /** Share of alpha for the harm test (combine.ts); default equal shares. */
  readonly weight?: number;
  /** detectableRatio() for the time left; `ratio` undefined means nothing below 1000× was detectable. */
  readonly detectable?: { readonly ratio: number | undefined };
}

export interface ExposureState {
  /** Index into `steps` of the step in force. */
  readonly step: number;
  /** Canary weights of the steps, in percent (e.g. 1, 5, 25, 100). */
  readonly steps: readonly number[];
  readonly elapsedSeconds: number;
  readonly stepElapsedSeconds: number;
  readonly deadlineSeconds: number;
  readonly canaryRequests: number;
  readonly stepCanaryRequests: number;
}

export interface DecideInput {
  readonly metrics: readonly MetricInput[];
  readonly split?: Pick<SrmEvidence, 'logE'>;
  readonly exposure: ExposureState;
}

export interface MinimumExposure {
  readonly requests?: number;
  readonly seconds?: number;
}

export interface DecideOptions {
  readonly alpha: number;
  /** The rate ratio still accepted for harm; default 1. */
  readonly tolerance?: number;
  /** Non-inferiority margin for promote, raised to the tolerance; default 1.2. */
  readonly promoteMargin?: number;
  /** Canary exposure (since the start) before promote. */
  readonly minExposure?: MinimumExposure;
  /** Exposure within a step before advancing to the next. */
  readonly minStepExposure?: MinimumExposure;
}

export type DecisionKind = 'promote' | 'rollback' | 'inconclusive' | 'continue';

export type ReasonCode =
  | 'HARM'
  | 'SAMPLE_RATIO_MISMATCH'
  | 'NON_INFERIORITY_SHOWN'
  | 'NON_INFERIORITY_PENDING'
  | 'MIN_EXPOSURE_PENDING'
  | 'DEADLINE_PASSED'
  | 'STEP_EXPOSURE_MET'
  | 'STEP_EXPOSURE_PENDING'
  // Set by evaluate.ts, which decides these cases before any evidence exists:
  /** Neither arm served a request: inconclusive past the grace period, holding the step before it. */
  | 'NO_TRAFFIC'
  /** Exposure is 0: the first step is next. */
  | 'NOT_STARTED'
  /** Exposure is already at 100 %, the end of the steps: nothing is left to compare against. */
  | 'FULL_EXPOSURE'
  /** Exposure was above 0 and has been turned off (a rollback): run-canary.ts never starts it again. */
  | 'EXPOSURE_OFF';

export interface Reason {
  readonly code: ReasonCode;
  readonly metric?: string;
  readonly message: string;
}

export interface MetricDecision {
  readonly name: string;
  readonly observedRatio: number;
  readonly harm: {
    readonly logE: number;
    readonly threshold: number;
    readonly weight: number;
    readonly shown: boolean;
  };
  readonly nonInferiority: {
    readonly logE: number;
    readonly threshold: number;
    readonly margin: number;
    readonly shown: boolean;
  };
  /** Confidence sequence for the rate ratio at the metric's share of alpha. */
  readonly confidence: { readonly lower: number; readonly upper: number };
  readonly detectableRatio?: number | undefined;
}

export interface Decision {
  readonly decision: DecisionKind;
  readonly nextStep?: number;
  readonly margin: number;
  readonly reasons: readonly Reason[];
  readonly perMetric: readonly MetricDecision[];
}

export function promoteMargin(options: Pick<DecideOptions, 'tolerance' | 'promoteMargin'>): number {
  return Math.max(options.tolerance ?? 1, options.promoteMargin ?? DEFAULT_PROMOTE_MARGIN);
}

function met(min: MinimumExposure | undefined, requests: number, seconds: number): boolean {
  return requests >= (min?.requests ?? 0) && seconds >= (min?.seconds ?? 0);
}

function describeMin(min: MinimumExposure | undefined): string {
  const parts = [];
  if (min?.requests !== undefined) parts.push(`${min.requests} canary requests`);
  if (min?.seconds !== undefined) parts.push(`${min.seconds}s`);
  return parts.join(' and ') || 'none';
}

function checkInput(input: DecideInput, options: DecideOptions, margin: number): void {
  const { alpha } = options;
  if (!(alpha > 0 && alpha < 1)) throw new InvalidValueError('alpha', String(alpha), 'a number between 0 and 1');
  const tolerance = options.tolerance ?? 1;
  if (!(tolerance >= 1 && Number.isFinite(tolerance))) {
    throw new InvalidValueError('tolerance', String(tolerance), 'a finite number ≥ 1');
  }
  if (input.metrics.length === 0) throw new InvalidValueError('metrics', '0 metrics', 'at least one metric');
  const { steps, step } = input.exposure;
  if (!Number.isInteger(step) || step < 0 || step >= steps.length) {
    throw new InvalidValueError('exposure step', String(step), `an index from 0 to ${steps.length - 1}`);
  }
  for (const m of input.metrics) {
    // Evidence computed at another tolerance or a looser margin would answer a different question.
    if (Math.abs(m.harm.tolerance - tolerance) > 1e-12) {
      throw new InvalidValueError(`tolerance of the ${m.name} evidence`, String(m.harm.tolerance), `${tolerance}`);
    }
    if (m.nonInferiority.margin > margin + 1e-12) {
      throw new InvalidValueError(
        `margin of the ${m.name} evidence`,
        String(m.nonInferiority.margin),
        `at most ${margin}`,
      );
    }
  }
}

export function decide(input: DecideInput, options: DecideOptions): Decision {
  const margin = promoteMargin(options);
  checkInput(input, options, margin);
  const { alpha } = options;
  const { exposure } = input;
  const combined = combineEvidence(
    input.metrics.map((m) => ({ name: m.name, logE: m.harm.logE, weight: m.weight })),
    alpha,
  );
  const niThreshold = Math.log(1 / alpha);
  const perMetric: MetricDecision[] = input.metrics.map((m, i) => {
    const c = combined.perMetric[i]!;
    return {
      name: m.name,
      observedRatio: m.harm.observedRatio,
      harm: { logE: c.logE, threshold: c.threshold, weight: c.weight, shown: c.rejected },
      nonInferiority: {
        logE: m.nonInferiority.logE,
        threshold: niThreshold,
        margin: m.nonInferiority.margin,
        shown: m.nonInferiority.logE >= niThreshold,
      },
      confidence: m.harm.confidence(c.weight * alpha),
      ...(m.detectable ? { detectableRatio: m.detectable.ratio } : {}),
    };
  });
  const result = (decision: DecisionKind, reasons: Reason[], nextStep?: number): Decision => ({
    decision,
    ...(nextStep !== undefined ? { nextStep } : {}),
    margin,
    reasons,
    perMetric,
  });

  const mismatch = input.split !== undefined && input.split.logE >= Math.log(1 / alpha);
  const srmReason: Reason = {
    code: 'SAMPLE_RATIO_MISMATCH',
    message: `the canary's share of requests does not match the step's weight of ${exposure.steps[exposure.step]}% (e-value ${fmt(Math.exp(input.split?.logE ?? 0))} ≥ ${fmt(1 / alpha)}): routing is not what the step set`,
  };

  const harmed = perMetric.filter((m) => m.harm.shown);
  if (harmed.length > 0) {
    const reasons: Reason[] = harmed.map((m) => ({
      code: 'HARM',
      metric: m.name,
      message: `${m.name}: the canary is worse than the baseline by more than ${options.tolerance ?? 1}× (observed ${fmt(m.observedRatio)}×, e-value ${fmt(Math.exp(m.harm.logE))} ≥ ${fmt(Math.exp(m.harm.threshold))}; ratio ≥ ${fmt(m.confidence.lower)})`,
    }));
    return result('rollback', mismatch ? [...reasons, srmReason] : reasons);
  }
  if (mismatch) return result('inconclusive', [srmReason]);

  const last = exposure.step === exposure.steps.length - 1;
  const exposed = met(options.minExposure, exposure.canaryRequests, exposure.elapsedSeconds);
  const pending = perMetric.filter((m) => !m.nonInferiority.shown);
  if (last && exposed && pending.length === 0) {
    return result(
      'promote',
      perMetric.map((m) => ({
        code: 'NON_INFERIORITY_SHOWN',
        metric: m.name,
        message: `${m.name}: the canary is shown within ${fmt(margin)}× of the baseline (e-value ${fmt(Math.exp(m.nonInferiority.logE))} ≥ ${fmt(1 / alpha)})`,
      })),
    );
  }

  if (exposure.elapsedSeconds >= exposure.deadlineSeconds) {
    return result(
      'inconclusive',
      perMetric.map((m) => ({
        code: 'DEADLINE_PASSED',
        metric: m.name,
        message: `${m.name}: the deadline passed with neither harm nor non-inferiority within ${fmt(margin)}× shown (observed ${fmt(m.observedRatio)}×, ${exposure.canaryRequests} canary requests); ${detectableText(m)}`,
      })),
    );
  }

  const reasons: Reason[] = [];
  if (last) {
    if (!exposed) {
      reasons.push({
        code: 'MIN_EXPOSURE_PENDING',
        message: `promote waits for the minimum exposure (${describeMin(options.minExposure)})`,
      });
    }
    for (const m of pending) {
      reasons.push({
        code: 'NON_INFERIORITY_PENDING',
        metric: m.name,
        message: `${m.name}: non-inferiority within ${fmt(margin)}× not shown yet (e-value ${fmt(Math.exp(m.nonInferiority.logE))} < ${fmt(1 / alpha)})`,
      });
    }
    return result('continue', reasons, exposure.step);
  }
  if (met(options.minStepExposure, exposure.stepCanaryRequests, exposure.stepElapsedSeconds)) {
    reasons.push({
      code: 'STEP_EXPOSURE_MET',
      message: `step ${exposure.steps[exposure.step]}% served its minimum exposure with no harm shown: advancing to ${exposure.steps[exposure.step + 1]}%`,
    });
    return result('continue', reasons, exposure.step + 1);
  }
  reasons.push({
    code: 'STEP_EXPOSURE_PENDING',
    message: `holding step ${exposure.steps[exposure.step]}% until its minimum exposure (${describeMin(options.minStepExposure)})`,
  });
  return result('continue', reasons, exposure.step);
}

function detectableText(m: MetricDecision): string {
  if (!('detectableRatio' in m)) return 'the detectable effect was not computed';
  return m.detectableRatio === undefined
    ? 'at this traffic it could not have detected even a 1000× increase'
    : `the smallest increase it could have detected was ${fmt(m.detectableRatio)}×`;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(3)).toString();
}
