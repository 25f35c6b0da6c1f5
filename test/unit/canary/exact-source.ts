// A MetricsSource of exact counts for unit tests: each arm serves requests at piecewise-constant rates,
// so the counts over any window are known in closed form and a test can state them by hand. Not a mock
// of Prometheus: it implements the same interface the simulator and prometheus-source.ts implement,
// and writes the same query text traffic.ts would send.

import type { CanaryPlan } from '../../../shared/canary/evaluate.js';
import type { ExposureStore } from '../../../shared/canary/exposure/index.js';
import type { TrafficMetrics } from '../../../shared/canary/presets.js';
import { PRESETS } from '../../../shared/canary/presets.js';
import type { MetricsSource } from '../../../shared/canary/source.js';
import {
  type Arm,
  type ArmCounts,
  countQueries,
  type LatencyCounts,
  type Probe,
  requestSelector,
} from '../../../shared/canary/traffic.js';

/** From `start` until `end` (or forever) the arm serves `rps` requests/s, a share of them failing or slow. */
export interface Rate {
  start: Date;
  end?: Date;
  rps: number;
  errorRatio: number;
  slowRatio?: number;
}

export const httpMetrics: TrafficMetrics = PRESETS.http as TrafficMetrics;

export function arm(value: string, service: Arm['service'] = []): Arm {
  return { matchers: [{ name: 'version', op: '=', value }], service };
}

export const canaryArm = arm('canary');
export const baselineArm = arm('stable');

/** When the tests' canaries start. */
export const since = new Date('2026-03-01T10:00:00Z');

/** The tests' plan: http metrics, steps 1, 5, 25, 100, alpha 0.05, 5 minutes a step, an hour's deadline. */
export function plan(over: Partial<CanaryPlan> = {}): CanaryPlan {
  return {
    metrics: httpMetrics,
    canary: canaryArm,
    baseline: baselineArm,
    steps: [1, 5, 25, 100],
    alpha: 0.05,
    tolerance: 1,
    minStepSeconds: 300,
    deadlineSeconds: 3600,
    scrapeIntervalSeconds: 15,
    since,
    ...over,
  };
}

/** `rates` keyed by the arm's `version` value; an arm absent from the table has no series at all. */
export function exactSource(
  rates: Record<string, Rate[]>,
  metrics: TrafficMetrics = httpMetrics,
): MetricsSource & {
  calls: number;
} {
  const integrate = (a: Arm, from: Date, to: Date, pick: (r: Rate) => number): number | undefined => {
    const list = rates[a.matchers[0]?.value ?? ''];
    if (!list) return undefined;
    let total = 0;
    for (const r of list) {
      const lo = Math.max(r.start.getTime(), from.getTime());
      const hi = Math.min(r.end?.getTime() ?? Number.POSITIVE_INFINITY, to.getTime());
      if (hi > lo) total += ((hi - lo) / 1000) * r.rps * pick(r);
    }
    return total;
  };
  const source = {
    description: 'exact counts (unit test)',
    calls: 0,
    async counts(a: Arm, from: Date, to: Date): Promise<ArmCounts> {
      source.calls++;
      const requests = integrate(a, from, to, () => 1);
      const errors = integrate(a, from, to, (r) => r.errorRatio) ?? 0;
      return {
        requests,
        errors,
        queries: countQueries(metrics, a, from, to),
        windowSeconds: (to.getTime() - from.getTime()) / 1000,
        at: to,
      };
    },
    async latencyCounts(a: Arm, bound: number, from: Date, to: Date): Promise<LatencyCounts> {
      source.calls++;
      const total = integrate(a, from, to, () => 1);
      const slow = integrate(a, from, to, (r) => r.slowRatio ?? 0) ?? 0;
      return {
        total,
        slow,
        query: `sum by (le) (increase(${metrics.latencyBuckets}{version="${a.matchers[0]?.value}"}[…])) le=${bound}`,
      };
    },
    async probe(a: Arm, since: Date, at: Date): Promise<Probe> {
      source.calls++;
      const selector = requestSelector(metrics, a);
      const requests = integrate(a, since, at, () => 1);
      if (requests === undefined) {
        return { diagnosis: 'no-match', detail: `${selector} matches nothing`, selector, series: [], newSeries: [] };
      }
      const errors = integrate(a, since, at, (r) => r.errorRatio) ?? 0;
      const series = [{ __name__: metrics.requests, version: a.matchers[0]?.value ?? '' }];
      const diagnosis = requests === 0 ? 'no-traffic' : errors === 0 ? 'zero-errors' : 'errors';
      return { diagnosis, detail: `${selector} served ${requests} requests`, selector, series, newSeries: [] };
    },
  };
  return source;
}

/** An exposure history: the canary weight (percent) from each time on. */
export type WeightLog = { at: Date; weight: number }[];

function weightPieces(log: WeightLog, from: Date, to: Date): { seconds: number; weight: number }[] {
  const pieces: { seconds: number; weight: number }[] = [];
  log.forEach((entry, i) => {
    const lo = Math.max(entry.at.getTime(), from.getTime());
    const hi = Math.min(log[i + 1]?.at.getTime() ?? Number.POSITIVE_INFINITY, to.getTime());
    if (hi > lo) pieces.push({ seconds: (hi - lo) / 1000, weight: entry.weight });
  });
  return pieces;
}

/**
 * Exact counts whose canary share follows an exposure history as it is written (by a store under test):
 * `rps` requests/s in all, the canary served weight% of them. Both arms have series from the start.
 */
export function followingSource(
  log: WeightLog,
  traffic: { rps: number; errors: number; ratio: number; slow?: number; slowRatio?: number },
  metrics: TrafficMetrics = httpMetrics,
): MetricsSource {
  const share = (a: Arm, weight: number) => (a.matchers[0]?.value === 'canary' ? weight / 100 : 1 - weight / 100);
  const integrate = (a: Arm, from: Date, to: Date, per: number) =>
    weightPieces(log, from, to).reduce((t, p) => t + p.seconds * traffic.rps * share(a, p.weight) * per, 0);
  const isCanary = (a: Arm) => a.matchers[0]?.value === 'canary';
  return {
    description: 'exact counts following the exposure (unit test)',
    async counts(a, from, to) {
      const errorRatio = isCanary(a) ? traffic.errors * traffic.ratio : traffic.errors;
      return {
        requests: integrate(a, from, to, 1),
        errors: integrate(a, from, to, errorRatio),
        queries: countQueries(metrics, a, from, to),
        windowSeconds: (to.getTime() - from.getTime()) / 1000,
        at: to,
      };
    },
    async latencyCounts(a, bound, from, to) {
      const slow = (traffic.slow ?? 0) * (isCanary(a) ? (traffic.slowRatio ?? 1) : 1);
      return {
        total: integrate(a, from, to, 1),
        slow: integrate(a, from, to, slow),
        query: `histogram ${a.matchers[0]?.value} le=${bound}`,
      };
    },
    async probe(a, since, at) {
      const selector = requestSelector(metrics, a);
      const requests = integrate(a, since, at, 1);
      const series = [{ __name__: metrics.requests, version: a.matchers[0]?.value ?? '' }];
      return {
        diagnosis: requests === 0 ? 'no-traffic' : 'errors',
        detail: `${selector} served ${requests} requests`,
        selector,
        series,
        newSeries: [],
      };
    },
  };
}

/** `store`, with every weight it sets written to `log` at the clock's time (a followingSource follows it). */
export function recorded(store: ExposureStore, log: WeightLog, now: () => Date): ExposureStore {
  return {
    describe: () => store.describe(),
    read: (a, b) => store.read(a, b),
    async apply(weight, reason) {
      const result = await store.apply(weight, reason);
      if (result.changed) log.push({ at: now(), weight });
      return result;
    },
    async rollback(reason) {
      const result = await store.rollback(reason);
      log.push({ at: now(), weight: 0 });
      return result;
    },
  };
}
