import { describe, expect, it } from 'vitest';
import { parseDuration, parseMatchers } from '../../../shared/canary/promql.js';
import { type LintCode, lintArmOverlap, lintNewSeries, lintQuery } from '../../../shared/canary/promql-lint.js';

const codes = (query: string, scrape = 15): LintCode[] => lintQuery(query, scrape).map((finding) => finding.code);

describe('lintQuery', () => {
  it.each<[string, string, LintCode[]]>([
    [
      'or vector(0) on the numerator only is the sound pattern',
      '(sum(rate(http_requests_total{code=~"5.."}[2m])) or vector(0)) / sum(rate(http_requests_total[2m]))',
      [],
    ],
    [
      'or vector(0) around the whole ratio reports healthy on missing data',
      'sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m])) or vector(0)',
      ['whole-ratio-or-vector'],
    ],
    [
      'or vector(0) around a parenthesised ratio',
      '(sum(rate(a_total[2m])) / sum(rate(b_total[2m]))) or vector(1)',
      ['whole-ratio-or-vector'],
    ],
    ['a slash inside a label value is not a division', 'sum(rate(a_total{path="/api/x"}[2m])) or vector(0)', []],
    [
      'averaged quantiles',
      'avg(histogram_quantile(0.99, sum by (le, pod) (rate(x_bucket[5m]))))',
      ['averaged-quantile'],
    ],
    ['averaged summary quantiles', 'avg by (service) (rpc_duration_seconds{quantile="0.99"})', ['averaged-quantile']],
    ['avg_over_time of a quantile', 'avg_over_time(p99_latency{quantile="0.99"}[10m])', ['averaged-quantile']],
    ['a quantile of summed buckets is sound', 'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))', []],
    ['sum(...) by (le) is sound too', 'histogram_quantile(0.9, sum(rate(x_bucket[5m])) by (le))', []],
    [
      'a quantile of raw buckets is one per pod',
      'histogram_quantile(0.99, rate(x_bucket[5m]))',
      ['unaggregated-buckets'],
    ],
    ['a 30s window at a 15s scrape is two scrapes', 'sum(rate(x_total[30s]))', ['short-window']],
    ['a 1m window is four scrapes: enough', 'sum(rate(x_total[1m]))', []],
    ['compound durations are read whole', 'sum(increase(x_total[1m30s]))', []],
    ['a subquery range is a window too', 'max_over_time(rate(x_total[2m])[45s:15s])', ['short-window']],
    ['a comment is not code', 'sum(rate(x_total[5m])) # or vector(0) / nothing', []],
  ])('%s', (_name, query, expected) => {
    expect(codes(query)).toEqual(expected);
  });

  it('the window rule follows the scrape interval', () => {
    expect(codes('sum(rate(x_total[1m]))', 30)).toEqual(['short-window']);
    expect(lintQuery('sum(rate(x_total[1m]))', 30)[0]?.message).toMatch(/\[1m\] spans fewer than four scrapes of 30s/);
  });
});

describe('lintArmOverlap', () => {
  const m = (text: string) => parseMatchers(text);
  it.each<[string, string, string, LintCode[]]>([
    ['different pinned values are disjoint', 'version="canary"', 'version="stable"', []],
    ['a regex that rejects the pinned value is disjoint', 'version="canary"', 'version=~"stable|primary"', []],
    ['a negative matcher excluding the canary is disjoint', 'version="canary"', 'version!="canary"', []],
    [
      'a regex that also takes the canary overlaps',
      'version="canary"',
      'version=~"canary|stable"',
      ['overlapping-arms'],
    ],
    ['matchers on different labels may overlap', 'version="canary"', 'track="stable"', ['overlapping-arms']],
    ['a regex prefix overlaps', 'version=~"v2.*"', 'version=~"v2.1.*"', ['overlapping-arms']],
  ])('%s', (_name, canary, baseline, expected) => {
    expect(lintArmOverlap(m(canary), m(baseline)).map((finding) => finding.code)).toEqual(expected);
  });

  it('observed series in both arms are an overlap for certain, even when the matchers look disjoint', () => {
    const series = [{ version: 'canary', track: 'stable' }];
    const findings = lintArmOverlap(m('version="canary"'), m('track="stable"'), series);
    expect(findings).toEqual([expect.objectContaining({ code: 'overlapping-arms', severity: 'error' })]);
    expect(findings[0]?.message).toMatch(/1 series match both arms/);
  });

  it('observed series that fall in one arm each leave only a warning for undecidable matchers', () => {
    const series = [{ version: 'v2.0' }, { version: 'v1.9' }];
    const findings = lintArmOverlap(m('version=~"v2.*"'), m('version=~"v1.*|v2.1"'), series);
    expect(findings.map((finding) => finding.severity)).toEqual(['warning']);
  });
});

describe('lintNewSeries', () => {
  it('reports counter series that appeared after since, and nothing when there are none', () => {
    const selector = 'http_requests_total{version="canary"}';
    expect(lintNewSeries({ selector, newSeries: [] })).toEqual([]);
    const findings = lintNewSeries({ selector, newSeries: [{ version: 'canary', code: '500' }] });
    expect(findings.map((finding) => finding.code)).toEqual(['series-after-since']);
    expect(findings[0]?.message).toMatch(/1 series of http_requests_total\{version="canary"\} appeared after/);
  });
});

describe('parseMatchers', () => {
  it.each<[string, string]>([
    ['version=canary', 'the value of version must be quoted'],
    ['version="canary', 'has no closing quote'],
    ['version~"x"', 'expected =, !=, =~ or !~ after version'],
    ['version=~"(("', 'does not compile'],
    ['', 'no matcher given'],
    ['a="x" b="y"', 'expected a comma'],
  ])('%j is refused: %s', (text, detail) => {
    expect(() => parseMatchers(text, "input 'canary'")).toThrow(detail);
  });

  it('reads quotes, escapes, braces and several matchers', () => {
    expect(parseMatchers(`{app="a\\"b", track!~'x|y'}`)).toEqual([
      { name: 'app', op: '=', value: 'a"b' },
      { name: 'track', op: '!~', value: 'x|y' },
    ]);
  });

  it('reads PromQL durations', () => {
    expect([parseDuration('1m30s'), parseDuration('500ms'), parseDuration('2h'), parseDuration('5')]).toEqual([
      90,
      0.5,
      7200,
      undefined,
    ]);
  });
});
