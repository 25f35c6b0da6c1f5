import type { TrafficMetrics } from './presets.js';
import type { PrometheusClient } from './prometheus.js';
import { type LintFinding, lintArmOverlap, lintNewSeries, lintQuery } from './promql-lint.js';
import type { MetricsSource } from './source.js';
import { type Arm, countQueries, counts, latencyCounts, type Probe, probe } from './traffic.js';

// The MetricsSource that reads a real Prometheus: every count is one stateless sum(increase()) over the window it
// is asked for (traffic.ts), so this adds nothing but the binding of a client to the metrics. The lints live
// beside it because they are about the queries it sends and the series its probes saw.

export function prometheusSource(client: PrometheusClient, metrics: TrafficMetrics): MetricsSource {
  return {
    description: client.server,
    counts: (arm, from, to) => counts(client, metrics, arm, from, to),
    latencyCounts: (arm, boundSeconds, from, to) => latencyCounts(client, metrics, arm, boundSeconds, from, to),
    probe: (arm, since, at) => probe(client, metrics, arm, since, at),
  };
}

/** What the lints need of the canary plan (evaluate.ts's CanaryPlan has all of it). */
export interface LintedPlan {
  metrics: TrafficMetrics;
  canary: Arm;
  baseline: Arm;
  scrapeIntervalSeconds: number;
  since: Date;
}

/**
 * The PromQL traps that apply to this evaluation (canary.md §3): a count window shorter than four scrapes, arms
 * whose selectors can pick the same series (decided on the matchers, and for certain on the series the probes
 * saw), and counter series that appeared after `since`, whose first increment increase() loses. Each finding is
 * reported once, however many queries share it.
 */
export function lintPlan(
  plan: LintedPlan,
  probes: {
    canary?: Pick<Probe, 'series' | 'newSeries' | 'selector'>;
    baseline?: Pick<Probe, 'series' | 'newSeries' | 'selector'>;
  },
  at: Date,
): LintFinding[] {
  const findings: LintFinding[] = [];
  if (at.getTime() > plan.since.getTime()) {
    // The canary's requests query has the same window as every other count query of this evaluation.
    const { requests } = countQueries(plan.metrics, plan.canary, plan.since, at);
    findings.push(...lintQuery(requests, plan.scrapeIntervalSeconds));
  }
  const observed = [...(probes.canary?.series ?? []), ...(probes.baseline?.series ?? [])];
  findings.push(
    ...lintArmOverlap(
      [...plan.canary.service, ...plan.canary.matchers],
      [...plan.baseline.service, ...plan.baseline.matchers],
      observed,
    ),
  );
  for (const seen of [probes.canary, probes.baseline]) if (seen) findings.push(...lintNewSeries(seen));
  return findings;
}
