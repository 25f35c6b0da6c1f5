import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineEvidence } from '../../../../shared/canary/stats/combine.js';

describe('combineEvidence (weighted Bonferroni on e-values)', () => {
  it('rejects a metric only at m/alpha', () => {
    const ln = Math.log;
    const out = combineEvidence(
      [
        { name: 'errors', logE: ln(45) },
        { name: 'latency', logE: ln(30) },
      ],
      0.05,
    );
    expect(out.rejected).toEqual(['errors']);
    expect(out.perMetric[1]!.threshold).toBeCloseTo(ln(40), 12);
  });

  it('gives a critical metric more of alpha through its weight', () => {
    const out = combineEvidence(
      [
        { name: 'errors', logE: Math.log(25), weight: 0.8 },
        { name: 'latency', logE: Math.log(25), weight: 0.2 },
      ],
      0.05,
    );
    expect(out.rejected).toEqual(['errors']);
  });

  it('never rejects more than each metric alone would, and the mean e-value is a weighted mean', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 6 }), (logs) => {
        const out = combineEvidence(
          logs.map((logE, i) => ({ name: `m${i}`, logE })),
          0.05,
        );
        for (const p of out.perMetric) if (p.rejected) expect(p.logE).toBeGreaterThanOrEqual(Math.log(20));
        const mean = logs.reduce((s, l) => s + Math.exp(l), 0) / logs.length;
        expect(out.logMeanE).toBeCloseTo(Math.log(mean), 8);
      }),
    );
  });

  it('rejects weights that do not sum to one or are partly given', () => {
    expect(() => combineEvidence([{ name: 'a', logE: 0, weight: 0.5 }], 0.05)).toThrow(/summing to 1/);
    expect(() =>
      combineEvidence(
        [
          { name: 'a', logE: 0, weight: 1 },
          { name: 'b', logE: 0 },
        ],
        0.05,
      ),
    ).toThrow(/every metric/);
  });
});
