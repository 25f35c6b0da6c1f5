import { describe, expect, it } from 'vitest';
import { parseMatchers } from '../../../shared/canary/promql.js';
import {
  DEFAULT_SCENARIO,
  gamma,
  latencyShares,
  parseScenario,
  poisson,
  type Scenario,
  SIMULATE_DEFAULTS,
  seededRandom,
  simulatedClock,
  simulatedSource,
} from '../../../shared/canary/simulate.js';
import type { Arm } from '../../../shared/canary/traffic.js';
import { InvalidValueError } from '../../../shared/core/errors.js';

const service = parseMatchers('app="api"');
const arms: { canary: Arm; baseline: Arm } = {
  canary: { service, matchers: parseMatchers('version="canary"') },
  baseline: { service, matchers: parseMatchers('version="stable"') },
};
const start = DEFAULT_SCENARIO.start;
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
const source = (scenario: Scenario, weight = 5) => simulatedSource(scenario, arms, () => weight);

describe('parseScenario', () => {
  it('reads every key and keeps defaults for the rest', () => {
    const s = parseScenario(
      'errors=2, exposure=5,rps=200,base-errors=0.005,latency=tail,seed=7,duration=30m,incident=10m:5m:4,warmup=none,dispersion=none',
    );
    expect(s).toMatchObject({
      errors: 2,
      exposure: 5,
      rps: 200,
      baseErrors: 0.005,
      latency: 'tail',
      seed: 7,
      duration: 1800,
      incident: { at: 600, seconds: 300, factor: 4 },
      warmup: 0,
      dispersion: Number.POSITIVE_INFINITY,
      swing: DEFAULT_SCENARIO.swing,
    });
  });

  it('takes `true`, empty and a bare `incident` as the documented defaults', () => {
    expect(parseScenario('true')).toEqual(SIMULATE_DEFAULTS);
    expect(parseScenario('')).toEqual(SIMULATE_DEFAULTS);
    expect(SIMULATE_DEFAULTS).toEqual({ ...DEFAULT_SCENARIO, rps: 1000 });
    expect(parseScenario('incident').incident).toEqual({ at: 600, seconds: 300, factor: 5 });
  });

  it('rejects a bad key or value with one error naming the input, the key and the expected form', () => {
    const error = (text: string) => {
      try {
        parseScenario(text, 'simulate');
      } catch (e) {
        return e as Error;
      }
      throw new Error(`no error for ${text}`);
    };
    const unknown = error('errors=2,speed=3');
    expect(unknown).toBeInstanceOf(InvalidValueError);
    expect(unknown.message).toContain('simulate setting "speed"');
    expect(unknown.message).toContain('one of errors, exposure');
    expect(error('errors=two').message).toBe(
      'Invalid simulate setting errors "two": expected a ratio > 0 (canary error rate over the baseline’s), e.g. 2.',
    );
    expect(error('exposure=150').message).toContain('in percent, in (0, 100]');
    expect(error('latency=slow').message).toContain('none, shift or tail');
    expect(error('incident=10m:5m').message).toContain('<start>:<length>:<error multiplier>');
    expect(error('duration=30').message).toContain('a duration such as');
    expect(error('rps').message).toContain('rps=<value>');
  });
});

describe('random draws', () => {
  it('have the means and variances of their distributions', () => {
    const random = seededRandom(3);
    for (const mean of [0.3, 4, 50, 1000]) {
      const draws = Array.from({ length: 20_000 }, () => poisson(random, mean));
      const m = draws.reduce((s, x) => s + x, 0) / draws.length;
      const v = draws.reduce((s, x) => s + (x - m) ** 2, 0) / draws.length;
      expect(Math.abs(m - mean)).toBeLessThan(4 * Math.sqrt(mean / draws.length));
      expect(v / mean).toBeGreaterThan(0.95);
      expect(v / mean).toBeLessThan(1.05);
    }
    for (const shape of [0.5, 2, 20]) {
      const draws = Array.from({ length: 20_000 }, () => gamma(random, shape));
      const m = draws.reduce((s, x) => s + x, 0) / draws.length;
      expect(Math.abs(m - shape)).toBeLessThan(4 * Math.sqrt(shape / draws.length));
    }
  });
});

describe('simulatedSource', () => {
  it('is deterministic for a seed, whatever order it is asked in', async () => {
    const a = source({ ...DEFAULT_SCENARIO, seed: 11 });
    const b = source({ ...DEFAULT_SCENARIO, seed: 11 });
    const c = source({ ...DEFAULT_SCENARIO, seed: 12 });
    const late = await b.counts(arms.canary, at(600), at(900));
    const early = await b.counts(arms.canary, start, at(300));
    expect(await a.counts(arms.canary, start, at(300))).toEqual(early);
    expect(await a.counts(arms.canary, at(600), at(900))).toEqual(late);
    expect((await c.counts(arms.canary, start, at(900))).requests).not.toBe(
      (await a.counts(arms.canary, start, at(900))).requests,
    );
  });

  it('gives counts additive over adjacent windows, as increase() does without extrapolation', async () => {
    const s = source({ ...DEFAULT_SCENARIO, seed: 5, incident: { at: 100, seconds: 200, factor: 3 } });
    const cuts = [0, 7, 60, 61, 333, 900, 1800];
    for (const side of [arms.canary, arms.baseline]) {
      const whole = await s.counts(side, at(0), at(1800));
      let requests = 0;
      let errors = 0;
      for (let i = 1; i < cuts.length; i++) {
        const part = await s.counts(side, at(cuts[i - 1]!), at(cuts[i]!));
        requests += part.requests!;
        errors += part.errors;
      }
      expect(requests).toBe(whole.requests);
      expect(errors).toBe(whole.errors);
      expect(whole.errors).toBeLessThanOrEqual(whole.requests!);
    }
  });

  it('splits traffic by weightAt and converges to the configured error ratio', async () => {
    const scenario = { ...DEFAULT_SCENARIO, errors: 2, seed: 9, rps: 2000, warmup: 0, duration: 7200 };
    const s = simulatedSource(scenario, arms, (t) => (t.getTime() < at(3600).getTime() ? 10 : 25));
    const first = {
      c: await s.counts(arms.canary, start, at(3600)),
      b: await s.counts(arms.baseline, start, at(3600)),
    };
    const second = {
      c: await s.counts(arms.canary, at(3600), at(7200)),
      b: await s.counts(arms.baseline, at(3600), at(7200)),
    };
    const share = (x: typeof first) => x.c.requests! / (x.c.requests! + x.b.requests!);
    expect(share(first)).toBeCloseTo(0.1, 2);
    expect(share(second)).toBeCloseTo(0.25, 2);
    const canaryRate = (first.c.errors + second.c.errors) / (first.c.requests! + second.c.requests!);
    const baseRate = (first.b.errors + second.b.errors) / (first.b.requests! + second.b.requests!);
    expect(baseRate).toBeGreaterThan(0.0045);
    expect(baseRate).toBeLessThan(0.0055);
    expect(canaryRate / baseRate).toBeGreaterThan(1.85);
    expect(canaryRate / baseRate).toBeLessThan(2.15);
  });

  it('raises both arms’ errors during an incident, leaving their ratio alone', async () => {
    const scenario = {
      ...DEFAULT_SCENARIO,
      seed: 4,
      rps: 2000,
      warmup: 0,
      dispersion: Number.POSITIVE_INFINITY,
      incident: { at: 1200, seconds: 1200, factor: 5 },
    };
    const s = source(scenario, 20);
    const rate = async (arm: Arm, from: number, to: number) => {
      const c = await s.counts(arm, at(from), at(to));
      return c.errors / c.requests!;
    };
    for (const arm of [arms.canary, arms.baseline]) {
      const before = await rate(arm, 0, 1200);
      const during = await rate(arm, 1200, 2400);
      expect(during / before).toBeGreaterThan(4.5);
      expect(during / before).toBeLessThan(5.5);
    }
    const ratio = (await rate(arms.canary, 1200, 2400)) / (await rate(arms.baseline, 1200, 2400));
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
  });

  it('elevates canary errors right after a step (warm-up) and not later', async () => {
    const scenario = {
      ...DEFAULT_SCENARIO,
      seed: 8,
      rps: 20_000,
      warmup: 60,
      warmupErrors: 3,
      dispersion: Number.POSITIVE_INFINITY,
    };
    const s = source(scenario, 50);
    const c0 = await s.counts(arms.canary, at(0), at(30));
    const c1 = await s.counts(arms.canary, at(300), at(3000));
    // The first 30 s average a multiplier of 2.5 (3 decaying linearly to 1 over 60 s).
    expect(c0.errors / c0.requests! / (c1.errors / c1.requests!)).toBeGreaterThan(2.2);
    expect(c0.errors / c0.requests! / (c1.errors / c1.requests!)).toBeLessThan(2.8);
  });

  it('fills histogram buckets, and a tail regression moves the slow fraction but not the median', async () => {
    const none = latencyShares('none');
    const tail = latencyShares('tail');
    const shift = latencyShares('shift');
    expect(none.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    // le=0.1 holds the median in both: it moves by the extra tail's share only.
    const cdf = (shares: number[], k: number) => shares.slice(0, k + 1).reduce((a, b) => a + b, 0);
    expect(cdf(none, 1) - cdf(tail, 1)).toBeLessThan(0.02);
    expect(1 - cdf(tail, 2)).toBeGreaterThan(1.4 * (1 - cdf(none, 2)));
    expect(1 - cdf(shift, 2)).toBeGreaterThan(2 * (1 - cdf(none, 2)));

    const s = source({ ...DEFAULT_SCENARIO, latency: 'tail', rps: 5000, seed: 2 }, 50);
    const canary = await s.latencyCounts(arms.canary, 0.25, start, at(1800));
    const baseline = await s.latencyCounts(arms.baseline, 0.25, start, at(1800));
    const requests = await s.counts(arms.canary, start, at(1800));
    expect(canary.total).toBe(requests.requests);
    const ratio = canary.slow / canary.total! / (baseline.slow / baseline.total!);
    const expected = (1 - cdf(tail, 2)) / (1 - cdf(none, 2));
    expect(ratio).toBeGreaterThan(expected * 0.9);
    expect(ratio).toBeLessThan(expected * 1.1);
    await expect(s.latencyCounts(arms.canary, 0.3, start, at(60))).rejects.toThrow(/slo-latency "0.3s".*0.25s/);
  });

  it('tells no-match, no-traffic, zero-errors and errors apart', async () => {
    const s = source({ ...DEFAULT_SCENARIO, baseErrors: 0, seed: 3 }, 5);
    const other: Arm = { service, matchers: parseMatchers('version="blue"') };
    const noMatch = await s.probe(other, start, at(600));
    expect(noMatch.diagnosis).toBe('no-match');
    expect(noMatch.detail).toContain('version="canary"');
    expect((await s.counts(other, start, at(600))).requests).toBeUndefined();
    expect((await s.probe(arms.canary, start, at(600))).diagnosis).toBe('zero-errors');
    expect((await source({ ...DEFAULT_SCENARIO, seed: 3 }, 5).probe(arms.baseline, start, at(600))).diagnosis).toBe(
      'errors',
    );
    const idle = simulatedSource({ ...DEFAULT_SCENARIO, rps: 0 }, arms, () => 5);
    expect((await idle.probe(arms.canary, start, at(600))).diagnosis).toBe('no-traffic');
    const off = simulatedSource(DEFAULT_SCENARIO, arms, () => 0);
    expect((await off.probe(arms.canary, start, at(600))).diagnosis).toBe('no-traffic');
  });
});

describe('simulatedClock', () => {
  it('advances time on sleep without waiting', async () => {
    const clock = simulatedClock(start);
    const wall = Date.now();
    await clock.sleep(3_600_000);
    expect(clock.now().toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(Date.now() - wall).toBeLessThan(1000);
  });
});
