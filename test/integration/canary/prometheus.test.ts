import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preset } from '../../../shared/canary/presets.js';
import { PrometheusClient, PrometheusError, singleReading } from '../../../shared/canary/prometheus.js';
import { parseMatchers } from '../../../shared/canary/promql.js';
import { lintArmOverlap, lintNewSeries } from '../../../shared/canary/promql-lint.js';
import { type Arm, counts, evaluationTime, latencyCounts, probe } from '../../../shared/canary/traffic.js';
import { serveLoopback } from '../../support/loopback.js';
import {
  type ArmTraffic,
  expected,
  SCRAPE_SECONDS,
  type Scenario,
  startPrometheus,
  stepTime,
  type TestPrometheus,
} from '../../support/prometheus.js';

// The provider against a real Prometheus 2.42 holding a backfilled scenario whose counts are known. Queries run at
// the scenario's end, not at wall-clock now. Where `since` falls on a sample, the window's first and last samples
// lie on its ends, so increase() does not extrapolate and equals the generated count (to float rounding).

const STEPS = 120; // 30 minutes of 15 s scrapes
const arms = {
  healthyStable: { service: 'healthy', version: 'stable', requestsPerStep: 500, errorsPerStep: 5, notFoundPerStep: 7 },
  healthyCanary: { service: 'healthy', version: 'canary', requestsPerStep: 100, errorsPerStep: 1, notFoundPerStep: 2 },
  regressedStable: { service: 'regressed', version: 'stable', requestsPerStep: 500, errorsPerStep: 5 },
  regressedCanary: { service: 'regressed', version: 'canary', requestsPerStep: 100, errorsPerStep: 2, slowPerStep: 9 },
  idleCanary: { service: 'idle', version: 'canary', requestsPerStep: 0, errorsPerStep: 0 },
  cleanCanary: { service: 'clean', version: 'canary', requestsPerStep: 100, errorsPerStep: 0, noErrorSeries: true },
  lateCanary: { service: 'late', version: 'canary', requestsPerStep: 100, errorsPerStep: 2, errorsFromStep: 40 },
} satisfies Record<string, ArmTraffic>;
// Ten minutes before the last full minute is "near now" and safely in the past.
const start = Math.floor(Date.now() / 60_000) * 60 - 10 * 60 - STEPS * SCRAPE_SECONDS;
const scenario: Scenario = { start, steps: STEPS, arms: Object.values(arms) };
const since = stepTime(scenario, 0);
const at = stepTime(scenario, STEPS);
const http = preset('http');
const arm = (service: string, version: string): Arm => ({
  service: parseMatchers(`service="${service}"`),
  matchers: parseMatchers(`version="${version}"`),
});
/** Float rounding only: see the note at the top. */
const exact = (got: number | undefined, want: number) => {
  expect(got).toBeDefined();
  expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, want));
};

let server: TestPrometheus;
let client: PrometheusClient;

beforeAll(async () => {
  server = await startPrometheus(scenario, { auth: true });
  const { username, password } = server.credentials as { username: string; password: string };
  client = new PrometheusClient({ url: server.url, auth: { kind: 'basic', username, password } });
});

afterAll(async () => {
  await server?.stop();
});

describe('counts from increase() since the canary started', () => {
  it('equals what the scenario generated, per arm, for a healthy and a 2x-error canary', async () => {
    for (const [traffic, service] of [
      [arms.healthyStable, 'healthy'],
      [arms.healthyCanary, 'healthy'],
      [arms.regressedStable, 'regressed'],
      [arms.regressedCanary, 'regressed'],
    ] as const) {
      const got = await counts(client, http, arm(service, traffic.version), since, at);
      const want = expected(traffic, 0, STEPS);
      exact(got.requests, want.requests);
      // 404s are in requests but not in errors: only 5xx are failures.
      exact(got.errors, want.errors);
      expect(got.queries.requests).toBe(
        `sum(increase(http_requests_total{service="${service}",version="${traffic.version}"}[1800s]))`,
      );
    }
    const canary = await counts(client, http, arm('regressed', 'canary'), since, at);
    const stable = await counts(client, http, arm('regressed', 'stable'), since, at);
    expect(canary.errors / (canary.requests as number)).toBeCloseTo(
      2 * (stable.errors / (stable.requests as number)),
      9,
    );
  });

  it('is stateless: a later evaluation over a longer window counts exactly the steps in it', async () => {
    const from = 20;
    const got = await counts(client, http, arm('healthy', 'canary'), stepTime(scenario, from), stepTime(scenario, 100));
    const want = expected(arms.healthyCanary, from, 100);
    exact(got.requests, want.requests);
    exact(got.errors, want.errors);
  });

  it('stays within one scrape step of the truth when since falls between samples (extrapolation)', async () => {
    // increase() extrapolates from the first sample inside the window towards its start, by at most half a
    // step per end when samples are regular: the error is bounded by one step's increments.
    const offSample = new Date(stepTime(scenario, 10).getTime() + 7_000);
    const got = await counts(client, http, arm('healthy', 'stable'), offSample, at);
    const traffic = arms.healthyStable;
    const truth = expected(traffic, 10, STEPS).requests - (7 / SCRAPE_SECONDS) * traffic.requestsPerStep;
    expect(Math.abs((got.requests as number) - truth)).toBeLessThanOrEqual(traffic.requestsPerStep);
  });

  it('counts requests slower than a bucket bound, and names the bounds when given another', async () => {
    const got = await latencyCounts(client, http, arm('regressed', 'canary'), 0.5, since, at);
    const want = expected(arms.regressedCanary, 0, STEPS);
    exact(got.total, want.requests);
    exact(got.slow, want.slow);
    await expect(latencyCounts(client, http, arm('regressed', 'canary'), 0.3, since, at)).rejects.toThrow(
      /0\.3s is not a bucket bound of http_request_duration_seconds_bucket; its bounds are 0\.05s, 0\.1s, 0\.25s, 0\.5s, 1s, \+Inf/,
    );
  });

  it('evaluates two scrape intervals before now', () => {
    expect(evaluationTime(new Date('2026-01-01T00:01:00Z'), 15).toISOString()).toBe('2026-01-01T00:00:30.000Z');
  });
});

describe('the probe tells no match, no traffic and zero errors apart', () => {
  it('errors: traffic with failures', async () => {
    const result = await probe(client, http, arm('regressed', 'canary'), since, at);
    expect(result.diagnosis).toBe('errors');
    expect(result.series).toHaveLength(3); // 200, 500, 503
    expect(result.newSeries).toEqual([]);
  });

  it('zero errors: traffic and no 5xx series at all', async () => {
    const result = await probe(client, http, arm('clean', 'canary'), since, at);
    expect(result.diagnosis).toBe('zero-errors');
    exact(result.counts?.requests, expected(arms.cleanCanary, 0, STEPS).requests);
    expect(result.counts?.errors).toBe(0);
  });

  it('no traffic: series exist but did not increase', async () => {
    const result = await probe(client, http, arm('idle', 'canary'), since, at);
    expect(result.diagnosis).toBe('no-traffic');
    expect(result.detail).toMatch(/no traffic reached this arm/);
  });

  it('no match: says whether the service or the arm matcher is wrong, with the values seen', async () => {
    const wrongService = await probe(client, http, arm('nosuch', 'canary'), since, at);
    expect(wrongService.diagnosis).toBe('no-match');
    expect(wrongService.detail).toMatch(
      /http_requests_total\{service="nosuch"\} matches nothing: check the service matcher/,
    );
    const wrongArm = await probe(client, http, arm('healthy', 'canery'), since, at);
    expect(wrongArm.diagnosis).toBe('no-match');
    expect(wrongArm.detail).toMatch(/version takes the values "canary", "stable"/);
    const wrongMetric = await probe(client, preset('istio'), arm('healthy', 'canary'), since, at);
    expect(wrongMetric.detail).toMatch(/no series of istio_requests_total\{reporter="destination"\} exist/);
  });

  it('finds counter series that appeared after since, which the new-series lint reports', async () => {
    const result = await probe(client, http, arm('late', 'canary'), since, at);
    expect(result.newSeries.map((labels) => labels.code).sort()).toEqual(['500', '503']);
    expect(lintNewSeries(result).map((finding) => finding.code)).toEqual(['series-after-since']);
    // Its errors still count exactly, as the scenario's late counters start at 0.
    exact(result.counts?.errors, expected(arms.lateCanary, 0, STEPS).errors);
  });

  it('feeds the observed series to the overlap lint', async () => {
    const canary = arm('healthy', 'canary');
    const loose = parseMatchers('version=~"canary|stable"');
    const seen = (await probe(client, http, canary, since, at)).series;
    expect(lintArmOverlap(canary.matchers, loose, seen).map((finding) => finding.severity)).toEqual(['error']);
    expect(lintArmOverlap(canary.matchers, parseMatchers('version="stable"'), seen)).toEqual([]);
  });
});

describe('NaN and empty results are typed, never compared', () => {
  it('a quantile over zero observations is NaN, a missing series is empty, a value is a value', async () => {
    const quantile =
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="idle"}[5m])))';
    expect(singleReading(await client.instant(quantile, at), client.server, quantile)).toEqual({ kind: 'nan' });
    const missing = 'sum(http_requests_total{service="nosuch"})';
    expect(singleReading(await client.instant(missing, at), client.server, missing)).toEqual({ kind: 'empty' });
    const scalar = 'scalar(sum(http_requests_total{service="clean"}))';
    expect(singleReading(await client.instant(scalar, at), client.server, scalar)).toEqual({
      kind: 'value',
      value: STEPS * 100,
    });
  });

  it('more than one series is an error asking for sum()', async () => {
    const query = 'http_requests_total{service="healthy",version="canary"}';
    expect(() =>
      singleReading(
        [
          { labels: {}, value: 1 },
          { labels: {}, value: 2 },
        ],
        client.server,
        query,
      ),
    ).toThrow(/expected one series, got 2: aggregate it with sum\(\)/);
  });

  it('a count with no series reads as no requests, not as zero or NaN', async () => {
    const got = await counts(client, http, arm('nosuch', 'canary'), since, at);
    expect(got.requests).toBeUndefined();
    expect(got.errors).toBe(0);
  });

  it('range queries return the points at each step', async () => {
    const series = await client.range(
      'sum(increase(http_requests_total{service="healthy",version="canary"}[60s]))',
      stepTime(scenario, 8),
      stepTime(scenario, 16),
      60,
    );
    expect(series).toHaveLength(1);
    expect(series[0]?.points.map(([, value]) => value)).toEqual([400, 400, 400]);
  });
});

describe('errors name the server and the query', () => {
  it('a bad query fails at once with the server and Prometheus error', async () => {
    const error = await client.instant('sum(rate(x[5m])', at).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PrometheusError);
    expect((error as Error).message).toContain(`Prometheus ${server.url} failed on "sum(rate(x[5m])"`);
    expect((error as PrometheusError).status).toBe(400);
  });

  it('wrong credentials fail with 401, naming the server, without retrying', async () => {
    const anonymous = new PrometheusClient({ url: server.url });
    await expect(anonymous.instant('up', at)).rejects.toThrow(
      new RegExp(`Prometheus ${server.url} failed on "up": HTTP 401: check the credentials`),
    );
  });

  it('credentials in the URL become basic auth and never appear in messages', async () => {
    const { username, password } = server.credentials as { username: string; password: string };
    const withUserinfo = new PrometheusClient({ url: server.url.replace('//', `//${username}:${password}@`) });
    expect(withUserinfo.server).toBe(server.url);
    const got = await counts(withUserinfo, http, arm('clean', 'canary'), since, at);
    exact(got.requests, STEPS * 100);
  });
});

describe('through a gateway: bearer token, custom headers, retries, timeouts, size cap', () => {
  it('sends the bearer token and the custom header, and retries a 503', async () => {
    const { username, password } = server.credentials as { username: string; password: string };
    const seen: Array<{ authorization?: string; tenant?: string; path?: string }> = [];
    let calls = 0;
    // A Mimir-like gateway: checks the tenant's bearer token, then forwards with its own credentials.
    const gateway = await serveLoopback(async (request, response) => {
      calls++;
      seen.push({
        authorization: request.headers.authorization,
        tenant: request.headers['x-scope-orgid'] as string,
        path: request.url,
      });
      if (calls === 1) {
        response.writeHead(503, { 'retry-after': '0' }).end('busy');
        return;
      }
      if (request.headers.authorization !== 'Bearer tenant-token-1234') {
        response.writeHead(401).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      // The gateway serves Prometheus under /prometheus, as Mimir does; Prometheus itself serves the API at the root.
      const upstream = await fetch(`${server.url}${request.url?.replace(/^\/prometheus/, '')}`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: Buffer.concat(chunks),
      });
      response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
    });
    try {
      const viaGateway = new PrometheusClient({
        url: `${gateway.url}/prometheus/`,
        auth: { kind: 'bearer', token: 'tenant-token-1234' },
        headers: { 'X-Scope-OrgID': 'tenant-a' },
        retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 10 },
      });
      const got = await counts(viaGateway, http, arm('clean', 'canary'), since, at);
      exact(got.requests, STEPS * 100);
      expect(calls).toBe(3); // one 503, then the two count queries
      expect(seen.every((headers) => headers.authorization === 'Bearer tenant-token-1234')).toBe(true);
      expect(seen.every((headers) => headers.tenant === 'tenant-a')).toBe(true);
      expect(seen.every((headers) => headers.path === '/prometheus/api/v1/query')).toBe(true);
    } finally {
      await gateway.close();
    }
  });

  it('gives up after the attempts with the last status, naming the server and query', async () => {
    const down = await serveLoopback((_request, response) => {
      response.writeHead(502).end('bad gateway');
    });
    try {
      const failing = new PrometheusClient({ url: down.url, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
      await expect(failing.instant('up', at)).rejects.toThrow(
        `Prometheus ${down.url} failed on "up": HTTP 502: bad gateway (after 2 attempts)`,
      );
    } finally {
      await down.close();
    }
  });

  it('a stalled server fails within the timeouts', async () => {
    const stalled = await serveLoopback(() => {
      // Never answers.
    });
    try {
      const impatient = new PrometheusClient({
        url: stalled.url,
        connectTimeoutMs: 100,
        idleTimeoutMs: 200,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      });
      const began = Date.now();
      await expect(impatient.instant('up', at)).rejects.toThrow(/failed on "up": no response within 0\.3 s/);
      expect(Date.now() - began).toBeLessThan(5_000);
    } finally {
      await stalled.close();
    }
  });

  it('a response over the size cap fails instead of filling memory', async () => {
    const huge = await serveLoopback((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`{"status":"success","data":{"resultType":"vector","result":[${'{},'.repeat(100_000)}{}]}}`);
    });
    try {
      const capped = new PrometheusClient({ url: huge.url, maxResponseBytes: 64 * 1024 });
      await expect(capped.instant('up', at)).rejects.toThrow(/over the cap of 65536|exceeds the cap of 65536 bytes/);
    } finally {
      await huge.close();
    }
  });
});
