import { describeError, InvalidValueError, SlipwayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import {
  DEFAULT_RETRY,
  isRetryableStatus,
  type RetryPolicy,
  retryAfterMs,
  retryLater,
  withRetry,
} from '../core/retry.js';

// The Prometheus HTTP API client the canary reads its metrics through: instant and range queries and the series
// (label) API, with auth, custom headers (a tenant header for Mimir or Thanos), connect and idle timeouts, retries
// and a cap on the response size. A query's NaN, ±Inf and empty results are returned as such, typed; the callers
// (counts, probe) decide what each means, so nothing downstream ever compares against NaN by accident.

export type PrometheusAuth =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'basic'; username: string; password: string };

export interface PrometheusOptions {
  /** The server's base URL, e.g. `http://prometheus:9090` or a path prefix such as `https://mimir/prometheus`. */
  url: string;
  auth?: PrometheusAuth;
  /** Sent with every request (e.g. `X-Scope-OrgID`); the auth option's Authorization wins over one given here. */
  headers?: Readonly<Record<string, string>>;
  /** Time to connect and be answered, beyond the idle time the query may take to evaluate. */
  connectTimeoutMs?: number;
  /** The longest the server may send nothing (evaluating the query counts): also sent as the query's `timeout`. */
  idleTimeoutMs?: number;
  retry?: RetryPolicy;
  /** Bodies larger than this fail rather than fill memory (a query matching far more series than meant). */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A failure talking to Prometheus: names the server (without credentials) and the query or operation. */
export class PrometheusError extends SlipwayError {
  override name = 'PrometheusError';
  constructor(
    readonly server: string,
    /** The PromQL query, or the operation ("series for …") when it was not a query. */
    readonly query: string,
    readonly detail: string,
    readonly status?: number,
  ) {
    super(`Prometheus ${server} failed on ${JSON.stringify(query)}: ${detail}`);
  }
}

export type Labels = Readonly<Record<string, string>>;

/** One instant sample. `value` may be NaN or ±Infinity, exactly as Prometheus evaluated it. */
export interface Sample {
  labels: Labels;
  value: number;
}

export interface Series {
  labels: Labels;
  /** [unix seconds, value] pairs. */
  points: Array<[number, number]>;
}

/** What one number from a query turned out to be: these three must never be confused (canary.md §3). */
export type Reading = { kind: 'value'; value: number } | { kind: 'nan' } | { kind: 'empty' };

/** Reduces an instant vector to one reading; more than one series is an error naming the query. */
export function singleReading(samples: readonly Sample[], server: string, query: string): Reading {
  if (samples.length === 0) return { kind: 'empty' };
  if (samples.length > 1) {
    throw new PrometheusError(server, query, `expected one series, got ${samples.length}: aggregate it with sum()`);
  }
  const value = (samples[0] as Sample).value;
  return Number.isNaN(value) ? { kind: 'nan' } : { kind: 'value', value };
}

interface ApiEnvelope {
  status?: unknown;
  data?: unknown;
  errorType?: unknown;
  error?: unknown;
  warnings?: unknown;
}

export class PrometheusClient {
  /** The server for messages: origin and path, never credentials. */
  readonly server: string;
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #connectTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #maxBytes: number;
  readonly #fetch: typeof fetch;
  readonly #sleep: ((ms: number) => Promise<void>) | undefined;
  readonly #logger: Logger;

  constructor(options: PrometheusOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new InvalidValueError('Prometheus URL', options.url, 'an http(s) URL such as http://prometheus:9090');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidValueError('Prometheus URL', options.url, 'an http(s) URL such as http://prometheus:9090');
    }
    let auth = options.auth ?? { kind: 'none' };
    // fetch refuses URLs with credentials; `https://user:pass@host` is still how many people write them.
    if (url.username || url.password) {
      if (auth.kind !== 'none') {
        throw new InvalidValueError(
          'Prometheus URL',
          `${url.protocol}//${url.host}`,
          'a URL without credentials',
          'it holds credentials and other auth is also given',
        );
      }
      auth = { kind: 'basic', username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
      url.username = '';
      url.password = '';
    }
    url.search = '';
    url.hash = '';
    this.#base = url.href.replace(/\/+$/, '');
    this.server = this.#base;
    this.#headers = { accept: 'application/json', ...options.headers };
    if (auth.kind === 'bearer') this.#headers.authorization = `Bearer ${auth.token}`;
    if (auth.kind === 'basic') {
      this.#headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    this.#connectTimeoutMs = positive(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs');
    this.#idleTimeoutMs = positive(options.idleTimeoutMs ?? 60_000, 'idleTimeoutMs');
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#maxBytes = positive(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes');
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep;
    this.#logger = options.logger ?? silentLogger;
  }

  /** An instant query evaluated at `at`. A scalar result comes back as one sample without labels. */
  async instant(query: string, at: Date): Promise<Sample[]> {
    const data = await this.#api('/api/v1/query', { query, time: seconds(at) }, query);
    const { resultType, result } = (data ?? {}) as { resultType?: unknown; result?: unknown };
    if (resultType === 'scalar' && Array.isArray(result)) return [{ labels: {}, value: parseValue(result[1]) }];
    if (resultType !== 'vector' || !Array.isArray(result)) {
      throw new PrometheusError(this.server, query, `expected an instant vector, got ${String(resultType)}`);
    }
    return result.map((item: { metric?: Labels; value?: [unknown, unknown] }) => ({
      labels: item.metric ?? {},
      value: parseValue(item.value?.[1]),
    }));
  }

  /** A range query from `start` to `end` every `stepSeconds`. */
  async range(query: string, start: Date, end: Date, stepSeconds: number): Promise<Series[]> {
    const params = { query, start: seconds(start), end: seconds(end), step: String(stepSeconds) };
    const data = await this.#api('/api/v1/query_range', params, query);
    const { resultType, result } = (data ?? {}) as { resultType?: unknown; result?: unknown };
    if (resultType !== 'matrix' || !Array.isArray(result)) {
      throw new PrometheusError(this.server, query, `expected a range vector, got ${String(resultType)}`);
    }
    return result.map((item: { metric?: Labels; values?: Array<[number, unknown]> }) => ({
      labels: item.metric ?? {},
      points: (item.values ?? []).map(([time, value]): [number, number] => [Number(time), parseValue(value)]),
    }));
  }

  /** The label sets of the series `match` selects that have samples between `start` and `end`. */
  async series(match: string, start: Date, end: Date): Promise<Labels[]> {
    const data = await this.#api(
      '/api/v1/series',
      { 'match[]': match, start: seconds(start), end: seconds(end) },
      `series ${match}`,
    );
    if (!Array.isArray(data)) throw new PrometheusError(this.server, `series ${match}`, 'expected a list of series');
    return data as Labels[];
  }

  async #api(path: string, params: Record<string, string>, what: string): Promise<unknown> {
    // POST with a form body, as Grafana does: long queries do not hit URL length limits in proxies.
    const body = new URLSearchParams({ ...params, timeout: `${Math.ceil(this.#idleTimeoutMs / 1000)}s` }).toString();
    const url = `${this.#base}${path}`;
    const giveUp = (detail: string, status?: number) => (attempts: number) =>
      new PrometheusError(
        this.server,
        what,
        `${detail} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`,
        status,
      );
    return withRetry<unknown>(
      async () => {
        let response: Response;
        let text: string;
        try {
          ({ response, text } = await this.#post(url, body));
        } catch (error) {
          if (error instanceof PrometheusError) throw error;
          const detail = describeError(error);
          return retryLater(detail, giveUp(detail));
        }
        if (response.status === 401 || response.status === 403) {
          throw new PrometheusError(
            this.server,
            what,
            `HTTP ${response.status}: check the credentials`,
            response.status,
          );
        }
        let envelope: ApiEnvelope | undefined;
        try {
          envelope = JSON.parse(text) as ApiEnvelope;
        } catch {
          envelope = undefined;
        }
        if (response.ok && envelope?.status === 'success') {
          if (Array.isArray(envelope.warnings) && envelope.warnings.length > 0) {
            this.#logger.warning(
              `Prometheus ${this.server} warned on ${JSON.stringify(what)}: ${envelope.warnings.join('; ')}`,
            );
          }
          return envelope.data;
        }
        const detail = `HTTP ${response.status}${envelope?.error ? `: ${String(envelope.error).slice(0, 300)}` : text ? `: ${firstLine(text)}` : ''}`;
        // 400 bad_data and 422 execution errors are the query's fault: another try gives the same answer.
        if (!isRetryableStatus(response.status)) throw new PrometheusError(this.server, what, detail, response.status);
        return retryLater(detail, giveUp(detail, response.status), {
          retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
        });
      },
      {
        policy: this.#retry,
        ...(this.#sleep ? { sleep: this.#sleep } : {}),
        onRetry: ({ delayMs, reason }) =>
          this.#logger.debug(`Prometheus ${this.server} ${JSON.stringify(what)}: ${reason}; retrying in ${delayMs} ms`),
      },
    );
  }

  /**
   * One POST with the connect and idle timeouts and the size cap. The response headers may take connect + idle
   * (Prometheus answers only once the query is evaluated); after that, each body chunk may take idle.
   */
  async #post(url: string, body: string): Promise<{ response: Response; text: string }> {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stalled: string | undefined;
    const arm = (ms: number, what: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = what;
        controller.abort();
      }, ms);
    };
    arm(
      this.#connectTimeoutMs + this.#idleTimeoutMs,
      `no response within ${(this.#connectTimeoutMs + this.#idleTimeoutMs) / 1000} s`,
    );
    try {
      const response = await this.#fetch(url, {
        method: 'POST',
        headers: { ...this.#headers, 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: controller.signal,
      });
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (declared > this.#maxBytes) {
        controller.abort();
        throw new PrometheusError(
          this.server,
          url,
          `the response is ${declared} bytes, over the cap of ${this.#maxBytes}`,
        );
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      const reader = response.body?.getReader();
      while (reader) {
        arm(this.#idleTimeoutMs, `no data for ${this.#idleTimeoutMs / 1000} s while reading the response`);
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > this.#maxBytes) {
          controller.abort();
          throw new PrometheusError(this.server, url, `the response exceeds the cap of ${this.#maxBytes} bytes`);
        }
        chunks.push(value);
      }
      return { response, text: Buffer.concat(chunks).toString('utf8') };
    } catch (error) {
      if (stalled !== undefined) throw new Error(stalled);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidValueError(`Prometheus option ${name}`, String(value), 'a positive number');
  }
  return value;
}

/** Unix seconds with milliseconds, as the API takes them. */
function seconds(date: Date): string {
  return (date.getTime() / 1000).toFixed(3);
}

/** Prometheus writes sample values as strings: "1.5", "NaN", "+Inf", "-Inf". */
function parseValue(value: unknown): number {
  if (value === 'NaN') return Number.NaN;
  if (value === '+Inf') return Number.POSITIVE_INFINITY;
  if (value === '-Inf') return Number.NEGATIVE_INFINITY;
  const number = typeof value === 'string' ? Number(value) : Number.NaN;
  return number;
}

function firstLine(text: string): string {
  return (text.trim().split('\n')[0] ?? '').slice(0, 200);
}
