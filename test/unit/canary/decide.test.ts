import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecideInput,
  type DecideOptions,
  decide,
  type ExposureState,
  type MetricInput,
} from '../../../shared/canary/decide.js';
import { type CountPair, errorEvidence, nonInferiorityEvidence } from '../../../shared/canary/stats/counts.js';
import { sampleRatioEvidence } from '../../../shared/canary/stats/srm.js';

const alpha = 0.05;
const options: DecideOptions = {
  alpha,
  minExposure: { requests: 1000, seconds: 600 },
  minStepExposure: { requests: 100, seconds: 60 },
};

// Real evidence from counts: 0.5 % baseline errors, the canary at `ratio` times that, 5 % share.
function metric(name: string, canaryRequests: number, ratio: number, extra: Partial<MetricInput> = {}): MetricInput {
  const baselineRequests = canaryRequests * 19;
  const counts: CountPair = {
    canary: { requests: canaryRequests, errors: Math.round(canaryRequests * 0.005 * ratio) },
    baseline: { requests: baselineRequests, errors: Math.round(baselineRequests * 0.005) },
  };
  return {
    name,
    harm: errorEvidence(counts, { tolerance: 1 }),
    nonInferiority: nonInferiorityEvidence(counts, { margin: 1.2 }),
    ...extra,
  };
}

function exposure(over: Partial<ExposureState> = {}): ExposureState {
  return {
    step: 3,
    steps: [1, 5, 25, 100],
    elapsedSeconds: 1200,
    stepElapsedSeconds: 300,
    deadlineSeconds: 3600,
    canaryRequests: 200_000,
    stepCanaryRequests: 50_000,
    ...over,
  };
}

const healthy = [metric('errors', 200_000, 1), metric('latency', 200_000, 1)];

describe('decide', () => {
  const table: { name: string; input: DecideInput; decision: string; codes: string[]; nextStep?: number }[] = [
    {
      name: 'rolls back a 3× error regression, naming the metric',
      input: { metrics: [metric('errors', 20_000, 3), metric('latency', 20_000, 1)], exposure: exposure({ step: 1 }) },
      decision: 'rollback',
      codes: ['HARM'],
    },
    {
      name: 'rolls back on harm even with a sample-ratio mismatch, and reports both',
      input: {
        metrics: [metric('errors', 20_000, 3)],
        split: sampleRatioEvidence([{ canaryRequests: 20_000, baselineRequests: 380_000, weight: 0.25 }]),
        exposure: exposure({ step: 2 }),
      },
      decision: 'rollback',
      codes: ['HARM', 'SAMPLE_RATIO_MISMATCH'],
    },
    {
      name: 'a sample-ratio mismatch is inconclusive, never promote',
      input: {
        metrics: healthy,
        split: sampleRatioEvidence([{ canaryRequests: 200_000, baselineRequests: 3_800_000, weight: 0.25 }]),
        exposure: exposure(),
      },
      decision: 'inconclusive',
      codes: ['SAMPLE_RATIO_MISMATCH'],
    },
    {
      name: 'promotes a healthy canary at the last step after the minimum exposure',
      input: {
        metrics: healthy,
        split: sampleRatioEvidence([{ canaryRequests: 200_000, baselineRequests: 3_800_000, weight: 0.05 }]),
        exposure: exposure(),
      },
      decision: 'promote',
      codes: ['NON_INFERIORITY_SHOWN', 'NON_INFERIORITY_SHOWN'],
    },
    {
      name: 'does not promote before the minimum exposure',
      input: { metrics: healthy, exposure: exposure({ elapsedSeconds: 300 }) },
      decision: 'continue',
      codes: ['MIN_EXPOSURE_PENDING'],
      nextStep: 3,
    },
    {
      name: 'holds the last step while non-inferiority is not shown',
      input: { metrics: [metric('errors', 2_000, 1)], exposure: exposure() },
      decision: 'continue',
      codes: ['NON_INFERIORITY_PENDING'],
      nextStep: 3,
    },
    {
      name: 'does not promote before the last step, advancing instead',
      input: { metrics: healthy, exposure: exposure({ step: 1 }) },
      decision: 'continue',
      codes: ['STEP_EXPOSURE_MET'],
      nextStep: 2,
    },
    {
      name: 'holds a step until its own minimum exposure',
      input: { metrics: healthy, exposure: exposure({ step: 1, stepElapsedSeconds: 30 }) },
      decision: 'continue',
      codes: ['STEP_EXPOSURE_PENDING'],
      nextStep: 1,
    },
    {
      name: 'is inconclusive past the deadline, stating what it could have detected',
      input: {
        metrics: [metric('errors', 2_000, 1, { detectable: { ratio: 2.5 } })],
        exposure: exposure({ elapsedSeconds: 3600 }),
      },
      decision: 'inconclusive',
      codes: ['DEADLINE_PASSED'],
    },
  ];

  for (const row of table) {
    it(row.name, () => {
      const out = decide(row.input, options);
      expect(out.decision).toBe(row.decision);
      expect(out.reasons.map((r) => r.code)).toEqual(row.codes);
      expect(out.nextStep).toBe(row.nextStep);
    });
  }

  it('names the harmed metric only', () => {
    const out = decide(
      { metrics: [metric('errors', 20_000, 1), metric('latency', 20_000, 3)], exposure: exposure({ step: 1 }) },
      options,
    );
    expect(out.reasons.map((r) => r.metric)).toEqual(['latency']);
    expect(out.perMetric.map((m) => m.harm.shown)).toEqual([false, true]);
    expect(out.perMetric[1]!.confidence.lower).toBeGreaterThan(1);
  });

  it('states the detectable ratio, or that nothing was detectable', () => {
    const at = exposure({ elapsedSeconds: 4000 });
    const some = decide(
      { metrics: [metric('errors', 2_000, 1, { detectable: { ratio: 2.5 } })], exposure: at },
      options,
    );
    expect(some.reasons[0]!.message).toContain('2.5×');
    const none = decide(
      { metrics: [metric('errors', 2_000, 1, { detectable: { ratio: undefined } })], exposure: at },
      options,
    );
    expect(none.reasons[0]!.message).toContain('could not have detected');
    expect(none.perMetric[0]!.detectableRatio).toBeUndefined();
  });

  it('uses margin max(tolerance, promoteMargin ?? 1.2)', () => {
    expect(decide({ metrics: healthy, exposure: exposure() }, options).margin).toBe(1.2);
    expect(decide({ metrics: healthy, exposure: exposure() }, { ...options, promoteMargin: 1.5 }).margin).toBe(1.5);
    const counts: CountPair = {
      canary: { requests: 1000, errors: 5 },
      baseline: { requests: 19000, errors: 95 },
    };
    const m: MetricInput = {
      name: 'errors',
      harm: errorEvidence(counts, { tolerance: 1.5 }),
      nonInferiority: nonInferiorityEvidence(counts, { margin: 1.5 }),
    };
    expect(decide({ metrics: [m], exposure: exposure() }, { ...options, tolerance: 1.5 }).margin).toBe(1.5);
  });

  it('refuses evidence computed at another tolerance, a looser margin, or a bad step', () => {
    expect(() => decide({ metrics: healthy, exposure: exposure() }, { ...options, tolerance: 1.3 })).toThrow(
      /tolerance of the errors evidence/,
    );
    // Evidence at margin 1.2 does not show non-inferiority within 1.1.
    expect(() => decide({ metrics: healthy, exposure: exposure() }, { ...options, promoteMargin: 1.1 })).toThrow(
      /margin of the errors evidence/,
    );
    const loose = { ...healthy[0]!, nonInferiority: { logE: 10, margin: 2 } };
    expect(() => decide({ metrics: [loose], exposure: exposure() }, options)).toThrow(/margin of the errors evidence/);
    expect(() => decide({ metrics: healthy, exposure: exposure({ step: 4 }) }, options)).toThrow(/exposure step/);
    expect(() => decide({ metrics: [], exposure: exposure() }, options)).toThrow(/metrics/);
  });

  it('never rolls back while every e-value is below 1/(alpha·weight)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), { minLength: 5, maxLength: 5 }),
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        fc.integer({ min: 0, max: 3 }),
        (raw, fractions, a, step) => {
          const total = raw.reduce((s, x) => s + x, 0);
          const weights = raw.map((x) => x / total);
          const metrics: MetricInput[] = weights.map((weight, i) => {
            // logE strictly below ln(1/(weight·alpha)), possibly very negative.
            const logE = fractions[i]! * Math.log(1 / (weight * a)) - (1 - fractions[i]!) * 20;
            return {
              name: `m${i}`,
              weight,
              harm: { logE, tolerance: 1, observedRatio: 1, confidence: () => ({ lower: 0, upper: 2 }) },
              nonInferiority: { logE: 0, margin: 1.2 },
            };
          });
          const out = decide({ metrics, exposure: exposure({ step }) }, { ...options, alpha: a });
          expect(out.decision).not.toBe('rollback');
          expect(out.perMetric.every((m) => !m.harm.shown)).toBe(true);
        },
      ),
    );
  });
});
