import { SlipwayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { backoffMs, isRetryableStatus, type RetryPolicy, retryAfterMs, retryLater, withRetry } from '../core/retry.js';
import { SLIPWAY_VERSION } from '../version.js';
import { githubContext, serverUrlForApi } from './context.js';

// A small client for GitHub's REST API, on fetch: the few endpoints Slipway calls do not justify Octokit
// and its dependency tree in every action bundle. It speaks to github.com, GHE.com and GHES alike (the base
// URL comes from GITHUB_API_URL, which the runner sets), pins the REST API version so a new default cannot
// change response shapes under us, and retries what GitHub asks to be retried: 5xx, 429 and the secondary
// rate limit, waiting as long as Retry-After or x-ratelimit-reset says. Failures become a SlipwayError that
// names the method, path and status with GitHub's own message. The token goes to the API's origin only
// and is never logged.

type Env = Readonly<Record<string, string | undefined>>;

/** The REST API version every request pins; responses are checked against this version's description. */
export const GITHUB_API_VERSION = '2022-11-28';

export const DEFAULT_API_URL = 'https://api.github.com';

export interface GitHubRetryPolicy extends RetryPolicy {
  /**
   * The longest wait for a rate limit to lift (Retry-After, x-ratelimit-reset). A longer one fails at once,
   * saying when the limit resets: a job that sleeps for an hour looks hung and burns runner minutes.
   */
  maxRateLimitWaitMs: number;
}

export const DEFAULT_GITHUB_RETRY: GitHubRetryPolicy = {
  attempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRateLimitWaitMs: 5 * 60_000,
  // Room for one full rate-limit wait and the backoffs around it, not for a job that waits for ever.
  maxElapsedMs: 15 * 60_000,
};

export interface GitHubClientOptions {
  /** GITHUB_TOKEN, an app installation token or a PAT; without one only public reads work. */
  token?: string;
  /** REST API root: https://api.github.com, https://HOST/api/v3 (GHES), https://api.TENANT.ghe.com. */
  baseUrl?: string;
  /** The web root for links shown to users; derived from baseUrl (or GITHUB_SERVER_URL) when not given. */
  serverUrl?: string;
  env?: Env;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  retry?: Partial<GitHubRetryPolicy>;
  logger?: Logger;
  /** Clock for x-ratelimit-reset; injectable so tests are exact. */
  now?: () => number;
  /** Random source for backoff jitter. */
  random?: () => number;
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /**
   * Explanations added to the error for a status, where the caller knows what it usually means for this
   * endpoint (a 403 on attestations is a missing permission or plan, not a bad token).
   */
  hints?: Partial<Record<number, string>>;
}

export interface GitHubResponse<T> {
  status: number;
  data: T;
  headers: Headers;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request GitHub answered with an error status (or that could not reach it at all: status 0). */
export class GitHubApiError extends SlipwayError {
  override name = 'GitHubApiError';
  constructor(
    message: string,
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** GitHub's own `message`, when the body had one. */
    readonly githubMessage?: string,
  ) {
    super(message);
  }
}

const MAX_REDIRECTS = 5;
const MAX_PAGES = 1000;
const MAX_MESSAGE = 500;
/** GitHub's advice when a secondary rate limit answer carries neither Retry-After nor a reset time. */
const SECONDARY_LIMIT_WAIT_MS = 60_000;

const GENERIC_HINTS: Partial<Record<number, string>> = {
  401: 'the token was not accepted; check that it is set and has not expired',
  403: 'the token lacks a permission this request needs',
  404: 'not found, or the token cannot see it (GitHub answers 404 rather than 403 for private resources)',
};

export class GitHubClient {
  readonly baseUrl: string;
  readonly serverUrl: string;
  readonly #origin: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #retry: GitHubRetryPolicy;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(options: GitHubClientOptions = {}) {
    const env = options.env ?? process.env;
    // Without an explicit base URL, the run's GitHub context (shared/github/context.ts) gives API and web root.
    const context = options.baseUrl ? undefined : githubContext(env);
    const base = options.baseUrl || context?.apiUrl || DEFAULT_API_URL;
    let parsed: URL;
    try {
      parsed = new URL(base);
    } catch {
      throw new SlipwayError(`The GitHub API URL ${JSON.stringify(base)} is not a URL.`);
    }
    this.baseUrl = base.replace(/\/+$/, '');
    this.#origin = parsed.origin;
    // An explicit base URL wins over the runner's environment for the web root too, so the two agree.
    this.serverUrl = (options.serverUrl ?? context?.serverUrl ?? serverUrlFor(this.baseUrl)).replace(/\/+$/, '');
    this.#token = options.token || undefined;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
    this.#retry = { ...DEFAULT_GITHUB_RETRY, ...options.retry };
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /**
   * One API call. `path` is relative to the base URL (`/repos/o/r/...`, segments already encoded), or an
   * absolute URL on the API's origin (a Link header's next page). Resolves for 2xx; throws GitHubApiError
   * otherwise, after retrying what is worth retrying.
   */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<GitHubResponse<T>> {
    const url = this.#resolve(path, options.query);
    const shown = `${method} ${url.pathname}`;
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': GITHUB_API_VERSION,
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await this.#send(method, url, headers, body, shown, options.hints);
    const text = await response.text();
    let data: unknown;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new GitHubApiError(
          `GitHub API ${shown} answered HTTP ${response.status} with a body that is not JSON.`,
          method,
          url.pathname,
          response.status,
        );
      }
    }
    return { status: response.status, data: data as T, headers: response.headers };
  }

  /**
   * Every item of a paginated listing: follows the Link header's rel="next" (GitHub's cursors for some
   * endpoints, page numbers for others; either way the link is the contract) until there is none.
   */
  async paginate<T>(
    path: string,
    query: Record<string, QueryValue>,
    pick: (data: unknown) => readonly T[],
    options: Omit<RequestOptions, 'query' | 'body'> = {},
  ): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let next: string | undefined = this.#resolve(path, query).toString();
    for (let page = 0; next; page++) {
      if (page >= MAX_PAGES || seen.has(next)) {
        throw new SlipwayError(`GitHub API GET ${new URL(next).pathname}: pagination did not end.`);
      }
      seen.add(next);
      const current: string = next;
      const response: GitHubResponse<unknown> = await this.request<unknown>('GET', current, options);
      items.push(...pick(response.data));
      next = nextLink(response.headers.get('link'), current);
      // The next page is fetched with the token, so it must stay on the API's origin.
      if (next && new URL(next).origin !== this.#origin) {
        throw new SlipwayError(
          `GitHub API GET ${new URL(current).pathname}: the next page link points to another host (${new URL(next).host}); not following it.`,
        );
      }
    }
    return items;
  }

  /**
   * Downloads a URL GitHub handed out (a bundle in blob storage): the token is sent only if the URL is on
   * the API's own origin, since signed storage URLs carry their own authorisation and another host must
   * never see ours. Retries like request(); errors never show the URL's query, which is a credential.
   */
  async download(url: string): Promise<Uint8Array> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SlipwayError(`GitHub gave a download URL that is not a URL: ${JSON.stringify(url.slice(0, 200))}.`);
    }
    const shown = `GET ${parsed.origin}${parsed.pathname}`;
    const response = await this.#send('GET', parsed, {}, undefined, shown, {});
    return new Uint8Array(await response.arrayBuffer());
  }

  #resolve(path: string, query: Record<string, QueryValue> | undefined): URL {
    const url = /^https?:\/\//i.test(path)
      ? new URL(path)
      : new URL(`${this.baseUrl}${path.startsWith('/') ? '' : '/'}${path}`);
    if (url.origin !== this.#origin) {
      throw new SlipwayError(`Refusing to send a GitHub API request to ${url.host}: the API is at ${this.#origin}.`);
    }
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** Sends with retries; resolves with a 2xx response, else throws GitHubApiError. */
  async #send(
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
    shown: string,
    hints: Partial<Record<number, string>> | undefined,
  ): Promise<Response> {
    return withRetry(
      async (attempt) => {
        let response: Response;
        try {
          response = await this.#sendFollowingRedirects(method, url, headers, body);
        } catch (error) {
          if (error instanceof SlipwayError) throw error;
          return retryLater(
            describe(error),
            () => {
              const failure = new GitHubApiError(
                `GitHub API ${shown} could not be reached: ${describe(error)}.`,
                method,
                url.pathname,
                0,
              );
              failure.cause = error;
              return failure;
            },
            { waitMs: backoffMs(attempt, this.#retry, this.#random) },
          );
        }
        if (response.ok) return response;

        const text = await response.text().catch(() => '');
        const message = this.#redact(githubMessage(text));
        const wait = this.#retryDelay(response, message, attempt);
        const failure = () => {
          let detail = `GitHub API ${shown} failed: HTTP ${response.status}`;
          if (message) detail += `: ${message}`;
          if (wait.tooLong !== undefined) {
            detail += ` (rate limited; it lifts at ${new Date(this.#now() + wait.tooLong).toISOString()}, later than Slipway waits)`;
          }
          const hint = hints?.[response.status] ?? GENERIC_HINTS[response.status];
          if (hint) detail += ` — ${hint}`;
          return new GitHubApiError(`${detail}.`, method, url.pathname, response.status, message || undefined);
        };
        if (!wait.retry) throw failure();
        return retryLater(`HTTP ${response.status}`, failure, { waitMs: wait.ms });
      },
      {
        policy: this.#retry,
        sleep: this.#sleep,
        now: this.#now,
        onRetry: ({ delayMs, reason }) =>
          this.#logger.debug(`GitHub API ${shown}: ${reason}; retrying in ${delayMs} ms`),
      },
    );
  }

  /**
   * Whether and how long to wait before trying again. Primary rate limits (x-ratelimit-remaining: 0) lift
   * at x-ratelimit-reset; secondary ones say Retry-After, or nothing, in which case GitHub asks for a minute.
   */
  #retryDelay(response: Response, message: string, attempt: number): { retry: boolean; ms: number; tooLong?: number } {
    const { status, headers } = response;
    const retryAfter = retryAfterMs(headers.get('retry-after'), this.#now());
    const exhausted = headers.get('x-ratelimit-remaining') === '0';
    const reset = Number(headers.get('x-ratelimit-reset'));
    const untilReset =
      exhausted && Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - this.#now()) : undefined;
    const secondary = /secondary rate limit|abuse detection/i.test(message);
    const rateLimited = status === 429 || (status === 403 && (retryAfter !== undefined || exhausted || secondary));
    if (!rateLimited && !isRetryableStatus(status)) return { retry: false, ms: 0 };

    // A rate limit must be waited out in full: coming back early counts against us and can extend the limit.
    const limitWait = retryAfter ?? untilReset ?? (rateLimited && secondary ? SECONDARY_LIMIT_WAIT_MS : undefined);
    if (limitWait !== undefined) {
      if (limitWait > this.#retry.maxRateLimitWaitMs) return { retry: false, ms: 0, tooLong: limitWait };
      // x-ratelimit-reset has one-second resolution; a second more avoids arriving just before the reset.
      return { retry: true, ms: limitWait + (untilReset !== undefined && retryAfter === undefined ? 1000 : 0) };
    }
    return { retry: true, ms: backoffMs(attempt, this.#retry, this.#random) };
  }

  async #sendFollowingRedirects(
    method: HttpMethod,
    start: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Response> {
    let url = start;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sent: Record<string, string> = { 'user-agent': `slipway/${SLIPWAY_VERSION}`, ...headers };
      // Redirects are followed by hand so the token is attached per hop: only the API's origin sees it
      // (renamed repositories redirect within the API; downloads redirect to storage elsewhere).
      if (this.#token && url.origin === this.#origin) sent.authorization = `Bearer ${this.#token}`;
      const response = await this.#fetch(url, {
        method,
        headers: sent,
        redirect: 'manual',
        ...(body !== undefined ? { body } : {}),
      });
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      await response.body?.cancel();
      url = new URL(location, url);
    }
    throw new SlipwayError(`GitHub API ${method} ${start.pathname}: more than ${MAX_REDIRECTS} redirects.`);
  }

  /** GitHub sometimes quotes a request back; a token must never reach a log through its message. */
  #redact(text: string): string {
    return this.#token ? text.split(this.#token).join('***') : text;
  }
}

/**
 * The web root for an API root: api.github.com → github.com, api.TENANT.ghe.com → TENANT.ghe.com,
 * HOST/api/v3 (GHES) → HOST.
 */
export function serverUrlFor(apiUrl: string): string {
  return serverUrlForApi(new URL(apiUrl)).href.replace(/\/+$/, '');
}

/** The rel="next" target of a Link header, resolved against the page it came with. */
export function nextLink(header: string | null, base: string): string | undefined {
  if (!header) return undefined;
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? '')?.[1];
    if (rel?.split(/\s+/).includes('next') && match[1]) return new URL(match[1], base).toString();
  }
  return undefined;
}

function githubMessage(text: string): string {
  let message = '';
  try {
    const body = JSON.parse(text) as { message?: unknown; errors?: unknown };
    if (typeof body.message === 'string') message = body.message;
    // 422s put the specifics in errors[]: strings, or objects with a message or a code.
    if (Array.isArray(body.errors)) {
      const details = body.errors
        .map((e: unknown) =>
          typeof e === 'string'
            ? e
            : typeof e === 'object' && e !== null
              ? String((e as { message?: unknown; code?: unknown }).message ?? (e as { code?: unknown }).code ?? '')
              : '',
        )
        .filter(Boolean);
      if (details.length) message += ` (${details.join('; ')})`;
    }
  } catch {
    message = text.trim().split('\n')[0] ?? '';
  }
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error.cause as { code?: string } | undefined)?.code;
    return code ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
