import { SlipwayError } from '../core/errors.js';

// What a failed GitHub API call becomes: a SlipwayError naming the method, the path, the status and GitHub's own
// message, with an explanation where the status usually means one thing (a 401 is a token that was not accepted).
// Callers add endpoint-specific explanations (`hints`) where they know better (a 403 on attestations is a plan or
// a permission). Octokit's RequestError is kept as `cause` for debug logs.

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

/** Explanations of a status for one endpoint, passed as `request: { hints }` with the call. */
export type StatusHints = Partial<Record<number, string>>;

export const GENERIC_HINTS: StatusHints = {
  401: 'the token was not accepted; check that it is set and has not expired',
  403: 'the token lacks a permission this request needs',
  404: 'not found, or the token cannot see it (GitHub answers 404 rather than 403 for private resources)',
};

const MAX_MESSAGE = 500;

/** The shape of Octokit's RequestError that matters here (typed structurally: @octokit is loaded lazily). */
export interface RequestErrorLike extends Error {
  status: number;
  request?: { method?: string; url?: string };
  response?: { status: number; headers: Record<string, string | number | undefined>; data?: unknown };
}

export function isRequestError(error: unknown): error is RequestErrorLike {
  return (
    error instanceof Error &&
    typeof (error as { status?: unknown }).status === 'number' &&
    typeof (error as { request?: unknown }).request === 'object'
  );
}

export interface ToApiErrorOptions {
  hints?: StatusHints | undefined;
  /** Removed from every message: GitHub sometimes quotes a request back. */
  secret?: string | undefined;
  now: number;
}

/** Turns Octokit's RequestError into a GitHubApiError with a message written for the user. */
export function toGitHubApiError(error: RequestErrorLike, options: ToApiErrorOptions): GitHubApiError {
  const method = error.request?.method ?? 'GET';
  const path = pathOf(error.request?.url);
  const shown = `${method} ${path}`;
  const redact = (text: string) => (options.secret ? text.split(options.secret).join('***') : text);

  let result: GitHubApiError;
  if (!error.response) {
    // No answer at all: Octokit reports a network fault as status 500 without a response.
    const reason = redact(describeCause(error));
    result = new GitHubApiError(`GitHub API ${shown} could not be reached: ${reason}.`, method, path, 0);
  } else {
    const { status, headers } = error.response;
    const message = redact(githubMessage(error.response.data));
    let detail = `GitHub API ${shown} failed: HTTP ${status}`;
    if (message) detail += `: ${message}`;
    const lifts = rateLimitLifts(status, headers, message, options.now);
    if (lifts !== undefined) {
      detail += ` (rate limited; it lifts at ${new Date(lifts).toISOString()}, later than Slipway waits)`;
    }
    const hint = options.hints?.[status] ?? GENERIC_HINTS[status];
    if (hint) detail += ` — ${hint}`;
    result = new GitHubApiError(`${detail}.`, method, path, status, message || undefined);
  }
  result.cause = error;
  return result;
}

/** When a rate limit that stopped a request lifts (ms since the epoch), if the answer was one. */
function rateLimitLifts(
  status: number,
  headers: Record<string, string | number | undefined>,
  message: string,
  now: number,
): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return now + retryAfter * 1000;
  const reset = Number(headers['x-ratelimit-reset']);
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset) && reset > 0) return reset * 1000;
  if (/secondary rate limit/i.test(message)) return now + 60_000;
  return undefined;
}

function pathOf(url: string | undefined): string {
  if (!url) return '?';
  try {
    // The query is left out: a signed storage URL carries its credential there.
    const { pathname } = new URL(url, 'http://github.invalid');
    try {
      // Shown to people: sha256:… reads better than sha256%3A….
      return decodeURIComponent(pathname);
    } catch {
      return pathname;
    }
  } catch {
    return url.split('?')[0] ?? url;
  }
}

/** GitHub's `message`, with a 422's specifics from `errors[]` (strings, or objects with a message or a code). */
export function githubMessage(data: unknown): string {
  let message = '';
  if (typeof data === 'string') {
    message = data.trim().split('\n')[0] ?? '';
  } else if (typeof data === 'object' && data !== null) {
    const body = data as { message?: unknown; errors?: unknown };
    if (typeof body.message === 'string') message = body.message;
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
  }
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
}

function describeCause(error: Error): string {
  const cause = error.cause as { message?: string; code?: string; cause?: { code?: string } } | undefined;
  const code = cause?.code ?? cause?.cause?.code;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
