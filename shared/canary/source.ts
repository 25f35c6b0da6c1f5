import type { Arm, ArmCounts, LatencyCounts, Probe } from './traffic.js';

// Where the canary reads its counts: a Prometheus server (prometheus-source.ts, through traffic.ts's stateless
// increase() queries) or the benchmark's simulator (simulate.ts, for `slipway canary --simulate`). The evaluation
// (evaluate.ts) sees only this interface, so the simulator exercises exactly the code that reads Prometheus.

export interface MetricsSource {
  /** For messages and canary.json: the Prometheus URL without credentials, or `simulator (<scenario>)`. */
  readonly description: string;
  /** Requests and bad requests of one arm from `from` to `to` (cumulative: increase() over the whole window). */
  counts(arm: Arm, from: Date, to: Date): Promise<ArmCounts>;
  /** Requests slower than `boundSeconds` (a histogram bucket bound) from `from` to `to`. */
  latencyCounts(arm: Arm, boundSeconds: number, from: Date, to: Date): Promise<LatencyCounts>;
  /** Tells "the selector matches nothing", "no traffic", "zero errors" and "errors" apart. */
  probe(arm: Arm, since: Date, at: Date): Promise<Probe>;
}
