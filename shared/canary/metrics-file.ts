import { existsSync } from 'node:fs';
import { isScalar } from 'yaml';
import { ConfigurationError, InvalidValueError } from '../core/errors.js';
import { fileError, readUserText, resolveInputPath, type UserFile, userFile } from '../core/files.js';
import { ConfigFileError, didYouMean, type Located, YamlSource } from '../gitops/yaml-source.js';
import { PRESETS, type TrafficMetrics } from './presets.js';
import { type LabelMatcher, parseMatchers } from './promql.js';
import { lintQuery } from './promql-lint.js';

// The `metrics` input: a preset name (presets.ts) or a YAML file naming the user's own metrics. The file names
// metrics and matchers, not whole queries: Slipway writes every query itself (sum(increase(…)) since the canary
// started, per arm), because the traps users fall into (a ratio wrapped in `or vector(0)`, averaged quantiles,
// short rate windows) live in hand-written queries, and the statistics need counts, not ratios.
//
//   requests: grpc_server_handled_total          # a counter, one increment per request
//   errors: grpc_code=~"Unavailable|Internal"    # matchers picking the failed requests' series out of it
//   common: job="api"                            # optional: matchers every query adds
//   latency-buckets: grpc_server_handling_seconds_bucket   # optional: the latency histogram's _bucket series
//   latency-unit: s                              # optional: s or ms, the unit of its `le` bounds

const INPUT = 'metrics';
const EXPECTED_INPUT = `a preset (${Object.keys(PRESETS).join(', ')}) or the path of a YAML file of metrics`;
const EXPECTED_FILE =
  'a map with requests (a counter), errors (label matchers), and optionally common, latency-buckets and latency-unit';
const KEYS = ['requests', 'errors', 'common', 'latency-buckets', 'latency-unit'] as const;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const UNITS: Readonly<Record<string, number>> = { s: 1, ms: 0.001 };

/** The metrics the `metrics` input names: a preset, or the file at that path (relative to the workspace). */
export function readMetrics(input: string, workspace: string): TrafficMetrics {
  const given = input.trim();
  if (Object.hasOwn(PRESETS, given)) return PRESETS[given] as TrafficMetrics;
  // A bare word that is not a file is a mistyped preset, not a missing file.
  if (!/[/\\.]/.test(given) && !existsSync(resolveInputPath(workspace, given))) {
    const close = didYouMean(given, Object.keys(PRESETS));
    throw new ConfigurationError(
      INPUT,
      input,
      EXPECTED_INPUT,
      `no preset has that name${close === undefined ? '' : ` (did you mean ${close}?)`} and no such file exists`,
    );
  }
  const file = userFile(INPUT, given, workspace, EXPECTED_INPUT);
  return parseMetricsFile(readUserText(file, 'a YAML file of metrics'), file);
}

/** The metrics a file's text gives; a mistake names the input, the file, the line and column and the key. */
export function parseMetricsFile(text: string, file: UserFile): TrafficMetrics {
  try {
    return parseMetrics(new YamlSource(text, file.path), file.given);
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    throw fileError(
      file,
      error.expected ?? EXPECTED_FILE,
      `${error.file}:${error.line}:${error.column}: ${error.key} ${error.problem}`,
      error,
    );
  }
}

function parseMetrics(yaml: YamlSource, given: string): TrafficMetrics {
  const root = yaml.root();
  if (root.node === null) yaml.fail(0, 'the file', 'is empty', EXPECTED_FILE);
  const fields = yaml.mapOf(root, EXPECTED_FILE, KEYS);
  const requests = metricName(
    yaml,
    yaml.required(root, fields, 'requests', 'the name of a counter of requests'),
    'the name of a counter of requests, e.g. http_requests_total',
  );
  const errors = matchers(
    yaml,
    yaml.required(root, fields, 'errors', 'label matchers picking the failed requests, e.g. code=~"5.."'),
    'label matchers picking the failed requests, e.g. code=~"5.."',
  );
  const commonAt = present(fields.get('common'));
  const common = commonAt ? matchers(yaml, commonAt, 'label matchers every query adds, e.g. job="api"') : [];
  const bucketsAt = present(fields.get('latency-buckets'));
  const unitAt = present(fields.get('latency-unit'));
  const metrics: TrafficMetrics = {
    // Messages say "check the metric name or the '<preset>' preset": the file as given reads right there too.
    preset: given,
    requests,
    errors,
    common,
    latencyUnitSeconds: 1,
  };
  if (bucketsAt === undefined) {
    if (unitAt !== undefined)
      yaml.fail(unitAt.at, 'latency-unit', 'is given without latency-buckets', 'both or neither');
    return metrics;
  }
  const buckets = metricName(
    yaml,
    bucketsAt,
    "a histogram's _bucket series, e.g. http_request_duration_seconds_bucket",
  );
  if (!buckets.endsWith('_bucket')) {
    yaml.wrong(
      bucketsAt,
      "a histogram's _bucket series",
      `its buckets are ${buckets}_bucket when ${buckets} is a Prometheus histogram`,
    );
  }
  const named = unitInName(buckets);
  let unitSeconds = named ?? 1;
  if (unitAt !== undefined) {
    const unit = yaml.string(unitAt, 's or ms', /^(s|ms)$/);
    unitSeconds = UNITS[unit] as number;
    // A histogram named in seconds read as milliseconds puts every bound 1000 times off: slo-latency would
    // silently land on the wrong bucket.
    if (named !== undefined && named !== unitSeconds) {
      yaml.fail(
        unitAt.at,
        'latency-unit',
        `is ${unit}, but ${buckets} is named in ${named === 1 ? 'seconds' : 'milliseconds'}`,
        named === 1 ? 's' : 'ms',
      );
    }
  }
  return { ...metrics, latencyBuckets: buckets, latencyUnitSeconds: unitSeconds };
}

/** A key with nothing after it counts as absent. */
function present(value: Located | undefined): Located | undefined {
  if (value === undefined || value.node === null) return undefined;
  return isScalar(value.node) && value.node.value === null ? undefined : value;
}

function metricName(yaml: YamlSource, value: Located, expected: string): string {
  const name = yaml.string(value, expected).trim();
  if (!METRIC_NAME.test(name)) {
    // A query where a name belongs is the most likely mistake: say why a name is asked for.
    const query = /[({[]/.test(name);
    // A query brought over from Argo Rollouts or Flagger often carries one of the traps Slipway's own queries
    // avoid: name it, so the user learns why as well as what.
    const traps = query ? lintQuery(name, 15).map((finding) => finding.message) : [];
    yaml.wrong(
      value,
      expected,
      query
        ? `a metric name, not a query: Slipway writes the queries (sum(increase(…)) per arm since the canary started)${traps.length > 0 ? `; this query also has a known trap: ${traps.join('; ')}` : ''}`
        : 'not a metric name',
    );
  }
  return name;
}

function matchers(yaml: YamlSource, value: Located, expected: string): LabelMatcher[] {
  const text = yaml.string(value, expected);
  try {
    return parseMatchers(text, value.key);
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    return yaml.wrong(value, expected, error.detail);
  }
}

/** The unit a histogram's name states (Prometheus naming puts it there), or undefined when it states none. */
function unitInName(buckets: string): number | undefined {
  if (/_(seconds)(_|$)/.test(buckets)) return 1;
  if (/_(milliseconds|ms)(_|$)/.test(buckets)) return 0.001;
  return undefined;
}

/**
 * `slo-latency` reads the latency histogram: a metrics file without latency-buckets cannot serve it. For the
 * input readers, so the mistake fails before any query is sent.
 */
export function requireLatencyBuckets(metrics: TrafficMetrics, sloLatency: string): string {
  if (metrics.latencyBuckets !== undefined) return metrics.latencyBuckets;
  throw new ConfigurationError(
    'slo-latency',
    sloLatency,
    'no slo-latency, or a metrics file with latency-buckets',
    `the metrics file ${metrics.preset} names no latency histogram (latency-buckets)`,
  );
}
