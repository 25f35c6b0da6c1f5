// The canary's run: read the exposure state, evaluate, apply at most one exposure change per evaluation, and
// write the result as canary.json's body. `once` evaluates and exits (a scheduled workflow calls it again);
// `loop` repeats every `interval` in one job until a terminal decision or the deadline. Both read the same
// stateless counts (evaluate.ts), so they agree. The clock is injected: `--simulate` runs on a simulated clock
// that moves on at each sleep instead of waiting.
//
// Terminal: rollback, promote, and inconclusive because the deadline passed or there was no traffic. A
// sample-ratio mismatch before the deadline is inconclusive for this look but not the end: routing may settle
// (a GitOps sync still in flight), so `loop` holds the step and looks again.

import type { Logger } from '../core/logger.js';
import type { CanaryEvaluationPoint, CanaryExposureChange, CanaryResult } from '../records/canary.js';
import { evaluationPoint, evaluationRecord } from '../records/canary.js';
import { type Decision, promoteMargin } from './decide.js';
import {
  type CanaryPlan,
  describeDetectable,
  type Evaluation,
  type ExposureSegment,
  evaluate,
  stepIndex,
} from './evaluate.js';
import type { ExposureStore } from './exposure/index.js';
import type { MetricsSource } from './source.js';
import { evaluationTime } from './traffic.js';

export interface CanaryRequest {
  plan: CanaryPlan;
  mode: 'once' | 'loop';
  intervalSeconds: number;
  /** The GitOps service and environment, for the record. */
  service?: string;
  /** The canary's image and digest, when `since` was a promotion record. */
  subject?: { name: string; digest: string };
  environment?: string;
  /** The inputs as given, for the record's settings (never secrets). */
  described: { metrics: string; canary: string; baseline: string; service?: string };
}

export interface CanaryRuntime {
  source: MetricsSource;
  store: ExposureStore;
  now(): Date;
  sleep(ms: number): Promise<void>;
  logger: Logger;
}

/** Points of the evidence chart. */
export const CHART_POINTS = 12;

function isTerminal(e: Evaluation, plan: CanaryPlan): boolean {
  const { decision } = e.decision;
  if (decision === 'rollback' || decision === 'promote') return true;
  if (decision !== 'inconclusive') return false;
  return (
    e.elapsedSeconds >= plan.deadlineSeconds ||
    e.decision.reasons.some((r) => r.code === 'DEADLINE_PASSED' || r.code === 'NO_TRAFFIC')
  );
}

/**
 * When exposure was above 0 and is 0 now: the segments up to then, the last one left open, and the time it was
 * turned off, so the evidence can be evaluated as it stood at that moment.
 */
function turnedOff(segments: readonly ExposureSegment[]): { segments: ExposureSegment[]; at: Date } | undefined {
  const ordered = [...segments].sort((a, b) => a.start.getTime() - b.start.getTime());
  const last = ordered[ordered.length - 1];
  if (last?.weight !== 0 || !ordered.some((s) => s.weight > 0)) return undefined;
  const kept = ordered.slice(0, -1);
  while (kept.length > 0 && kept[kept.length - 1]!.weight === 0) kept.pop();
  const tail = kept[kept.length - 1]!;
  const at = tail.end ?? last.start;
  const { end: _end, ...open } = tail;
  kept[kept.length - 1] = open;
  return { segments: kept, at };
}

/** Evenly spaced past points between since and `at` (the last is `at` itself, already evaluated). */
async function pastPoints(
  source: MetricsSource,
  plan: CanaryPlan,
  segments: ExposureSegment[],
  final: Evaluation,
  logger: Logger,
): Promise<CanaryEvaluationPoint[]> {
  const start = plan.since.getTime();
  const span = final.at.getTime() - start;
  const points: CanaryEvaluationPoint[] = [];
  for (let k = 1; k < CHART_POINTS && span > 0; k++) {
    const t = new Date(start + (span * k) / CHART_POINTS);
    try {
      const e = await evaluate(source, plan, segments, t);
      if (e.metrics.length > 0) points.push(evaluationPoint(e));
    } catch (error) {
      // A past time may fall before a series existed; the chart loses a point, the decision is unaffected.
      logger.debug(`evidence chart: no point at ${t.toISOString()}: ${(error as Error).message}`);
    }
  }
  points.push(evaluationPoint(final));
  return points;
}

/** At most CHART_POINTS of the loop's own evaluations, evenly picked, the last always kept. */
function thin(points: readonly CanaryEvaluationPoint[]): CanaryEvaluationPoint[] {
  if (points.length <= CHART_POINTS) return [...points];
  const picked: CanaryEvaluationPoint[] = [];
  for (let k = 0; k < CHART_POINTS; k++) {
    picked.push(points[Math.round((k * (points.length - 1)) / (CHART_POINTS - 1))]!);
  }
  return picked;
}

export async function runCanary(request: CanaryRequest, runtime: CanaryRuntime): Promise<CanaryResult> {
  const { plan } = request;
  const { store, source, logger } = runtime;
  const started = runtime.now();
  const changes: CanaryExposureChange[] = [];
  const looked: CanaryEvaluationPoint[] = [];
  let rollback: CanaryResult['exposure']['rollback'];
  let final: Evaluation | undefined;
  let finalSegments: ExposureSegment[] = [];
  let decision: Decision | undefined;
  let weight = 0;
  const linted = new Set<string>();

  const apply = async (target: number, reason: string) => {
    const result = await store.apply(target, reason);
    changes.push({
      at: runtime.now().toISOString(),
      weight: target,
      reason,
      changed: result.changed,
      ...(result.commit ? { commit: result.commit } : {}),
    });
    logger.info(
      `exposure ${target}%${result.changed ? '' : ' (already set)'}${result.commit ? ` in ${result.commit}` : ''}: ${reason}`,
    );
    weight = target;
  };

  for (;;) {
    const now = runtime.now();
    const at = evaluationTime(now, plan.scrapeIntervalSeconds);
    const state = await store.read(plan.since, now);
    weight = state.weight;
    const off = stepIndex(plan.steps, state.weight) === -1 ? turnedOff(state.segments) : undefined;
    finalSegments = off?.segments ?? state.segments;
    const e = await evaluate(source, plan, finalSegments, off && off.at.getTime() < at.getTime() ? off.at : at);
    final = e;
    decision = e.decision;
    if (e.metrics.length > 0) looked.push(evaluationPoint(e));
    logger.info(`${at.toISOString()}: ${describeDetectable(e)}`);
    for (const lint of e.lints) {
      if (linted.has(lint.message)) continue;
      linted.add(lint.message);
      (lint.severity === 'error' ? logger.warning : logger.info)(`lint ${lint.code}: ${lint.message}`);
    }

    if (off) {
      // Exposure was above 0 and is off now: a rollback (ours or a person's). Never start it again.
      const earlier = e.decision.decision === 'rollback';
      decision = {
        ...e.decision,
        decision: earlier ? 'rollback' : 'inconclusive',
        reasons: [
          {
            code: 'EXPOSURE_OFF',
            message: `exposure was turned off at ${off.at.toISOString()} after ${e.weight}%: the canary is not started again${earlier ? '; the evidence up to then shows harm' : ''}`,
          },
          ...(earlier ? e.decision.reasons : []),
        ],
      };
      weight = 0;
      break;
    }

    const d = e.decision;
    if (d.decision === 'rollback') {
      const reason = d.reasons.map((r) => r.message).join('; ');
      logger.warning(`rollback: ${reason}`);
      const result = await store.rollback(reason);
      rollback = {
        commits: result.commits,
        ...(result.promotion?.commit ? { promotionCommit: result.promotion.commit } : {}),
        ...(result.promotion?.pullRequest ? { pullRequest: result.promotion.pullRequest } : {}),
      };
      changes.push({
        at: runtime.now().toISOString(),
        weight: 0,
        reason: `rollback: ${reason}`,
        changed: true,
        ...(result.commits[0] ? { commit: result.commits[0] } : {}),
      });
      weight = 0;
      break;
    }
    if (d.decision === 'promote') {
      const last = plan.steps[plan.steps.length - 1]!;
      if (last === 100 && state.weight < 100) await apply(100, 'promote: non-inferiority shown at the last step');
      break;
    }
    if (d.decision === 'continue' && d.nextStep !== undefined && d.nextStep !== e.step) {
      const next = plan.steps[d.nextStep]!;
      const reason = d.reasons.map((r) => r.message).join('; ');
      // Exposure only grows between a start and a rollback. A look whose evaluation time (now minus two scrapes)
      // falls before the latest step reads the step before it, or "not started" right after `since`, and must
      // not undo what is in force.
      if (next > state.weight) await apply(next, reason);
    }
    if (request.mode === 'once' || isTerminal(e, plan)) break;
    await runtime.sleep(request.intervalSeconds * 1000);
  }

  const evaluation = final as Evaluation;
  const points =
    request.mode === 'loop' && looked.length >= 2
      ? thin(looked)
      : await pastPoints(source, plan, finalSegments, evaluation, logger);
  const step = stepIndex(plan.steps, weight);
  const decided = decision as Decision;
  const body = evaluationRecord(
    { ...evaluation, decision: decided },
    {
      alpha: plan.alpha,
      tolerance: plan.tolerance,
      detectableText: describeDetectable(evaluation),
    },
  );
  return {
    ...body,
    ...(request.subject ? { subject: request.subject } : {}),
    ...(request.service ? { service: request.service } : {}),
    ...(request.environment ? { environment: request.environment } : {}),
    step,
    weight,
    steps: [...plan.steps],
    source: source.description,
    mode: request.mode,
    settings: {
      alpha: plan.alpha,
      tolerance: plan.tolerance,
      promoteMargin: promoteMargin(plan),
      minStepSeconds: plan.minStepSeconds,
      warmupSeconds: plan.warmupSeconds ?? 0,
      deadlineSeconds: plan.deadlineSeconds,
      scrapeIntervalSeconds: plan.scrapeIntervalSeconds,
      intervalSeconds: request.intervalSeconds,
      ...(plan.sloLatencySeconds !== undefined ? { sloLatencySeconds: plan.sloLatencySeconds } : {}),
      metrics: request.described.metrics,
      canary: request.described.canary,
      baseline: request.described.baseline,
      ...(request.described.service ? { service: request.described.service } : {}),
    },
    timeRange: {
      since: plan.since.toISOString(),
      at: evaluation.at.toISOString(),
      deadline: new Date(plan.since.getTime() + plan.deadlineSeconds * 1000).toISOString(),
    },
    evaluations: points,
    exposure: { store: store.describe(), changes, ...(rollback ? { rollback } : {}) },
    timestamps: { started: started.toISOString(), finished: runtime.now().toISOString() },
  };
}

/**
 * For the simulator, whose traffic split must follow the exposure as it is set: wraps a store so every weight it
 * sets is logged at the clock's time, and answers the weight in force at any time from that log.
 */
export function trackWeights(
  initialWeight: number,
  start: Date,
): { weightAt(t: Date): number; wrap(store: ExposureStore, now: () => Date): ExposureStore } {
  const log: { at: number; weight: number }[] = [{ at: start.getTime(), weight: initialWeight }];
  const set = (at: Date, weight: number) => {
    const last = log[log.length - 1]!;
    if (at.getTime() <= last.at) last.weight = weight;
    else log.push({ at: at.getTime(), weight });
  };
  return {
    weightAt(t) {
      let weight = log[0]!.weight;
      for (const entry of log) if (entry.at <= t.getTime()) weight = entry.weight;
      return weight;
    },
    wrap(store, now) {
      return {
        describe: () => store.describe(),
        read: (since, at) => store.read(since, at),
        async apply(weight, reason) {
          const result = await store.apply(weight, reason);
          if (result.changed) set(now(), weight);
          return result;
        },
        async rollback(reason) {
          const result = await store.rollback(reason);
          set(now(), 0);
          return result;
        },
      };
    },
  };
}
