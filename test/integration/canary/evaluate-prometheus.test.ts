import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CanaryPlan, type ExposureSegment, evaluate } from '../../../shared/canary/evaluate.js';
import { readMetrics } from '../../../shared/canary/metrics-file.js';
import { preset } from '../../../shared/canary/presets.js';
import { PrometheusClient, PrometheusError } from '../../../shared/canary/prometheus.js';
import { lintPlan, prometheusSource } from '../../../shared/canary/prometheus-source.js';
import { parseMatchers } from '../../../shared/canary/promql.js';
import { type Arm, evaluationTime } from '../../../shared/canary/traffic.js';
import { ConfigurationError } from '../../../shared/core/errors.js';
import {
  canaryScenarios,
  expected,
  SCRAPE_SECONDS,
  startPrometheus,
  stepTime,
  type TestPrometheus,
} from '../../support/prometheus.js';

// evaluate() on a real Prometheus 2.42 through prometheusSource, over backfilled scenarios whose answer is known
// (canaryScenarios: one `service` label value each, one server for all). Every evaluation runs at a scenario
// time, never at wall-clock now. The canary has served 25 % of requests since `since`, the third of the steps
// 1,5,25,100: the last step below 100, where promote is decided.

const STEPS = 120; // 30 minutes of 15 s scrapes
// Ten minutes before the last full minute: recent, and safely in the past.
const start = Math.floor(Date.now() / 60_000) * 60 - 10 * 60 - STEPS * SCRAPE_SECONDS;
const { scenario, arms } = canaryScenarios(start, STEPS);
const since = stepTime(scenario, 0);
const end = stepTime(scenario, STEPS);
const at = (step: number) => stepTime(scenario, step);
const segments: ExposureSegment[] = [{ weight: 25, start: since }];
const arm = (service: string, version: string): Arm => ({
  service: parseMatchers(`service="${service}"`),
  matchers: parseMatchers(`version="${version}"`),
});
const plan = (service: string, overrides: Partial<CanaryPlan> = {}): CanaryPlan => ({
  metrics: preset('http'),
  canary: arm(service, 'canary'),
  baseline: arm(service, 'stable'),
  sloLatencySeconds: 0.5,
  steps: [1, 5, 25, 100],
  alpha: 0.05,
  tolerance: 1,
  minStepSeconds: 60,
  deadlineSeconds: 3600,
  scrapeIntervalSeconds: SCRAPE_SECONDS,
  since,
  ...overrides,
});
/** Exact to float rounding: `since` and the evaluation times fall on samples, so increase() does not extrapolate. */
const exact = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, want));

let server: TestPrometheus;
let client: PrometheusClient;
const source = () => prometheusSource(client, preset('http'));

beforeAll(async () => {
  server = await startPrometheus(scenario);
  client = new PrometheusClient({ url: server.url });
});

afterAll(async () => {
  await server?.stop();
});

describe('decisions whose answer the scenario fixes', () => {
  it('a healthy canary is promoted at the last step below 100, non-inferiority shown on errors and latency', async () => {
    const e = await evaluate(source(), plan('healthy'), segments, end);
    expect(e.step).toBe(2);
    expect(e.weight).toBe(25);
    expect(e.decision.decision).toBe('promote');
    expect(e.decision.reasons.map((r) => r.code)).toContain('NON_INFERIORITY_SHOWN');
    expect(e.metrics.map((m) => m.name)).toEqual(['errors', 'latency']);
    expect(e.latencyBands?.regression).toBe(false);
    for (const m of e.metrics) {
      expect(m.nonInferiority.shown).toBe(true);
      expect(m.harm.shown).toBe(false);
      expect(m.confidence.upper).toBeLessThan(m.nonInferiority.margin);
    }
    const truth = expected(arms.healthy?.[1] ?? fail(), 0, STEPS);
    exact(e.canaryRequests, truth.requests);
    exact(e.metrics[0]?.canary.bad ?? Number.NaN, truth.errors);
    exact(e.metrics[1]?.canary.bad ?? Number.NaN, truth.slow);
    expect(e.excessBadRequests).toBeLessThan(1);
    expect(e.diagnosis).toBeUndefined();
    expect(e.lints).toEqual([]);
  });

  it('a 2x error regression is rolled back on errors, with the excess errors it caused', async () => {
    const e = await evaluate(source(), plan('errors2x'), segments, end);
    expect(e.decision.decision).toBe('rollback');
    const harm = e.decision.reasons.filter((r) => r.code === 'HARM');
    expect(harm.map((r) => r.metric)).toEqual(['errors']);
    const [errors, latency] = e.metrics;
    expect(errors?.observedRatio).toBeCloseTo(2, 9);
    expect(errors?.confidence.lower).toBeGreaterThan(1);
    expect(latency?.harm.shown).toBe(false);
    // 10 errors per step where the baseline's 1 % predicts 5.
    exact(e.excessBadRequests, 5 * STEPS);
  });

  it('a tail latency regression at the 0.5 s bucket bound is rolled back on latency, not errors', async () => {
    const e = await evaluate(source(), plan('tail'), segments, end);
    expect(e.decision.decision).toBe('rollback');
    expect(e.decision.reasons.filter((r) => r.code === 'HARM').map((r) => r.metric)).toEqual(['latency']);
    const latency = e.metrics.find((m) => m.name === 'latency');
    exact(latency?.canary.bad ?? Number.NaN, 25 * STEPS);
    exact(latency?.baseline.bad ?? Number.NaN, 30 * STEPS);
    expect(latency?.observedRatio).toBeCloseTo(2.5, 9);
    expect(e.metrics.find((m) => m.name === 'errors')?.harm.shown).toBe(false);
    // The bands read the same histograms at every finite bound; the share within 0.5 s is the slow count's
    // complement, so the two views of one distribution agree.
    const bands = e.latencyBands;
    expect(bands?.points.map((p) => p.le)).toEqual([0.05, 0.1, 0.25, 0.5, 1]);
    const at05 = bands?.points.find((p) => p.le === 0.5);
    expect(at05?.canary.cdf).toBeCloseTo(1 - (latency?.canary.bad ?? 0) / (latency?.canary.requests ?? 1), 9);
    expect(at05?.baseline.cdf).toBeCloseTo(1 - (latency?.baseline.bad ?? 0) / (latency?.baseline.requests ?? 1), 9);
    // 95 % of canary requests within 0.1 s against 98 % of the baseline's, at these counts: shown slower.
    expect(bands?.regression).toBe(true);
    expect(bands?.regressionAt).toBe(0.1);
    // Without slo-latency the same canary is not rolled back: the regression is in the tail only.
    const errorsOnly = await evaluate(source(), plan('tail', { sloLatencySeconds: undefined }), segments, end);
    expect(errorsOnly.decision.decision).not.toBe('rollback');
  });

  it('no traffic in either arm is inconclusive with NO_TRAFFIC past the grace period, held before it', async () => {
    const e = await evaluate(source(), plan('silent'), segments, end);
    expect(e.diagnosis).toBe('no-traffic');
    expect(e.decision.decision).toBe('inconclusive');
    expect(e.decision.reasons.map((r) => r.code)).toEqual(['NO_TRAFFIC']);
    expect(e.decision.reasons[0]?.message).toMatch(/no traffic reached this arm/);
    expect(e.probes?.canary.diagnosis).toBe('no-traffic');
    // Within max(4 scrapes, min-step-duration) of the start, no traffic yet is not a finding: hold the step.
    const early = await evaluate(source(), plan('silent'), segments, at(2));
    expect(early.decision.decision).toBe('continue');
    expect(early.decision.nextStep).toBe(2);
    expect(early.decision.reasons.map((r) => r.code)).toEqual(['NO_TRAFFIC']);
  });

  it('no traffic to the canary alone is inconclusive with NO_TRAFFIC, naming the canary, past the grace', async () => {
    const e = await evaluate(source(), plan('idle'), segments, end);
    expect(e.probes?.canary.diagnosis).toBe('no-traffic');
    expect(e.diagnosis).toBe('no-canary-traffic');
    expect(e.canaryRequests).toBe(0);
    expect(e.decision.decision).toBe('inconclusive');
    expect(e.decision.reasons.map((r) => r.code)).toEqual(['NO_TRAFFIC']);
    expect(e.decision.reasons[0]?.message).toMatch(
      /^the canary served no request .* routing does not reach the canary$/,
    );
    // Within the grace, a canary not yet scraped is held, not judged.
    const early = await evaluate(source(), plan('idle'), segments, at(2));
    expect(early.decision.decision).toBe('continue');
  });
});

describe('a selector that matches nothing fails fast, naming the input and the part that matched nothing', () => {
  it('the canary matcher: names the values the label takes', async () => {
    const wrong = plan('healthy', { canary: arm('healthy', 'canery') });
    const error = await evaluate(source(), wrong, segments, end).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe('canary');
    expect((error as Error).message).toMatch(/version takes the values "canary", "stable"/);
  });

  it('the baseline matcher', async () => {
    const wrong = plan('healthy', { baseline: arm('healthy', 'stabel') });
    const error = await evaluate(source(), wrong, segments, end).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe('baseline');
    expect((error as Error).message).toContain('http_requests_total{service="healthy",version="stabel"}');
  });

  it('the service matcher: both arms match nothing', async () => {
    const wrong = plan('healthy', { canary: arm('helthy', 'canary'), baseline: arm('helthy', 'stable') });
    const error = await evaluate(source(), wrong, segments, end).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe('service');
    expect((error as Error).message).toMatch(
      /http_requests_total\{service="helthy"\} matches nothing: check the service matcher/,
    );
  });
});

describe('a metrics file', () => {
  it('is read like a preset; a metric it names that does not exist fails on the metrics input', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'slipway-metrics-'));
    try {
      writeFileSync(join(workspace, 'ours.yaml'), 'requests: http_requests_total\nerrors: code=~"50."\n');
      writeFileSync(join(workspace, 'typo.yaml'), 'requests: http_request_total\nerrors: code=~"5.."\n');
      const ours = readMetrics('ours.yaml', workspace);
      const read = await evaluate(
        prometheusSource(client, ours),
        plan('errors2x', { metrics: ours, sloLatencySeconds: undefined }),
        segments,
        end,
      );
      expect(read.decision.decision).toBe('rollback');
      expect(read.metrics[0]?.segments[0]?.queries.canary[1]).toBe(
        'sum(increase(http_requests_total{service="errors2x",version="canary",code=~"50."}[1800s]))',
      );
      // Without a service matcher, both arms matching nothing is the metric's fault.
      const typo = readMetrics('typo.yaml', workspace);
      const noService = (version: string): Arm => ({ service: [], matchers: parseMatchers(`version="${version}"`) });
      const wrong = plan('errors2x', {
        metrics: typo,
        canary: noService('canary'),
        baseline: noService('stable'),
        sloLatencySeconds: undefined,
      });
      const error = await evaluate(prometheusSource(client, typo), wrong, segments, end).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).input).toBe('metrics');
      expect((error as Error).message).toMatch(
        /no series of http_request_total exist between .*: check the metric name or the metrics input 'typo\.yaml'/,
      );
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});

describe('NaN and empty results', () => {
  it('an empty error series with traffic is zero errors, and such a canary is promoted', async () => {
    const e = await evaluate(source(), plan('clean'), segments, end);
    expect(e.probes?.canary.diagnosis).toBe('zero-errors');
    expect(e.metrics[0]?.canary.bad).toBe(0);
    exact(e.canaryRequests, 500 * STEPS);
    expect(e.decision.decision).toBe('promote');
  });

  it('a NaN reading is an error naming the server and the query', async () => {
    // Before the NaN sample (the last) the arm reads normally.
    const before = await evaluate(source(), plan('nan'), segments, at(STEPS - 1));
    expect(before.canaryRequests).toBeGreaterThan(0);
    const error = await evaluate(source(), plan('nan'), segments, end).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PrometheusError);
    expect((error as Error).message).toContain(
      `Prometheus ${server.url} failed on "sum(increase(http_requests_total{service=\\"nan\\",version=\\"canary\\"}[1800s]))"`,
    );
    expect((error as Error).message).toMatch(/a count must be a finite non-negative number, got NaN/);
  });
});

describe('stateless evaluation', () => {
  it('mode once at two times decides as the loop does at the second', async () => {
    // The 2x-error canary's harm crosses its threshold between the 3rd and the 4th scrape after the start.
    const times = [2, 3, 4, 8, 16, 32].map(at);
    // The loop: one source, evaluating at every interval in turn.
    const loopSource = source();
    const loop = [];
    for (const time of times) loop.push(await evaluate(loopSource, plan('errors2x'), segments, time));
    // A scheduled `once` run: a fresh client each time, at two of those times only.
    const once = async (time: Date) =>
      evaluate(
        prometheusSource(new PrometheusClient({ url: server.url }), preset('http')),
        plan('errors2x'),
        segments,
        time,
      );
    const first = await once(times[1] as Date);
    const second = await once(times[3] as Date);
    expect(first.decision).toEqual(loop[1]?.decision);
    expect(second.decision).toEqual(loop[3]?.decision);
    expect(second.metrics).toEqual(loop[3]?.metrics);
    // The decision does change between the two times: the once run follows it.
    expect(first.decision.decision).toBe('continue');
    expect(second.decision.decision).toBe('rollback');
    expect(loop.map((e) => e.decision.decision)).toEqual([
      'continue',
      'continue',
      'rollback',
      'rollback',
      'rollback',
      'rollback',
    ]);
  });

  it('evaluates at now - 2 scrape intervals, where the last scrapes have landed', async () => {
    // The scenario's last sample is at `end`; at wall-clock `now` the two scrapes after it have not landed yet.
    const now = new Date(end.getTime() + 2 * SCRAPE_SECONDS * 1000);
    const when = evaluationTime(now, SCRAPE_SECONDS);
    expect(when).toEqual(end);
    const e = await evaluate(source(), plan('healthy'), segments, when);
    exact(e.canaryRequests, 500 * STEPS);
    // At now itself, increase() extrapolates past the last sample: counts that were never served.
    const atNow = await evaluate(source(), plan('healthy'), segments, now);
    expect(Math.abs(atNow.canaryRequests - 500 * STEPS)).toBeGreaterThan(1);
  });
});

describe('lintPlan', () => {
  it('finds nothing on a sound plan, and short windows, overlapping arms and late series where they are', async () => {
    const src = source();
    const sound = plan('healthy');
    const probes = async (p: CanaryPlan, time: Date) => ({
      canary: await src.probe(p.canary, p.since, time),
      baseline: await src.probe(p.baseline, p.since, time),
    });
    expect(lintPlan(sound, await probes(sound, end), end)).toEqual([]);
    // Three scrapes after the start the window is shorter than four.
    expect(lintPlan(sound, await probes(sound, at(3)), at(3)).map((f) => f.code)).toEqual(['short-window']);
    const loose = plan('healthy', {
      baseline: { ...arm('healthy', 'stable'), matchers: parseMatchers('version=~".+"') },
    });
    const overlap = lintPlan(loose, await probes(loose, end), end);
    expect(overlap.map((f) => [f.code, f.severity])).toEqual([['overlapping-arms', 'error']]);
    const late = plan('late');
    const lateFindings = lintPlan(late, await probes(late, end), end);
    expect(lateFindings.map((f) => f.code)).toEqual(['series-after-since']);
    expect(lateFindings[0]?.message).toContain('version="canary"');
  });
});

function fail(): never {
  throw new Error('scenario missing');
}
