import { InvalidValueError } from '../core/errors.js';
import type { TrafficMetrics } from './presets.js';
import { type Labels, type PrometheusClient, PrometheusError, type Sample, singleReading } from './prometheus.js';
import { formatDuration, type LabelMatcher, selector } from './promql.js';

// Counts per arm, read statelessly: every evaluation asks for increase() over the whole time since the canary
// started, so `mode: once` from a schedule and `mode: loop` in one job see the same numbers, and the e-process
// needs nothing remembered between runs. The probe says why an arm has no counts: nothing matches its selector,
// it matches but served nothing, or it served requests and none failed. These are three different answers.

/**
 * When to evaluate: the last two scrapes may not have landed yet (scrape, remote write, rule lag), and a query
 * at wall-clock now would read them as missing traffic (canary.md §3, "Lag and staleness").
 */
export function evaluationTime(now: Date, scrapeIntervalSeconds: number): Date {
  return new Date(now.getTime() - 2 * scrapeIntervalSeconds * 1000);
}

export interface Arm {
  /** The arm's own matchers, e.g. version="canary". */
  matchers: readonly LabelMatcher[];
  /** Matchers common to both arms (the `service` input), possibly none. */
  service: readonly LabelMatcher[];
}

export interface ArmCounts {
  /** Requests since `since`; undefined when no series of the arm had two samples in the window. */
  requests: number | undefined;
  /** Failed requests; 0 when the arm served requests and no error series exists (a clean canary has none). */
  errors: number;
  /** The exact queries, for canary.json. */
  queries: { requests: string; errors: string };
  windowSeconds: number;
  at: Date;
}

function windowSeconds(since: Date, at: Date): number {
  const seconds = (at.getTime() - since.getTime()) / 1000;
  if (!(seconds >= 1)) {
    throw new InvalidValueError(
      'canary start (since)',
      since.toISOString(),
      `a time before the evaluation time ${at.toISOString()}`,
    );
  }
  return seconds;
}

export function requestSelector(metrics: TrafficMetrics, arm: Arm, extra: readonly LabelMatcher[] = []): string {
  return selector(metrics.requests, [...metrics.common, ...arm.service, ...arm.matchers, ...extra]);
}

/** The queries counts() runs, exposed so lints and records see exactly what is sent. */
export function countQueries(metrics: TrafficMetrics, arm: Arm, since: Date, at: Date): ArmCounts['queries'] {
  const range = formatDuration(windowSeconds(since, at));
  return {
    requests: `sum(increase(${requestSelector(metrics, arm)}[${range}]))`,
    errors: `sum(increase(${requestSelector(metrics, arm, metrics.errors)}[${range}]))`,
  };
}

/** Requests and errors of one arm from `since` to `at`, from cumulative increase() (real-valued: extrapolated). */
export async function counts(
  client: PrometheusClient,
  metrics: TrafficMetrics,
  arm: Arm,
  since: Date,
  at: Date,
): Promise<ArmCounts> {
  const queries = countQueries(metrics, arm, since, at);
  const [requests, errors] = await Promise.all([
    count(client, queries.requests, at),
    count(client, queries.errors, at),
  ]);
  return {
    requests,
    errors: requests === undefined ? 0 : (errors ?? 0),
    queries,
    windowSeconds: windowSeconds(since, at),
    at,
  };
}

/** One sum(increase()) reading: a number, or undefined when empty; NaN or a negative count is an error. */
async function count(client: PrometheusClient, query: string, at: Date): Promise<number | undefined> {
  const reading = singleReading(await client.instant(query, at), client.server, query);
  if (reading.kind === 'empty') return undefined;
  if (reading.kind === 'nan' || !Number.isFinite(reading.value) || reading.value < 0) {
    throw new PrometheusError(
      client.server,
      query,
      `a count must be a finite non-negative number, got ${reading.kind === 'nan' ? 'NaN' : reading.value}`,
    );
  }
  return reading.value;
}

export interface LatencyCounts {
  /** Requests observed by the histogram (its +Inf bucket). */
  total: number | undefined;
  /** Requests slower than the bound: total minus the bound's bucket. */
  slow: number;
  query: string;
  /**
   * The whole cumulative histogram of the window in seconds, +Inf included, where the source has it: the
   * sequential bands at the bucket bounds (stats/latency.ts) read it.
   */
  buckets?: { le: number; count: number }[];
}

/**
 * Requests slower than `boundSeconds`, which must be one of the histogram's bucket bounds: between bounds,
 * histogram_quantile interpolates and the count would be an estimate (canary.md §3).
 */
export async function latencyCounts(
  client: PrometheusClient,
  metrics: TrafficMetrics,
  arm: Arm,
  boundSeconds: number,
  since: Date,
  at: Date,
): Promise<LatencyCounts> {
  if (metrics.latencyBuckets === undefined) {
    throw new InvalidValueError(
      'metrics for slo-latency',
      metrics.preset,
      'a preset or a metrics file with latency-buckets',
      'it names no latency histogram',
    );
  }
  const buckets = selector(metrics.latencyBuckets, [...metrics.common, ...arm.service, ...arm.matchers]);
  const query = `sum by (le) (increase(${buckets}[${formatDuration(windowSeconds(since, at))}]))`;
  const samples = await client.instant(query, at);
  if (samples.length === 0) return { total: undefined, slow: 0, query };
  const byBound = new Map<number, Sample>();
  for (const sample of samples) {
    // Number() reads "+Inf" as NaN; Prometheus writes the last bucket's bound that way.
    const le = sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
    byBound.set(le * metrics.latencyUnitSeconds, sample);
  }
  const total = byBound.get(Number.POSITIVE_INFINITY)?.value;
  const bound = [...byBound.keys()].find((le) => Math.abs(le - boundSeconds) <= 1e-9 * Math.max(1, boundSeconds));
  if (total === undefined || bound === undefined) {
    const bounds = [...byBound.keys()]
      .sort((a, b) => a - b)
      .map((le) => (le === Number.POSITIVE_INFINITY ? '+Inf' : `${le}s`));
    throw new PrometheusError(
      client.server,
      query,
      `${boundSeconds}s is not a bucket bound of ${metrics.latencyBuckets}${total === undefined ? ' (and it has no +Inf bucket)' : ''}; its bounds are ${bounds.join(', ')}`,
    );
  }
  const within = byBound.get(bound)?.value ?? 0;
  if (Number.isNaN(total) || Number.isNaN(within))
    throw new PrometheusError(client.server, query, 'a bucket count is NaN');
  const histogram = [...byBound.entries()]
    .map(([le, sample]) => ({ le, count: sample.value }))
    .filter((b) => Number.isFinite(b.count))
    .sort((a, b) => a.le - b.le);
  return { total, slow: Math.max(0, total - within), query, buckets: histogram };
}

export type Diagnosis = 'no-match' | 'no-traffic' | 'zero-errors' | 'errors';

export interface Probe {
  diagnosis: Diagnosis;
  /** For people: what matched and what did not. */
  detail: string;
  selector: string;
  /** The series the arm's selector matches between `since` and `at`. */
  series: Labels[];
  /** Series with samples after `since` but none in the lookback before it: their first increment is lost. */
  newSeries: Labels[];
  counts?: ArmCounts;
}

/** Prometheus' default lookback: a series with a sample this long before `since` was alive at `since`. */
const LOOKBACK_MS = 5 * 60 * 1000;

export async function probe(
  client: PrometheusClient,
  metrics: TrafficMetrics,
  arm: Arm,
  since: Date,
  at: Date,
): Promise<Probe> {
  const full = requestSelector(metrics, arm);
  const series = await client.series(full, since, at);
  if (series.length === 0) {
    return {
      diagnosis: 'no-match',
      detail: await whyNoMatch(client, metrics, arm, since, at),
      selector: full,
      series,
      newSeries: [],
    };
  }
  const before = await client.series(full, new Date(since.getTime() - LOOKBACK_MS), since);
  const alive = new Set(before.map(labelKey));
  const newSeries = series.filter((labels) => !alive.has(labelKey(labels)));
  const armCounts = await counts(client, metrics, arm, since, at);
  const base = { selector: full, series, newSeries, counts: armCounts };
  if (armCounts.requests === undefined || armCounts.requests === 0) {
    const samples = armCounts.requests === undefined ? 'fewer than two samples per series' : 'no increase';
    return {
      ...base,
      diagnosis: 'no-traffic',
      detail: `${series.length} series match ${full}, with ${samples} since ${since.toISOString()}: no traffic reached this arm`,
    };
  }
  if (armCounts.errors === 0) {
    return {
      ...base,
      diagnosis: 'zero-errors',
      detail: `${full} served ${round(armCounts.requests)} requests and none failed`,
    };
  }
  return {
    ...base,
    diagnosis: 'errors',
    detail: `${full} served ${round(armCounts.requests)} requests, ${round(armCounts.errors)} failed`,
  };
}

/** Narrows the selector down to say which part matches nothing: the metric, the service or the arm. */
async function whyNoMatch(
  client: PrometheusClient,
  metrics: TrafficMetrics,
  arm: Arm,
  since: Date,
  at: Date,
): Promise<string> {
  const metricOnly = selector(metrics.requests, metrics.common);
  const anyMetric = await client.series(metricOnly, since, at);
  if (anyMetric.length === 0) {
    return `no series of ${metricOnly} exist between ${since.toISOString()} and ${at.toISOString()}: check the metric name or the metrics input '${metrics.preset}'`;
  }
  const serviceOnly = selector(metrics.requests, [...metrics.common, ...arm.service]);
  const ofService = arm.service.length > 0 ? await client.series(serviceOnly, since, at) : anyMetric;
  if (ofService.length === 0)
    return `${metrics.requests} exists, but ${serviceOnly} matches nothing: check the service matcher`;
  const hints = arm.matchers.map((matcher) => {
    const seen = [...new Set(ofService.map((labels) => labels[matcher.name]).filter((v) => v !== undefined))].sort();
    return seen.length === 0
      ? `no series has the label ${matcher.name}`
      : `${matcher.name} takes the values ${seen
          .slice(0, 10)
          .map((v) => JSON.stringify(v))
          .join(', ')}`;
  });
  return `${requestSelector(metrics, arm)} matches nothing among ${ofService.length} series of ${serviceOnly}: ${hints.join('; ')}`;
}

/** A label set's identity, independent of key order. */
export function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}
