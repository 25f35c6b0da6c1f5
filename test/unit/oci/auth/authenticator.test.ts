import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlipwayError } from '../../../../shared/core/errors.js';
import {
  AuthenticationError,
  Authenticator,
  type AuthenticatorOptions,
  type CredentialSource,
  type Credentials,
  explicitCredentials,
  mergeScopes,
} from '../../../../shared/oci/auth/index.js';

const USERNAME = 'alice';
const PASSWORD = 'p@ss:w0rd:with:colons';
const IDENTITY_TOKEN = 'refresh-token-from-docker-login';

interface RecordedRequest {
  method: string;
  query: URLSearchParams;
  form: URLSearchParams;
  authorization: string | undefined;
  contentType: string | undefined;
  userAgent: string | undefined;
}

interface Reply {
  status: number;
  body: unknown;
}

/**
 * A registry that answers every /v2/ request with 401 and the configured challenge, and a token endpoint at
 * /token that checks Basic credentials and refresh tokens the way distribution's token server does.
 */
class TestRegistry {
  readonly requests: RecordedRequest[] = [];
  challenge = '';
  /** Replaces the token endpoint's normal answer. */
  reply: ((request: RecordedRequest) => Reply) | undefined;
  #issued = 0;
  readonly #server = createServer((req, res) => void this.#handle(req, res));

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get host(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get realm(): string {
    return `http://${this.host}/token`;
  }

  /** A real 401 from the registry carrying `header` as its WWW-Authenticate. */
  async challengeWith(header: string): Promise<Response> {
    this.challenge = header;
    const response = await fetch(`http://${this.host}/v2/acme/api/manifests/latest`);
    await response.arrayBuffer();
    return response;
  }

  bearerChallenge(scope = 'repository:acme/api:pull'): Promise<Response> {
    return this.challengeWith(`Bearer realm="${this.realm}",service="test-registry",scope="${scope}"`);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    if (url.pathname.startsWith('/v2/')) {
      res.writeHead(401, { 'WWW-Authenticate': this.challenge, 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const request: RecordedRequest = {
      method: req.method ?? '',
      query: url.searchParams,
      form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      userAgent: req.headers['user-agent'],
    };
    this.requests.push(request);
    const reply = this.reply?.(request) ?? this.#tokenEndpoint(request);
    res.writeHead(reply.status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  }

  #tokenEndpoint(request: RecordedRequest): Reply {
    const n = ++this.#issued;
    if (request.method === 'POST') {
      if (request.form.get('refresh_token') !== IDENTITY_TOKEN) {
        return { status: 401, body: { errors: [{ code: 'UNAUTHORIZED', message: 'invalid refresh token' }] } };
      }
      return { status: 200, body: { access_token: `access-${n}`, refresh_token: `rotated-${n}`, expires_in: 300 } };
    }
    if (request.authorization === undefined) return { status: 200, body: { token: `anonymous-${n}`, expires_in: 300 } };
    const expected = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;
    if (request.authorization !== expected) {
      return { status: 401, body: { details: 'incorrect username or password' } };
    }
    return { status: 200, body: { token: `token-${n}`, expires_in: 300 } };
  }
}

function fixedCredentials(credentials: Credentials | undefined): CredentialSource {
  return { description: 'test credentials', get: async () => credentials };
}

describe('Authenticator', () => {
  let registry: TestRegistry;
  let secrets: string[];
  let clock: number;

  beforeEach(async () => {
    registry = await new TestRegistry().start();
    secrets = [];
    clock = 1_700_000_000_000;
  });
  afterEach(() => registry.close());

  function authenticator(credentials: CredentialSource, options: Partial<AuthenticatorOptions> = {}): Authenticator {
    return new Authenticator({
      credentials,
      onSecret: (value) => secrets.push(value),
      now: () => clock,
      ...options,
    });
  }

  const withPassword = () => explicitCredentials(registry.host, USERNAME, PASSWORD);

  describe('Bearer', () => {
    it('fetches a token with Basic credentials, the service and the merged scopes', async () => {
      const auth = authenticator(withPassword(), { userAgent: 'slipway/test' });
      const header = await auth.authorize(registry.host, await registry.bearerChallenge(), [
        'repository:acme/api:pull,push',
        'repository:acme/base:pull',
      ]);

      expect(header).toBe('Bearer token-1');
      expect(registry.requests).toHaveLength(1);
      const [request] = registry.requests;
      expect(request?.method).toBe('GET');
      expect(request?.query.get('service')).toBe('test-registry');
      expect(request?.query.getAll('scope')).toEqual(['repository:acme/api:pull,push', 'repository:acme/base:pull']);
      expect(request?.authorization).toBe(`Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`);
      expect(request?.userAgent).toBe('slipway/test');
      expect(secrets).toContain(PASSWORD);
      expect(secrets).toContain('token-1');
      expect(secrets).toContain(Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64'));
    });

    it('sends the challenge scope alone when no scopes are requested', async () => {
      const auth = authenticator(withPassword());
      await auth.authorize(registry.host, await registry.bearerChallenge('repository:acme/api:pull'), []);
      expect(registry.requests[0]?.query.getAll('scope')).toEqual(['repository:acme/api:pull']);
    });

    it('caches the token per registry and scopes, whatever their order', async () => {
      const auth = authenticator(withPassword());
      const scopes = ['repository:acme/api:pull,push', 'repository:acme/base:pull'];
      const first = await auth.authorize(registry.host, await registry.bearerChallenge(), scopes);

      const reordered = [...scopes].reverse();
      expect(auth.cached(registry.host, reordered)).toBe(first);
      expect(await auth.authorize(registry.host, await registry.bearerChallenge(), reordered)).toBe(first);
      expect(registry.requests).toHaveLength(1);

      expect(auth.cached(registry.host, ['repository:acme/other:pull'])).toBeUndefined();
      expect(auth.cached('127.0.0.1:1', scopes)).toBeUndefined();
    });

    it('asks the token endpoint once for concurrent challenges', async () => {
      const auth = authenticator(withPassword());
      const challenge = await registry.bearerChallenge();
      const headers = await Promise.all([1, 2, 3].map(() => auth.authorize(registry.host, challenge, ['x:y:pull'])));
      expect(new Set(headers)).toEqual(new Set(['Bearer token-1']));
      expect(registry.requests).toHaveLength(1);
    });

    it('drops a token 10 s before expires_in runs out', async () => {
      const auth = authenticator(withPassword());
      const scopes = ['repository:acme/api:pull'];
      await auth.authorize(registry.host, await registry.bearerChallenge(), scopes);
      const start = clock;

      clock = start + 289_000;
      expect(auth.cached(registry.host, scopes)).toBe('Bearer token-1');
      clock = start + 291_000;
      expect(auth.cached(registry.host, scopes)).toBeUndefined();

      expect(await auth.authorize(registry.host, await registry.bearerChallenge(), scopes)).toBe('Bearer token-2');
      expect(registry.requests).toHaveLength(2);
    });

    it('assumes 60 s when expires_in is missing, and counts from issued_at', async () => {
      const start = clock;
      registry.reply = (request) =>
        request.query.getAll('scope').includes('repository:old:pull')
          ? {
              status: 200,
              body: { token: 'issued-earlier', expires_in: 300, issued_at: new Date(start - 100_000).toISOString() },
            }
          : { status: 200, body: { token: 'no-expiry' } };
      const auth = authenticator(fixedCredentials(undefined));

      await auth.authorize(registry.host, await registry.bearerChallenge(), ['repository:new:pull']);
      await auth.authorize(registry.host, await registry.bearerChallenge(), ['repository:old:pull']);

      clock = start + 49_000;
      expect(auth.cached(registry.host, ['repository:new:pull'])).toBe('Bearer no-expiry');
      clock = start + 51_000;
      expect(auth.cached(registry.host, ['repository:new:pull'])).toBeUndefined();

      clock = start + 189_000;
      expect(auth.cached(registry.host, ['repository:old:pull'])).toBe('Bearer issued-earlier');
      clock = start + 191_000;
      expect(auth.cached(registry.host, ['repository:old:pull'])).toBeUndefined();
    });

    it('ignores an issued_at from a clock far ahead of ours', async () => {
      registry.reply = () => ({
        status: 200,
        body: { token: 'skewed', expires_in: 300, issued_at: new Date(clock + 3_600_000).toISOString() },
      });
      const auth = authenticator(fixedCredentials(undefined));
      await auth.authorize(registry.host, await registry.bearerChallenge(), ['a:b:pull']);
      clock += 291_000;
      expect(auth.cached(registry.host, ['a:b:pull'])).toBeUndefined();
    });

    it('fetches a new token when the registry refuses the cached one with an error', async () => {
      const auth = authenticator(withPassword());
      const scopes = ['repository:acme/api:pull'];
      await auth.authorize(registry.host, await registry.bearerChallenge(), scopes);
      const refused = await registry.challengeWith(
        `Bearer realm="${registry.realm}",service="test-registry",scope="repository:acme/api:pull",error="invalid_token"`,
      );
      expect(await auth.authorize(registry.host, refused, scopes)).toBe('Bearer token-2');
      expect(auth.cached(registry.host, scopes)).toBe('Bearer token-2');
    });

    it('prefers access_token over token', async () => {
      registry.reply = () => ({ status: 200, body: { token: 'legacy', access_token: 'oauth', expires_in: 300 } });
      const auth = authenticator(fixedCredentials(undefined));
      expect(await auth.authorize(registry.host, await registry.bearerChallenge(), [])).toBe('Bearer oauth');
    });

    it('asks anonymously when there are no credentials', async () => {
      const auth = authenticator(explicitCredentials('ghcr.io', USERNAME, PASSWORD));
      const header = await auth.authorize(registry.host, await registry.bearerChallenge(), [
        'repository:acme/api:pull',
      ]);
      expect(header).toBe('Bearer anonymous-1');
      expect(registry.requests[0]?.authorization).toBeUndefined();
      expect(registry.requests[0]?.query.getAll('scope')).toEqual(['repository:acme/api:pull']);
      expect(secrets).toEqual(['anonymous-1']);
    });

    it('uses an identity token in the OAuth2 refresh-token grant', async () => {
      const auth = authenticator(fixedCredentials({ username: '<token>', identityToken: IDENTITY_TOKEN }));
      const header = await auth.authorize(registry.host, await registry.bearerChallenge(), [
        'repository:acme/api:pull,push',
      ]);

      expect(header).toBe('Bearer access-1');
      const [request] = registry.requests;
      expect(request?.method).toBe('POST');
      expect(request?.contentType).toBe('application/x-www-form-urlencoded');
      expect(request?.authorization).toBeUndefined();
      expect(Object.fromEntries(request?.form ?? [])).toEqual({
        grant_type: 'refresh_token',
        refresh_token: IDENTITY_TOKEN,
        service: 'test-registry',
        scope: 'repository:acme/api:pull,push',
        client_id: 'slipway',
      });
      expect(secrets).toEqual(expect.arrayContaining([IDENTITY_TOKEN, 'access-1', 'rotated-1']));
    });

    it('sends a registry token as it is, for any scope, without asking the realm', async () => {
      const auth = authenticator(fixedCredentials({ registryToken: 'registry-token-value' }));
      expect(await auth.authorize(registry.host, await registry.bearerChallenge(), ['a:b:pull'])).toBe(
        'Bearer registry-token-value',
      );
      expect(auth.cached(registry.host, ['c:d:push'])).toBe('Bearer registry-token-value');
      expect(registry.requests).toHaveLength(0);
      expect(secrets).toEqual(['registry-token-value']);
    });

    it('throws AuthenticationError naming realm and status, never the password', async () => {
      const auth = authenticator(explicitCredentials(registry.host, USERNAME, `wrong-${PASSWORD}`));
      const error = await auth
        .authorize(registry.host, await registry.bearerChallenge(), ['repository:acme/api:pull'])
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toBeInstanceOf(SlipwayError);
      const { message, realm, status } = error as AuthenticationError;
      expect(message).toContain(registry.realm);
      expect(message).toContain(registry.host);
      expect(message).toContain('401');
      expect(message).toContain('incorrect username or password');
      expect(message).not.toContain(PASSWORD);
      expect(message).not.toContain(Buffer.from(`${USERNAME}:wrong-${PASSWORD}`).toString('base64'));
      expect(realm).toBe(registry.realm);
      expect(status).toBe(401);
    });

    it('scrubs secrets a token server echoes back', async () => {
      registry.reply = () => ({ status: 403, body: { details: `no access for ${USERNAME}:${PASSWORD}` } });
      const auth = authenticator(withPassword());
      const error = (await auth
        .authorize(registry.host, await registry.bearerChallenge(), [])
        .catch((caught: unknown) => caught)) as Error;
      expect(error.message).toContain('403');
      expect(error.message).not.toContain(PASSWORD);
    });

    it('refuses a refresh token the token server rejects', async () => {
      const auth = authenticator(fixedCredentials({ identityToken: 'stale-refresh-token' }));
      const error = await auth.authorize(registry.host, await registry.bearerChallenge(), []).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message).toContain('invalid refresh token');
      expect((error as Error).message).not.toContain('stale-refresh-token');
    });

    it('fails when the token endpoint answers without a token', async () => {
      registry.reply = () => ({ status: 200, body: { expires_in: 300 } });
      const auth = authenticator(withPassword());
      await expect(auth.authorize(registry.host, await registry.bearerChallenge(), [])).rejects.toThrow(
        /answered HTTP 200 without a token/,
      );
    });

    it('fails when the token endpoint cannot be reached', async () => {
      const closed = await new TestRegistry().start();
      const realm = closed.realm;
      await closed.close();
      const auth = authenticator(withPassword());
      const error = await auth
        .authorize(registry.host, await registry.challengeWith(`Bearer realm="${realm}"`), [])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message).toContain(`${realm} could not be reached`);
    });

    it('fails on a Bearer challenge without an http(s) realm', async () => {
      const auth = authenticator(withPassword());
      await expect(
        auth.authorize(registry.host, await registry.challengeWith('Bearer service="x"'), []),
      ).rejects.toThrow(/names no realm/);
      await expect(
        auth.authorize(registry.host, await registry.challengeWith('Bearer realm="file:///etc/passwd"'), []),
      ).rejects.toThrow(AuthenticationError);
      expect(registry.requests).toHaveLength(0);
    });

    it('prefers Bearer when the registry offers Basic too', async () => {
      const auth = authenticator(withPassword());
      const response = await registry.challengeWith(`Basic realm="r", Bearer realm="${registry.realm}"`);
      expect(await auth.authorize(registry.host, response, [])).toBe('Bearer token-1');
    });
  });

  describe('Basic', () => {
    it('answers with the credentials and sends them proactively afterwards', async () => {
      const auth = authenticator(withPassword());
      expect(auth.cached(registry.host, ['a:b:pull'])).toBeUndefined();
      const expected = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;
      expect(await auth.authorize(registry.host, await registry.challengeWith('Basic realm="registry"'), [])).toBe(
        expected,
      );
      expect(auth.cached(registry.host, ['a:b:pull'])).toBe(expected);
      expect(auth.cached(registry.host, [])).toBe(expected);
      expect(registry.requests).toHaveLength(0);
    });

    it('gives up without credentials', async () => {
      const auth = authenticator(fixedCredentials(undefined));
      expect(await auth.authorize(registry.host, await registry.challengeWith('Basic realm="r"'), [])).toBeUndefined();
      expect(auth.cached(registry.host, [])).toBeUndefined();
    });

    it('gives up with only an identity token', async () => {
      const auth = authenticator(fixedCredentials({ identityToken: IDENTITY_TOKEN }));
      expect(await auth.authorize(registry.host, await registry.challengeWith('Basic realm="r"'), [])).toBeUndefined();
    });
  });

  it('gives up on responses without a challenge it understands', async () => {
    const auth = authenticator(withPassword());
    expect(await auth.authorize(registry.host, await registry.challengeWith('Negotiate'), [])).toBeUndefined();
    expect(await auth.authorize(registry.host, await registry.challengeWith('Bearer realm="unterminated'), [])).toBe(
      undefined,
    );
    expect(await auth.authorize(registry.host, new Response(null, { status: 401 }), [])).toBeUndefined();
  });

  it('looks credentials up once per registry', async () => {
    let lookups = 0;
    const auth = authenticator({
      description: 'counting',
      get: async () => {
        lookups++;
        return { username: USERNAME, password: PASSWORD };
      },
    });
    await auth.authorize(registry.host, await registry.bearerChallenge(), ['a:b:pull']);
    await auth.authorize(registry.host, await registry.bearerChallenge(), ['a:c:pull']);
    expect(lookups).toBe(1);
    expect(secrets.filter((secret) => secret === PASSWORD)).toHaveLength(1);
  });
});

describe('mergeScopes', () => {
  it.each<[string[], string[]]>([
    [['repository:a:pull', 'repository:a:pull'], ['repository:a:pull']],
    [['repository:a:pull', 'repository:a:push,pull'], ['repository:a:pull,push']],
    [
      ['repository:a:pull', 'repository:b:pull'],
      ['repository:a:pull', 'repository:b:pull'],
    ],
    [
      ['repository:localhost:5000/a:pull', 'repository:localhost:5000/a:push'],
      ['repository:localhost:5000/a:pull,push'],
    ],
    [['registry:catalog:*'], ['registry:catalog:*']],
    [['opaque', 'opaque'], ['opaque']],
  ])('%j → %j', (scopes, expected) => {
    expect(mergeScopes(scopes)).toEqual(expected);
  });
});
