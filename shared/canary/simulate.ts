import { InvalidValueError } from '../core/errors.js';
import { PRESETS } from './presets.js';
import { formatMatcher, parseDuration } from './promql.js';
import type { MetricsSource } from './source.js';
import { logGamma } from './stats/special.js';
import { type Arm, type ArmCounts, countQueries, type LatencyCounts, type Probe, requestSelector } from './traffic.js';

// The canary benchmark's traffic, and `slipway canary --simulate`'s: a seeded simulator behind the same
// MetricsSource the Prometheus reader implements, so a simulated run exercises the evaluation code that reads
// Prometheus and nothing else is swapped out (canary.md §4, "Simulator").
//
// Model, per tick (5 s by default) and arm:
// - Requests are Poisson with mean rps(t)·share·tick, where rps(t) swings around `rps` as a sine (the slow
//   diurnal-like drift a canary sees over half an hour) and share is the canary weight from `weightAt(t)`, so the
//   split follows the exposure store as the canary advances.
// - Errors are gamma-Poisson (overdispersed): each arm's error rate is multiplied, each tick, by its own
//   Gamma(k, 1/k) draw, so errors come in clumps the way one bad pod or one slow dependency makes them. This
//   breaks the Poisson model the e-process assumes, which is the point of simulating it.
// - The canary's error rate is `errors` times the baseline's, raised further just after each step (warm-up:
//   `warmup-errors` times at the step's start, decaying linearly to 1 over `warmup`). An incident multiplies both
//   arms' error rates for a window (a common-mode fault, which a comparison of the arms should ignore).
// - Latency is a lognormal body with a slow tail (1 % of requests 3× slower), counted into histogram buckets
//   (the bounds of test/support/prometheus.ts). `latency=shift` makes every canary request 1.25× slower;
//   `latency=tail` makes 2 % more of its requests 3× slower, leaving the median where it was.
// Counters are cumulative and sampled at tick ends, so counts(arm, from, to) is the counter's increase between
// the last samples at or before `from` and `to`: what Prometheus' increase() gives without extrapolation, and
// exactly additive over adjacent windows. Ticks are drawn in time order, lazily, so the answer does not depend on
// the order of queries, only on the seed and on weightAt.

/** The histogram bounds, in seconds (as test/support/prometheus.ts writes them). */
export const SIMULATED_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1];

export type LatencyRegression = 'none' | 'shift' | 'tail';

export interface Incident {
  /** Seconds after the start. */
  readonly at: number;
  readonly seconds: number;
  /** Multiplies both arms' error rates. */
  readonly factor: number;
}

export interface Scenario {
  /** Canary error rate over the baseline's (1 = healthy). */
  readonly errors: number;
  /** A fixed canary weight in percent, for runs that hold one exposure (the benchmark's cells); else undefined. */
  readonly exposure: number | undefined;
  /** Mean requests per second over both arms. */
  readonly rps: number;
  /** The baseline's error fraction. */
  readonly baseErrors: number;
  readonly latency: LatencyRegression;
  readonly seed: number;
  /** How long the simulated canary runs, in seconds (its deadline). */
  readonly duration: number;
  readonly incident: Incident | undefined;
  /** Seconds of elevated canary errors after each step. */
  readonly warmup: number;
  /** The canary's extra error multiplier at the start of a step. */
  readonly warmupErrors: number;
  /** Gamma shape of the per-tick error-rate multiplier; Infinity = plain Poisson. */
  readonly dispersion: number;
  /** Relative amplitude of the load swing (0.3 = ±30 %). */
  readonly swing: number;
  /** Period of the load swing, seconds. */
  readonly period: number;
  /** Tick of the counters, seconds. */
  readonly tick: number;
  readonly start: Date;
}

/** The default scenario (`--simulate` with no value): a healthy canary in realistic traffic. */
export const DEFAULT_SCENARIO: Scenario = {
  errors: 1,
  exposure: undefined,
  rps: 200,
  baseErrors: 0.005,
  latency: 'none',
  seed: 1,
  duration: 1800,
  incident: undefined,
  warmup: 60,
  warmupErrors: 2,
  dispersion: 20,
  swing: 0.3,
  period: 3600,
  tick: 5,
  start: new Date('2026-01-01T00:00:00Z'),
};

/**
 * What `slipway canary --simulate` starts from: the benchmark's traffic at 1000 requests/s, a mid-sized service.
 * At the benchmark's 200 requests/s and 0.5 % errors, proving a healthy canary within 1.2× of the baseline takes
 * longer than the default 30-minute deadline, so the bare `--simulate` would show an honest but unhelpful
 * inconclusive; at 1000 it shows a healthy canary promoted.
 */
export const SIMULATE_DEFAULTS: Scenario = { ...DEFAULT_SCENARIO, rps: 1000 };

/** `incident` with no value: both arms' errors ×5 for 5 minutes, 10 minutes in. */
const DEFAULT_INCIDENT: Incident = { at: 600, seconds: 300, factor: 5 };

type Setter = (value: string, fail: (expected: string) => never) => Partial<Scenario>;

function positive(value: string, fail: (expected: string) => never, expected = 'a number > 0'): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) fail(expected);
  return n;
}

function nonNegative(value: string, fail: (expected: string) => never, expected = 'a number ≥ 0'): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) fail(expected);
  return n;
}

function duration(
  value: string,
  fail: (expected: string) => never,
  expected = 'a duration such as 30s, 5m or 1h',
): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) return fail(expected);
  return seconds;
}

const SETTERS: Readonly<Record<string, Setter>> = {
  errors: (v, fail) => ({ errors: positive(v, fail, 'a ratio > 0 (canary error rate over the baseline’s), e.g. 2') }),
  exposure: (v, fail) => {
    const n = positive(v, fail, 'a canary weight in percent, in (0, 100]');
    if (n > 100) fail('a canary weight in percent, in (0, 100]');
    return { exposure: n };
  },
  rps: (v, fail) => ({ rps: nonNegative(v, fail, 'requests per second, a number ≥ 0') }),
  'base-errors': (v, fail) => {
    const n = nonNegative(v, fail, 'an error fraction in [0, 1), e.g. 0.005');
    if (n >= 1) fail('an error fraction in [0, 1), e.g. 0.005');
    return { baseErrors: n };
  },
  latency: (v, fail) => {
    if (v !== 'none' && v !== 'shift' && v !== 'tail') fail('none, shift or tail');
    return { latency: v as LatencyRegression };
  },
  seed: (v, fail) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) fail('a whole number ≥ 0');
    return { seed: n };
  },
  duration: (v, fail) => ({ duration: positive(String(duration(v, fail)), fail, 'a duration such as 30m') }),
  incident: (v, fail) => {
    const form = '<start>:<length>:<error multiplier>, e.g. 10m:5m:5 (or no value for that default)';
    if (v === '' || v === 'true') return { incident: DEFAULT_INCIDENT };
    if (v === 'none') return { incident: undefined };
    const [at = '', seconds = '', factor = ''] = v.split(':');
    if (v.split(':').length !== 3) fail(form);
    return {
      incident: {
        at: duration(at, fail, form),
        seconds: positive(String(duration(seconds, fail, form)), fail, form),
        factor: positive(factor, fail, form),
      },
    };
  },
  warmup: (v, fail) => ({ warmup: v === 'none' ? 0 : duration(v, fail, 'a duration such as 60s, or none') }),
  'warmup-errors': (v, fail) => {
    const n = positive(v, fail, 'an error multiplier ≥ 1 at the start of a step');
    if (n < 1) fail('an error multiplier ≥ 1 at the start of a step');
    return { warmupErrors: n };
  },
  dispersion: (v, fail) => ({
    dispersion:
      v === 'none'
        ? Number.POSITIVE_INFINITY
        : positive(v, fail, 'a gamma shape > 0 (smaller = clumpier errors), or none'),
  }),
  swing: (v, fail) => {
    const n = nonNegative(v, fail, 'a relative load swing in [0, 1), e.g. 0.3');
    if (n >= 1) fail('a relative load swing in [0, 1), e.g. 0.3');
    return { swing: n };
  },
  period: (v, fail) => ({ period: positive(String(duration(v, fail)), fail, 'a duration such as 1h') }),
  tick: (v, fail) => ({ tick: positive(String(duration(v, fail)), fail, 'a duration such as 5s') }),
  start: (v, fail) => {
    const t = Date.parse(v);
    if (!/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(t)) fail('an RFC 3339 time such as 2026-01-01T00:00:00Z');
    return { start: new Date(t) };
  },
};

/**
 * Reads `errors=2,exposure=5,rps=200,base-errors=0.005,latency=tail,seed=7,duration=30m,incident=10m:5m:5`.
 * Keys left out keep SIMULATE_DEFAULTS' values; `true` or an empty text is that scenario.
 */
export function parseScenario(text: string, input = 'simulate'): Scenario {
  const trimmed = text.trim();
  let scenario: Scenario = { ...SIMULATE_DEFAULTS };
  if (trimmed === '' || trimmed === 'true') return scenario;
  for (const part of trimmed.split(',')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    const setter = Object.hasOwn(SETTERS, key) ? SETTERS[key] : undefined;
    if (!setter) {
      throw new InvalidValueError(
        `${input} setting`,
        key,
        `one of ${Object.keys(SETTERS).join(', ')}, as key=value pairs separated by commas`,
      );
    }
    if (eq < 0 && key !== 'incident') {
      throw new InvalidValueError(`${input} setting ${key}`, item, `${key}=<value>`);
    }
    const fail = (expected: string): never => {
      throw new InvalidValueError(`${input} setting ${key}`, value, expected);
    };
    scenario = { ...scenario, ...setter(value, fail) };
  }
  return scenario;
}

/** A short text for messages and canary.json: the scenario's non-default settings. */
export function describeScenario(scenario: Scenario): string {
  const parts = [`errors=${scenario.errors}`, `rps=${scenario.rps}`, `base-errors=${scenario.baseErrors}`];
  if (scenario.exposure !== undefined) parts.push(`exposure=${scenario.exposure}`);
  if (scenario.latency !== 'none') parts.push(`latency=${scenario.latency}`);
  if (scenario.incident) {
    const { at, seconds, factor } = scenario.incident;
    parts.push(`incident=${at}s:${seconds}s:${factor}`);
  }
  parts.push(`seed=${scenario.seed}`);
  return parts.join(',');
}

// ---------------------------------------------------------------------------------------------------------------
// Random numbers: seeded, so a seed names one run on every machine.

/** mulberry32: small, fast and well mixed enough for Monte Carlo. */
export function seededRandom(seed: number): () => number {
  let state = (seed ^ 0x9e3779b9) | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    // Never exactly 0, so logarithms of a draw are finite.
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); shapes below 1 through Gamma(shape + 1)·U^(1/shape). */
export function gamma(random: () => number, shape: number): number {
  if (shape < 1) return gamma(random, shape + 1) * random() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Poisson: Knuth's product method for small means, Hörmann's PTRS (1993) transformed rejection above. */
export function poisson(random: () => number, mean: number): number {
  if (!(mean > 0)) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = random();
    while (p > limit) {
      k++;
      p *= random();
    }
    return k;
  }
  const slam = Math.sqrt(mean);
  const logMean = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = random() - 0.5;
    const v = random();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * logMean - logGamma(k + 1)) {
      return k;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Latency: the share of requests in each histogram bucket.

/** Φ(x), from erfc by Numerical Recipes' Chebyshev fit (relative error below 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

const BODY_MEDIAN = 0.08;
const BODY_SIGMA = 0.5;
const TAIL_SHARE = 0.01;
const TAIL_FACTOR = 3;
const SHIFT_FACTOR = 1.25;
const EXTRA_TAIL_SHARE = 0.02;

/** P(latency ≤ x) for the body and tail mixture, with every latency scaled by `scale`. */
function latencyCdf(x: number, scale: number, tailShare: number): number {
  const body = (m: number) => normalCdf((Math.log(x) - Math.log(m)) / BODY_SIGMA);
  return (1 - tailShare) * body(BODY_MEDIAN * scale) + tailShare * body(BODY_MEDIAN * scale * TAIL_FACTOR);
}

/** Each bucket's share of requests: one per bound, then the share above the last bound (the +Inf bucket's own). */
export function latencyShares(regression: LatencyRegression): number[] {
  const scale = regression === 'shift' ? SHIFT_FACTOR : 1;
  const tail = regression === 'tail' ? TAIL_SHARE + EXTRA_TAIL_SHARE : TAIL_SHARE;
  const shares: number[] = [];
  let below = 0;
  for (const le of SIMULATED_BUCKETS) {
    const cdf = latencyCdf(le, scale, tail);
    shares.push(cdf - below);
    below = cdf;
  }
  shares.push(1 - below);
  return shares;
}

// ---------------------------------------------------------------------------------------------------------------
// The source.

/** An arm's identity: its service and arm matchers, in a fixed order. */
function armKey(arm: Arm): string {
  return [...arm.service, ...arm.matchers].map(formatMatcher).sort().join(',');
}

interface Counters {
  requests: number[];
  errors: number[];
  /** Cumulative count at or below each bound, per sample. */
  buckets: number[][];
}

function emptyCounters(): Counters {
  return { requests: [0], errors: [0], buckets: [SIMULATED_BUCKETS.map(() => 0)] };
}

export interface SimulatedSource extends MetricsSource {
  readonly scenario: Scenario;
  /** Counters up to `to` as plain numbers, for the benchmark (which reads them without the async interface). */
  countsSync(which: 'canary' | 'baseline', from: Date, to: Date): { requests: number; errors: number };
  /** Requests at or below each bound in SIMULATED_BUCKETS, and all requests, between two times. */
  histogramSync(which: 'canary' | 'baseline', from: Date, to: Date): { buckets: number[]; total: number };
}

/**
 * A simulated pair of arms. `weightAt(t)` is the canary's weight in percent (0–100) at time t, the way the
 * exposure store's segments give it; it is asked once per tick, in time order.
 */
export function simulatedSource(
  scenario: Scenario,
  arms: { canary: Arm; baseline: Arm },
  weightAt: (t: Date) => number,
): SimulatedSource {
  const random = seededRandom(scenario.seed);
  const phase = 2 * Math.PI * random();
  const start = scenario.start.getTime();
  const tickMs = scenario.tick * 1000;
  const shares = { canary: latencyShares(scenario.latency), baseline: latencyShares('none') };
  const counters = { canary: emptyCounters(), baseline: emptyCounters() };
  const keys = { canary: armKey(arms.canary), baseline: armKey(arms.baseline) };
  let previousWeight = 0;
  let stepStart = start;

  function drawArm(c: Counters, mean: number, errorRate: number, bucketShares: readonly number[]): void {
    const n = c.requests.length - 1;
    const multiplier = Number.isFinite(scenario.dispersion)
      ? gamma(random, scenario.dispersion) / scenario.dispersion
      : 1;
    const p = Math.min(1, errorRate * multiplier);
    const errors = poisson(random, mean * p);
    // Requests that did not fail, by latency bucket (Poisson splitting keeps the buckets independent), then the
    // failed ones placed by the same distribution one at a time (few per tick).
    const perBucket = bucketShares.map((share) => poisson(random, mean * (1 - p) * share));
    for (let e = 0; e < errors; e++) {
      let u = random();
      let k = 0;
      while (k < bucketShares.length - 1 && u > bucketShares[k]!) {
        u -= bucketShares[k]!;
        k++;
      }
      perBucket[k]!++;
    }
    const requests = perBucket.reduce((s, x) => s + x, 0);
    c.requests.push(c.requests[n]! + requests);
    c.errors.push(c.errors[n]! + errors);
    const previous = c.buckets[n]!;
    let cumulative = 0;
    c.buckets.push(
      SIMULATED_BUCKETS.map((_, k) => {
        cumulative += perBucket[k]!;
        return previous[k]! + cumulative;
      }),
    );
  }

  function drawTick(i: number): void {
    const tStart = start + i * tickMs;
    const weight = Math.min(100, Math.max(0, weightAt(new Date(tStart))));
    if (weight !== previousWeight && weight > 0) stepStart = tStart;
    previousWeight = weight;
    const elapsed = (tStart - start) / 1000;
    const rps = scenario.rps * (1 + scenario.swing * Math.sin((2 * Math.PI * elapsed) / scenario.period + phase));
    const incident = scenario.incident;
    const common = incident && elapsed >= incident.at && elapsed < incident.at + incident.seconds ? incident.factor : 1;
    const sinceStep = (tStart - stepStart) / 1000;
    const warm =
      scenario.warmup > 0 && sinceStep < scenario.warmup
        ? 1 + (scenario.warmupErrors - 1) * (1 - sinceStep / scenario.warmup)
        : 1;
    const share = weight / 100;
    const base = scenario.baseErrors * common;
    drawArm(counters.canary, rps * share * scenario.tick, base * scenario.errors * warm, shares.canary);
    drawArm(counters.baseline, rps * (1 - share) * scenario.tick, base, shares.baseline);
  }

  /** The sample index at or before t (0 = the start, before any traffic). */
  function sampleAt(t: Date): number {
    const index = Math.max(0, Math.floor((t.getTime() - start) / tickMs));
    while (counters.canary.requests.length <= index) drawTick(counters.canary.requests.length - 1);
    return index;
  }

  function which(arm: Arm): 'canary' | 'baseline' | undefined {
    const key = armKey(arm);
    return key === keys.canary ? 'canary' : key === keys.baseline ? 'baseline' : undefined;
  }

  function checkWindow(from: Date, to: Date): void {
    if (!(to.getTime() > from.getTime())) {
      throw new InvalidValueError('canary start (since)', from.toISOString(), `a time before ${to.toISOString()}`);
    }
  }

  const countsSync = (arm: 'canary' | 'baseline', from: Date, to: Date) => {
    const a = sampleAt(from);
    const b = sampleAt(to);
    const c = counters[arm];
    return { requests: c.requests[b]! - c.requests[a]!, errors: c.errors[b]! - c.errors[a]! };
  };
  const histogramSync = (arm: 'canary' | 'baseline', from: Date, to: Date) => {
    const a = sampleAt(from);
    const b = sampleAt(to);
    const c = counters[arm];
    return {
      buckets: SIMULATED_BUCKETS.map((_, k) => c.buckets[b]![k]! - c.buckets[a]![k]!),
      total: c.requests[b]! - c.requests[a]!,
    };
  };

  const metrics = PRESETS.http!;
  const armCounts = (arm: Arm, from: Date, to: Date): ArmCounts => {
    checkWindow(from, to);
    const side = which(arm);
    const base = {
      queries: countQueries(metrics, arm, from, to),
      windowSeconds: (to.getTime() - from.getTime()) / 1000,
      at: to,
    };
    // An arm the simulator does not know matches no series: Prometheus would answer with an empty vector.
    if (side === undefined) return { ...base, requests: undefined, errors: 0 };
    return { ...base, ...countsSync(side, from, to) };
  };

  const description = `simulator (${describeScenario(scenario)})`;
  return {
    description,
    scenario,
    countsSync,
    histogramSync,
    async counts(arm, from, to) {
      return armCounts(arm, from, to);
    },
    async latencyCounts(arm, boundSeconds, from, to): Promise<LatencyCounts> {
      checkWindow(from, to);
      const query = `sum by (le) (increase(${metrics.latencyBuckets}{${[...arm.service, ...arm.matchers].map(formatMatcher).join(',')}}[${Math.round((to.getTime() - from.getTime()) / 1000)}s]))`;
      const k = SIMULATED_BUCKETS.findIndex((le) => Math.abs(le - boundSeconds) <= 1e-9 * Math.max(1, boundSeconds));
      if (k < 0) {
        throw new InvalidValueError(
          'slo-latency',
          `${boundSeconds}s`,
          `one of the simulated histogram's bucket bounds (${SIMULATED_BUCKETS.map((le) => `${le}s`).join(', ')})`,
        );
      }
      const side = which(arm);
      if (side === undefined) return { total: undefined, slow: 0, query };
      const h = histogramSync(side, from, to);
      const buckets = [
        ...SIMULATED_BUCKETS.map((le, i) => ({ le, count: h.buckets[i]! })),
        { le: Number.POSITIVE_INFINITY, count: h.total },
      ];
      return { total: h.total, slow: h.total - h.buckets[k]!, query, buckets };
    },
    async probe(arm, since, at): Promise<Probe> {
      const selector = requestSelector(metrics, arm);
      const side = which(arm);
      if (side === undefined) {
        return {
          diagnosis: 'no-match',
          detail: `${selector} matches nothing in the ${description}: it serves only the canary {${keys.canary}} and the baseline {${keys.baseline}}`,
          selector,
          series: [],
          newSeries: [],
        };
      }
      const counts = armCounts(arm, since, at);
      const labels: Record<string, string> = { __name__: metrics.requests };
      for (const m of [...arm.service, ...arm.matchers]) if (m.op === '=') labels[m.name] = m.value;
      const base = { selector, series: [labels], newSeries: [], counts };
      const requests = counts.requests ?? 0;
      if (requests === 0) {
        return {
          ...base,
          diagnosis: 'no-traffic',
          detail: `${selector} served no requests since ${since.toISOString()}`,
        };
      }
      if (counts.errors === 0) {
        return { ...base, diagnosis: 'zero-errors', detail: `${selector} served ${requests} requests and none failed` };
      }
      return {
        ...base,
        diagnosis: 'errors',
        detail: `${selector} served ${requests} requests, ${counts.errors} failed`,
      };
    },
  };
}

/** A clock for simulated runs: sleep() moves simulated time on at once instead of waiting. */
export function simulatedClock(start: Date): { now(): Date; sleep(ms: number): Promise<void> } {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    sleep: async (ms: number) => {
      if (!(ms >= 0)) throw new InvalidValueError('sleep', String(ms), 'a number of milliseconds ≥ 0');
      now += ms;
    },
  };
}
