import { afterEach, describe, expect, it } from 'vitest';
import { decodeClaims, isPrivateRepository, requestIdToken } from '../../../shared/attest/oidc.js';
import { SlipwayError } from '../../../shared/core/errors.js';
import { type Handler, loopbackServers } from '../../support/loopback.js';

// The runner's token service is played by a loopback server: it checks what a real one checks
// (bearer header, audience parameter) and fails on demand, which the real one cannot be made to do.

const loopback = loopbackServers();
// The token service is named by a URL, not a host.
const serve = async (handler: Handler) => `http://${await loopback.serve(handler)}`;
afterEach(loopback.closeAll);

const REQUEST_TOKEN = 'runner-request-token-xyz';

function jwt(payload: object): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${encode(payload)}.c2lnbmF0dXJl`;
}

const PAYLOAD = {
  jti: 'b6c5f8a0',
  sub: 'repo:acme/api:ref:refs/tags/v1.2.3',
  aud: 'sigstore',
  ref: 'refs/tags/v1.2.3',
  sha: '0123456789abcdef0123456789abcdef01234567',
  repository: 'acme/api',
  repository_owner: 'acme',
  repository_owner_id: '987654',
  run_id: '4242424242',
  run_number: '17',
  run_attempt: '1',
  repository_visibility: 'private',
  repository_id: '123456789',
  actor_id: '555',
  actor: 'alice',
  workflow: 'release',
  event_name: 'push',
  ref_type: 'tag',
  workflow_ref: 'acme/api/.github/workflows/release.yml@refs/tags/v1.2.3',
  workflow_sha: '0123456789abcdef0123456789abcdef01234567',
  job_workflow_ref: 'acme/api/.github/workflows/release.yml@refs/tags/v1.2.3',
  job_workflow_sha: '0123456789abcdef0123456789abcdef01234567',
  runner_environment: 'github-hosted',
  iss: 'https://token.actions.githubusercontent.com',
  nbf: 1767225600,
  exp: 1767226500,
  iat: 1767225900,
};

describe('requestIdToken', () => {
  it('asks for the audience with the bearer request token and returns the value', async () => {
    const token = jwt(PAYLOAD);
    const seen: { url?: string; authorization?: string } = {};
    const base = await serve((req, res) => {
      seen.url = req.url;
      seen.authorization = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ count: 1, value: token }));
    });
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/_apis/idtoken?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
    };
    expect(await requestIdToken(env)).toBe(token);
    const url = new URL(seen.url!, base);
    expect(url.pathname).toBe('/_apis/idtoken');
    expect(url.searchParams.get('api-version')).toBe('2.0');
    expect(url.searchParams.get('audience')).toBe('sigstore');
    expect(seen.authorization).toBe(`bearer ${REQUEST_TOKEN}`);

    await requestIdToken(env, 'https://example.com/a b');
    expect(new URL(seen.url!, base).searchParams.get('audience')).toBe('https://example.com/a b');
  });

  it('retries 5xx with growing delays, then succeeds', async () => {
    const statuses = [502, 503, 200];
    const base = await serve((_req, res) => {
      const status = statuses.shift()!;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? JSON.stringify({ value: 'a.b.c' }) : 'busy');
    });
    const sleeps: number[] = [];
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };
    const value = await requestIdToken(env, 'sigstore', fetch, {
      baseDelayMs: 100,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(value).toBe('a.b.c');
    expect(sleeps).toEqual([100, 200]);
  });

  it('gives up after the last attempt, and never retries a 4xx', async () => {
    let calls = 0;
    const base = await serve((_req, res) => {
      calls++;
      res.writeHead(500);
      res.end();
    });
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/?x=1`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN };
    const noSleep = { sleep: async () => {} };
    await expect(requestIdToken(env, 'sigstore', fetch, noSleep)).rejects.toThrow(/after 3 attempts.*500/);
    expect(calls).toBe(3);

    calls = 0;
    const forbidden = await serve((_req, res) => {
      calls++;
      res.writeHead(403);
      res.end('denied');
    });
    const error = await requestIdToken(
      { ...env, ACTIONS_ID_TOKEN_REQUEST_URL: `${forbidden}/?x=1` },
      'sigstore',
      fetch,
      noSleep,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).toMatch(/403/);
    // The request token is a credential: no message may carry it.
    expect((error as Error).message).not.toContain(REQUEST_TOKEN);
    expect(calls).toBe(1);
  });

  it('explains the missing id-token permission and the fork pull request case', async () => {
    const error = await requestIdToken({ GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'pull_request' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SlipwayError);
    const message = (error as Error).message;
    expect(message).toContain('permissions: id-token: write');
    expect(message).toMatch(/forks GitHub never grants/);
    expect(message).toMatch(/push or release, or in a workflow_run/);
    expect(message).toMatch(/triggered by pull_request/);
    expect(message).not.toMatch(/GitHub Actions run at all/);

    const outside = await requestIdToken({}).catch((e: unknown) => e);
    expect((outside as Error).message).toMatch(/GitHub Actions run at all/);
  });
});

describe('decodeClaims', () => {
  it('reads the claims provenance needs, without verifying', () => {
    const claims = decodeClaims(jwt(PAYLOAD));
    expect(claims).toEqual({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/api:ref:refs/tags/v1.2.3',
      repository: 'acme/api',
      repository_id: '123456789',
      repository_owner: 'acme',
      repository_owner_id: '987654',
      repository_visibility: 'private',
      ref: 'refs/tags/v1.2.3',
      sha: '0123456789abcdef0123456789abcdef01234567',
      event_name: 'push',
      workflow_ref: 'acme/api/.github/workflows/release.yml@refs/tags/v1.2.3',
      job_workflow_ref: 'acme/api/.github/workflows/release.yml@refs/tags/v1.2.3',
      runner_environment: 'github-hosted',
      run_id: '4242424242',
      run_attempt: '1',
    });
  });

  it('names every missing claim', () => {
    const { job_workflow_ref: _a, run_attempt: _b, ...partial } = PAYLOAD;
    expect(() => decodeClaims(jwt(partial))).toThrow(/lacks the claims job_workflow_ref, run_attempt/);
    expect(() => decodeClaims(jwt({ ...PAYLOAD, sha: '' }))).toThrow(/lacks the claim sha\b/);
  });

  it('refuses what is not a JWT', () => {
    expect(() => decodeClaims('not-a-token')).toThrow(/not a JWT/);
    expect(() => decodeClaims('a.%%%.c')).toThrow(/not base64url-encoded JSON/);
    expect(() => decodeClaims(`a.${Buffer.from('[1]').toString('base64url')}.c`)).toThrow(/not a JSON object/);
  });
});

describe('isPrivateRepository', () => {
  it('keeps private, internal and unknown visibility off the public log', () => {
    expect(isPrivateRepository({ repository_visibility: 'public' })).toBe(false);
    expect(isPrivateRepository({ repository_visibility: 'private' })).toBe(true);
    expect(isPrivateRepository({ repository_visibility: 'internal' })).toBe(true);
    expect(isPrivateRepository({})).toBe(true);
  });
});
