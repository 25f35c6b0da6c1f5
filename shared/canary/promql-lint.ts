import type { Labels } from './prometheus.js';
import { type LabelMatcher, matchesAll, parseDuration } from './promql.js';
import { labelKey, type Probe } from './traffic.js';

// Lints for the PromQL traps that make canary gates pass or fail for the wrong reason (canary.md §3). Pure
// functions over query text, matchers and probe results, so they run on a user's query file before any query is
// sent, and on what the probe saw once it has run. The text checks are heuristics over tokens, not a parser:
// they look for the shapes the issue trackers show, and say what they saw.

export type LintCode =
  | 'whole-ratio-or-vector'
  | 'averaged-quantile'
  | 'unaggregated-buckets'
  | 'short-window'
  | 'overlapping-arms'
  | 'series-after-since';

export interface LintFinding {
  code: LintCode;
  severity: 'error' | 'warning';
  message: string;
}

/** Blanks string literals and comments (same length), so a `/` in a path label or a `#` never looks like code. */
function code(query: string): string {
  return query
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (s) => `"${' '.repeat(Math.max(0, s.length - 2))}"`)
    .replace(/#[^\n]*/g, (s) => ' '.repeat(s.length));
}

/** The start of the operand left of `index`: the innermost unclosed `(` before it, or the start. */
function operandStart(text: string, index: number): number {
  let depth = 0;
  for (let i = index - 1; i >= 0; i--) {
    if (text[i] === ')') depth++;
    else if (text[i] === '(') {
      if (depth === 0) return i + 1;
      depth--;
    }
  }
  return 0;
}

/** The text of the call whose `(` is at `open`, up to its matching `)`. */
function callBody(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Lints one query; `scrapeIntervalSeconds` sets the shortest sound range window (four scrapes). */
export function lintQuery(query: string, scrapeIntervalSeconds: number): LintFinding[] {
  const text = code(query);
  const findings: LintFinding[] = [];

  for (const match of text.matchAll(/\bor\s+vector\s*\(/g)) {
    const left = text.slice(operandStart(text, match.index), match.index);
    // A division on the left of `or` means the fallback replaces the whole ratio: missing data reads as healthy.
    if (/[^/]\/[^/]|^\//.test(left)) {
      findings.push({
        code: 'whole-ratio-or-vector',
        severity: 'error',
        message: `'or vector(…)' applies to a whole ratio (${left.trim().slice(0, 60)}…): with no traffic it reports a value instead of nothing; put it on the numerator only`,
      });
    }
  }

  for (const match of text.matchAll(/\b(avg_over_time|avg)\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(/g)) {
    const body = callBody(text, match.index + match[0].length - 1);
    if (/\bhistogram_quantile\s*\(|\bquantile\s*=/.test(body)) {
      findings.push({
        code: 'averaged-quantile',
        severity: 'error',
        message: `${match[1]}(…) averages quantiles, which is not a quantile of anything: aggregate the buckets with sum by (le) and take one histogram_quantile`,
      });
    }
  }

  for (const match of text.matchAll(/\bhistogram_quantile\s*\(/g)) {
    const body = callBody(text, match.index + match[0].length - 1);
    if (!/\bby\s*\([^)]*\ble\b[^)]*\)/.test(body) && !/\bwithout\s*\(/.test(body)) {
      findings.push({
        code: 'unaggregated-buckets',
        severity: 'warning',
        message:
          'histogram_quantile over buckets not summed by (le): it yields one quantile per series (per pod), not one for the arm',
      });
    }
  }

  const shortest = 4 * scrapeIntervalSeconds;
  for (const match of text.matchAll(/\[\s*([0-9a-z]+)\s*(?::\s*[0-9a-z]*\s*)?\]/g)) {
    const seconds = parseDuration(match[1] as string);
    if (seconds !== undefined && seconds < shortest) {
      findings.push({
        code: 'short-window',
        severity: 'warning',
        message: `the range [${match[1]}] spans fewer than four scrapes of ${scrapeIntervalSeconds}s (at least ${shortest}s): rate() and increase() on it are noisy or empty`,
      });
    }
  }
  return findings;
}

/**
 * Whether the two arms' matchers can select the same series. Without observed series this is decided on the
 * matchers alone: the arms are disjoint only if one label has equality matchers with different values, or an
 * equality on one side that the other side's matcher on that label rejects. With observed series (from the
 * probes), any series matched by both is an overlap for certain.
 */
export function lintArmOverlap(
  canary: readonly LabelMatcher[],
  baseline: readonly LabelMatcher[],
  observed: readonly Labels[] = [],
): LintFinding[] {
  const both = observed.filter((labels) => matchesAll(canary, labels) && matchesAll(baseline, labels));
  if (both.length > 0) {
    return [
      {
        code: 'overlapping-arms',
        severity: 'error',
        message: `${both.length} series match both arms (e.g. ${labelKey(both[0] as Labels)}): their requests would count for canary and baseline`,
      },
    ];
  }
  if (disjoint(canary, baseline)) return [];
  return [
    {
      code: 'overlapping-arms',
      severity: observed.length > 0 ? 'warning' : 'error',
      message:
        'the canary and baseline matchers do not exclude each other (no label where one side pins a value the other rejects)' +
        (observed.length > 0 ? '; no observed series matches both yet' : ''),
    },
  ];
}

function disjoint(a: readonly LabelMatcher[], b: readonly LabelMatcher[]): boolean {
  const excludes = (pinned: LabelMatcher, other: readonly LabelMatcher[]) =>
    pinned.op === '=' && other.some((m) => m.name === pinned.name && !matchesAll([m], { [m.name]: pinned.value }));
  return a.some((m) => excludes(m, b)) || b.some((m) => excludes(m, a));
}

/** Counter series that appeared after `since`: increase() misses each one's first increment (prometheus#1673). */
export function lintNewSeries(probe: Pick<Probe, 'newSeries' | 'selector'>): LintFinding[] {
  if (probe.newSeries.length === 0) return [];
  return [
    {
      code: 'series-after-since',
      severity: 'warning',
      message:
        `${probe.newSeries.length} series of ${probe.selector} appeared after the canary started (e.g. ${labelKey(probe.newSeries[0] as Labels)}): ` +
        'increase() loses the first increment of each, so early errors are undercounted; initialise labelled counters to 0',
    },
  ];
}
