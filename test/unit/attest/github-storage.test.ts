import { afterEach, describe, expect, it } from 'vitest';
import { listAttestations, snappyDecode, uploadAttestation } from '../../../shared/attest/github-storage.js';
import type { BundleJson } from '../../../shared/attest/types.js';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';
import type { Logger } from '../../../shared/core/logger.js';
import { githubContext } from '../../../shared/github/context.js';
import { GitHubApiError } from '../../../shared/github/errors.js';
import { createOctokit, type RateLimitEvent, type SlipwayOctokit } from '../../../shared/github/octokit.js';
import { GITHUB_WRITE_LIMITS, WriteBudget } from '../../../shared/github/write-budget.js';
import {
  type GitHubServer,
  type GitHubServerOptions,
  snappyEncode,
  startGitHubServer,
} from '../../support/github-server.js';

// Storage through GitHub's attestations API, against a loopback fake whose every request and response is
// checked against GitHub's OpenAPI description. Bundles here are not signed: storage moves them verbatim,
// and signature checks belong to the verifier's tests.

const TOKEN = 'ghs_testtoken0123456789abcdefABCDEF';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;

function bundleFor(digest: string, predicateType: string, marker = ''): BundleJson {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'ghcr.io/acme/app', digest: { sha256: digest.slice('sha256:'.length) } }],
    predicateType,
    predicate: { marker },
  };
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { certificate: { rawBytes: 'MIIB' }, tlogEntries: [] },
    dsseEnvelope: {
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ sig: 'MEUCIQ', keyid: '' }],
    },
  };
}

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const CYCLONEDX = 'https://cyclonedx.org/bom';

const servers: GitHubServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<GitHubServerOptions> = {}): Promise<GitHubServer> {
  const server = await startGitHubServer({ token: TOKEN, ...options });
  servers.push(server);
  return server;
}

function collectingLogger(lines: string[]): Logger {
  return {
    debug: (m) => lines.push(m),
    info: (m) => lines.push(m),
    warning: (m) => lines.push(m),
    error: (m) => lines.push(m),
    group: (_title, body) => body(),
  };
}

interface ClientOptions {
  token?: string;
  retries?: number;
  lines?: string[];
  limits?: RateLimitEvent[];
}

/**
 * An Octokit on the fake, whose waits are scaled down a thousandfold (60 s of Retry-After cost 60 ms), with a
 * budget of its own that keeps GitHub's limits but not the one-second spacing between writes.
 */
function clientFor(server: GitHubServer, options: ClientOptions = {}): Promise<SlipwayOctokit> {
  return createOctokit({
    token: options.token ?? TOKEN,
    context: githubContext({ GITHUB_API_URL: server.url }),
    logger: collectingLogger(options.lines ?? []),
    retries: options.retries ?? 3,
    waitScale: 0.001,
    writeBudget: new WriteBudget(GITHUB_WRITE_LIMITS),
    onRateLimit: (event) => options.limits?.push(event),
  });
}

/** The web root the fake's API belongs to, where attestation links point. */
function webRoot(server: GitHubServer): string {
  return githubContext({ GITHUB_API_URL: server.url }).serverUrl;
}

async function failure(promise: Promise<unknown>): Promise<GitHubApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GitHubApiError);
    return error as GitHubApiError;
  }
  throw new Error('expected a GitHubApiError, nothing was thrown');
}

describe('upload and list through the attestations API', () => {
  it('stores bundles and lists them back by digest and predicate type, every exchange matching the OpenAPI description', async () => {
    const server = await start();
    const client = await clientFor(server);
    const root = webRoot(server);
    const provenance = bundleFor(DIGEST, PROVENANCE);
    const sbom = bundleFor(DIGEST, CYCLONEDX);

    const first = await uploadAttestation(client, 'acme', 'app', provenance, root);
    const second = await uploadAttestation(client, 'acme', 'app', sbom, root);
    await uploadAttestation(client, 'acme', 'app', bundleFor(OTHER_DIGEST, PROVENANCE), root);
    const origin = new URL(server.url).origin;
    expect(first).toEqual({ kind: 'github', id: 1, url: `${origin}/acme/app/attestations/1` });
    expect(second.id).toBe(2);

    const all = await listAttestations(client, 'acme', 'app', DIGEST);
    expect(all).toHaveLength(2);
    expect(all).toEqual(expect.arrayContaining([provenance, sbom]));
    expect(await listAttestations(client, 'acme', 'app', DIGEST, PROVENANCE)).toEqual([provenance]);
    expect(await listAttestations(client, 'acme', 'app', `sha256:${'c'.repeat(64)}`)).toEqual([]);
    // Another repository's attestations for the same digest are not this one's.
    expect(await listAttestations(client, 'acme', 'other', DIGEST)).toEqual([]);

    expect(server.schemaErrors).toEqual([]);
    const post = server.requests[0];
    expect(post?.method).toBe('POST');
    expect(post?.path).toBe('/repos/acme/app/attestations');
    expect(post?.body).toEqual({ bundle: provenance });
    expect(post?.headers.authorization).toBe(`token ${TOKEN}`);
    expect(post?.headers['x-github-api-version']).toBe('2022-11-28');
    expect(post?.headers.accept).toBe('application/vnd.github+json');
    expect(post?.headers['user-agent']).toMatch(/^slipway\/dev octokit-rest\.js\//);
    const list = server.requests.find((r) => r.method === 'GET' && r.path.includes('predicate_type'));
    // Octokit escapes the digest's colon in the path (as its listAttestations method does); GitHub decodes it.
    expect(list?.path).toBe(
      `/repos/acme/app/attestations/${encodeURIComponent(DIGEST)}?per_page=100&predicate_type=${encodeURIComponent(PROVENANCE)}`,
    );
  });

  it('follows Link rel="next" through every page', async () => {
    const server = await start({ pageSize: 2 });
    const client = await clientFor(server);
    const bundles = Array.from({ length: 5 }, (_, i) => bundleFor(DIGEST, PROVENANCE, `n${i}`));
    for (const bundle of bundles) await uploadAttestation(client, 'acme', 'app', bundle, webRoot(server));

    const listed = await listAttestations(client, 'acme', 'app', DIGEST);
    expect(listed).toHaveLength(5);
    expect(listed).toEqual(expect.arrayContaining(bundles));
    expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(3);
    expect(server.requests.at(-1)?.path).toContain('after=');
    expect(server.schemaErrors).toEqual([]);
  });

  it('answers none found where GitHub answers 404 for the digest', async () => {
    const server = await start();
    server.failNext(1, 404, { message: 'Not Found' });
    expect(await listAttestations(await clientFor(server), 'acme', 'app', DIGEST)).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a digest that is not sha256:<hex> before asking GitHub', async () => {
    const server = await start();
    const client = await clientFor(server);
    await expect(listAttestations(client, 'acme', 'app', 'sha256:XYZ')).rejects.toThrow(InvalidValueError);
    await expect(
      uploadAttestation(client, 'acme', 'a/b', bundleFor(DIGEST, PROVENANCE), webRoot(server)),
    ).rejects.toThrow(InvalidValueError);
    expect(server.requests).toEqual([]);
  });
});

describe('the fake checks itself against the OpenAPI description', () => {
  it('catches a response that does not match (an id that is not an integer)', async () => {
    const server = await start();
    server.tamperNext(() => ({ id: 'one' }));
    const client = await clientFor(server, { retries: 0 });
    const error = await failure(
      uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE), webRoot(server)),
    );
    expect(error.status).toBe(500);
    expect(server.schemaErrors).toHaveLength(1);
    expect(server.schemaErrors[0]).toMatch(
      /POST \/repos\/\{owner\}\/\{repo\}\/attestations → 201 response: \/id must be integer/,
    );
  });

  it('catches a listing item of the wrong shape', async () => {
    const server = await start();
    server.tamperNext(() => ({ attestations: [{ bundle: 'inline text', repository_id: '1' }] }));
    await failure(listAttestations(await clientFor(server, { retries: 0 }), 'acme', 'app', DIGEST));
    expect(server.schemaErrors[0]).toMatch(/\/attestations\/0\/bundle must be object/);
    expect(server.schemaErrors[0]).toMatch(/\/attestations\/0\/repository_id must be integer/);
  });

  it('catches a request that does not match: a body without a bundle object, an undeclared query parameter', async () => {
    const server = await start();
    const client = await clientFor(server, { retries: 0 });
    const route = 'POST /repos/{owner}/{repo}/attestations';
    const bad = await failure(client.request(route, { owner: 'acme', repo: 'app', bundle: 'text' as never }));
    expect(bad.message).toContain('request does not match the OpenAPI description');
    await failure(client.request(route, { owner: 'acme', repo: 'app', attestation: {} } as never));
    await failure(
      client.request('GET /repos/{owner}/{repo}/attestations/{+subject_digest}', {
        owner: 'acme',
        repo: 'app',
        subject_digest: DIGEST,
        page: 2,
      }),
    );
    expect(server.schemaErrors).toEqual([
      expect.stringMatching(/request: request body: \/bundle must be object/),
      expect.stringMatching(/request: request body: \/ must have required property 'bundle'/),
      expect.stringMatching(/request: query parameter page is not declared/),
    ]);
    expect(server.attestations).toEqual([]);
  });
});

describe('errors', () => {
  it('explains a 403 as a missing attestations: write permission or a plan that does not allow it', async () => {
    const server = await start();
    server.forbid('acme/private-app', 'Feature not available for user-owned private repositories.');
    const error = await failure(
      uploadAttestation(await clientFor(server), 'acme', 'private-app', bundleFor(DIGEST, PROVENANCE), webRoot(server)),
    );
    expect(error).toBeInstanceOf(SlipwayError);
    expect(error.status).toBe(403);
    expect(error.method).toBe('POST');
    expect(error.path).toBe('/repos/acme/private-app/attestations');
    expect(error.githubMessage).toBe('Feature not available for user-owned private repositories.');
    expect(error.message).toContain(
      'GitHub API POST /repos/acme/private-app/attestations failed: HTTP 403: Feature not available for user-owned private repositories.',
    );
    expect(error.message).toContain('`permissions: attestations: write`');
    expect(error.message).toMatch(/plan or visibility/);
    // A 403 is an answer, not a fault: asked once.
    expect(server.requests).toHaveLength(1);
    expect(server.schemaErrors).toEqual([]);
  });

  it('says a rejected token was not accepted, and never shows or logs it', async () => {
    const server = await start();
    const lines: string[] = [];
    const wrong = 'ghp_wrongtoken_should_never_appear';
    const client = await clientFor(server, { token: wrong, lines });
    const error = await failure(
      uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE), webRoot(server)),
    );
    expect(error.status).toBe(401);
    expect(error.message).toContain('HTTP 401: Bad credentials');
    expect(error.message).toContain('token was not accepted');
    expect(error.message).not.toContain(wrong);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(wrong);
  });

  it('names GitHub and the path when the service cannot be reached, after retrying', async () => {
    const server = await start();
    const client = await clientFor(server, { retries: 1 });
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const error = await failure(listAttestations(client, 'acme', 'app', DIGEST));
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/GitHub API GET \/repos\/acme\/app\/attestations\/sha256:a+ could not be reached/);
  });
});

describe('retries', () => {
  it('retries a 503 and a plain 429, then succeeds, storing the bundle once', async () => {
    const server = await start();
    const client = await clientFor(server);
    server.failNext(2, 503, { retryAfter: '7' });
    const stored = await uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE), webRoot(server));
    expect(stored.id).toBe(1);
    server.failNext(1, 429, { retryAfter: '3', message: 'Too many requests' });
    expect(await listAttestations(client, 'acme', 'app', DIGEST)).toHaveLength(1);
    expect(server.requests).toHaveLength(5);
    // The retried POST stored the bundle once: the failures happened before it was read.
    expect(server.attestations).toHaveLength(1);
    expect(server.schemaErrors).toEqual([]);
  });

  it('gives up on a 5xx after the last retry, with GitHub message', async () => {
    const server = await start();
    server.failNext(10, 502, { message: 'Server Error' });
    const error = await failure(listAttestations(await clientFor(server, { retries: 3 }), 'acme', 'app', DIGEST));
    expect(error.status).toBe(502);
    expect(error.message).toContain('HTTP 502: Server Error');
    expect(server.requests).toHaveLength(4);
  });

  it('waits out a secondary rate limit (403 with Retry-After) as GitHub asks, and says so', async () => {
    const server = await start();
    const limits: RateLimitEvent[] = [];
    const lines: string[] = [];
    server.failNext(1, 403, { retryAfter: '60', message: 'You have exceeded a secondary rate limit.' });
    const client = await clientFor(server, { limits, lines });
    await uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE), webRoot(server));
    expect(limits).toEqual([
      expect.objectContaining({ kind: 'secondary', retryAfterMs: 60_000, method: 'POST', retrying: true }),
    ]);
    expect(lines.join('\n')).toMatch(/hit the secondary rate limit; waiting 60 s/);
    expect(server.requests).toHaveLength(2);
    expect(server.schemaErrors).toEqual([]);
  });

  it('waits for x-ratelimit-reset on an exhausted primary limit, and fails at once when that is too far off', async () => {
    const server = await start();
    const limits: RateLimitEvent[] = [];
    const nowSeconds = Math.floor(Date.now() / 1000);
    server.failNext(1, 403, { rateLimitReset: nowSeconds + 30, message: 'API rate limit exceeded for installation.' });
    await uploadAttestation(
      await clientFor(server, { limits }),
      'acme',
      'app',
      bundleFor(DIGEST, PROVENANCE),
      webRoot(server),
    );
    // Until the reset, plus a second for the header's one-second resolution.
    expect(limits).toHaveLength(1);
    expect(limits[0]).toMatchObject({ kind: 'primary', retrying: true });
    expect(limits[0]?.retryAfterMs).toBeGreaterThanOrEqual(29_000);
    expect(limits[0]?.retryAfterMs).toBeLessThanOrEqual(32_000);

    const reset = nowSeconds + 3600;
    server.failNext(1, 429, { rateLimitReset: reset, message: 'API rate limit exceeded for installation.' });
    const error = await failure(
      uploadAttestation(
        await clientFor(server, { limits }),
        'acme',
        'app',
        bundleFor(DIGEST, CYCLONEDX),
        webRoot(server),
      ),
    );
    expect(error.status).toBe(429);
    expect(error.message).toContain(`rate limited; it lifts at ${new Date(reset * 1000).toISOString()}`);
    expect(limits[1]).toMatchObject({ kind: 'primary', retrying: false });
    expect(server.requests).toHaveLength(3);
  });
});

describe('bundle_url', () => {
  it('downloads bundles from storage on another host without sending the token there', async () => {
    const server = await start({ bundles: 'url' });
    const client = await clientFor(server);
    const bundles = [bundleFor(DIGEST, PROVENANCE), bundleFor(DIGEST, CYCLONEDX)];
    for (const bundle of bundles) await uploadAttestation(client, 'acme', 'app', bundle, webRoot(server));

    const listed = await listAttestations(client, 'acme', 'app', DIGEST);
    expect(listed).toEqual(expect.arrayContaining(bundles));
    expect(listed).toHaveLength(2);
    expect(new URL(server.storageUrl).origin).not.toBe(new URL(server.url).origin);
    expect(server.storageRequests).toHaveLength(2);
    for (const request of server.storageRequests) {
      expect(request.headers.authorization).toBeUndefined();
      expect(JSON.stringify(request.headers)).not.toContain(TOKEN);
    }
    expect(server.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    expect(server.schemaErrors).toEqual([]);
  });

  it('uses the inline bundle when both are given, saving the download', async () => {
    const server = await start({ bundles: 'both' });
    const client = await clientFor(server);
    await uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE), webRoot(server));
    expect(await listAttestations(client, 'acme', 'app', DIGEST)).toHaveLength(1);
    expect(server.storageRequests).toEqual([]);
  });

  it('does not show the signed query of a storage URL in an error', async () => {
    const server = await start({ bundles: 'url' });
    const client = await clientFor(server, { retries: 0 });
    await uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE), webRoot(server));
    server.tamperNext((body) => {
      const listing = body as { attestations: { bundle_url: string }[] };
      for (const item of listing.attestations)
        item.bundle_url = item.bundle_url.replace(/sig=[^&]+/, 'sig=forged-secret');
      return listing;
    });
    const error = await failure(listAttestations(client, 'acme', 'app', DIGEST));
    expect(error.status).toBe(404);
    expect(error.message).toContain(`GET ${server.storageUrl}/attestations/1.json.sn failed: HTTP 404`);
    expect(error.message).not.toContain('forged-secret');
  });
});

describe('GitHub Enterprise Server', () => {
  it('talks to HOST/api/v3 from GITHUB_API_URL and links to the web root', async () => {
    const server = await start({ pathPrefix: '/api/v3' });
    expect(server.url).toMatch(/\/api\/v3$/);
    const context = githubContext({ GITHUB_API_URL: server.url });
    const origin = new URL(server.url).origin;
    expect(context.serverUrl).toBe(origin);
    const client = await createOctokit({ token: TOKEN, context, logger: collectingLogger([]), waitScale: 0.001 });

    const bundle = bundleFor(DIGEST, PROVENANCE);
    const stored = await uploadAttestation(client, 'acme', 'app', bundle, context.serverUrl);
    expect(stored.url).toBe(`${origin}/acme/app/attestations/1`);
    expect(await listAttestations(client, 'acme', 'app', DIGEST)).toEqual([bundle]);
    expect(server.requests.map((r) => r.path.split('?')[0])).toEqual([
      '/api/v3/repos/acme/app/attestations',
      `/api/v3/repos/acme/app/attestations/${encodeURIComponent(DIGEST)}`,
    ]);
    expect(server.schemaErrors).toEqual([]);
  });
});

describe('snappy', () => {
  it('decodes what the fake storage encodes, literals and copies alike', () => {
    const text = JSON.stringify({ repeated: 'abcdefgh'.repeat(500), bundle: bundleFor(DIGEST, PROVENANCE) });
    const input = new TextEncoder().encode(text);
    const encoded = snappyEncode(input);
    expect(encoded.length).toBeLessThan(input.length / 2);
    expect(new TextDecoder().decode(snappyDecode(encoded, 1 << 20))).toBe(text);
  });

  it('decodes a 4-byte-offset copy and an overlapping copy', () => {
    // Length 7; literal "ab"; copy-4 of length 5 at offset 2 (overlapping: repeats "ab").
    const encoded = Uint8Array.from([7, 1 << 2, 0x61, 0x62, 3 | (4 << 2), 2, 0, 0, 0]);
    expect(new TextDecoder().decode(snappyDecode(encoded, 100))).toBe('abababa');
  });

  it('rejects corrupt input and lengths over the limit', () => {
    expect(() => snappyDecode(Uint8Array.from([5, 1 << 2, 0x61]), 100)).toThrow(/truncated/);
    expect(() => snappyDecode(Uint8Array.from([4, 0, 0x61, 2 | (2 << 2), 9, 0]), 100)).toThrow(/offset/);
    expect(() => snappyDecode(Uint8Array.from([0xff, 0xff, 0xff, 0x7f]), 1000)).toThrow(/exceeds/);
  });
});
