import { describe, expect, it } from 'vitest';
import type { CanaryPlan } from '../../../shared/canary/evaluate.js';
import { memoryExposure } from '../../../shared/canary/exposure/memory-store.js';
import { type CanaryRequest, runCanary } from '../../../shared/canary/run-canary.js';
import { simulatedClock } from '../../../shared/canary/simulate.js';
import type { Logger } from '../../../shared/core/logger.js';
import { followingSource, plan, recorded, since, type WeightLog } from './exact-source.js';

function request(over: Partial<CanaryRequest> = {}, planOver: Partial<CanaryPlan> = {}): CanaryRequest {
  return {
    plan: plan(planOver),
    mode: 'loop',
    intervalSeconds: 60,
    described: { metrics: 'http', canary: 'version="canary"', baseline: 'version="stable"' },
    ...over,
  };
}

function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: () => {},
    info: (m) => lines.push(m),
    warning: (m) => lines.push(`warning: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    group: (_t, body) => body(),
  };
}

function setup(traffic: { rps: number; errors: number; ratio: number }, start = since, initial = 0) {
  const clock = simulatedClock(start);
  const log: WeightLog = [{ at: since, weight: initial }];
  const store = recorded(memoryExposure(initial, since, clock.now), log, clock.now);
  const logger = memoryLogger();
  return { clock, log, store, logger, source: followingSource(log, traffic) };
}

describe('runCanary', () => {
  it('never lowers exposure on a look that reads the time before the step in force', async () => {
    // Started at 5 % at `since`; the first look evaluates at since − 30 s, which reads as not started.
    const { clock, store, logger, source, log } = setup({ rps: 200, errors: 0.005, ratio: 1 }, since, 5);
    const result = await runCanary(request({ mode: 'once' }), { ...clock, store, source, logger });
    expect(result.decision).toBe('continue');
    expect(result.weight).toBe(5);
    expect(result.exposure.changes).toEqual([]);
    expect(log.map((entry) => entry.weight)).toEqual([5]);
  });

  it('once, not started: applies the first step and continues', async () => {
    const { clock, store, logger, source } = setup({ rps: 200, errors: 0.005, ratio: 1 });
    const result = await runCanary(request({ mode: 'once' }), { ...clock, store, source, logger });
    expect(result.decision).toBe('continue');
    expect(result.step).toBe(0);
    expect(result.weight).toBe(1);
    expect(result.reasons[0]!.code).toBe('NOT_STARTED');
    expect(result.exposure.changes).toMatchObject([{ weight: 1, changed: true }]);
    expect((await store.read(since, clock.now())).weight).toBe(1);
  });

  it('loop, healthy: walks 1 → 5 → 25 → 100 and promotes', async () => {
    const { clock, store, logger, source } = setup({ rps: 1000, errors: 0.01, ratio: 1 });
    const result = await runCanary(request(), { ...clock, store, source, logger });
    expect(result.decision).toBe('promote');
    expect(result.exposure.changes.map((c) => c.weight)).toEqual([1, 5, 25, 100]);
    expect(result.weight).toBe(100);
    expect(result.step).toBe(3);
    expect(result.evaluations.length).toBeGreaterThanOrEqual(2);
    expect(result.evaluations.length).toBeLessThanOrEqual(12);
    expect(result.metrics[0]!.nonInferiority.shown).toBe(true);
    expect(result.metrics[0]!.harm.shown).toBe(false);
    // Each step waited its 300 s minimum: 5 % came no sooner than 300 s after 1 %.
    const times = result.exposure.changes.map((c) => Date.parse(c.at));
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(300_000);
    expect(logger.lines.some((l) => l.includes('it can detect errors ≥'))).toBe(true);
    expect(Date.parse(result.timestamps.finished)).toBeLessThan(since.getTime() + 3600_000);
  });

  it('loop, 2× errors: rolls back, exposure 0, excess errors counted', async () => {
    const { clock, store, logger, source } = setup({ rps: 200, errors: 0.005, ratio: 2 });
    const result = await runCanary(request(), { ...clock, store, source, logger });
    expect(result.decision).toBe('rollback');
    expect(result.weight).toBe(0);
    expect(result.step).toBe(-1);
    expect(result.reasons[0]!.code).toBe('HARM');
    expect(result.exposure.rollback).toEqual({ commits: [] });
    expect((await store.read(since, clock.now())).weight).toBe(0);
    // Excess = canary errors × (1 − 1/2) at a 2× ratio with the rates exact.
    const m = result.metrics[0]!;
    expect(result.excessErrors).toBeCloseTo(m.canary.bad / 2, 6);
    expect(logger.lines.some((l) => l.startsWith('warning: rollback:'))).toBe(true);

    // A later scheduled run sees exposure off: it never starts the canary again.
    const again = await runCanary(request({ mode: 'once' }), { ...clock, store, source, logger });
    expect(again.decision).toBe('rollback');
    expect(again.reasons[0]!.code).toBe('EXPOSURE_OFF');
    expect(again.exposure.changes).toEqual([]);
    expect((await store.read(since, clock.now())).weight).toBe(0);
  });

  it('once, mid-way: evaluates, applies at most one step, and charts 12 past points', async () => {
    // Started at 5 % an hour's half ago.
    const { clock, store, logger, source } = setup(
      { rps: 200, errors: 0.005, ratio: 1 },
      new Date(since.getTime() + 10 * 60_000),
      5,
    );
    const result = await runCanary(request({ mode: 'once' }), { ...clock, store, source, logger });
    expect(result.decision).toBe('continue');
    expect(result.exposure.changes.map((c) => c.weight)).toEqual([25]);
    expect(result.step).toBe(2);
    expect(result.evaluations).toHaveLength(12);
    // Evenly spaced: (at − since) / 12 apart.
    const at = Date.parse(result.timeRange.at);
    expect(Date.parse(result.evaluations[0]!.at)).toBe(since.getTime() + (at - since.getTime()) / 12);
    expect(result.evaluations[11]!.at).toBe(result.timeRange.at);
  });

  it('loop without traffic: inconclusive with NO_TRAFFIC after the grace period', async () => {
    const { clock, store, logger, source } = setup({ rps: 0, errors: 0, ratio: 1 });
    const result = await runCanary(request(), { ...clock, store, source, logger });
    expect(result.decision).toBe('inconclusive');
    expect(result.diagnosis).toBe('no-traffic');
    expect(result.reasons[0]!.code).toBe('NO_TRAFFIC');
    expect(result.weight).toBe(1);
  });
});
