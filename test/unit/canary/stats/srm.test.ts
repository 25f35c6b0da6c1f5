import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleRatioEvidence } from '../../../../shared/canary/stats/srm.js';
import { poisson, seeded } from './simulate.js';

describe('sampleRatioEvidence', () => {
  it('finds no mismatch when the split matches the weight', () => {
    expect(sampleRatioEvidence([{ canaryRequests: 5000, baselineRequests: 95_000, weight: 0.05 }]).mismatch(0.05)).toBe(
      false,
    );
  });

  it('finds a canary getting 3 % of a 5 % step, and a stray request at 0 %', () => {
    expect(sampleRatioEvidence([{ canaryRequests: 3000, baselineRequests: 97_000, weight: 0.05 }]).mismatch(0.05)).toBe(
      true,
    );
    expect(sampleRatioEvidence([{ canaryRequests: 1, baselineRequests: 100, weight: 0 }]).mismatch(0.05)).toBe(true);
    expect(sampleRatioEvidence([{ canaryRequests: 0, baselineRequests: 100, weight: 0 }]).logE).toBe(0);
  });

  it('accepts a deviation within allowedDeviation', () => {
    const segment = { canaryRequests: 5400, baselineRequests: 94_600, weight: 0.05 };
    expect(sampleRatioEvidence([segment]).mismatch(0.05)).toBe(true);
    expect(sampleRatioEvidence([segment], { allowedDeviation: 0.1 }).mismatch(0.05)).toBe(false);
  });

  it('false mismatch ≤ alpha under a correct split, checked at every one of 200 looks', () => {
    const random = seeded(11);
    let flagged = 0;
    for (let run = 0; run < 300; run++) {
      const a = { c: 0, b: 0 };
      const b = { c: 0, b: 0 };
      for (let look = 1; look <= 200; look++) {
        const step = look <= 100 ? a : b;
        const weight = look <= 100 ? 0.05 : 0.25;
        step.c += poisson(random, 20 * weight);
        step.b += poisson(random, 20 * (1 - weight));
        const segments = [{ canaryRequests: a.c, baselineRequests: a.b, weight: 0.05 }];
        if (look > 100) segments.push({ canaryRequests: b.c, baselineRequests: b.b, weight: 0.25 });
        if (sampleRatioEvidence(segments).mismatch(0.05)) {
          flagged++;
          break;
        }
      }
    }
    console.log('SRM false mismatch rate:', flagged / 300);
    expect(flagged / 300).toBeLessThanOrEqual(0.05);
  });

  it('is symmetric in swapping the arms and the weight', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (c, b, w) => {
          const one = sampleRatioEvidence([{ canaryRequests: c, baselineRequests: b, weight: w }]).logE;
          const other = sampleRatioEvidence([{ canaryRequests: b, baselineRequests: c, weight: 1 - w }]).logE;
          expect(one).toBeCloseTo(other, 6);
        },
      ),
    );
  });

  it('rejects a weight given as a percentage', () => {
    expect(() => sampleRatioEvidence([{ canaryRequests: 1, baselineRequests: 1, weight: 5 }])).toThrow(
      /share in \[0, 1\]/,
    );
  });
});
