import { describeError, SlipwayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import {
  DEFAULT_RETRY,
  isRetryableStatus,
  type RetryPolicy,
  retryAfterMs,
  retryLater,
  withRetry,
} from '../core/retry.js';
import type { Authenticator } from './auth/authenticator.js';
import { StoreError, type StoreOperation } from './errors.js';
import { checkTimeouts, DEFAULT_TIMEOUTS, fetchWithTimeouts, type StallContext, type Timeouts } from './timeouts.js';

// The HTTP transport under the registry client: every request goes through send(), which adds
// authorisation (negotiating it on a 401 challenge), follows redirects without leaking credentials to
// other hosts, bounds every wait on the registry (shared/oci/timeouts.ts), and retries what is worth
// retrying (429, 5xx, connection resets) through the one retry helper (shared/core/retry.ts). Errors name
// the registry, repository and operation, and carry the registry's own error code.

export interface TransportOptions {
  authenticator: Authenticator;
  fetch?: typeof fetch;
  logger?: Logger;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
  /** Random source for jitter; injectable so tests are exact. */
  random?: () => number;
  /** Connect and idle timeouts for every request (defaults: 30 s and 60 s). */
  timeouts?: Partial<Timeouts>;
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
/** Of an error answer, only this much is read: enough for the registry's JSON error, never a flood. */
const MAX_ERROR_BODY = 4096;

export class RegistryTransport {
  readonly #options: Required<Omit<TransportOptions, 'authenticator' | 'timeouts'>> & {
    authenticator: Authenticator;
  };
  readonly timeouts: Timeouts;

  constructor(options: TransportOptions) {
    const { timeouts, ...rest } = options;
    this.#options = {
      fetch: globalThis.fetch,
      logger: silentLogger,
      retry: DEFAULT_RETRY,
      sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
      userAgent: 'slipway',
      random: Math.random,
      ...rest,
    };
    this.timeouts = checkTimeouts({ ...DEFAULT_TIMEOUTS, ...timeouts });
  }

  /** Sends a request; resolves with a response whose status is in `accept`, otherwise throws StoreError. */
  async send(request: RegistryRequest): Promise<Response> {
    const { retry, logger, sleep, random } = this.#options;
    return withRetry(
      async () => {
        let response: Response;
        try {
          response = await this.#sendAuthorised(request);
        } catch (error) {
          // Our own errors (a refused token request, too many redirects, a stall) are answers, not network
          // faults: a registry that said nothing for a minute is not waited on again.
          if (error instanceof SlipwayError) throw error;
          return retryLater(describeError(error), () => networkError(request, error));
        }
        if (request.accept.includes(response.status)) return response;
        if (isRetryableStatus(response.status)) {
          const failure = await statusError(request, response);
          return retryLater(`HTTP ${response.status}`, () => failure, {
            retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
          });
        }
        throw await statusError(request, response);
      },
      {
        policy: retry,
        sleep,
        random,
        onRetry: ({ delayMs, reason }) =>
          logger.debug(`${request.operation.operation}: ${reason}; retrying in ${delayMs} ms`),
      },
    );
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
      // The body goes out as a stream (to watch the upload for stalls), so its length is stated up front.
      if (request.body) headers['content-length'] = String(request.body.byteLength);
      const response = await fetchWithTimeouts(
        this.#options.fetch,
        url,
        { method: request.method, headers, redirect: 'manual', body: request.body },
        this.timeouts,
        stallContext(request, url),
      );
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      await response.body?.cancel();
      url = new URL(location, url).toString();
    }
    throw new StoreError(request.operation, `more than ${MAX_REDIRECTS} redirects`);
  }
}

/** "registry ghcr.io" / "reading blob sha256:… of acme/api", for StallError; a redirect target is named as such. */
function stallContext(request: RegistryRequest, url: string): StallContext {
  const { operation, location } = request.operation;
  const repository = location.startsWith(`${request.registry}/`) ? location.slice(request.registry.length + 1) : '';
  const [verb = '', ...rest] = operation.split(' ');
  const action = [gerund(verb), ...rest].join(' ') + (repository ? ` of ${repository}` : '');
  const host = new URL(url).host;
  const redirected = host !== new URL(request.url).host;
  return {
    server: redirected ? `${host}, where registry ${request.registry} redirected,` : `registry ${request.registry}`,
    action,
  };
}

/** "read" → "reading", "resolve" → "resolving", "list" → "listing": operations start with a verb. */
function gerund(verb: string): string {
  if (verb.endsWith('e') && !verb.endsWith('ee')) return `${verb.slice(0, -1)}ing`;
  if (verb === 'put') return 'putting';
  return `${verb}ing`;
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

async function statusError(request: RegistryRequest, response: Response): Promise<StoreError> {
  let text = '';
  try {
    text = request.method === 'HEAD' ? '' : await readPrefix(response, MAX_ERROR_BODY);
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
  const wrapped = new StoreError(request.operation, `could not reach ${request.registry}: ${describeError(error)}`);
  wrapped.cause = error;
  return wrapped;
}

/** The first `limit` bytes of a body as text; the rest is not read. */
async function readPrefix(response: Response, limit: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  while (received < limit) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    chunks.push(value);
    received += value.byteLength;
  }
  await reader.cancel();
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}
