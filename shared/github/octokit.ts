import type { Octokit } from '@octokit/rest';
import { SlipwayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { nextLink } from '../oci/registry.js';
import { SLIPWAY_VERSION } from '../version.js';
import type { GitHubContext } from './context.js';
import { isRequestError, type StatusHints, toGitHubApiError } from './errors.js';
import { isGraphqlMutation, WriteBudget } from './write-budget.js';

// The one way Slipway talks to GitHub's API: @octokit/rest with @octokit/plugin-throttling (primary and secondary
// rate limits, waited out as GitHub says) and @octokit/plugin-retry (5xx and network faults), on the run's GitHub
// (github.com, GHE.com or GHES, from shared/github/context.ts). On top of them:
// - writes are paced under GitHub's content-creation limits (write-budget.ts), process-wide, since the limits
//   belong to the token and not to one client;
// - the token goes to the API's own origin only: a pagination link or a URL elsewhere is refused, never followed;
// - every failure becomes a GitHubApiError (errors.ts) naming the call, the status and GitHub's message;
// - the REST API version is pinned, so a new default cannot change response shapes under us.
// The packages are imported when the first client is made, not when this module is: an action that never calls
// GitHub never loads them, which keeps cold start where bench/cold-start.mjs measures it.

/** The Octokit instance Slipway uses: REST methods, `request`, `paginate`, `graphql`, hooks. */
export type SlipwayOctokit = Octokit;

/** The REST API version every request pins; the fake GitHub checks responses against this version's description. */
export const GITHUB_API_VERSION = '2022-11-28';

export interface RateLimitEvent {
  kind: 'primary' | 'secondary';
  /** What GitHub asked for (Retry-After, or until x-ratelimit-reset), in ms. */
  retryAfterMs: number;
  method: string;
  url: string;
  /** Retries already made for this request. */
  retryCount: number;
  /** False when the wait is too long or retries are spent: the request then fails with a GitHubApiError. */
  retrying: boolean;
}

export interface CreateOctokitOptions {
  /** GITHUB_TOKEN, an installation token or a PAT; empty for anonymous reads of public data. */
  token: string;
  context: GitHubContext;
  logger: Logger;
  /** Put before Slipway's own product token in User-Agent. */
  userAgent?: string;
  /** Retries after a 5xx, a network fault or a rate limit (attempts = retries + 1). Default 3. */
  retries?: number;
  /** The longest rate-limit wait honoured; a longer one fails at once, saying when the limit lifts. Default 5 min. */
  maxRateLimitWaitMs?: number;
  /** Told of every rate-limit answer, whether or not it is waited out (promote records the waits). */
  onRateLimit?: (event: RateLimitEvent) => void;
  /** The content-creation budget; by default one shared by every client in the process. */
  writeBudget?: WriteBudget;
  /**
   * Scales every wait the plugins make (1 = as GitHub asks). Tests pass a small value so a 60 s Retry-After costs
   * 60 ms while the requested waits stay observable through onRateLimit.
   */
  waitScale?: number;
  /** The clock and sleep the write budget uses; injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Per-request options Slipway adds, passed as `request: { hints }` with a call. */
export interface SlipwayRequestOptions {
  /** Explanations of a status for this endpoint, added to the error's message. */
  hints?: StatusHints;
}

const DEFAULT_RETRIES = 3;
const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 5 * 60_000;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const NOTABLE_WAIT_MS = 5000;

const processWriteBudget = new WriteBudget();

/** A stand-in for a Bottleneck group that runs every job at once (what plugin-throttling calls on `write`). */
const IMMEDIATE = {
  key: () => ({ schedule: <T>(_options: unknown, job: () => Promise<T>) => job() }),
};

type OctokitClass = typeof Octokit;
let plugged: Promise<OctokitClass> | undefined;

/** Loads @octokit/rest and the plugins once per process. */
function octokitClass(): Promise<OctokitClass> {
  plugged ??= (async () => {
    const [{ Octokit: Rest }, { throttling }, { retry }] = await Promise.all([
      import('@octokit/rest'),
      import('@octokit/plugin-throttling'),
      import('@octokit/plugin-retry'),
    ]);
    // The plugins only add hooks and their own options; the instance keeps @octokit/rest's type.
    return Rest.plugin(countRequests, throttling, retry) as unknown as OctokitClass;
  })();
  return plugged;
}

const SENT = Symbol('requests sent');

/**
 * Counts HTTP requests as sent, retries included. Registered before the throttling and retry plugins, so its hook
 * sits inside theirs and sees every attempt.
 */
function countRequests(octokit: { hook: Octokit['hook'] }): Record<string, never> {
  const counter = { sent: 0 };
  Object.defineProperty(octokit, SENT, { value: counter });
  octokit.hook.wrap('request', (request, options) => {
    counter.sent++;
    return request(options);
  });
  return {};
}

/** An Octokit for the run's GitHub, with throttling, retries, write pacing and Slipway's error messages. */
export async function createOctokit(options: CreateOctokitOptions): Promise<SlipwayOctokit> {
  const { context, logger, token } = options;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const maxWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const waitScale = options.waitScale ?? 1;
  const budget = options.writeBudget ?? processWriteBudget;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const apiOrigin = new URL(context.apiUrl).origin;
  const graphqlOrigin = new URL(context.graphqlUrl).origin;

  const limitHandler =
    (kind: RateLimitEvent['kind']) =>
    (
      retryAfter: number,
      request: { method: string; url: string; request?: { retries?: number } },
      _octokit: unknown,
      retryCount: number,
    ) => {
      const retryAfterMs = retryAfter * 1000;
      const retrying = retryCount < retries && retryAfterMs <= maxWaitMs;
      const what = `GitHub API ${request.method} ${pathOnly(request.url)}`;
      const limit = kind === 'primary' ? 'rate limit' : 'secondary rate limit';
      if (retrying) {
        logger.info(`${what} hit the ${limit}; waiting ${Math.ceil(retryAfter)} s as GitHub asks, then retrying.`);
      } else {
        logger.debug(`${what} hit the ${limit} (lifts in ${Math.ceil(retryAfter)} s); not waiting.`);
      }
      // Declined here means declined: without this, plugin-retry would try a 429 again at once, inside the limit.
      if (!retrying && request.request) request.request.retries = 0;
      options.onRateLimit?.({ kind, retryAfterMs, method: request.method, url: request.url, retryCount, retrying });
      return retrying;
    };

  const OctokitWithPlugins = await octokitClass();
  const octokit = new OctokitWithPlugins({
    ...(token ? { auth: token } : {}),
    baseUrl: context.apiUrl,
    userAgent: [options.userAgent, `slipway/${SLIPWAY_VERSION}`].filter(Boolean).join(' '),
    // Octokit's own log: request lines are debug detail; its warnings (deprecations) reach the user. Its only
    // error line is plugin-request-log's line for a request that failed ("GET /user - 403 …"): the failure itself
    // reaches the caller as a GitHubApiError, and many are expected and handled (a 404 for a file not there yet,
    // GET /user's 403 for an installation token), so the line is debug detail too, never an ::error:: annotation.
    log: {
      debug: (message: string) => logger.debug(message),
      info: (message: string) => logger.debug(message),
      warn: (message: string) => logger.warning(message),
      error: (message: string) => logger.debug(message),
    },
    throttle: {
      // The plugin spaces every POST and every GraphQL request (queries too) a second apart in a limiter of its
      // own; the write budget above paces writes instead (the same spacing, plus the per-minute and per-hour
      // limits, GraphQL mutations only, on a clock tests control). `write` is the plugin's documented option for
      // that limiter; one that schedules at once hands pacing to the budget.
      write: IMMEDIATE as never,
      onRateLimit: limitHandler('primary'),
      onSecondaryRateLimit: limitHandler('secondary'),
      retryAfterBaseValue: 1000 * waitScale,
    },
    retry: { retries, retryAfterBaseValue: 1000 * waitScale },
  } as ConstructorParameters<OctokitClass>[0]);

  // GraphQL goes to the context's endpoint, which GITHUB_GRAPHQL_URL may set; Octokit's own derivation from the
  // base URL (/graphql, or /api/graphql for a GHES /api/v3) gives the same URL when nothing overrides it.
  if (octokitGraphqlUrl(context.apiUrl) !== context.graphqlUrl) {
    octokit.graphql = octokit.graphql.defaults({ baseUrl: graphqlOrigin, url: context.graphqlUrl });
  }

  octokit.hook.before('request', async (request) => {
    request.headers['x-github-api-version'] = GITHUB_API_VERSION;
    if (request.headers.accept === 'application/vnd.github.v3+json')
      request.headers.accept = 'application/vnd.github+json';
    const url = new URL(/^https?:\/\//i.test(request.url) ? request.url : `${request.baseUrl}${request.url}`);
    if (url.origin !== apiOrigin && url.origin !== graphqlOrigin) {
      // A Link header or a caller's URL pointing elsewhere must not receive the token.
      throw new SlipwayError(
        `Refusing to send a GitHub API request to ${url.host}: the API is at ${new URL(apiOrigin).host}.`,
      );
    }
    if (isWrite(request.method, url, context.graphqlUrl, request)) {
      const at = budget.reserve(now());
      const wait = at - now();
      if (wait > 0) {
        // The one-second spacing is routine; a wait for the minute or hour limits is worth telling.
        const message = `Pacing GitHub writes under the content-creation limits: waiting ${Math.ceil(wait / 1000)} s.`;
        if (wait >= NOTABLE_WAIT_MS) logger.info(message);
        else logger.debug(message);
        await sleep(wait);
      }
    }
  });

  octokit.hook.error('request', (error, request) => {
    if (!isRequestError(error)) throw error;
    const hints = (request.request as SlipwayRequestOptions | undefined)?.hints;
    throw toGitHubApiError(error, { hints, secret: token || undefined, now: Date.now() });
  });

  return octokit;
}

/** Counts the calls an Octokit makes from now on; promote reports them. */
export interface CallCounter {
  /** Calls made (octokit.request, a REST method, a GraphQL request, each page of paginate), retries not counted. */
  readonly calls: number;
  /** HTTP requests sent, retries included. */
  readonly requests: number;
}

export function countCalls(octokit: SlipwayOctokit): CallCounter {
  const sent = (octokit as unknown as { [SENT]?: { sent: number } })[SENT];
  if (!sent) throw new Error('countCalls needs an Octokit made by createOctokit');
  const startSent = sent.sent;
  let calls = 0;
  octokit.hook.before('request', () => {
    calls++;
  });
  return {
    get calls() {
      return calls;
    },
    get requests() {
      return sent.sent - startSent;
    },
  };
}

/**
 * The rel="next" target of a Link header, resolved against the page it came with, ready for
 * `octokit.request({ method: 'GET', url })`. Octokit reads `:name` in a URL as a parameter placeholder (its old
 * route syntax), so a literal colon in the path (`sha256:…`) is escaped; the server decodes both alike.
 */
export function nextPageUrl(header: string | null | undefined, base: string): string | undefined {
  const next = nextLink(header ?? null, base);
  if (!next) return undefined;
  const url = new URL(next);
  url.pathname = url.pathname.replaceAll(':', '%3A');
  return url.toString();
}

/** Where @octokit/graphql sends queries for a REST base URL (its rule: GHES's /api/v3 → /api/graphql). */
export function octokitGraphqlUrl(apiUrl: string): string {
  const base = apiUrl.replace(/\/+$/, '');
  return /\/api\/v3$/.test(base) ? base.replace(/\/api\/v3$/, '/api/graphql') : `${base}/graphql`;
}

function isWrite(method: string, url: URL, graphqlUrl: string, request: { query?: unknown }): boolean {
  if (!WRITE_METHODS.has(method)) return false;
  const isGraphql = `${url.origin}${url.pathname}` === graphqlUrl || url.pathname.endsWith('/graphql');
  // A GraphQL query is a POST that creates nothing; only mutations count against the content limits.
  return isGraphql ? isGraphqlMutation(request.query) : true;
}

function pathOnly(url: string): string {
  return url.split('?')[0] ?? url;
}
