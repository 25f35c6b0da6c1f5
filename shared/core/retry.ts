// The one retry loop every network client uses (registry, GitHub, OSV). A client's attempt either returns
// its result or returns retryLater(…) for a fault worth another try (5xx, 429, a reset connection); this
// module decides whether time and attempts are left and how long to wait: exponential backoff with jitter
// (between half and all of the doubling ceiling), or what the server asked for in Retry-After. What counts
// as retryable and what the final error says stay with each client, which knows its protocol.

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  /** The longest backoff, and the longest server-requested wait honoured (a longer Retry-After is cut to it). */
  maxDelayMs: number;
  /**
   * The time budget from the first attempt: no wait starts that would end past it, so a server that keeps
   * failing slowly cannot hold a job for attempts × (timeout + delay). Unbounded when absent.
   */
  maxElapsedMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxElapsedMs: 180_000 };

/** HTTP statuses that say "try again": timeouts, rate limits and server faults. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

const RETRY_LATER: unique symbol = Symbol('retry later');

/** An attempt's answer meaning "this failed, but another try may work". */
export interface RetryLater {
  readonly [RETRY_LATER]: true;
  /** For the debug log: "HTTP 503", "ECONNRESET". */
  readonly reason: string;
  /** What the server asked for (Retry-After), in ms; capped at maxDelayMs. Backoff is used when absent. */
  readonly retryAfterMs?: number | undefined;
  /** A wait the caller has decided itself and that is not capped (a rate limit that must be waited out in full). */
  readonly waitMs?: number | undefined;
  /** The error to throw when no attempt or time is left, given the attempts made; called once, only then. */
  readonly fail: (attempts: number) => unknown;
}

export function retryLater(
  reason: string,
  fail: (attempts: number) => unknown,
  wait: { retryAfterMs?: number | undefined; waitMs?: number | undefined } = {},
): RetryLater {
  return { [RETRY_LATER]: true, reason, fail, retryAfterMs: wait.retryAfterMs, waitMs: wait.waitMs };
}

function isRetryLater(value: unknown): value is RetryLater {
  return typeof value === 'object' && value !== null && RETRY_LATER in value;
}

export interface RetryOptions {
  policy?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  /** Random source for jitter; injectable so tests are exact. */
  random?: () => number;
  /** Clock for the time budget. */
  now?: () => number;
  /** Told before each wait (for debug logs). */
  onRetry?: (event: { attempt: number; delayMs: number; reason: string }) => void;
}

const realSleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Runs `attempt` (given its 1-based number) until it returns something other than retryLater(…), waiting
 * between tries; when attempts or time run out, throws what the last retryLater's `fail` returns. Errors
 * the attempt throws are not retried: an attempt turns the faults it considers transient into retryLater.
 */
export async function withRetry<T>(
  attempt: (attempt: number) => Promise<T | RetryLater>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const started = now();
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    if (!isRetryLater(outcome)) return outcome;
    const delay =
      outcome.waitMs ??
      (outcome.retryAfterMs !== undefined
        ? Math.min(Math.max(0, outcome.retryAfterMs), policy.maxDelayMs)
        : backoffMs(n, policy, random));
    const overBudget = policy.maxElapsedMs !== undefined && now() - started + delay > policy.maxElapsedMs;
    if (n >= policy.attempts || overBudget) throw await outcome.fail(n);
    options.onRetry?.({ attempt: n, delayMs: delay, reason: outcome.reason });
    await sleep(delay);
  }
}

/**
 * Exponential backoff with full jitter after the `attempt`-th failure: a random wait between half and all of
 * min(maxDelayMs, baseDelayMs × 2^(attempt-1)), so many clients failing at once do not retry in step.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After in milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names its day and month; a bare "-3" would otherwise pass Date.parse as the year -3.
  const date = /[a-z]{3}/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
