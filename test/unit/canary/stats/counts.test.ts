import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { betaMixtureLogE } from '../../../../shared/canary/stats/beta-mixture.js';
import { type CountPair, errorEvidence, nonInferiorityEvidence } from '../../../../shared/canary/stats/counts.js';
import { InvalidValueError } from '../../../../shared/core/errors.js';
import { poisson, seeded } from './simulate.js';

const pair = (ce: number, cr: number, be: number, br: number): CountPair => ({
  canary: { errors: ce, requests: cr },
  baseline: { errors: be, requests: br },
});

const counts = fc
  .record({
    cr: fc.integer({ min: 1, max: 100_000 }),
    br: fc.integer({ min: 1, max: 1_000_000 }),
    cf: fc.double({ min: 0, max: 0.2, noNaN: true }),
    bf: fc.double({ min: 0, max: 0.2, noNaN: true }),
  })
  .map(({ cr, br, cf, bf }) => pair(Math.round(cr * cf), cr, Math.round(br * bf), br));

interface SimResult {
  rate: number;
  medianLook: number | undefined;
}

/**
 * Runs `runs` canaries of `looks` looks each; per look 1000 requests split by `share(look)`, baseline
 * error rate 0.5 % (×5 during a common-mode incident at looks 51–70), canary rate × `ratio`. Each
 * exposure step is one segment. Rolls back at the first look where the e-value reaches 1/α.
 */
function simulate(opts: {
  ratio: number;
  tolerance: number;
  seed: number;
  runs: number;
  looks: number;
  share: (look: number) => number;
}): SimResult {
  const random = seeded(opts.seed);
  let rejected = 0;
  const at: number[] = [];
  for (let r = 0; r < opts.runs; r++) {
    const segments = new Map<number, { ce: number; cr: number; be: number; br: number }>();
    for (let look = 1; look <= opts.looks; look++) {
      const share = opts.share(look);
      const p = 0.005 * (look > 50 && look <= 70 ? 5 : 1);
      const s = segments.get(share) ?? { ce: 0, cr: 0, be: 0, br: 0 };
      s.cr += 1000 * share;
      s.br += 1000 * (1 - share);
      s.ce += poisson(random, 1000 * share * p * opts.ratio);
      s.be += poisson(random, 1000 * (1 - share) * p);
      segments.set(share, s);
      const list = [...segments.values()].map((x) => pair(x.ce, x.cr, x.be, x.br));
      if (errorEvidence(list, { tolerance: opts.tolerance }).rollback(0.05)) {
        rejected++;
        at.push(look);
        break;
      }
    }
  }
  at.sort((a, b) => a - b);
  return { rate: rejected / opts.runs, medianLook: at[at.length >> 1] };
}

const steps = (look: number) => (look <= 60 ? 0.01 : look <= 120 ? 0.05 : 0.25);
const fivePercent = () => 0.05;

describe('errorEvidence: anytime validity (seeded simulation, 200 looks each)', () => {
  it('false rollback ≤ alpha at the null, looking every time, through a common-mode incident', () => {
    const result = simulate({ ratio: 1, tolerance: 1, seed: 1, runs: 400, looks: 200, share: fivePercent });
    console.log('null, 5 %:', result);
    expect(result.rate).toBeLessThanOrEqual(0.05);
  });

  it('false rollback ≤ alpha at the tolerance boundary, with steps 1 % → 5 % → 25 %', () => {
    const result = simulate({ ratio: 1.2, tolerance: 1.2, seed: 2, runs: 300, looks: 200, share: steps });
    console.log('null at tolerance 1.2, steps:', result);
    expect(result.rate).toBeLessThanOrEqual(0.05);
  });

  it('detects a 2x regression at 5 % with high probability', () => {
    const result = simulate({ ratio: 2, tolerance: 1, seed: 3, runs: 400, looks: 200, share: fivePercent });
    console.log('2x, 5 %:', result);
    expect(result.rate).toBeGreaterThanOrEqual(0.95);
  });

  it('detects a 2x regression through the steps, evidence carried across them', () => {
    const result = simulate({ ratio: 2, tolerance: 1, seed: 4, runs: 200, looks: 200, share: steps });
    console.log('2x, steps:', result);
    expect(result.rate).toBeGreaterThanOrEqual(0.95);
  });
});

describe('errorEvidence: properties', () => {
  it('is a non-negative finite e-value', () => {
    fc.assert(
      fc.property(counts, (c) => {
        const e = errorEvidence(c);
        expect(e.eValue).toBeGreaterThanOrEqual(0);
        expect(Number.isNaN(e.logE)).toBe(false);
      }),
    );
  });

  it('symmetric inputs give no evidence', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 1000 }), (errors, scale) => {
        const requests = errors * scale + 1;
        const e = errorEvidence(pair(errors, requests, errors, requests));
        expect(e.eValue).toBeLessThanOrEqual(1);
        expect(e.rollback(0.05)).toBe(false);
      }),
    );
  });

  it('grows with canary errors and falls with baseline errors', () => {
    fc.assert(
      fc.property(counts, fc.integer({ min: 1, max: 50 }), (c, more) => {
        const base = errorEvidence(c).logE;
        if (c.canary.errors + more <= c.canary.requests) {
          const worse = pair(c.canary.errors + more, c.canary.requests, c.baseline.errors, c.baseline.requests);
          expect(errorEvidence(worse).logE).toBeGreaterThanOrEqual(base - 1e-9);
        }
        if (c.baseline.errors + more <= c.baseline.requests) {
          const better = pair(c.canary.errors, c.canary.requests, c.baseline.errors + more, c.baseline.requests);
          expect(errorEvidence(better).logE).toBeLessThanOrEqual(base + 1e-9);
        }
      }),
    );
  });

  it('falls as the tolerance rises', () => {
    fc.assert(
      fc.property(counts, fc.double({ min: 1, max: 3, noNaN: true }), (c, tolerance) => {
        expect(errorEvidence(c, { tolerance: tolerance * 1.1 }).logE).toBeLessThanOrEqual(
          errorEvidence(c, { tolerance }).logE + 1e-9,
        );
      }),
    );
  });

  it('the confidence sequence contains the ratio where no evidence is shown', () => {
    const e = errorEvidence(pair(60, 10_000, 500, 100_000));
    const { lower, upper } = e.confidence(0.05);
    expect(lower).toBeLessThan(1.2);
    expect(upper).toBeGreaterThan(1.2);
    expect(lower).toBeGreaterThan(0.5);
    expect(upper).toBeLessThan(2.5);
    // the lower bound is above the tolerance exactly when rollback is signalled
    const bad = errorEvidence(pair(150, 10_000, 500, 100_000));
    expect(bad.rollback(0.05)).toBe(true);
    expect(bad.confidence(0.05).lower).toBeGreaterThan(1);
  });

  it('no traffic in an arm carries no evidence', () => {
    expect(errorEvidence(pair(0, 0, 50, 1000)).logE).toBe(0);
    expect(errorEvidence([]).logE).toBe(0);
    expect(Number.isNaN(errorEvidence(pair(0, 0, 50, 1000)).observedRatio)).toBe(true);
  });

  it('rejects impossible counts naming them', () => {
    expect(() => errorEvidence(pair(11, 10, 0, 10))).toThrow(InvalidValueError);
    expect(() => errorEvidence(pair(11, 10, 0, 10))).toThrow(/canary errors/);
    expect(() => errorEvidence(pair(Number.NaN, 10, 0, 10))).toThrow(/finite number/);
    expect(() => errorEvidence(pair(1, 10, 0, 10), { tolerance: 0 })).toThrow(/tolerance/);
    expect(() => errorEvidence(pair(1, 10, 0, 10)).rollback(1)).toThrow(/alpha/);
  });

  it('handles counts in the millions without overflow', () => {
    const e = errorEvidence(pair(20_000, 1_000_000, 100_000, 10_000_000));
    expect(e.rollback(0.05)).toBe(true);
    expect(Number.isFinite(e.logE)).toBe(true);
  });
});

describe('nonInferiorityEvidence', () => {
  it('shows a healthy canary within a 1.5x margin, and not a 2x one', () => {
    const healthy = pair(500, 100_000, 5000, 1_000_000);
    expect(nonInferiorityEvidence(healthy, { margin: 1.5 }).promote(0.05)).toBe(true);
    expect(nonInferiorityEvidence(pair(1000, 100_000, 5000, 1_000_000), { margin: 1.5 }).promote(0.05)).toBe(false);
    // margin 1 asks for a strictly better canary
    expect(nonInferiorityEvidence(healthy, { margin: 1 }).promote(0.05)).toBe(false);
  });

  it('rises with the margin', () => {
    fc.assert(
      fc.property(counts, fc.double({ min: 1, max: 3, noNaN: true }), (c, margin) => {
        expect(nonInferiorityEvidence(c, { margin: margin * 1.1 }).logE).toBeGreaterThanOrEqual(
          nonInferiorityEvidence(c, { margin }).logE - 1e-9,
        );
      }),
    );
  });
});

describe('betaMixtureLogE (canary.md §2.4 closed form)', () => {
  it('is 0 with no events and matches a hand computation', () => {
    expect(betaMixtureLogE(0, 0, 0.05)).toBeCloseTo(0, 12);
    // N_c = 1, N_b = 0: E = (a/(a+b)) / θ0 = 1
    expect(betaMixtureLogE(1, 0, 0.05)).toBeCloseTo(0, 10);
    // N_c = 2, N_b = 0: E = a(a+1)/((a+b)(a+b+1)) / θ0² = 5·6/(100·101) / 0.0025
    expect(betaMixtureLogE(2, 0, 0.05)).toBeCloseTo(Math.log((5 * 6) / (100 * 101) / 0.0025), 10);
  });
});
