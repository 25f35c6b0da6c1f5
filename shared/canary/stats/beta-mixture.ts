// The closed-form Beta-binomial mixture e-value of canary.md §2.4 ("Count metrics", Lindon & Malek
// 2022): given N events of which N_c fell in the canary, under H0 each is a canary event with
// probability θ0; a Beta(k·θ0, k·(1−θ0)) prior on θ gives
//   ln E = lnB(a+N_c, b+N_b) − lnB(a, b) − N_c·ln θ0 − N_b·ln(1−θ0).
// It is two-sided (the prior covers θ on both sides of θ0).

import { logBeta } from './special.js';

/** Savvi's default prior concentration. */
export const DEFAULT_CONCENTRATION = 100;

/**
 * ln E for canary count `nc` and baseline count `nb` against null share theta0 in (0, 1). With
 * `nullInterval`, the null is the interval [lo, hi] ∋ θ0 and the likelihood in the denominator is the
 * largest over it (a composite null: the result is at most each point null's e-value, so it is an
 * e-process under every null member).
 */
export function betaMixtureLogE(
  nc: number,
  nb: number,
  theta0: number,
  k = DEFAULT_CONCENTRATION,
  nullInterval?: { lo: number; hi: number },
): number {
  const a = k * theta0;
  const b = k * (1 - theta0);
  let theta = theta0;
  if (nullInterval) {
    const n = nc + nb;
    const mle = n > 0 ? nc / n : theta0;
    theta = Math.min(Math.max(mle, nullInterval.lo), nullInterval.hi);
  }
  const logNull = (nc > 0 ? nc * Math.log(theta) : 0) + (nb > 0 ? nb * Math.log1p(-theta) : 0);
  return logBeta(a + nc, b + nb) - logBeta(a, b) - logNull;
}
