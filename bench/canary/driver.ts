import { type CanaryPlan, evaluate } from '../../shared/canary/evaluate.js';
import { PRESETS } from '../../shared/canary/presets.js';
import { parseMatchers } from '../../shared/canary/promql.js';
import {
  DEFAULT_SCENARIO,
  type Scenario,
  SIMULATED_BUCKETS,
  type SimulatedSource,
  simulatedSource,
} from '../../shared/canary/simulate.js';
import { assessArgoMetric, first, flaggerAnalysis } from '../../shared/canary/stats/thresholds.js';
import type { Arm } from '../../shared/canary/traffic.js';

// The canary benchmark's driver, bundled by bench/canary/run.mjs and run as one process per share of the cells:
// each cell is a scenario at a fixed exposure, replicated with seeds 1..N; every method looks at the same simulated
// counters every `look` seconds for 30 minutes, and the driver prints, per run and method, when it first called for
// a rollback and how many bad requests the canary had served beyond the baseline's rate by then.
//
//   node driver.mjs <look seconds> <reps> <cell,cell,...>

export const HORIZON = 1800;
/** Slow = slower than this bucket bound, for our latency metric and the excess of latency scenarios. */
export const SLO = 0.25;
const ALPHA = 0.05;

interface CellScenario {
  readonly name: string;
  readonly text: Partial<Scenario>;
}

const CLEAN: Partial<Scenario> = { warmup: 0, dispersion: Number.POSITIVE_INFINITY, swing: 0, incident: undefined };
const INCIDENT = { at: 600, seconds: 300, factor: 5 };
/** Time-varying load, warm-up, overdispersion and a common-mode incident, all at once. */
const REALISTIC: Partial<Scenario> = { incident: INCIDENT };

export const SCENARIOS: readonly CellScenario[] = [
  { name: 'x1 clean (Poisson, flat load)', text: { ...CLEAN } },
  { name: 'x1 + incident only', text: { ...CLEAN, incident: INCIDENT } },
  { name: 'x1 + warm-up only', text: { ...CLEAN, warmup: DEFAULT_SCENARIO.warmup } },
  { name: 'x1 + overdispersion only', text: { ...CLEAN, dispersion: DEFAULT_SCENARIO.dispersion } },
  { name: 'x1', text: { ...REALISTIC } },
  { name: 'x1.25', text: { ...REALISTIC, errors: 1.25 } },
  { name: 'x1.5', text: { ...REALISTIC, errors: 1.5 } },
  { name: 'x2', text: { ...REALISTIC, errors: 2 } },
  { name: 'x5', text: { ...REALISTIC, errors: 5 } },
  { name: 'latency shift', text: { ...REALISTIC, latency: 'shift' } },
  { name: 'latency tail', text: { ...REALISTIC, latency: 'tail' } },
];
export const EXPOSURES = [1, 5, 25] as const;

export const METHODS = [
  'ours (errors)',
  'ours (errors + latency)',
  'naive z',
  'Argo',
  'Flagger',
  'Kayenta MW',
] as const;
export type Method = (typeof METHODS)[number];

const service = parseMatchers('app="api"');
const arms: { canary: Arm; baseline: Arm } = {
  canary: { service, matchers: parseMatchers('version="canary"') },
  baseline: { service, matchers: parseMatchers('version="stable"') },
};

function plan(weight: number, slo: number | undefined): CanaryPlan {
  return {
    metrics: PRESETS.http!,
    canary: arms.canary,
    baseline: arms.baseline,
    ...(slo !== undefined ? { sloLatencySeconds: slo } : {}),
    steps: [weight, 100],
    alpha: ALPHA,
    tolerance: 1,
    minStepSeconds: 300, // the action's default, as warmup below
    // The action's default (actions/canary/action.yml); WARMUP=0 measures the method without it.
    warmupSeconds: Number(process.env.WARMUP ?? 60),
    deadlineSeconds: HORIZON,
    scrapeIntervalSeconds: 15,
    since: DEFAULT_SCENARIO.start,
  };
}

/** histogram_quantile as Prometheus computes it: linear within the bucket, the highest finite bound past it. */
function quantile(q: number, buckets: readonly number[], total: number): number {
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [k, le] of SIMULATED_BUCKETS.entries()) {
    const count = buckets[k]!;
    if (count >= rank) return lower + ((le - lower) * (rank - below)) / Math.max(count - below, 1e-12);
    lower = le;
    below = count;
  }
  return SIMULATED_BUCKETS[SIMULATED_BUCKETS.length - 1]!;
}

/** Kayenta's Mann-Whitney judgement of one metric: High when the 98 % CI of the HL shift clears 0.25·|HL|. */
function kayentaHigh(experiment: readonly number[], control: readonly number[]): boolean {
  const x = experiment.filter((v) => !Number.isNaN(v));
  const y = control.filter((v) => !Number.isNaN(v));
  if (x.length === 0 || y.length === 0) return false; // Nodata
  if (new Set([...x, ...y]).size === 1) return false;
  const diffs: number[] = [];
  for (const a of x) for (const b of y) diffs.push(a - b);
  diffs.sort((a, b) => a - b);
  const n = x.length;
  const m = y.length;
  const hl = diffs[Math.floor(diffs.length / 2)]!;
  // The distribution-free (Moses) interval from the normal approximation to the Wilcoxon statistic, at 98 %.
  const c = Math.floor((n * m) / 2 - 2.326 * Math.sqrt((n * m * (n + m + 1)) / 12));
  if (c < 1) return false;
  const lower = diffs[c - 1]!;
  const mean = (v: readonly number[]) => v.reduce((s, t) => s + t, 0) / v.length;
  const ratio = mean(x) / mean(y);
  return lower > 0.25 * Math.abs(hl) && (Number.isNaN(ratio) || ratio >= 1);
}

export interface RunResult {
  /** Seconds from the start to the first rollback, or null. */
  rollback: Record<Method, number | null>;
  /** Canary bad requests beyond the baseline's rate, served until that method's rollback (or the horizon). */
  excess: Record<Method, number>;
  /** Ours: seconds to the first promote (non-inferiority shown), or null. */
  promote: Record<'ours (errors)' | 'ours (errors + latency)', number | null>;
}

async function runOne(scenario: Scenario, weight: number, look: number): Promise<RunResult> {
  const source: SimulatedSource = simulatedSource(scenario, arms, () => weight);
  const start = scenario.start.getTime();
  const at = (s: number) => new Date(start + s * 1000);
  const latencyScenario = scenario.latency !== 'none';
  const rollback = Object.fromEntries(METHODS.map((m) => [m, null])) as Record<Method, number | null>;
  const promote: RunResult['promote'] = { 'ours (errors)': null, 'ours (errors + latency)': null };
  const plans = { 'ours (errors)': plan(weight, undefined), 'ours (errors + latency)': plan(weight, SLO) } as const;
  const segments = [{ weight, start: scenario.start }];
  const argo: { errors: number[][]; p99: number[][] } = { errors: [], p99: [] };
  const flagger: (number | undefined)[][] = [];
  const points = { errors: { c: [] as number[], b: [] as number[] }, p99: { c: [] as number[], b: [] as number[] } };
  const z = 1.6448536269514722; // one-sided 5 %
  const zTest = (c: { bad: number; n: number }, b: { bad: number; n: number }) => {
    if (c.n === 0 || b.n === 0) return false;
    const pooled = (c.bad + b.bad) / (c.n + b.n);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / c.n + 1 / b.n));
    return se > 0 && (c.bad / c.n - b.bad / b.n) / se > z;
  };
  const slow = (side: 'canary' | 'baseline', from: number, to: number) => {
    const h = source.histogramSync(side, at(from), at(to));
    return { bad: h.total - h.buckets[SIMULATED_BUCKETS.indexOf(SLO)]!, n: h.total, h };
  };
  const window = Math.max(look, 60); // Argo/Flagger read a 1-minute rate at each look
  for (let t = look; t <= HORIZON; t += look) {
    for (const name of ['ours (errors)', 'ours (errors + latency)'] as const) {
      if (rollback[name] !== null) continue;
      const e = await evaluate(source, plans[name], segments, at(t));
      if (e.decision.decision === 'rollback') rollback[name] = t;
      if (e.decision.decision === 'promote' && promote[name] === null) promote[name] = t;
    }
    if (rollback['naive z'] === null) {
      const c = source.countsSync('canary', at(0), at(t));
      const b = source.countsSync('baseline', at(0), at(t));
      const errors = zTest({ bad: c.errors, n: c.requests }, { bad: b.errors, n: b.requests });
      if (errors || zTest(slow('canary', 0, t), slow('baseline', 0, t))) rollback['naive z'] = t;
    }
    // Argo and Flagger: the canary alone against fixed thresholds, over the last minute: success rate ≥ 99 %
    // (errors ≤ 2× the baseline's 0.5 %) and p99 ≤ 500 ms, Flagger's documented example checks.
    const from = Math.max(0, t - window);
    const c = source.countsSync('canary', at(from), at(t));
    const ratio = c.requests > 0 ? c.errors / c.requests : Number.NaN;
    const ch = slow('canary', from, t).h;
    const p99 = quantile(0.99, ch.buckets, ch.total);
    argo.errors.push([ratio]);
    argo.p99.push([p99]);
    flagger.push([Number.isNaN(ratio) ? undefined : 100 * (1 - ratio), Number.isNaN(p99) ? undefined : p99 * 1000]);
    // Kayenta: one point per minute per arm, judged on all points so far at each look.
    if (look >= 60 && rollback['Kayenta MW'] === null) {
      const b = source.countsSync('baseline', at(from), at(t));
      const bh = slow('baseline', from, t).h;
      points.errors.c.push(ratio);
      points.errors.b.push(b.requests > 0 ? b.errors / b.requests : Number.NaN);
      points.p99.c.push(p99);
      points.p99.b.push(quantile(0.99, bh.buckets, bh.total));
      if (kayentaHigh(points.errors.c, points.errors.b) || kayentaHigh(points.p99.c, points.p99.b)) {
        rollback['Kayenta MW'] = t;
      }
    }
  }
  const looks = (i: number | undefined) => (i === undefined ? null : (i + 1) * look);
  const errorsOk = assessArgoMetric({ successCondition: (r) => first(r) <= 0.01 }, argo.errors);
  const p99Ok = assessArgoMetric({ successCondition: (r) => first(r) <= 0.5 }, argo.p99);
  const argoAt = [looks(errorsOk.decidedAt), looks(p99Ok.decidedAt)].filter((x): x is number => x !== null);
  rollback.Argo = argoAt.length > 0 ? Math.min(...argoAt) : null;
  const f = flaggerAnalysis(
    { checks: [{ thresholdRange: { min: 99 } }, { thresholdRange: { max: 500 } }], threshold: 5, steps: 1e9 },
    flagger,
  );
  rollback.Flagger = f.decision === 'rollback' ? looks(f.decidedAt) : null;

  const excess = {} as Record<Method, number>;
  for (const m of METHODS) {
    const until = rollback[m] ?? HORIZON;
    if (latencyScenario) {
      const c = slow('canary', 0, until);
      const b = slow('baseline', 0, until);
      excess[m] = b.n > 0 ? c.bad - (c.n * b.bad) / b.n : 0;
    } else {
      const c = source.countsSync('canary', at(0), at(until));
      const b = source.countsSync('baseline', at(0), at(until));
      excess[m] = b.requests > 0 ? c.errors - (c.requests * b.errors) / b.requests : 0;
    }
  }
  return { rollback, excess, promote };
}

export function cellList(): { scenario: number; exposure: number }[] {
  return SCENARIOS.flatMap((_, scenario) => EXPOSURES.map((exposure) => ({ scenario, exposure })));
}

async function main(): Promise<void> {
  const [lookArg = '60', repsArg = '10', cellsArg = '0'] = process.argv.slice(2);
  const look = Number(lookArg);
  const reps = Number(repsArg);
  const cells = cellList();
  for (const index of cellsArg.split(',').map(Number)) {
    const cell = cells[index]!;
    const s = SCENARIOS[cell.scenario]!;
    const started = performance.now();
    const runs: RunResult[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      const scenario: Scenario = {
        ...DEFAULT_SCENARIO,
        ...s.text,
        exposure: cell.exposure,
        seed: index * 100_003 + rep,
      };
      runs.push(await runOne(scenario, cell.exposure, look));
    }
    process.stdout.write(
      `${JSON.stringify({ index, scenario: s.name, exposure: cell.exposure, look, runs, ms: performance.now() - started })}\n`,
    );
  }
}

if (process.argv[1]?.endsWith('driver.mjs')) await main();
