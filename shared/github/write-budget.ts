// GitHub's content-creation limits: at most 80 content-creating requests a minute and 500 an hour, per user
// or app (the secondary rate limits of docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api).
// Crossing them earns a 403 "secondary rate limit" and a wait of a minute or more, so writes are paced here
// before they are sent. The limits are kept over sliding windows (every minute and every hour holds at most the
// limit), not a token bucket refilled at a rate: a bucket of 80 refilled at 80 a minute lets 160 through in the
// minute around a refill, which is exactly what GitHub counts against us. Pure: the caller passes the time.

export interface WriteLimit {
  /** Writes allowed in any window of this length. */
  count: number;
  windowMs: number;
}

export const GITHUB_WRITE_LIMITS: readonly WriteLimit[] = [
  { count: 80, windowMs: 60_000 },
  { count: 500, windowMs: 3_600_000 },
];

/**
 * GitHub's advice on top of the limits: "wait at least one second between each" write request (the spacing
 * @octokit/plugin-throttling applies too; createOctokit leaves the spacing to this budget, see octokit.ts).
 */
export const GITHUB_WRITE_SPACING: WriteLimit = { count: 1, windowMs: 1000 };

/** What createOctokit paces writes by unless told otherwise. */
export const DEFAULT_WRITE_LIMITS: readonly WriteLimit[] = [GITHUB_WRITE_SPACING, ...GITHUB_WRITE_LIMITS];

export class WriteBudget {
  readonly #limits: readonly WriteLimit[];
  readonly #longestWindow: number;
  /** When each write went (or will go), ascending; only those inside the longest window are kept. */
  #times: number[] = [];

  constructor(limits: readonly WriteLimit[] = DEFAULT_WRITE_LIMITS) {
    if (limits.length === 0 || limits.some((l) => !(l.count >= 1) || !(l.windowMs > 0))) {
      throw new RangeError('a write limit needs a count of at least 1 and a positive window');
    }
    this.#limits = limits;
    this.#longestWindow = Math.max(...limits.map((l) => l.windowMs));
  }

  /**
   * Reserves the next write and returns when it may be sent (≥ `now`; `now` itself when there is room). Writes
   * go in the order they were reserved, so a reservation never overtakes one already waiting.
   */
  reserve(now: number): number {
    this.#times = this.#times.filter((t) => t > now - this.#longestWindow);
    let at = Math.max(now, this.#times.at(-1) ?? now);
    for (const { count, windowMs } of this.#limits) {
      // With `count` writes already inside the window ending at `at`, the earliest of them must leave it first.
      const earliest = this.#times[this.#times.length - count];
      if (earliest !== undefined) at = Math.max(at, earliest + windowMs);
    }
    this.#times.push(at);
    return at;
  }

  /** Writes counted in the window of `windowMs` ending at `now` (reservations after `now` included). */
  used(now: number, windowMs: number): number {
    return this.#times.filter((t) => t > now - windowMs).length;
  }
}

/** Whether a GraphQL document is a mutation (the only GraphQL requests that create content). */
export function isGraphqlMutation(query: unknown): boolean {
  if (typeof query !== 'string') return false;
  // Comments run from # to the end of a line; the first operation's keyword decides.
  const text = query.replace(/#[^\n\r]*/g, '').trimStart();
  return /^mutation\b/.test(text);
}
