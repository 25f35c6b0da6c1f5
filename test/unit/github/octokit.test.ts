import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SlipwayError } from '../../../shared/core/errors.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { githubContext } from '../../../shared/github/context.js';
import { GitHubApiError } from '../../../shared/github/errors.js';
import { countCalls, createOctokit, nextPageUrl, octokitGraphqlUrl } from '../../../shared/github/octokit.js';
import { WriteBudget } from '../../../shared/github/write-budget.js';
import { type GitHubServer, startGitHubServer } from '../../support/github-server.js';

// The Octokit factory: where GraphQL goes on each kind of GitHub, that the token stays on the API's origin, that
// writes are paced by the budget, and that calls are counted. REST goes to the OpenAPI-checked fake; GraphQL
// routing is checked against a loopback server that records the path of every request it gets.

const TOKEN = 'ghs_octokitfactorytoken0123456789';

interface Recorded {
  method: string;
  path: string;
  body: unknown;
  authorization: string | undefined;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Answers every request with `{ data: {} }` (a GraphQL answer) and records it. */
async function recordingServer(): Promise<{ origin: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      body: text ? JSON.parse(text) : undefined,
      authorization: req.headers.authorization,
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { ok: true } }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  closers.push(() => new Promise((done) => server.close(() => done())));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

async function fake(options: { pathPrefix?: string } = {}): Promise<GitHubServer> {
  const server = await startGitHubServer({ token: TOKEN, ...options });
  closers.push(() => server.close());
  return server;
}

const BUNDLE = {
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  verificationMaterial: { certificate: { rawBytes: 'MIIB' }, tlogEntries: [] },
  dsseEnvelope: {
    payload: Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'x', digest: { sha256: 'a'.repeat(64) } }],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      }),
    ).toString('base64'),
    payloadType: 'application/vnd.in-toto+json',
    signatures: [{ sig: 'MEUCIQ', keyid: '' }],
  },
};

describe('GraphQL endpoint', () => {
  it.each([
    ['github.com', { GITHUB_SERVER_URL: 'https://github.com' }],
    ['GHE.com', { GITHUB_SERVER_URL: 'https://acme.ghe.com' }],
    ['GHES', { GITHUB_SERVER_URL: 'https://ghes.example.com' }],
    ['GHES under a path', { GITHUB_API_URL: 'https://ghes.example.com/github/api/v3' }],
  ])("is where Octokit derives it from the REST root on %s, and the context's", (_kind, env) => {
    const context = githubContext(env);
    expect(octokitGraphqlUrl(context.apiUrl)).toBe(context.graphqlUrl);
  });

  it('goes to /api/graphql beside a GHES /api/v3 root', async () => {
    const { origin, requests } = await recordingServer();
    const context = githubContext({ GITHUB_API_URL: `${origin}/api/v3` });
    expect(context.graphqlUrl).toBe(`${origin}/api/graphql`);
    const octokit = await createOctokit({ token: TOKEN, context, logger: silentLogger });
    expect(await octokit.graphql('query { viewer { login } }')).toEqual({ ok: true });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/graphql']);
    expect(requests[0]?.authorization).toBe(`token ${TOKEN}`);
  });

  it('goes where GITHUB_GRAPHQL_URL says when the runner sets it', async () => {
    const { origin, requests } = await recordingServer();
    const context = githubContext({ GITHUB_API_URL: `${origin}/api/v3`, GITHUB_GRAPHQL_URL: `${origin}/custom/gql` });
    const octokit = await createOctokit({ token: TOKEN, context, logger: silentLogger });
    await octokit.graphql('query { viewer { login } }');
    expect(requests.map((r) => r.path)).toEqual(['/custom/gql']);
  });
});

describe('the token stays on the API origin', () => {
  it('refuses a URL on another host before sending anything', async () => {
    const { origin, requests } = await recordingServer();
    const server = await fake();
    const octokit = await createOctokit({
      token: TOKEN,
      context: githubContext({ GITHUB_API_URL: server.url }),
      logger: silentLogger,
    });
    const refused = octokit.request({ method: 'GET', url: `${origin}/repos/acme/app` });
    await expect(refused).rejects.toThrow(SlipwayError);
    await expect(refused).rejects.toThrow(/Refusing to send a GitHub API request to 127\.0\.0\.1:\d+/);
    expect(requests).toEqual([]);
    expect(server.requests).toEqual([]);
  });

  it('reads rel="next" from a Link header with several relations, escaping a colon Octokit would take for a parameter', () => {
    const header =
      '<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x/sha256:ab?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last"';
    expect(nextPageUrl(header, 'https://api.github.com/x?page=2')).toBe('https://api.github.com/x/sha256%3Aab?page=3');
    expect(nextPageUrl('</x?page=2>; rel="next"', 'https://api.github.com/x')).toBe('https://api.github.com/x?page=2');
    expect(nextPageUrl('<https://api.github.com/x?page=1>; rel="prev"', 'https://api.github.com/x')).toBeUndefined();
    expect(nextPageUrl(undefined, 'https://api.github.com/x')).toBeUndefined();
  });
});

describe('write pacing', () => {
  it('paces REST writes and GraphQL mutations through the budget, never reads or GraphQL queries', async () => {
    const { origin, requests } = await recordingServer();
    let clock = 1_000_000;
    const sleeps: number[] = [];
    const octokit = await createOctokit({
      token: TOKEN,
      context: githubContext({ GITHUB_API_URL: origin }),
      logger: silentLogger,
      writeBudget: new WriteBudget([{ count: 1, windowMs: 1000 }]),
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    await octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'app' });
    await octokit.graphql('query { viewer { login } }');
    await octokit.graphql('query { viewer { login } }');
    expect(sleeps).toEqual([]);
    await octokit.graphql('mutation { createRef(input: {}) { clientMutationId } }');
    await octokit.request('POST /repos/{owner}/{repo}/git/refs', {
      owner: 'acme',
      repo: 'app',
      ref: 'refs/heads/x',
      sha: 'a',
    });
    clock += 400;
    await octokit.request('DELETE /repos/{owner}/{repo}/git/refs/{ref}', {
      owner: 'acme',
      repo: 'app',
      ref: 'heads/x',
    });
    // The first write went at once; the second waited the whole second, the third what was left of it.
    expect(sleeps).toEqual([1000, 600]);
    expect(requests).toHaveLength(6);
  });

  it('shares one budget across the clients of a process by default', async () => {
    const { origin } = await recordingServer();
    const context = githubContext({ GITHUB_API_URL: origin });
    let clock = Date.now();
    const sleeps: number[] = [];
    const make = () =>
      createOctokit({
        token: TOKEN,
        context,
        logger: silentLogger,
        now: () => clock,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock += ms;
        },
      });
    const [a, b] = [await make(), await make()];
    await a.request('POST /repos/{owner}/{repo}/issues', { owner: 'acme', repo: 'app', title: 't' });
    await b.request('POST /repos/{owner}/{repo}/issues', { owner: 'acme', repo: 'app', title: 't' });
    // GitHub's one-second spacing held between two clients.
    expect(sleeps).toEqual([1000]);
  });
});

describe('countCalls', () => {
  it('counts calls, and requests with their retries, from the moment it is asked', async () => {
    const server = await fake();
    const octokit = await createOctokit({
      token: TOKEN,
      context: githubContext({ GITHUB_API_URL: server.url }),
      logger: silentLogger,
      waitScale: 0.001,
      writeBudget: new WriteBudget([{ count: 100, windowMs: 1000 }]),
    });
    await octokit.request('POST /repos/{owner}/{repo}/attestations', { owner: 'acme', repo: 'app', bundle: BUNDLE });
    const counter = countCalls(octokit);
    expect([counter.calls, counter.requests]).toEqual([0, 0]);
    server.failNext(2, 502, { message: 'Server Error' });
    await octokit.request('POST /repos/{owner}/{repo}/attestations', { owner: 'acme', repo: 'app', bundle: BUNDLE });
    await octokit.request('GET /repos/{owner}/{repo}/attestations/{subject_digest}', {
      owner: 'acme',
      repo: 'app',
      subject_digest: `sha256:${'a'.repeat(64)}`,
    });
    expect(counter.calls).toBe(2);
    expect(counter.requests).toBe(4);
    expect(server.schemaErrors).toEqual([]);
  });

  it('fails with a GitHubApiError naming the call when GitHub says no', async () => {
    const server = await fake({ pathPrefix: '/api/v3' });
    const octokit = await createOctokit({
      token: 'wrong',
      context: githubContext({ GITHUB_API_URL: server.url }),
      logger: silentLogger,
    });
    const error = await octokit
      .request('GET /repos/{owner}/{repo}/attestations/{subject_digest}', {
        owner: 'acme',
        repo: 'app',
        subject_digest: `sha256:${'a'.repeat(64)}`,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).message).toBe(
      `GitHub API GET /api/v3/repos/acme/app/attestations/sha256:${'a'.repeat(64)} failed: HTTP 401: Bad credentials — the token was not accepted; check that it is set and has not expired.`,
    );
  });

  it("leaves a failed request to its caller: Octokit's request line is debug, never an error or a warning", async () => {
    const server = await fake();
    const lines: string[] = [];
    const logger = {
      ...silentLogger,
      debug: (m: string) => lines.push(`debug ${m}`),
      warning: (m: string) => lines.push(`warning ${m}`),
      error: (m: string) => lines.push(`error ${m}`),
    };
    const octokit = await createOctokit({
      token: TOKEN,
      context: githubContext({ GITHUB_API_URL: server.url }),
      logger,
    });
    const error = await octokit.rest.repos.get({ owner: 'acme', repo: 'nothing-here' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(404);
    expect(lines.filter((l) => !l.startsWith('debug '))).toEqual([]);
    expect(lines).toContainEqual(expect.stringMatching(/^debug GET \/repos\/acme\/nothing-here - 404/));
  });
});
