import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logBeta, logGamma, logSumExp, softplus } from '../../../../shared/canary/stats/special.js';

describe('logGamma', () => {
  it('matches known values', () => {
    // lnΓ(n) = ln((n−1)!), Γ(1/2) = √π; the others as Python math.lgamma (C libm) gives them
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(2)).toBeCloseTo(0, 13);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(1.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI) / 2), 12);
    expect(logGamma(0.1)).toBeCloseTo(2.252712651734206, 11);
    expect(logGamma(1e-8)).toBeCloseTo(18.420680738180209, 7);
    expect(logGamma(171)).toBeCloseTo(706.5730622457874, 8); // ln(170!), as Python math.lgamma gives
    expect(logGamma(1e6)).toBeCloseTo(12815504.56914761, 3);
  });

  it('satisfies Γ(x+1) = x·Γ(x)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e5, noNaN: true }), (x) => {
        const lhs = logGamma(x + 1);
        const rhs = Math.log(x) + logGamma(x);
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * Math.max(1, Math.abs(lhs)));
      }),
    );
  });

  it('rejects non-positive arguments', () => {
    expect(() => logGamma(0)).toThrow(RangeError);
    expect(() => logGamma(-1)).toThrow(RangeError);
  });
});

describe('logBeta, softplus, logSumExp', () => {
  it('agree with direct computation', () => {
    expect(logBeta(2, 3)).toBeCloseTo(Math.log(1 / 12), 12);
    expect(logBeta(0.5, 0.5)).toBeCloseTo(Math.log(Math.PI), 12);
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(softplus(800)).toBe(800);
    expect(softplus(-800)).toBeGreaterThanOrEqual(0);
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 10);
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
  });

  it('logBeta is symmetric', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        (a, b) => {
          expect(logBeta(a, b)).toBeCloseTo(logBeta(b, a), 6);
        },
      ),
    );
  });
});
