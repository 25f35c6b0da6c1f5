import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
import { type OsvQuery, queryKey } from './ecosystems.js';

// A client for the two OSV endpoints the gate needs. querybatch answers only {id, modified} per query, so
// the full records come from /v1/vulns/{id}, cached by `modified`: an unchanged record is fetched once, and
// with a cache directory (restored from the actions cache) once across runs. Failures retry like the registry
// transport (429/5xx/resets, Retry-After, jittered backoff); when retries run out the whole call fails with
// OsvUnavailableError. A gate must never read "no vulnerabilities" from an answer that is only partly there.

/** OSV's documented cap per querybatch request; more gets HTTP 400. */
export const OSV_BATCH_LIMIT = 1000;
/** Guards against a server that keeps handing out page tokens. */
const MAX_PAGES = 1000;

export interface OsvVulnRef {
  id: string;
  modified: string;
}

export interface OsvSeverity {
  type: string;
  score: string;
}

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity?: OsvSeverity[];
  ranges?: { type: string; repo?: string; events: OsvEvent[] }[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

/** The fields of an OSV record the gate reads (https://ossf.github.io/osv-schema/). */
export interface OsvRecord {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  related?: string[];
  upstream?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: { type: string; url: string }[];
  database_specific?: Record<string, unknown>;
}

/** OSV could not give a complete answer; the gate must report "undecided", never "pass". */
export class OsvUnavailableError extends SlipwayError {
  override name = 'OsvUnavailableError';
  constructor(
    readonly url: string,
    /** The last failure: "HTTP 503", "connection reset"… */
    readonly lastFailure: string,
    readonly status?: number,
  ) {
    super(`OSV is unavailable: ${url} failed: ${lastFailure}; the vulnerability scan is incomplete.`);
  }
}

export interface OsvClientOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
  /** Random source for jitter; injectable so tests are exact. */
  random?: () => number;
  /** Directory for records across runs (e.g. restored from the actions cache); memory only when absent. */
  cacheDir?: string;
  /** Per request, so a server that accepts and never answers cannot hang the gate. */
  timeoutMs?: number;
  userAgent?: string;
}

interface BatchResult {
  vulns?: OsvVulnRef[];
  next_page_token?: string;
}

export class OsvClient {
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #retry: RetryPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #cacheDir: string | undefined;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  /** Keyed by id and modified; holds promises so concurrent asks for one record share one request. */
  readonly #records = new Map<string, Promise<OsvRecord>>();

  constructor(options: OsvClientOptions = {}) {
    this.#baseUrl = (options.baseUrl ?? 'https://api.osv.dev').replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
    this.#logger = options.logger ?? silentLogger;
    this.#random = options.random ?? Math.random;
    this.#cacheDir = options.cacheDir;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#userAgent = options.userAgent ?? 'slipway';
  }

  /**
   * The vulnerabilities of each query, in query order. Duplicate queries are sent once; batches hold at most
   * 1000 queries; a result with `next_page_token` is re-queried (alone with its token) until it has no more.
   */
  async queryBatch(queries: readonly OsvQuery[]): Promise<OsvVulnRef[][]> {
    const unique = new Map<string, OsvQuery>();
    for (const q of queries) if (!unique.has(queryKey(q))) unique.set(queryKey(q), q);
    const collected = new Map<string, OsvVulnRef[]>([...unique.keys()].map((key) => [key, []]));

    let pending: { key: string; query: OsvQuery; pageToken?: string }[] = [...unique].map(([key, query]) => ({
      key,
      query,
    }));
    const seenTokens = new Set<string>();
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_PAGES) {
        throw new OsvUnavailableError(this.#url('/v1/querybatch'), `still paging after ${MAX_PAGES} rounds`);
      }
      const next: typeof pending = [];
      for (let start = 0; start < pending.length; start += OSV_BATCH_LIMIT) {
        const chunk = pending.slice(start, start + OSV_BATCH_LIMIT);
        const results = await this.#postBatch(
          chunk.map((p) => ({ ...p.query, ...(p.pageToken ? { page_token: p.pageToken } : {}) })),
        );
        chunk.forEach((p, i) => {
          const result = results[i] ?? {};
          collected.get(p.key)?.push(...(result.vulns ?? []));
          const token = result.next_page_token;
          if (token) {
            // A token we have already followed would loop forever and never complete.
            if (seenTokens.has(`${p.key}\u0000${token}`)) {
              throw new OsvUnavailableError(this.#url('/v1/querybatch'), 'the server repeated a page token');
            }
            seenTokens.add(`${p.key}\u0000${token}`);
            next.push({ key: p.key, query: p.query, pageToken: token });
          }
        });
      }
      pending = next;
    }
    return queries.map((q) => dedupeRefs(collected.get(queryKey(q)) ?? []));
  }

  /** The full record as of `modified`; fetched once per modification (memory, then the cache directory). */
  getVulnerability(id: string, modified: string): Promise<OsvRecord> {
    const key = `${id}\u0000${modified}`;
    let record = this.#records.get(key);
    if (!record) {
      record = this.#loadRecord(id, modified);
      // A failure must not stick: the next call may find OSV back.
      record.catch(() => this.#records.delete(key));
      this.#records.set(key, record);
    }
    return record;
  }

  async #loadRecord(id: string, modified: string): Promise<OsvRecord> {
    const cached = await this.#readCache(id, modified);
    if (cached) return cached;
    const url = this.#url(`/v1/vulns/${encodeURIComponent(id)}`);
    const record = parseRecord(await this.#request(url, { method: 'GET' }), url);
    if (record.id !== id && !(record.aliases ?? []).includes(id)) {
      throw new OsvUnavailableError(url, `the answer is the record of ${record.id}, not ${id}`);
    }
    await this.#writeCache(id, record);
    return record;
  }

  async #readCache(id: string, modified: string): Promise<OsvRecord | undefined> {
    if (!this.#cacheDir) return undefined;
    try {
      const record = JSON.parse(await readFile(this.#cachePath(id), 'utf8')) as OsvRecord;
      // Only the same modification counts; an older copy is refetched and overwritten.
      return record.modified === modified ? record : undefined;
    } catch {
      return undefined;
    }
  }

  async #writeCache(id: string, record: OsvRecord): Promise<void> {
    if (!this.#cacheDir) return;
    try {
      await mkdir(this.#cacheDir, { recursive: true });
      const path = this.#cachePath(id);
      // Write then rename, so a parallel reader never sees half a record.
      const temporary = `${path}.${process.pid}.${Math.floor(this.#random() * 1e9)}.tmp`;
      await writeFile(temporary, JSON.stringify(record));
      await rename(temporary, path);
    } catch (error) {
      // The cache only saves requests; failing to write it must not fail the scan.
      this.#logger.debug(`OSV cache: could not write ${id}: ${describeError(error)}`);
    }
  }

  #cachePath(id: string): string {
    return join(this.#cacheDir ?? '.', `${encodeURIComponent(id)}.json`);
  }

  async #postBatch(queries: (OsvQuery & { page_token?: string })[]): Promise<BatchResult[]> {
    const url = this.#url('/v1/querybatch');
    const body = await this.#request(url, {
      method: 'POST',
      body: JSON.stringify({ queries }),
      headers: { 'content-type': 'application/json' },
    });
    const results = (body as { results?: unknown } | null)?.results;
    // An empty batch answer is `{}` on osv.dev; anything else of the wrong length is not a complete answer.
    if (results === undefined && queries.length === 0) return [];
    if (!Array.isArray(results) || results.length !== queries.length) {
      throw new OsvUnavailableError(
        url,
        `expected ${queries.length} results, got ${Array.isArray(results) ? results.length : 'none'}`,
      );
    }
    for (const result of results) {
      const vulns = (result as BatchResult | null)?.vulns;
      if (vulns !== undefined && (!Array.isArray(vulns) || vulns.some((v) => typeof v?.id !== 'string'))) {
        throw new OsvUnavailableError(url, 'a result has malformed vulns');
      }
    }
    return results as BatchResult[];
  }

  /** One request with retries; resolves with the parsed JSON body of a 200. */
  async #request(
    url: string,
    init: { method: string; body?: string; headers?: Record<string, string> },
  ): Promise<unknown> {
    const giveUp = (failure: string, status?: number) => (attempts: number) =>
      new OsvUnavailableError(url, `${failure} (after ${attempts} attempts)`, status);
    return withRetry<unknown>(
      async () => {
        try {
          const response = await this.#fetch(url, {
            method: init.method,
            headers: { 'user-agent': this.#userAgent, accept: 'application/json', ...init.headers },
            signal: AbortSignal.timeout(this.#timeoutMs),
            ...(init.body !== undefined ? { body: init.body } : {}),
          });
          if (response.status === 200) {
            // Reading the body is inside the retry: a connection reset mid-body is as transient as one before it.
            const text = await response.text();
            try {
              return JSON.parse(text) as unknown;
            } catch {
              return retryLater('the response is not JSON', giveUp('the response is not JSON', 200));
            }
          }
          const failure = `HTTP ${response.status}${await errorDetail(response)}`;
          if (!isRetryableStatus(response.status)) throw new OsvUnavailableError(url, failure, response.status);
          return retryLater(failure, giveUp(failure, response.status), {
            retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
          });
        } catch (error) {
          if (error instanceof OsvUnavailableError) throw error;
          return retryLater(describeError(error), giveUp(describeError(error)));
        }
      },
      {
        policy: this.#retry,
        sleep: this.#sleep,
        random: this.#random,
        onRetry: ({ delayMs, reason }) =>
          this.#logger.debug(`OSV ${init.method} ${url}: ${reason}; retrying in ${delayMs} ms`),
      },
    );
  }

  #url(path: string): string {
    return `${this.#baseUrl}${path}`;
  }
}

function dedupeRefs(refs: OsvVulnRef[]): OsvVulnRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => !seen.has(ref.id) && seen.add(ref.id) !== undefined);
}

function parseRecord(body: unknown, url: string): OsvRecord {
  const record = body as Partial<OsvRecord> | null;
  if (!record || typeof record.id !== 'string' || typeof record.modified !== 'string') {
    throw new OsvUnavailableError(url, 'the answer is not an OSV record (no id or modified)');
  }
  return record as OsvRecord;
}

async function errorDetail(response: Response): Promise<string> {
  try {
    const text = (await response.text()).slice(0, 2048);
    try {
      const message = (JSON.parse(text) as { message?: unknown }).message;
      if (typeof message === 'string' && message) return `: ${message.slice(0, 200)}`;
    } catch {
      // Not JSON: show its first line.
    }
    const line = text.trim().split('\n')[0];
    return line ? `: ${line.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
