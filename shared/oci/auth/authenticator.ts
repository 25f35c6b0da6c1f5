import { SlipwayError, showValue } from '../../core/errors.js';
import { type Challenge, parseWwwAuthenticate } from './challenge.js';
import { type CredentialSource, type Credentials, normaliseRegistry } from './credentials.js';

// Registry authentication as docker does it (distribution's token auth spec): a 401 names a scheme; for
// Bearer we fetch a token from the realm for the scopes at hand and cache it until shortly before it expires,
// so each repository and action costs one token request per run rather than one per HTTP request.

const TOKEN_TIMEOUT_MS = 30_000;
const DEFAULT_EXPIRES_IN_S = 60;
/** Tokens are dropped this long before they expire, so a request does not carry one that lapses in flight. */
const EXPIRY_MARGIN_MS = 10_000;
/** Sent as client_id in the OAuth2 refresh-token grant; token servers log it to tell clients apart. */
const CLIENT_ID = 'slipway';
/** Secrets shorter than this are not scrubbed from messages: replacing "a" everywhere would garble them. */
const MIN_SCRUBBED_LENGTH = 4;

export interface AuthenticatorOptions {
  credentials: CredentialSource;
  fetch?: typeof fetch;
  /** called with every secret value obtained (passwords, tokens) so the runner can mask it in logs */
  onSecret?: (value: string) => void;
  now?: () => number;
  userAgent?: string;
}

/** A registry's token endpoint refused, or could not be asked. Never carries a secret. */
export class AuthenticationError extends SlipwayError {
  override name = 'AuthenticationError';
  constructor(
    readonly registry: string,
    message: string,
    readonly realm?: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface CachedToken {
  header: string;
  /** Milliseconds, in the clock of `now`. */
  expiresAt: number;
}

interface TokenResponse {
  token?: unknown;
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  issued_at?: unknown;
}

export class Authenticator {
  readonly #credentials: CredentialSource;
  readonly #fetch: typeof fetch;
  readonly #onSecret: (value: string) => void;
  readonly #now: () => number;
  readonly #userAgent: string | undefined;
  readonly #secrets = new Set<string>();
  /** Headers valid for every request to a registry whatever the scope: Basic, or a docker registrytoken. */
  readonly #registryHeaders = new Map<string, string>();
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<string | undefined>>();
  readonly #lookups = new Map<string, Promise<Credentials | undefined>>();

  constructor(options: AuthenticatorOptions) {
    this.#credentials = options.credentials;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#onSecret = options.onSecret ?? (() => {});
    this.#now = options.now ?? Date.now;
    this.#userAgent = options.userAgent;
  }

  /** Authorization header to send proactively for this registry and scopes, if one was negotiated before and is still valid (token not expired; Basic once a Basic challenge was seen). */
  cached(registry: string, scopes: string[]): string | undefined {
    const host = normaliseRegistry(registry);
    return this.#registryHeaders.get(host) ?? this.#cachedToken(cacheKey(host, scopes));
  }

  /** Given a 401 response (read only its WWW-Authenticate header), obtain and cache credentials; returns the header to retry with, or undefined if no credentials could satisfy it. Throws AuthenticationError when the token endpoint refuses, naming the registry, realm and status but never a secret. */
  async authorize(registry: string, challengeResponse: Response, scopes: string[]): Promise<string | undefined> {
    const host = normaliseRegistry(registry);
    const header = challengeResponse.headers.get('www-authenticate');
    if (header === null) return undefined;
    const challenges = parseWwwAuthenticate(header);
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer) return this.#authorizeBearer(host, bearer, scopes);
    if (challenges.some((challenge) => challenge.scheme === 'basic')) return this.#authorizeBasic(host);
    return undefined;
  }

  async #authorizeBasic(host: string): Promise<string | undefined> {
    const credentials = await this.#lookUp(host);
    if (!hasPassword(credentials)) return undefined;
    const header = this.#basicHeader(credentials);
    this.#registryHeaders.set(host, header);
    return header;
  }

  #authorizeBearer(host: string, challenge: Challenge, scopes: string[]): Promise<string | undefined> {
    const key = cacheKey(host, scopes);
    // An error parameter (invalid_token, insufficient_scope) means the token we hold was just refused;
    // without one, a cached token is from a request that raced this one and is still good.
    if (challenge.params.error) {
      this.#tokens.delete(key);
    } else {
      const cached = this.#cachedToken(key);
      if (cached) return Promise.resolve(cached);
    }
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#negotiateBearer(host, challenge, scopes, key).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #negotiateBearer(host: string, challenge: Challenge, scopes: string[], key: string): Promise<string> {
    const credentials = await this.#lookUp(host);
    if (credentials?.registryToken) {
      const header = `Bearer ${credentials.registryToken}`;
      this.#registryHeaders.set(host, header);
      return header;
    }
    const realm = challenge.params.realm;
    if (!realm) {
      throw new AuthenticationError(host, `Authentication to ${host} failed: its Bearer challenge names no realm.`);
    }
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      url = new URL('invalid:');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new AuthenticationError(
        host,
        `Authentication to ${host} failed: its Bearer realm ${showValue(realm)} is not an http(s) URL.`,
        realm,
      );
    }
    const service = challenge.params.service;
    const allScopes = mergeScopes([...splitScopes(challenge.params.scope), ...scopes]);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.#userAgent) headers['User-Agent'] = this.#userAgent;
    let init: RequestInit;
    if (credentials?.identityToken) {
      // The refresh-token grant docker uses for identity tokens (distribution's OAuth2 token spec).
      this.#secret(credentials.identityToken);
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken });
      if (service) form.set('service', service);
      if (allScopes.length > 0) form.set('scope', allScopes.join(' '));
      form.set('client_id', CLIENT_ID);
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      init = { method: 'POST', headers, body: form.toString() };
    } else {
      if (service) url.searchParams.set('service', service);
      for (const scope of allScopes) url.searchParams.append('scope', scope);
      // Without credentials the request is anonymous: public registries issue pull tokens that way.
      if (hasPassword(credentials)) headers.Authorization = this.#basicHeader(credentials);
      init = { method: 'GET', headers };
    }
    const requestedAt = this.#now();
    const described = `token endpoint ${realm}`;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, { ...init, signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) });
      text = await response.text();
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `did not answer within ${TOKEN_TIMEOUT_MS / 1000} s`
          : `could not be reached: ${describeNetworkError(error)}`;
      throw new AuthenticationError(
        host,
        this.#scrub(`Authentication to ${host} failed: ${described} ${reason}.`),
        realm,
        undefined,
        { cause: error },
      );
    }
    if (!response.ok) {
      const detail = refusalDetail(text);
      const who = credentials && (hasPassword(credentials) || credentials.identityToken) ? 'with' : 'without';
      throw new AuthenticationError(
        host,
        this.#scrub(
          `Authentication to ${host} failed: ${described} answered HTTP ${response.status}` +
            `${detail ? ` (${detail})` : ''} to a request ${who} credentials from ${this.#credentials.description}.`,
        ),
        realm,
        response.status,
      );
    }
    const token = this.#readToken(text);
    if (!token) {
      throw new AuthenticationError(
        host,
        `Authentication to ${host} failed: ${described} answered HTTP ${response.status} without a token.`,
        realm,
        response.status,
      );
    }
    const header = `Bearer ${token.token}`;
    this.#tokens.set(key, { header, expiresAt: expiry(token.body, requestedAt) });
    return header;
  }

  #readToken(text: string): { token: string; body: TokenResponse } | undefined {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof body !== 'object' || body === null) return undefined;
    const response = body as TokenResponse;
    // The spec makes `access_token` and `token` equivalent; docker prefers access_token when both are sent.
    const token = [response.access_token, response.token].find((value) => typeof value === 'string' && value !== '');
    if (typeof token !== 'string') return undefined;
    this.#secret(token);
    if (typeof response.refresh_token === 'string') this.#secret(response.refresh_token);
    return { token, body: response };
  }

  #cachedToken(key: string): string | undefined {
    const entry = this.#tokens.get(key);
    if (!entry) return undefined;
    if (this.#now() < entry.expiresAt - EXPIRY_MARGIN_MS) return entry.header;
    this.#tokens.delete(key);
    return undefined;
  }

  #lookUp(host: string): Promise<Credentials | undefined> {
    let lookup = this.#lookups.get(host);
    if (!lookup) {
      // Asked once per registry: a credential helper is a process to start, and may prompt or be slow.
      lookup = this.#credentials.get(host).then((credentials) => {
        for (const secret of [credentials?.password, credentials?.identityToken, credentials?.registryToken]) {
          if (secret) this.#secret(secret);
        }
        return credentials;
      });
      lookup.catch(() => this.#lookups.delete(host));
      this.#lookups.set(host, lookup);
    }
    return lookup;
  }

  #basicHeader(credentials: { username: string; password: string }): string {
    const encoded = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
    // Masking the password alone would leave its base64 form readable wherever the header is logged.
    this.#secret(encoded);
    return `Basic ${encoded}`;
  }

  #secret(value: string): void {
    if (value === '' || this.#secrets.has(value)) return;
    this.#secrets.add(value);
    this.#onSecret(value);
  }

  /** Registries sometimes echo parts of a request in errors; nothing secret may reach a message. */
  #scrub(text: string): string {
    let scrubbed = text;
    for (const secret of this.#secrets) {
      if (secret.length >= MIN_SCRUBBED_LENGTH) scrubbed = scrubbed.replaceAll(secret, '***');
    }
    return scrubbed;
  }
}

function hasPassword(credentials: Credentials | undefined): credentials is { username: string; password: string } {
  return !!credentials?.username && credentials.password !== undefined;
}

function cacheKey(host: string, scopes: string[]): string {
  return `${host} ${mergeScopes(scopes).sort().join(' ')}`;
}

/** A challenge's scope parameter may hold several scopes separated by spaces. */
function splitScopes(scope: string | undefined): string[] {
  return scope ? scope.split(' ').filter((part) => part !== '') : [];
}

/**
 * Scopes with their actions merged per resource, so `repository:a:pull` and `repository:a:pull,push`
 * become one `repository:a:pull,push`. Actions follow the last ':' since resource names may contain ':'.
 */
export function mergeScopes(scopes: string[]): string[] {
  const merged = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const last = scope.lastIndexOf(':');
    const first = scope.indexOf(':');
    if (first === -1 || first === last) {
      if (!merged.has(scope)) merged.set(scope, new Set());
      continue;
    }
    const resource = scope.slice(0, last);
    const actions = merged.get(resource) ?? new Set<string>();
    for (const action of scope.slice(last + 1).split(',')) if (action) actions.add(action);
    merged.set(resource, actions);
  }
  return [...merged].map(([resource, actions]) =>
    actions.size > 0 ? `${resource}:${[...actions].join(',')}` : resource,
  );
}

function expiry(body: TokenResponse, requestedAt: number): number {
  const expiresIn =
    typeof body.expires_in === 'number' && Number.isFinite(body.expires_in) && body.expires_in > 0
      ? body.expires_in
      : DEFAULT_EXPIRES_IN_S;
  const lifetime = expiresIn * 1000;
  const issuedAt = typeof body.issued_at === 'string' ? Date.parse(body.issued_at) : Number.NaN;
  // issued_at is in the token server's clock. It counts only when it is plausibly ours too (between one
  // lifetime ago and our request): a token server may hand out a token it issued earlier, but a skewed clock
  // must not make a fresh token look expired or a stale one look fresh.
  const start = issuedAt > requestedAt - lifetime && issuedAt <= requestedAt ? issuedAt : requestedAt;
  return start + lifetime;
}

/** The token server's own explanation, from the error shapes registries use; undefined for HTML and the like. */
function refusalDetail(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return trimmed && !trimmed.startsWith('<') ? showValue(trimmed.split('\n')[0] ?? '') : undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const messages: string[] = [];
  if (Array.isArray(record.errors)) {
    for (const error of record.errors) {
      if (typeof error !== 'object' || error === null) continue;
      const { code, message } = error as Record<string, unknown>;
      const parts = [code, message].filter((part) => typeof part === 'string' && part !== '');
      if (parts.length > 0) messages.push(parts.join(': '));
    }
  }
  for (const field of ['details', 'error_description', 'error', 'message']) {
    const value = record[field];
    if (typeof value === 'string' && value !== '') messages.push(value);
  }
  return messages.length > 0 ? showValue(messages.join('; ')) : undefined;
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch reports "fetch failed" and puts the reason (ECONNREFUSED, certificate errors) in its cause.
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause ? `${error.message} (${cause})` : error.message;
}
