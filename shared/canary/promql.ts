import { InvalidValueError } from '../core/errors.js';

// The small part of PromQL Slipway writes and reads itself: label matchers (the `canary`, `baseline` and `service`
// inputs), selectors built from them, and range durations. Queries are composed from parsed matchers, never by
// pasting user text into a query, so a stray quote in an input is an input error and not a different query.

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

const MATCHERS_FORM = 'label matchers such as version="canary" or app="api",track=~"canary|stable"';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

/**
 * Parses `name="value"` matchers separated by commas (optionally inside braces). Values take double or single
 * quotes with PromQL's escapes; regexes are checked with JavaScript's engine, close enough to RE2 to catch typos.
 */
export function parseMatchers(text: string, what = 'label matchers'): LabelMatcher[] {
  let rest = text.trim();
  if (rest.startsWith('{') && rest.endsWith('}')) rest = rest.slice(1, -1).trim();
  const matchers: LabelMatcher[] = [];
  const fail = (detail: string): never => {
    throw new InvalidValueError(what, text, MATCHERS_FORM, detail);
  };
  while (rest.length > 0) {
    const name = LABEL_NAME.exec(rest)?.[0];
    if (!name) fail(`expected a label name at ${JSON.stringify(rest.slice(0, 20))}`);
    rest = rest.slice(name?.length ?? 0).trimStart();
    const op = (['=~', '!~', '!=', '='] as const).find((candidate) => rest.startsWith(candidate));
    if (!op) return fail(`expected =, !=, =~ or !~ after ${name}`);
    rest = rest.slice(op.length).trimStart();
    const quote = rest[0];
    if (quote !== '"' && quote !== "'") return fail(`the value of ${name} must be quoted`);
    let value = '';
    let i = 1;
    for (; i < rest.length && rest[i] !== quote; i++) {
      if (rest[i] === '\\') {
        const escaped = ESCAPES[rest[i + 1] ?? ''];
        if (escaped === undefined) fail(`unsupported escape \\${rest[i + 1] ?? ''} in the value of ${name}`);
        value += escaped;
        i++;
      } else {
        value += rest[i];
      }
    }
    if (i >= rest.length) fail(`the value of ${name} has no closing quote`);
    if (op === '=~' || op === '!~') {
      try {
        new RegExp(`^(?:${value})$`);
      } catch {
        fail(`the regular expression for ${name} does not compile`);
      }
    }
    matchers.push({ name: name as string, op, value });
    rest = rest.slice(i + 1).trimStart();
    if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
    else if (rest.length > 0) fail(`expected a comma before ${JSON.stringify(rest.slice(0, 20))}`);
  }
  if (matchers.length === 0) fail('no matcher given');
  return matchers;
}

/** A matcher in PromQL syntax; JSON string escapes are a subset of PromQL's (Go's) double-quoted strings. */
export function formatMatcher(matcher: LabelMatcher): string {
  return `${matcher.name}${matcher.op}${JSON.stringify(matcher.value)}`;
}

/** `metric{a="x",b=~"y"}`; a metric without matchers is written bare. */
export function selector(metric: string, matchers: readonly LabelMatcher[]): string {
  return matchers.length === 0 ? metric : `${metric}{${matchers.map(formatMatcher).join(',')}}`;
}

/** Whether `value` satisfies the matcher; regexes are anchored, as in PromQL. */
export function matches(matcher: LabelMatcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(value);
  }
}

/** Whether a series' labels satisfy every matcher (a missing label is the empty string, as in PromQL). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((matcher) => matches(matcher, labels[matcher.name] ?? ''));
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** A PromQL duration (`30s`, `1m30s`, `2h`) in seconds, or undefined when `text` is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit as string] ?? 0);
  }
  return seconds;
}

/** Whole seconds as a PromQL duration: `1800s`. Prometheus takes any unit; seconds keep it exact. */
export function formatDuration(seconds: number): string {
  return `${Math.max(1, Math.round(seconds))}s`;
}
