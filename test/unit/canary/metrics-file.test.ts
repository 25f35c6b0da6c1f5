import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMetrics, requireLatencyBuckets } from '../../../shared/canary/metrics-file.js';
import { PRESETS, preset } from '../../../shared/canary/presets.js';
import { ConfigurationError } from '../../../shared/core/errors.js';

// The `metrics` input: a preset name or a YAML file of metric names and matchers. Every mistake is one
// ConfigurationError naming the input, the value given, the file, the line and column and the key.

const workspace = mkdtempSync(join(tmpdir(), 'slipway-metrics-file-'));
mkdirSync(join(workspace, 'canary'));
let files = 0;
/** Writes `text` to a fresh file under canary/ and returns the path as a user would give it. */
const write = (text: string) => {
  const name = `canary/metrics-${++files}.yaml`;
  writeFileSync(join(workspace, name), text);
  return name;
};
const failure = (text: string): { message: string; given: string } => {
  const given = write(text);
  try {
    readMetrics(given, workspace);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe('metrics');
    return { message: (error as Error).message, given };
  }
  throw new Error('expected a ConfigurationError');
};

describe('presets', () => {
  it('takes each preset by name', () => {
    for (const name of Object.keys(PRESETS)) expect(readMetrics(name, workspace)).toBe(PRESETS[name]);
    expect(readMetrics(' istio ', workspace).requests).toBe('istio_requests_total');
  });

  it('a mistyped preset names the presets and the closest one, not a missing file', () => {
    expect(() => readMetrics('htpp', workspace)).toThrow(
      new ConfigurationError(
        'metrics',
        'htpp',
        'a preset (http, istio, linkerd, nginx) or the path of a YAML file of metrics',
        'no preset has that name (did you mean http?) and no such file exists',
      ),
    );
    expect(() => readMetrics('envoy', workspace)).toThrow(/no preset has that name and no such file exists/);
  });

  it('a path that does not exist names the resolved path', () => {
    expect(() => readMetrics('canary/nope.yaml', workspace)).toThrow(
      `Input 'metrics' is "canary/nope.yaml": ${join(workspace, 'canary/nope.yaml')} does not exist; expected a preset`,
    );
  });
});

describe('a metrics file', () => {
  it('gives requests, errors, common and the latency histogram', () => {
    const given = write(
      [
        '# gRPC server metrics',
        'requests: grpc_server_handled_total',
        'errors: grpc_code=~"Unavailable|Internal|Unknown"',
        'common: job="api", grpc_type="unary"',
        'latency-buckets: grpc_server_handling_seconds_bucket',
        '',
      ].join('\n'),
    );
    expect(readMetrics(given, workspace)).toEqual({
      preset: given,
      requests: 'grpc_server_handled_total',
      errors: [{ name: 'grpc_code', op: '=~', value: 'Unavailable|Internal|Unknown' }],
      common: [
        { name: 'job', op: '=', value: 'api' },
        { name: 'grpc_type', op: '=', value: 'unary' },
      ],
      latencyBuckets: 'grpc_server_handling_seconds_bucket',
      latencyUnitSeconds: 1,
    });
  });

  it('needs only requests and errors; an absolute path works too', () => {
    const given = write('requests: app_requests_total\nerrors: "{status=~\\"5..\\"}"\ncommon:\n');
    const metrics = readMetrics(join(workspace, given), workspace);
    expect(metrics.errors).toEqual([{ name: 'status', op: '=~', value: '5..' }]);
    expect(metrics.common).toEqual([]);
    expect(metrics.latencyBuckets).toBeUndefined();
  });

  it('reads the latency unit from the histogram name, or from latency-unit', () => {
    const inName = write('requests: a_total\nerrors: code="500"\nlatency-buckets: rq_time_milliseconds_bucket\n');
    expect(readMetrics(inName, workspace).latencyUnitSeconds).toBe(0.001);
    const stated = write('requests: a_total\nerrors: code="500"\nlatency-buckets: rq_time_bucket\nlatency-unit: ms\n');
    expect(readMetrics(stated, workspace).latencyUnitSeconds).toBe(0.001);
    const unstated = write('requests: a_total\nerrors: code="500"\nlatency-buckets: rq_time_bucket\n');
    expect(readMetrics(unstated, workspace).latencyUnitSeconds).toBe(1);
  });
});

describe('a mistake in the file names the input, the file, the line and column and the key', () => {
  it('not YAML', () => {
    const { message, given } = failure('requests: a_total\nerrors: [code="500"\n');
    expect(message).toMatch(
      new RegExp(`^Input 'metrics' is "${given}": ${join(workspace, given)}:\\d+:\\d+: the file is not valid YAML`),
    );
  });

  it('empty, or not a map', () => {
    expect(failure('').message).toMatch(/:1:1: the file is empty; expected a map with requests \(a counter\)/);
    expect(failure('- requests: a_total\n').message).toMatch(/:1:1: the file is a list; expected a map with requests/);
  });

  it('an unknown key, with the key meant', () => {
    const { message, given } = failure('requests: a_total\nerror: code="500"\n');
    expect(message).toBe(
      `Input 'metrics' is "${given}": ${join(workspace, given)}:2:1: error is not a known key (did you mean errors?); ` +
        'expected one of requests, errors, common, latency-buckets, latency-unit.',
    );
  });

  it('requests or errors missing', () => {
    expect(failure('errors: code="500"\n').message).toMatch(
      /:1:1: requests is missing; expected the name of a counter/,
    );
    expect(failure('requests: a_total\n').message).toMatch(/:1:1: errors is missing; expected label matchers/);
  });

  it('a query where a metric name belongs says Slipway writes the queries', () => {
    const { message } = failure('requests: sum(rate(http_requests_total[5m]))\nerrors: code="500"\n');
    expect(message).toMatch(
      /:1:11: requests is "sum\(rate\(http_requests_total\[5m\]\)\)"; expected the name of a counter of requests, e\.g\. http_requests_total \(a metric name, not a query: Slipway writes the queries/,
    );
  });

  it('a query brought from another tool names the trap it carries', () => {
    const { message } = failure(
      'requests: sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m])) or vector(0)\nerrors: code="500"\n',
    );
    expect(message).toMatch(
      /a metric name, not a query: .*; this query also has a known trap: 'or vector\(…\)' applies to a whole ratio/,
    );
  });

  it('a number where a name belongs', () => {
    expect(failure('requests: 42\nerrors: code="500"\n').message).toMatch(/:1:11: requests is 42; expected the name/);
  });

  it('matchers that do not parse say what is wrong in them', () => {
    const { message } = failure('requests: a_total\nerrors: code=5..\n');
    expect(message).toMatch(
      /:2:9: errors is "code=5\.\."; expected label matchers picking the failed requests, e\.g\. code=~"5\.\." \(the value of code must be quoted\)/,
    );
    expect(failure('requests: a_total\nerrors: code="500"\ncommon: job=~"(api"\n').message).toMatch(
      /:3:9: common is "job=~\\"\(api\\""; .*\(the regular expression for job does not compile\)/,
    );
  });

  it('latency-buckets that is not a _bucket series names the series meant', () => {
    const { message } = failure('requests: a_total\nerrors: code="500"\nlatency-buckets: rq_duration_seconds\n');
    expect(message).toMatch(
      /:3:18: latency-buckets is "rq_duration_seconds"; expected a histogram's _bucket series \(its buckets are rq_duration_seconds_bucket/,
    );
  });

  it('latency-unit: not s or ms, without latency-buckets, or against the name', () => {
    const base = 'requests: a_total\nerrors: code="500"\n';
    expect(failure(`${base}latency-buckets: rq_bucket\nlatency-unit: seconds\n`).message).toMatch(
      /:4:15: latency-unit is "seconds"; expected s or ms/,
    );
    expect(failure(`${base}latency-unit: ms\n`).message).toMatch(
      /:3:15: latency-unit is given without latency-buckets; expected both or neither/,
    );
    expect(failure(`${base}latency-buckets: rq_duration_seconds_bucket\nlatency-unit: ms\n`).message).toMatch(
      /:4:15: latency-unit is ms, but rq_duration_seconds_bucket is named in seconds; expected s/,
    );
  });
});

describe('slo-latency needs a latency histogram', () => {
  it('passes a preset, names the file that has none', () => {
    expect(requireLatencyBuckets(preset('http'), '0.5s')).toBe('http_request_duration_seconds_bucket');
    const given = write('requests: a_total\nerrors: code="500"\n');
    expect(() => requireLatencyBuckets(readMetrics(given, workspace), '0.5s')).toThrow(
      `Input 'slo-latency' is "0.5s": the metrics file ${given} names no latency histogram (latency-buckets); expected no slo-latency, or a metrics file with latency-buckets.`,
    );
  });
});
