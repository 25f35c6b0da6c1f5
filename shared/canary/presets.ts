import { InvalidValueError } from '../core/errors.js';
import type { LabelMatcher } from './promql.js';

// The `metrics` presets: which counter holds requests, which of its series are errors, and which histogram holds
// latency, under each mesh's standard names. The arm and service matchers come from the user; the preset adds
// only what its exporter needs to count each request once.

export interface TrafficMetrics {
  preset: string;
  /** A counter of requests, one increment per request. */
  requests: string;
  /** Matchers that pick the failed requests' series out of `requests`. */
  errors: readonly LabelMatcher[];
  /** Matchers every query adds (Istio's reporter, so each request is counted on one side only). */
  common: readonly LabelMatcher[];
  /** The latency histogram's `_bucket` series; a metrics file may name none (then slo-latency cannot be used). */
  latencyBuckets?: string;
  /** Seconds per unit of the histogram's `le` bounds: 1 for seconds, 0.001 for milliseconds. */
  latencyUnitSeconds: number;
}

const FIVE_XX: LabelMatcher = { name: 'code', op: '=~', value: '5..' };

export const PRESETS: Readonly<Record<string, TrafficMetrics>> = {
  // Prometheus client libraries' conventional HTTP instrumentation.
  http: {
    preset: 'http',
    requests: 'http_requests_total',
    errors: [FIVE_XX],
    common: [],
    latencyBuckets: 'http_request_duration_seconds_bucket',
    latencyUnitSeconds: 1,
  },
  // Istio's standard metrics, as Flagger's built-in checks read them: the destination's report only, since the
  // source sidecar reports the same request again.
  istio: {
    preset: 'istio',
    requests: 'istio_requests_total',
    errors: [{ name: 'response_code', op: '=~', value: '5..' }],
    common: [{ name: 'reporter', op: '=', value: 'destination' }],
    latencyBuckets: 'istio_request_duration_milliseconds_bucket',
    latencyUnitSeconds: 0.001,
  },
  // Linkerd's proxy metrics: inbound responses only; `classification="failure"` is Linkerd's own error verdict.
  linkerd: {
    preset: 'linkerd',
    requests: 'response_total',
    errors: [{ name: 'classification', op: '=', value: 'failure' }],
    common: [{ name: 'direction', op: '=', value: 'inbound' }],
    latencyBuckets: 'response_latency_ms_bucket',
    latencyUnitSeconds: 0.001,
  },
  // ingress-nginx's controller metrics; its canary label holds the canary ingress's name.
  nginx: {
    preset: 'nginx',
    requests: 'nginx_ingress_controller_requests',
    errors: [{ name: 'status', op: '=~', value: '5..' }],
    common: [],
    latencyBuckets: 'nginx_ingress_controller_request_duration_seconds_bucket',
    latencyUnitSeconds: 1,
  },
};

export function preset(name: string): TrafficMetrics {
  const found = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!found) throw new InvalidValueError('metrics preset', name, `one of ${Object.keys(PRESETS).join(', ')}`);
  return found;
}
