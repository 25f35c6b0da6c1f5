import { describe, expect, it } from 'vitest';
import { describeDetectable, type ExposureSegment, evaluate, stepIndex } from '../../../shared/canary/evaluate.js';
import { errorEvidence, nonInferiorityEvidence } from '../../../shared/canary/stats/counts.js';
import { ConfigurationError } from '../../../shared/core/errors.js';
import { baselineArm, canaryArm, exactSource, plan, type Rate, since } from './exact-source.js';

const minutes = (m: number) => new Date(since.getTime() + m * 60_000);

/** Exposure steps of `weight` % for `minutes` each, from `since`, and both arms' rates following them. */
function scenario(
  steps: { weight: number; minutes: number }[],
  traffic: { rps: number; errors: number; ratio: number; slow?: number; slowRatio?: number },
) {
  const segments: ExposureSegment[] = [];
  const canary: Rate[] = [];
  const baseline: Rate[] = [];
  let t = 0;
  steps.forEach((s, i) => {
    const start = minutes(t);
    const end = minutes(t + s.minutes);
    segments.push({ weight: s.weight, start, ...(i < steps.length - 1 ? { end } : {}) });
    const w = s.weight / 100;
    canary.push({
      start,
      end,
      rps: traffic.rps * w,
      errorRatio: traffic.errors * traffic.ratio,
      slowRatio: (traffic.slow ?? 0) * (traffic.slowRatio ?? 1),
    });
    baseline.push({ start, end, rps: traffic.rps * (1 - w), errorRatio: traffic.errors, slowRatio: traffic.slow ?? 0 });
    t += s.minutes;
  });
  return { segments, source: exactSource({ canary, stable: baseline }), at: minutes(t) };
}

describe('warm-up', () => {
  it('leaves the first warmupSeconds of every step out of the counts', async () => {
    const { segments, source, at } = scenario(
      [
        { weight: 1, minutes: 10 },
        { weight: 5, minutes: 10 },
      ],
      { rps: 200, errors: 0.005, ratio: 1 },
    );
    const e = await evaluate(source, plan({ warmupSeconds: 60 }), segments, at);
    const errors = e.metrics[0]!;
    // 9 of each step's 10 minutes: canary 2 rps × 540 s and 10 rps × 540 s.
    expect(errors.segments.map((s) => s.from.getTime() - since.getTime())).toEqual([60_000, 660_000]);
    expect(errors.segments.map((s) => s.canary.requests)).toEqual([1080, 5400]);
  });

  it('a warm-up as long as the minimum step time is refused, naming the input', async () => {
    const { segments, source, at } = scenario([{ weight: 1, minutes: 10 }], { rps: 200, errors: 0.005, ratio: 1 });
    await expect(evaluate(source, plan({ warmupSeconds: 300 }), segments, at)).rejects.toThrow(
      /warmup.*shorter than min-step-duration/,
    );
  });
});

describe('evaluate', () => {
  it('reads every segment, carries the evidence across steps and advances a healthy canary', async () => {
    // 200 rps, 0.5 % errors: 1 % for 10 min, then 5 % for 10 min.
    const { segments, source, at } = scenario(
      [
        { weight: 1, minutes: 10 },
        { weight: 5, minutes: 10 },
      ],
      { rps: 200, errors: 0.005, ratio: 1 },
    );
    const e = await evaluate(source, plan(), segments, at);
    expect(e.step).toBe(1);
    expect(e.weight).toBe(5);
    const errors = e.metrics[0]!;
    // Counts by hand: canary 2 rps × 600 s + 10 rps × 600 s; baseline 198 and 190 rps.
    expect(errors.segments.map((s) => s.canary.requests)).toEqual([1200, 6000]);
    expect(errors.segments.map((s) => s.baseline.requests)).toEqual([118_800, 114_000]);
    expect(errors.canary.bad).toBeCloseTo(36, 9);
    expect(errors.baseline.bad).toBeCloseTo(1164, 9);
    expect(e.canaryRequests).toBe(7200);
    expect(errors.observedRatio).toBeCloseTo(1, 9);
    const expected = errorEvidence([
      { canary: { errors: 6, requests: 1200 }, baseline: { errors: 594, requests: 118_800 } },
      { canary: { errors: 30, requests: 6000 }, baseline: { errors: 570, requests: 114_000 } },
    ]);
    expect(errors.harm.logE).toBeCloseTo(expected.logE, 6);
    expect(errors.harm.threshold).toBeCloseTo(Math.log(1 / 0.05), 9);
    expect(e.excessBadRequests).toBeCloseTo(0, 6);
    // The exact queries, windows of the segments: 600 s each.
    expect(errors.segments[0]!.queries.canary[0]).toBe('sum(increase(http_requests_total{version="canary"}[600s]))');
    expect(errors.segments[1]!.queries.canary[1]).toBe(
      'sum(increase(http_requests_total{version="canary",code=~"5.."}[600s]))',
    );
    expect(e.decision.decision).toBe('continue');
    expect(e.decision.nextStep).toBe(2);
    expect(e.decision.reasons[0]!.code).toBe('STEP_EXPOSURE_MET');
    expect(e.diagnosis).toBeUndefined();
    expect(e.split!.segments.map((s) => s.observedShare)).toEqual([0.01, 0.05]);
    // Current traffic: 10 canary and 190 baseline requests/s, 40 minutes left.
    expect(e.detectable.canaryRps).toBeCloseTo(10, 9);
    expect(e.detectable.baselineRps).toBeCloseTo(190, 9);
    expect(e.detectable.secondsLeft).toBe(2400);
    const ratio = e.detectable.perMetric[0]!.ratio!;
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(2);
    expect(describeDetectable(e)).toContain('in the 40m left it can detect errors ≥');
  });

  it('holds the step until its minimum time', async () => {
    const { segments, source, at } = scenario([{ weight: 5, minutes: 3 }], { rps: 200, errors: 0.005, ratio: 1 });
    const e = await evaluate(source, plan(), segments, at);
    expect(e.decision.decision).toBe('continue');
    expect(e.decision.nextStep).toBe(1);
    expect(e.decision.reasons[0]!.code).toBe('STEP_EXPOSURE_PENDING');
  });

  it('rolls back a 2× error regression and counts the excess errors', async () => {
    const { segments, source, at } = scenario(
      [
        { weight: 1, minutes: 10 },
        { weight: 5, minutes: 10 },
      ],
      { rps: 200, errors: 0.005, ratio: 2 },
    );
    const e = await evaluate(source, plan(), segments, at);
    expect(e.decision.decision).toBe('rollback');
    expect(e.decision.reasons[0]).toMatchObject({ code: 'HARM', metric: 'errors' });
    // 12 + 60 canary errors against 6 + 30 at the baseline's rate.
    expect(e.excessBadRequests).toBeCloseTo(36, 6);
    expect(e.metrics[0]!.observedRatio).toBeCloseTo(2, 9);
    expect(e.metrics[0]!.confidence.lower).toBeGreaterThan(1);
    expect(e.metrics[0]!.harm.shown).toBe(true);
  });

  it('promotes at the last step below 100 once non-inferiority is shown', async () => {
    const { segments, source, at } = scenario(
      [
        { weight: 1, minutes: 5 },
        { weight: 5, minutes: 5 },
        { weight: 25, minutes: 20 },
      ],
      { rps: 1000, errors: 0.01, ratio: 1 },
    );
    const e = await evaluate(source, plan(), segments, at);
    expect(e.step).toBe(2);
    expect(e.decision.decision).toBe('promote');
    const pairs = [1, 5, 25].map((w, i) => {
      const s = [300, 300, 1200][i]!;
      const c = 1000 * (w / 100) * s;
      const b = 1000 * (1 - w / 100) * s;
      return { canary: { errors: c * 0.01, requests: c }, baseline: { errors: b * 0.01, requests: b } };
    });
    expect(e.metrics[0]!.nonInferiority.logE).toBeCloseTo(nonInferiorityEvidence(pairs, { margin: 1.2 }).logE, 5);
    expect(e.metrics[0]!.nonInferiority.margin).toBe(1.2);
  });

  it('adds the latency metric when slo-latency is set, and rolls back a tail regression with clean errors', async () => {
    const { segments, source, at } = scenario([{ weight: 25, minutes: 10 }], {
      rps: 100,
      errors: 0.001,
      ratio: 1,
      slow: 0.01,
      slowRatio: 3,
    });
    const e = await evaluate(source, plan({ sloLatencySeconds: 0.5 }), segments, at);
    expect(e.metrics.map((m) => m.name)).toEqual(['errors', 'latency']);
    const latency = e.metrics[1]!;
    expect(latency.canary.requests).toBe(15_000);
    expect(latency.canary.bad).toBeCloseTo(450, 6);
    expect(latency.harm.threshold).toBeCloseTo(Math.log(2 / 0.05), 9);
    expect(e.decision.decision).toBe('rollback');
    expect(e.decision.reasons.map((r) => r.metric)).toEqual(['latency']);
  });

  it('is not started at weight 0 and promoted at 100', async () => {
    const source = exactSource({});
    const off = await evaluate(source, plan(), [{ weight: 0, start: since }], minutes(1));
    expect(off.step).toBe(-1);
    expect(off.decision).toMatchObject({ decision: 'continue', nextStep: 0 });
    expect(off.decision.reasons[0]!.code).toBe('NOT_STARTED');
    const none = await evaluate(source, plan(), [], minutes(1));
    expect(none.step).toBe(-1);
    const full = await evaluate(source, plan(), [{ weight: 100, start: since }], minutes(1));
    expect(full.decision.decision).toBe('promote');
    expect(full.decision.reasons[0]!.code).toBe('FULL_EXPOSURE');
    expect(source.calls).toBe(0);
  });

  it('holds without traffic through the grace period, then is inconclusive with NO_TRAFFIC', async () => {
    const rates = {
      canary: [{ start: since, rps: 0, errorRatio: 0 }],
      stable: [{ start: since, rps: 0, errorRatio: 0 }],
    };
    const segments = [{ weight: 5, start: since }];
    // Grace: max(4 × 15 s, 300 s) = 300 s.
    const early = await evaluate(exactSource(rates), plan(), segments, minutes(2));
    expect(early.diagnosis).toBe('no-traffic');
    expect(early.decision).toMatchObject({ decision: 'continue', nextStep: 1 });
    expect(early.decision.reasons[0]!.code).toBe('NO_TRAFFIC');
    const late = await evaluate(exactSource(rates), plan(), segments, minutes(6));
    expect(late.diagnosis).toBe('no-traffic');
    expect(late.decision.decision).toBe('inconclusive');
    expect(late.decision.nextStep).toBeUndefined();
    expect(late.decision.reasons[0]!.code).toBe('NO_TRAFFIC');
    expect(late.decision.reasons[0]!.message).toContain('neither arm served a request in 360s');
  });

  it('fails fast, naming the input, when a selector matches nothing past the grace period', async () => {
    const segments = [{ weight: 5, start: since }];
    const baselineOnly = { stable: [{ start: since, rps: 190, errorRatio: 0.005 }] };
    const err = await evaluate(exactSource(baselineOnly), plan(), segments, minutes(6)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).input).toBe('canary');
    expect((err as Error).message).toContain('http_requests_total{version="canary"}');
    // Within the grace period an absent canary series is a canary not scraped yet: hold.
    const early = await evaluate(exactSource(baselineOnly), plan(), segments, minutes(2));
    expect(early.diagnosis).toBe('no-canary-traffic');
    expect(early.decision).toMatchObject({ decision: 'continue', nextStep: 1 });

    const canaryOnly = { canary: [{ start: since, rps: 10, errorRatio: 0.005 }] };
    const b = await evaluate(exactSource(canaryOnly), plan(), segments, minutes(6)).catch((e: unknown) => e);
    expect((b as ConfigurationError).input).toBe('baseline');

    const service = [{ name: 'app', op: '=' as const, value: 'api' }];
    const both = await evaluate(
      exactSource({}),
      plan({ canary: { ...canaryArm, service }, baseline: { ...baselineArm, service } }),
      segments,
      minutes(6),
    ).catch((e: unknown) => e);
    expect((both as ConfigurationError).input).toBe('service');
  });

  it('calls a split far from the weight a sample-ratio mismatch, not a verdict', async () => {
    // The step says 5 %, routing sends 20 %.
    const rates = {
      canary: [{ start: since, rps: 40, errorRatio: 0.005 }],
      stable: [{ start: since, rps: 160, errorRatio: 0.005 }],
    };
    const e = await evaluate(exactSource(rates), plan(), [{ weight: 5, start: since }], minutes(10));
    expect(e.split!.segments[0]!.observedShare).toBeCloseTo(0.2, 9);
    expect(e.decision.decision).toBe('inconclusive');
    expect(e.diagnosis).toBe('sample-ratio-mismatch');
    // The same split with the share unknown (flagd's internal targeting) is not checked.
    const unknown = await evaluate(
      exactSource(rates),
      plan(),
      [{ weight: 5, start: since, shareKnown: false }],
      minutes(10),
    );
    expect(unknown.split).toBeUndefined();
    expect(unknown.decision.decision).toBe('continue');
  });

  it('is inconclusive past the deadline, stating what the whole run could have detected', async () => {
    // 2 rps in all, 0.5 % errors: at 5 % the canary serves 0.1 rps.
    const { segments, source, at } = scenario([{ weight: 5, minutes: 40 }], { rps: 2, errors: 0.005, ratio: 1 });
    const e = await evaluate(source, plan({ deadlineSeconds: 1800 }), segments, at);
    expect(e.decision.decision).toBe('inconclusive');
    expect(e.decision.reasons[0]!.code).toBe('DEADLINE_PASSED');
    expect(e.detectable.secondsLeft).toBe(0);
    expect(describeDetectable(e)).toContain('the whole run could have detected');
  });

  it('lints short windows', async () => {
    const { segments, source, at } = scenario([{ weight: 5, minutes: 0.5 }], { rps: 200, errors: 0.005, ratio: 1 });
    const e = await evaluate(source, plan({ minStepSeconds: 0 }), segments, at);
    expect(e.lints.some((l) => l.code === 'short-window')).toBe(true);
    expect(new Set(e.lints.map((l) => l.message)).size).toBe(e.lints.length);
  });

  it('rejects a bad plan naming the input', async () => {
    await expect(evaluate(exactSource({}), plan({ steps: [5, 1] }), [], since)).rejects.toThrow(/Invalid steps "5,1"/);
    await expect(evaluate(exactSource({}), plan({ alpha: 2 }), [], since)).rejects.toThrow(/alpha/);
  });

  it('maps a weight to its step', () => {
    expect(stepIndex([1, 5, 25, 100], 0)).toBe(-1);
    expect(stepIndex([1, 5, 25, 100], 5)).toBe(1);
    expect(stepIndex([1, 5, 25, 100], 7)).toBe(1);
    expect(stepIndex([1, 5, 25, 100], 100)).toBe(3);
  });
});
