import { SlipwayError } from '../runner/errors.js';
import { type Logger, silentLogger } from '../runner/logger.js';
import type { Authenticator } from './auth/authenticator.js';
import { StoreError, type StoreOperation } from './errors.js';

// The HTTP transport under the registry client: every request goes through send(), which adds
// authorisation (negotiating it on a 401 challenge), follows redirects without leaking credentials to
// other hosts, and retries what is worth retrying (429, 5xx, connection resets) with backoff that honours
// Retry-After. Errors name the registry, repository and operation, and carry the registry's own error code.

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

export interface TransportOptions {
  authenticator: Authenticator;
  fetch?: typeof fetch;
  logger?: Logger;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
  /** Random source for jitter; injectable so tests are exact. */
  random?: () => number;
}

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** host[:port] as in image references; the key for credentials and tokens. */
  registry: string;
  /** Token scopes this request needs, e.g. `repository:acme/api:pull`. */
  scopes: string[];
  headers?: Record<string, string>;
  /** Bodies are bytes so that a retry can send them again. */
  body?: Uint8Array;
  /** Statuses that are answers rather than failures (404 for "not there", 412 for a lost race…). */
  accept: readonly number[];
  operation: StoreOperation;
}

const MAX_REDIRECTS = 5;
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export class RegistryTransport {
  readonly #options: Required<Omit<TransportOptions, 'authenticator'>> & { authenticator: Authenticator };

  constructor(options: TransportOptions) {
    this.#options = {
      fetch: globalThis.fetch,
      logger: silentLogger,
      retry: DEFAULT_RETRY,
      sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
      userAgent: 'slipway',
      random: Math.random,
      ...options,
    };
  }

  /** Sends a request; resolves with a response whose status is in `accept`, otherwise throws StoreError. */
  async send(request: RegistryRequest): Promise<Response> {
    const { retry, logger, sleep } = this.#options;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.#sendAuthorised(request);
      } catch (error) {
        // Our own errors (a refused token request, too many redirects) are answers, not network faults.
        if (error instanceof SlipwayError) throw error;
        if (attempt >= retry.attempts) throw networkError(request, error);
        const delay = this.#backoff(attempt);
        logger.debug(`${request.operation.operation}: ${describe(error)}; retrying in ${delay} ms`);
        await sleep(delay);
        continue;
      }
      if (request.accept.includes(response.status)) return response;
      if (RETRYABLE_STATUS.has(response.status) && attempt < retry.attempts) {
        const delay = retryAfterMs(response.headers.get('retry-after')) ?? this.#backoff(attempt);
        await response.body?.cancel();
        logger.debug(`${request.operation.operation}: HTTP ${response.status}; retrying in ${delay} ms`);
        await sleep(Math.min(delay, retry.maxDelayMs));
        continue;
      }
      throw await statusError(request, response);
    }
  }

  /** Exponential backoff with full jitter, so many clients retrying at once spread out. */
  #backoff(attempt: number): number {
    const { baseDelayMs, maxDelayMs } = this.#options.retry;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (this.#options.random() * ceiling) / 2);
  }

  async #sendAuthorised(request: RegistryRequest): Promise<Response> {
    const { authenticator } = this.#options;
    const cached = authenticator.cached(request.registry, request.scopes);
    const response = await this.#sendFollowingRedirects(request, cached);
    if (response.status !== 401) return response;
    const header = await authenticator.authorize(request.registry, response, request.scopes);
    // No credentials could answer the challenge, or the ones we sent were refused: the 401 is the answer.
    if (header === undefined || header === cached) return response;
    await response.body?.cancel();
    return this.#sendFollowingRedirects(request, header);
  }

  async #sendFollowingRedirects(request: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const origin = new URL(request.url).origin;
    let url = request.url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.#options.userAgent, ...request.headers };
      // Blob downloads redirect to storage (S3, a CDN) on another host; the registry's credentials stay home.
      if (authorization && new URL(url).origin === origin) headers.authorization = authorization;
      const response = await this.#options.fetch(url, {
        method: request.method,
        headers,
        redirect: 'manual',
        ...(request.body ? { body: request.body } : {}),
      });
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      await response.body?.cancel();
      url = new URL(location, url).toString();
    }
    throw new StoreError(request.operation, `more than ${MAX_REDIRECTS} redirects`);
  }
}

/** Retry-After in milliseconds: seconds, or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

async function statusError(request: RegistryRequest, response: Response): Promise<StoreError> {
  let text = '';
  try {
    text = request.method === 'HEAD' ? '' : (await response.text()).slice(0, 4096);
  } catch {
    // The body is only for the message; a broken one leaves the status to speak.
  }
  let detail = `HTTP ${response.status}`;
  try {
    const body = JSON.parse(text) as RegistryErrorBody;
    const first = body.errors?.[0];
    if (first?.code) detail += ` ${first.code}`;
    if (first?.message) detail += `: ${first.message}`;
  } catch {
    const plain = text.trim().split('\n')[0];
    if (plain) detail += `: ${plain.slice(0, 200)}`;
  }
  if (response.status === 401) detail += hint401(request);
  if (response.status === 403) detail += ' (the credentials lack permission for this repository)';
  return new StoreError(request.operation, detail, response.status);
}

function hint401(request: RegistryRequest): string {
  return ` (no credentials for ${request.registry} were accepted; log in with docker login, or pass username and password)`;
}

function networkError(request: RegistryRequest, error: unknown): StoreError {
  const wrapped = new StoreError(request.operation, `could not reach ${request.registry}: ${describe(error)}`);
  wrapped.cause = error;
  return wrapped;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error.cause as { code?: string } | undefined)?.code;
    return code ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
