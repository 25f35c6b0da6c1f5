import { markdownCode, markdownTableOf, markdownText } from '../core/markdown.js';
import type { CanaryEvaluationPoint, CanaryResult, MaybeNumber } from '../records/canary.js';

// The canary's step summary, rendered from canary.json alone so the evidence action can render the same text
// from the record. It answers, in order: what was decided and why; per metric, the observed ratio with its
// confidence bounds and the e-values against their thresholds; how much the canary served and the errors it
// added; the evidence over time (a mermaid xychart); and, folded, the exact queries and time range. Reasons,
// selectors and queries hold user-supplied label values: they are escaped (markdownText) or fenced.

const HEADLINE: Readonly<Record<CanaryResult['decision'], string>> = {
  promote: 'promote',
  rollback: 'rollback',
  inconclusive: 'inconclusive',
  continue: 'continue',
};

function fmt(x: MaybeNumber | undefined, digits = 3): string {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  return Number(x.toPrecision(digits)).toString();
}

function whole(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** e^logE, written as a number people read; the log stays in the chart. */
function eValue(logE: MaybeNumber): string {
  if (logE === null) return '∞';
  if (logE > Math.log(1e6)) return `e^${fmt(logE)}`;
  return fmt(Math.exp(logE));
}

function stepText(r: Pick<CanaryResult, 'step' | 'steps' | 'weight'>): string {
  if (r.step < 0) return `not started (${fmt(r.weight)}%)`;
  return `step ${r.step + 1} of ${r.steps.length} (${fmt(r.weight)}%)`;
}

function elapsed(fromIso: string, toIso: string): string {
  const s = Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000);
  const sign = s < 0 ? '-' : '+';
  const a = Math.abs(s);
  if (a % 60 === 0 || a >= 600) return `${sign}${Math.round(a / 60)}m`;
  return `${sign}${Math.floor(a / 60)}m${a % 60}s`;
}

/** A fence longer than any backtick run in the text, so a query cannot close it. */
function fenced(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}\n${text}\n${fence}`;
}

export function canarySummary(r: CanaryResult): string {
  const out: string[] = [];
  // After a rollback (or a promote to 100) the step in force is not the one the evidence was read at.
  const seen = r.evaluations[r.evaluations.length - 1]?.weight;
  const at = seen !== undefined && seen !== r.weight ? `at ${fmt(seen)}%, now ${stepText(r)}` : `at ${stepText(r)}`;
  out.push(`### Canary: **${HEADLINE[r.decision]}** ${at}`);
  const where = [
    r.service ? `service ${markdownCode(r.service)}` : '',
    r.environment ? `in ${markdownCode(r.environment)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  out.push(
    `${where ? `${where}, ` : ''}${whole(r.canaryRequests)} canary requests served, estimated excess errors ${whole(r.excessErrors)}; ` +
      `source ${markdownText(r.source)}, ${r.mode} mode, alpha ${fmt(r.settings.alpha)}, tolerance ${fmt(r.settings.tolerance)}×, promote margin ${fmt(r.settings.promoteMargin)}×.`,
  );
  out.push('');
  for (const reason of r.reasons) out.push(`- \`${reason.code}\` ${markdownText(reason.message)}`);
  if (r.diagnosis) out.push(`- diagnosis: \`${r.diagnosis}\``);
  out.push('');

  if (r.metrics.length > 0) {
    out.push(
      markdownTableOf(
        [
          'metric',
          'canary requests',
          'canary bad',
          'baseline bad rate',
          'observed ratio',
          'confidence bounds',
          'harm e-value (rollback at)',
          'non-inferiority e-value (promote at)',
          'detectable',
          'excess bad',
        ],
        r.metrics.map((m) => [
          m.name,
          whole(m.canary.requests),
          whole(m.canary.bad),
          m.baseline.requests > 0 ? `${fmt((100 * m.baseline.bad) / m.baseline.requests)}%` : '–',
          `${fmt(m.observedRatio)}×`,
          `${fmt(m.confidence.lower)}× – ${fmt(m.confidence.upper)}× (${fmt(100 * m.confidence.level)}%)`,
          `${eValue(m.harm.logE)} (${eValue(m.harm.threshold)})${m.harm.shown ? ' **shown**' : ''}`,
          `${eValue(m.nonInferiority.logE)} (${eValue(m.nonInferiority.threshold)}), margin ${fmt(m.nonInferiority.margin)}×${m.nonInferiority.shown ? ' **shown**' : ''}`,
          m.detectableRatio === null ? '–' : `≥ ${fmt(m.detectableRatio)}×`,
          whole(m.excessBad),
        ]),
      ),
    );
    out.push('');
  }
  out.push(`Detectable: ${markdownText(r.detectable.text)}.`);
  if (r.split) {
    const shares = r.split.segments
      .map((s) => `${fmt(s.weight)}% → ${s.observedShare === null ? '–' : `${fmt(100 * s.observedShare)}%`}`)
      .join(', ');
    out.push(
      `Traffic split (intended → observed canary share): ${shares}; e-value ${eValue(r.split.logE)} (mismatch at ${eValue(r.split.threshold)}).`,
    );
  }
  if (r.latencyBands) {
    const within = r.latencyBands.points
      .map((p) => {
        const share = (b: { cdf: number | null }) => (b.cdf === null ? '–' : `${fmt(100 * b.cdf)}%`);
        return `≤ ${fmt(p.le)}s: ${share(p.canary)} vs ${share(p.baseline)}`;
      })
      .join(', ');
    out.push(
      r.latencyBands.regression
        ? `Latency bands (level ${fmt(1 - r.latencyBands.alpha)}, reported, not decided on): the canary is shown slower at ${fmt(r.latencyBands.regressionAt ?? Number.NaN)}s. Requests within each bound, canary vs baseline: ${within}.`
        : `Latency bands (level ${fmt(1 - r.latencyBands.alpha)}, reported, not decided on): no bound shows the canary slower. Requests within each bound, canary vs baseline: ${within}.`,
    );
  }
  const chart = evidenceChart(r.evaluations, r.timeRange.since);
  if (chart) out.push('', chart);
  if (r.exposure.changes.length > 0 || r.exposure.rollback) {
    out.push('', `Exposure (${markdownText(r.exposure.store)}):`);
    for (const c of r.exposure.changes) {
      out.push(
        `- ${fmt(c.weight)}%${c.changed ? '' : ' (already set)'}${c.commit ? ` in ${markdownCode(c.commit.slice(0, 12))}` : ''}: ${markdownText(c.reason)}`,
      );
    }
    if (r.exposure.rollback) {
      out.push(
        `- rollback commits: ${r.exposure.rollback.commits.map((c) => markdownCode(c.slice(0, 12))).join(', ') || 'none'}`,
      );
    }
  }
  if (r.lints.length > 0) {
    out.push('', 'Lints:');
    for (const l of r.lints) out.push(`- ${l.severity} \`${l.code}\`: ${markdownText(l.message)}`);
  }
  out.push('', queriesSection(r));
  return `${out.join('\n')}\n`;
}

function queriesSection(r: CanaryResult): string {
  const lines: string[] = [
    `since ${r.timeRange.since}`,
    `at    ${r.timeRange.at} (now minus two scrapes of ${r.settings.scrapeIntervalSeconds}s)`,
    `deadline ${r.timeRange.deadline}`,
  ];
  for (const m of r.metrics) {
    for (const s of m.segments) {
      lines.push('', `# ${m.name}, ${fmt(s.weight)}% from ${s.from} to ${s.to}`);
      for (const q of s.queries.canary) lines.push(q);
      for (const q of s.queries.baseline) lines.push(q);
    }
  }
  if (r.probes) {
    lines.push('', `# selectors`, r.probes.canary.selector, r.probes.baseline.selector);
  }
  // The summary line is ours; user text only inside the fence, where markdown and HTML are not interpreted.
  return ['<details><summary>Queries and time range</summary>', '', fenced(lines.join('\n')), '', '</details>'].join(
    '\n',
  );
}

/** The chart's y range: every value and the thresholds, with a margin, ln e-values clamped to ±50. */
function yRange(values: number[]): [number, number] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(1, ...values);
  const pad = (hi - lo) * 0.1;
  return [Math.floor(lo - pad), Math.ceil(hi + pad)];
}

const CLAMP = 50;

/**
 * A mermaid xychart of ln e-value of harm per metric over the evaluation times, with the rollback threshold as
 * the last line. xychart-beta has no legend: the line order is said in the text above it.
 */
export function evidenceChart(points: readonly CanaryEvaluationPoint[], sinceIso: string): string | undefined {
  const usable = points.filter((p) => p.metrics.length > 0);
  if (usable.length < 2) return undefined;
  const names = [...new Set(usable.flatMap((p) => p.metrics.map((m) => m.name)))];
  const value = (x: MaybeNumber) => (x === null ? CLAMP : Math.max(-CLAMP, Math.min(CLAMP, x)));
  const series = names.map((name) => usable.map((p) => value(p.metrics.find((m) => m.name === name)?.logE ?? 0)));
  const threshold = usable.map((p) => Math.max(...p.metrics.map((m) => m.threshold)));
  const [lo, hi] = yRange([...series.flat(), ...threshold]);
  const num = (x: number) => Number(x.toFixed(2)).toString();
  const labels = usable.map((p) => `"${elapsed(sinceIso, p.at)}"`);
  const lines = [
    `Evidence of harm over time, ln e-value per metric (${names.join(', ')}), then the rollback threshold ln(1/(share of alpha)):`,
    '',
    '```mermaid',
    'xychart-beta',
    '    title "ln e-value of harm"',
    `    x-axis [${labels.join(', ')}]`,
    `    y-axis "ln e-value" ${lo} --> ${hi}`,
    ...series.map((s) => `    line [${s.map(num).join(', ')}]`),
    `    line [${threshold.map(num).join(', ')}]`,
    '```',
  ];
  return lines.join('\n');
}
