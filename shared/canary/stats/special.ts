// Special functions the sequential tests need, computed in log space so that counts in the millions
// neither overflow nor lose every significant digit.

// Lanczos approximation with g = 7 and nine coefficients (the widely published set, good to about
// 15 significant digits for positive arguments).
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (reflection for 0 < x < 0.5 keeps the series accurate near zero). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs a positive argument, got ${x}`);
  if (x < 0.5) {
    // Γ(x)Γ(1−x) = π / sin(πx), and sin(πx) > 0 on (0, 0.5).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln(1 + eˣ) without overflow for large x or loss of precision for very negative x. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** ln Σ exp(vᵢ), stable when the terms differ by hundreds of nats. */
export function logSumExp(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  if (max === Number.NEGATIVE_INFINITY || max === Number.POSITIVE_INFINITY) return max;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/**
 * The root of a monotone function on [lo, hi] by bisection, where f(lo) and f(hi) have opposite signs
 * (the caller checks the ends). Bisection is slow but cannot diverge, which matters more here than speed.
 */
export function bisect(f: (x: number) => number, lo: number, hi: number, tolerance = 1e-10, maxSteps = 200): number {
  let flo = f(lo);
  for (let i = 0; i < maxSteps && hi - lo > tolerance; i++) {
    const mid = (lo + hi) / 2;
    const fmid = f(mid);
    if (fmid === 0) return mid;
    if (fmid < 0 === flo < 0) {
      lo = mid;
      flo = fmid;
    } else {
      hi = mid;
    }
  }
  return (lo + hi) / 2;
}

/** The minimum of a unimodal function on [lo, hi] by golden-section search. */
export function goldenMinimum(f: (x: number) => number, lo: number, hi: number, steps = 100): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < steps; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    }
  }
  return Math.min(fc, fd);
}
