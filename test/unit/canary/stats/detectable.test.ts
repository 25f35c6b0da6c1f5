import { describe, expect, it } from 'vitest';
import { errorEvidence } from '../../../../shared/canary/stats/counts.js';
import { detectableRatio, secondsToDetect } from '../../../../shared/canary/stats/detectable.js';

// canary.md §4: 200 rps, 0.5 % errors, 5 % exposure
const traffic = { seen: [], canaryRps: 10, baselineRps: 190, baselineRate: 0.005, alpha: 0.05 };

describe('detectableRatio', () => {
  it('shrinks as time is added and is undefined without traffic', () => {
    const short = detectableRatio({ ...traffic, secondsLeft: 120 })!;
    const long = detectableRatio({ ...traffic, secondsLeft: 1800 })!;
    expect(long).toBeLessThan(short);
    expect(long).toBeGreaterThan(1);
    expect(detectableRatio({ ...traffic, canaryRps: 0, secondsLeft: 600 })).toBeUndefined();
    expect(detectableRatio({ ...traffic, secondsLeft: 0 })).toBeUndefined();
  });

  it('is consistent with the e-value at the expected counts', () => {
    const r = detectableRatio({ ...traffic, secondsLeft: 600 })!;
    const at = (ratio: number) =>
      errorEvidence({
        canary: { errors: 6000 * 0.005 * ratio, requests: 6000 },
        baseline: { errors: 114_000 * 0.005, requests: 114_000 },
      }).logE;
    expect(at(r * 1.01)).toBeGreaterThanOrEqual(Math.log(20));
    expect(at(r * 0.99)).toBeLessThan(Math.log(20));
  });

  it('counts evidence already seen', () => {
    const seen = [{ canary: { errors: 40, requests: 6000 }, baseline: { errors: 570, requests: 114_000 } }];
    const fresh = detectableRatio({ ...traffic, secondsLeft: 300 })!;
    expect(detectableRatio({ ...traffic, seen, secondsLeft: 300 })!).toBeLessThan(fresh);
  });
});

describe('secondsToDetect', () => {
  it('puts a 2x regression at 5 %, 200 rps, 0.5 % errors at a few minutes (canary.md §4: about 4.5)', () => {
    const s = secondsToDetect(traffic, 2, 3600)!;
    console.log('2x at 5 %, 200 rps, 0.5 %: seconds to detect (plug-in)', Math.round(s));
    expect(s).toBeGreaterThan(60);
    expect(s).toBeLessThan(600);
    expect(secondsToDetect(traffic, 1, 3600)).toBeUndefined();
  });
});
