import { describe, expect, it } from 'vitest';
import { canarySummary, evidenceChart } from '../../../shared/canary/summary.js';
import type { CanaryResult } from '../../../shared/records/canary.js';

// The step summary from canary.json: the decision line, the per-metric table with its numbers, the evidence
// chart with the threshold line, the queries folded, and user text that stays text.

const at = (m: number) => new Date(Date.parse('2026-03-01T10:00:00Z') + m * 60_000).toISOString();

function record(over: Partial<CanaryResult> = {}): CanaryResult {
  const threshold = Math.log(2 / 0.05);
  return {
    decision: 'rollback',
    service: 'api',
    environment: 'prod',
    step: -1,
    weight: 0,
    steps: [1, 5, 25, 100],
    reasons: [{ code: 'HARM', metric: 'errors', message: 'errors: worse by more than 1× (observed 2×)' }],
    source: 'http://127.0.0.1:9090',
    mode: 'once',
    settings: {
      alpha: 0.05,
      tolerance: 1,
      promoteMargin: 1.2,
      minStepSeconds: 300,
      warmupSeconds: 0,
      deadlineSeconds: 1800,
      scrapeIntervalSeconds: 15,
      intervalSeconds: 60,
      metrics: 'http',
      canary: 'version="canary"',
      baseline: 'version="stable"',
    },
    timeRange: { since: at(0), at: at(12), deadline: at(30) },
    metrics: [
      {
        name: 'errors',
        canary: { requests: 7200, bad: 72 },
        baseline: { requests: 232_800, bad: 1164 },
        observedRatio: 2,
        confidence: { lower: 1.31, upper: 2.9, level: 0.95 },
        harm: { logE: 5.2, threshold, shown: true, tolerance: 1 },
        nonInferiority: { logE: -3, threshold: Math.log(20), shown: false, margin: 1.2 },
        detectableRatio: 1.6,
        excessBad: 36,
        segments: [
          {
            weight: 5,
            from: at(0),
            to: at(12),
            canary: { requests: 7200, bad: 72 },
            baseline: { requests: 232_800, bad: 1164 },
            queries: {
              canary: ['sum(increase(http_requests_total{version="canary"}[720s]))'],
              baseline: ['sum(increase(http_requests_total{version="stable"}[720s]))'],
            },
          },
        ],
      },
    ],
    canaryRequests: 7200,
    baselineRequests: 232_800,
    excessErrors: 36,
    detectable: {
      secondsLeft: 1080,
      canaryRps: 10,
      baselineRps: 190,
      perMetric: [{ name: 'errors', ratio: 1.6 }],
      text: 'at exposure 5%, it can detect errors ≥ 1.6×',
    },
    evaluations: [4, 8, 12].map((m, i) => ({
      at: at(m),
      weight: 5,
      decision: i === 2 ? 'rollback' : 'continue',
      metrics: [{ name: 'errors', logE: [0.5, 2.25, 5.2][i]!, threshold }],
    })),
    exposure: {
      store: 'in memory',
      changes: [{ at: at(12), weight: 0, reason: 'rollback: errors', changed: true }],
      rollback: { commits: [] },
    },
    lints: [],
    timestamps: { started: at(12), finished: at(12) },
    ...over,
  };
}

describe('canarySummary', () => {
  it('states the decision, the numbers per metric and the blast radius', () => {
    const md = canarySummary(record());
    expect(md).toContain('### Canary: **rollback** at 5%, now not started (0%)');
    expect(md).toContain('7,200 canary requests served, estimated excess errors 36');
    expect(md).toContain('- `HARM` errors\\: worse by more than 1× \\(observed 2×\\)');
    // The table row: baseline rate 1164/232800 = 0.5 %, ratio 2×, bounds, e-values e^5.2 ≈ 181 against 40.
    expect(md).toContain(
      '| errors | 7,200 | 72 | 0.5% | 2× | 1.31× – 2.9× (95%) | 181 (40) **shown** | 0.0498 (20), margin 1.2× | ≥ 1.6× | 36 |',
    );
  });

  it('charts ln e-value per metric with the rollback threshold as a second line', () => {
    const chart = evidenceChart(record().evaluations, at(0))!;
    expect(chart).toContain('```mermaid\nxychart-beta');
    expect(chart).toContain('x-axis ["+4m", "+8m", "+12m"]');
    expect(chart).toContain('line [0.5, 2.25, 5.2]');
    expect(chart).toContain(
      `line [${Array(3)
        .fill(Number(Math.log(40).toFixed(2)))
        .join(', ')}]`,
    );
    // y from min(0, values) to max(values): [0, 5.2] padded by 10 %.
    expect(chart).toContain('y-axis "ln e-value" -1 --> 6');
    expect(evidenceChart(record().evaluations.slice(0, 1), at(0))).toBeUndefined();
  });

  it('folds the exact queries and the time range', () => {
    const md = canarySummary(record());
    expect(md).toMatch(/<details><summary>Queries and time range<\/summary>\n\n```\nsince 2026-03-01T10:00:00.000Z/);
    expect(md).toContain('sum(increase(http_requests_total{version="canary"}[720s]))');
    expect(md.trimEnd().endsWith('</details>')).toBe(true);
  });

  it('keeps user text as text: reasons escaped, a hostile query cannot close the fence', () => {
    const hostile = 'sum(x{version="````\n</details><img src=x onerror=alert(1)>"})';
    const r = record({
      reasons: [{ code: 'HARM', message: 'a | b <script>alert(1)</script> @octocat' }],
    });
    r.metrics[0]!.segments[0]!.queries.canary = [hostile];
    const md = canarySummary(r);
    expect(md).not.toContain('<script>');
    expect(md).toContain('&lt;script&gt;');
    expect(md).toContain('a &#124; b');
    // The fence is longer than the query's run of four backticks.
    expect(md).toContain('`````\nsince');
    const fenceAt = md.indexOf('`````\nsince');
    const closing = md.indexOf('\n`````\n', fenceAt + 5);
    expect(md.indexOf('<img')).toBeGreaterThan(fenceAt);
    expect(md.indexOf('<img')).toBeLessThan(closing);
  });
});
