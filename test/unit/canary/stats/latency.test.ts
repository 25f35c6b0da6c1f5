import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Histogram,
  latencyBands,
  lilRadius,
  slowCounts,
  slowEvidence,
} from '../../../../shared/canary/stats/latency.js';
import { InvalidValueError } from '../../../../shared/core/errors.js';

const BOUNDS = [0.1, 0.25, 0.5, 1, 2.5, Number.POSITIVE_INFINITY];
const hist = (counts: number[]): Histogram => ({ buckets: BOUNDS.map((le, i) => ({ le, count: counts[i]! })) });

describe('lilRadius (Howard–Ramdas Theorem 2)', () => {
  it("matches confseq's empirical_process_lil_bound(1000, 0.05, 100) = 0.08204769", () => {
    expect(lilRadius(1000, 0.05, 100)).toBeCloseTo(0.08204769, 5);
  });

  it('is infinite before t_min, shrinks with t and widens as alpha falls', () => {
    expect(lilRadius(50, 0.05, 100)).toBe(Number.POSITIVE_INFINITY);
    expect(lilRadius(0, 0.05)).toBe(Number.POSITIVE_INFINITY);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e7 }), (t) => {
        expect(lilRadius(t * 2, 0.05)).toBeLessThan(lilRadius(t, 0.05));
        expect(lilRadius(t, 0.01)).toBeGreaterThan(lilRadius(t, 0.05));
      }),
    );
  });
});

describe('slow fraction', () => {
  it('counts requests above the SLO bucket', () => {
    expect(slowCounts('canary', hist([10, 50, 90, 98, 100, 100]), 0.5)).toEqual({ errors: 10, requests: 100 });
    // the bound matches after a float round trip through a label
    expect(slowCounts('canary', hist([10, 50, 90, 98, 100, 100]), Number.parseFloat('0.25'))).toEqual({
      errors: 50,
      requests: 100,
    });
  });

  it('rejects an SLO that is not a bucket bound, listing the bounds', () => {
    expect(() => slowCounts('canary', hist([10, 50, 90, 98, 100, 100]), 0.3)).toThrow(InvalidValueError);
    expect(() => slowCounts('canary', hist([10, 50, 90, 98, 100, 100]), 0.3)).toThrow(/0\.1s, 0\.25s, 0\.5s/);
  });

  it('rejects histograms without +Inf or with decreasing counts', () => {
    expect(() => slowCounts('canary', { buckets: [{ le: 0.5, count: 3 }] }, 0.5)).toThrow(/\+Inf/);
    expect(() => slowCounts('canary', hist([10, 5, 90, 98, 100, 100]), 0.5)).toThrow(/cumulative/);
  });

  it('feeds the count test: a tail regression is evidence, equal tails are not', () => {
    const baseline = hist([20_000, 60_000, 95_000, 99_000, 100_000, 100_000]); // 5 % slower than 0.5 s
    const same = hist([2000, 6000, 9500, 9900, 10_000, 10_000]);
    const tail = hist([2000, 6000, 8800, 9500, 10_000, 10_000]); // 12 % slower than 0.5 s
    expect(slowEvidence({ canary: same, baseline }, { slo: 0.5 }).rollback(0.05)).toBe(false);
    expect(slowEvidence({ canary: tail, baseline }, { slo: 0.5 }).rollback(0.05)).toBe(true);
  });
});

describe('latencyBands', () => {
  it('shows a shifted canary slower at the bound where the CDFs part, not an equal one', () => {
    const baseline = hist([20_000, 60_000, 95_000, 99_000, 100_000, 100_000]);
    const equal = hist([2000, 6000, 9500, 9900, 10_000, 10_000]);
    const shifted = hist([500, 3000, 8000, 9600, 10_000, 10_000]);
    expect(latencyBands({ canary: equal, baseline }, { alpha: 0.05 }).regression).toBe(false);
    const bands = latencyBands({ canary: shifted, baseline }, { alpha: 0.05 });
    expect(bands.regression).toBe(true);
    expect(bands.regressionAt).toBe(0.25);
    expect(bands.points).toHaveLength(5);
  });

  it('a faster canary is never a regression, and no data decides nothing', () => {
    const baseline = hist([2000, 6000, 9500, 9900, 10_000, 10_000]);
    const faster = hist([9000, 9900, 10_000, 10_000, 10_000, 10_000]);
    expect(latencyBands({ canary: faster, baseline }, { alpha: 0.05 }).regression).toBe(false);
    expect(latencyBands({ canary: hist([0, 0, 0, 0, 0, 0]), baseline }, { alpha: 0.05 }).regression).toBe(false);
  });
});
