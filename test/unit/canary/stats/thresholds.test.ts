import { describe, expect, it } from 'vitest';
import {
  type ArgoMetric,
  argoRolloutAction,
  assessArgoMetric,
  evaluateArgoMeasurement,
  first,
  flaggerAnalysis,
} from '../../../../shared/canary/stats/thresholds.js';

const success: ArgoMetric = { successCondition: (r) => first(r) <= 0.01 };

describe('Argo Rollouts', () => {
  it('evaluates one measurement per condition combination', () => {
    expect(evaluateArgoMeasurement({}, [5])).toBe('Successful');
    expect(evaluateArgoMeasurement(success, [0.02])).toBe('Failed');
    expect(evaluateArgoMeasurement({ failureCondition: (r) => first(r) > 0.05 }, [0.02])).toBe('Successful');
    const both: ArgoMetric = { successCondition: (r) => first(r) < 0.01, failureCondition: (r) => first(r) > 0.05 };
    expect(evaluateArgoMeasurement(both, [0.02])).toBe('Inconclusive');
    // result[0] on an empty vector is an evaluation error, as in argo-rollouts#1466
    expect(evaluateArgoMeasurement(success, [])).toBe('Error');
    expect(evaluateArgoMeasurement(success, { error: 'timeout' })).toBe('Error');
  });

  it('fails on the first failed measurement with the default failureLimit 0', () => {
    const a = assessArgoMetric(success, [[0.001], [0.002], [0.03], [0.001]]);
    expect(a.phase).toBe('Failed');
    expect(a.decidedAt).toBe(2);
  });

  it('tolerates failureLimit failures and succeeds at count', () => {
    const a = assessArgoMetric({ ...success, failureLimit: 1, count: 4 }, [[0.001], [0.03], [0.001], [0.001]]);
    expect(a.phase).toBe('Successful');
    expect(a.counts).toMatchObject({ failed: 1, successful: 3, count: 4 });
    expect(assessArgoMetric({ ...success, failureLimit: -1, count: 2 }, [[1], [1]]).phase).toBe('Successful');
  });

  it('errors after more than consecutiveErrorLimit errors in a row, not counting them in count', () => {
    const errors = [{ error: 'x' }, { error: 'x' }, { error: 'x' }, { error: 'x' }];
    expect(assessArgoMetric({ ...success, count: 3 }, errors).phase).toBe('Running');
    const a = assessArgoMetric({ ...success, count: 3 }, [...errors, { error: 'x' }]);
    expect(a.phase).toBe('Error');
    expect(a.counts.count).toBe(0);
    // a success resets the streak
    expect(assessArgoMetric(success, [...errors, [0], ...errors]).phase).toBe('Running');
  });

  it('is inconclusive at count without the success streak, successful once the streak is reached', () => {
    const m: ArgoMetric = { ...success, failureLimit: 5, count: 3, consecutiveSuccessLimit: 2 };
    expect(assessArgoMetric(m, [[0], [0.5], [0]]).phase).toBe('Inconclusive');
    expect(assessArgoMetric({ ...success, consecutiveSuccessLimit: 2 }, [[0], [0]]).phase).toBe('Successful');
  });

  it('maps phases to rollout actions', () => {
    expect(argoRolloutAction('Inconclusive')).toBe('pause');
    expect(argoRolloutAction('Error')).toBe('abort');
    expect(argoRolloutAction('Failed')).toBe('abort');
    expect(argoRolloutAction('Successful')).toBe('continue');
    expect(argoRolloutAction('Running')).toBe('wait');
  });
});

describe('Flagger', () => {
  const spec = { checks: [{ thresholdRange: { min: 99 } }, { thresholdRange: { max: 500 } }], threshold: 2, steps: 3 };

  it('promotes after steps passing intervals, holding on a failed one', () => {
    const out = flaggerAnalysis(spec, [
      [99.5, 300],
      [98, 300],
      [99.9, 200],
      [99.9, 200],
    ]);
    expect(out).toEqual({ decision: 'promote', failedChecks: 1, decidedAt: 3 });
  });

  it('rolls back when cumulative failed checks reach the threshold, NaN and missing counting as failed', () => {
    expect(
      flaggerAnalysis(spec, [
        [Number.NaN, 100],
        [99.9, 100],
        [99.9, undefined],
      ]),
    ).toEqual({
      decision: 'rollback',
      failedChecks: 2,
      decidedAt: 2,
    });
    expect(flaggerAnalysis({ ...spec, threshold: undefined }, [[99.9, 600]]).decision).toBe('rollback');
    expect(flaggerAnalysis(spec, [[99.9, 100]]).decision).toBe('running');
  });
});
