import { afterEach, describe, expect, it } from 'vitest';
import { listAttestations, snappyDecode, uploadAttestation } from '../../../shared/attest/github-storage.js';
import type { BundleJson } from '../../../shared/attest/types.js';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';
import type { Logger } from '../../../shared/core/logger.js';
import { GitHubApiError, GitHubClient, nextLink, serverUrlFor } from '../../../shared/github/client.js';
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

function clientFor(
  server: GitHubServer,
  options: { token?: string; sleeps?: number[]; attempts?: number; now?: number; lines?: string[] } = {},
) {
  const sleeps = options.sleeps ?? [];
  return new GitHubClient({
    token: options.token ?? TOKEN,
    baseUrl: server.url,
    retry: { attempts: options.attempts ?? 4, baseDelayMs: 100, maxDelayMs: 10_000, maxRateLimitWaitMs: 120_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    now: () => options.now ?? Date.now(),
    logger: collectingLogger(options.lines ?? []),
  });
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
    const client = clientFor(server);
    const provenance = bundleFor(DIGEST, PROVENANCE);
    const sbom = bundleFor(DIGEST, CYCLONEDX);

    const first = await uploadAttestation(client, 'acme', 'app', provenance);
    const second = await uploadAttestation(client, 'acme', 'app', sbom);
    await uploadAttestation(client, 'acme', 'app', bundleFor(OTHER_DIGEST, PROVENANCE));
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
    expect(post?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(post?.headers['x-github-api-version']).toBe('2022-11-28');
    expect(post?.headers.accept).toBe('application/vnd.github+json');
    const list = server.requests.find((r) => r.method === 'GET' && r.path.includes('predicate_type'));
    expect(list?.path).toBe(
      `/repos/acme/app/attestations/${DIGEST}?per_page=100&predicate_type=${encodeURIComponent(PROVENANCE)}`,
    );
  });

  it('follows Link rel="next" through every page', async () => {
    const server = await start({ pageSize: 2 });
    const client = clientFor(server);
    const bundles = Array.from({ length: 5 }, (_, i) => bundleFor(DIGEST, PROVENANCE, `n${i}`));
    for (const bundle of bundles) await uploadAttestation(client, 'acme', 'app', bundle);

    const listed = await listAttestations(client, 'acme', 'app', DIGEST);
    expect(listed).toHaveLength(5);
    expect(listed).toEqual(expect.arrayContaining(bundles));
    expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(3);
    expect(server.requests.at(-1)?.path).toContain('after=');
    expect(server.schemaErrors).toEqual([]);
  });

  it('rejects a digest that is not sha256:<hex> before asking GitHub', async () => {
    const server = await start();
    await expect(listAttestations(clientFor(server), 'acme', 'app', 'sha256:XYZ')).rejects.toThrow(InvalidValueError);
    await expect(uploadAttestation(clientFor(server), 'acme', 'a/b', bundleFor(DIGEST, PROVENANCE))).rejects.toThrow(
      InvalidValueError,
    );
    expect(server.requests).toEqual([]);
  });
});

describe('the fake checks itself against the OpenAPI description', () => {
  it('catches a response that does not match (an id that is not an integer)', async () => {
    const server = await start();
    server.tamperNext(() => ({ id: 'one' }));
    const error = await failure(
      uploadAttestation(clientFor(server, { attempts: 1 }), 'acme', 'app', bundleFor(DIGEST, PROVENANCE)),
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
    await failure(listAttestations(clientFor(server, { attempts: 1 }), 'acme', 'app', DIGEST));
    expect(server.schemaErrors[0]).toMatch(/\/attestations\/0\/bundle must be object/);
    expect(server.schemaErrors[0]).toMatch(/\/attestations\/0\/repository_id must be integer/);
  });

  it('catches a request that does not match: a body without a bundle object, an undeclared query parameter', async () => {
    const server = await start();
    const client = clientFor(server, { attempts: 1 });
    const bad = await failure(client.request('POST', '/repos/acme/app/attestations', { body: { bundle: 'text' } }));
    expect(bad.message).toContain('request does not match the OpenAPI description');
    await failure(client.request('POST', '/repos/acme/app/attestations', { body: { attestation: {} } }));
    await failure(client.request('GET', `/repos/acme/app/attestations/${DIGEST}`, { query: { page: 2 } }));
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
      uploadAttestation(clientFor(server), 'acme', 'private-app', bundleFor(DIGEST, PROVENANCE)),
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
    const error = await failure(
      uploadAttestation(clientFor(server, { token: wrong, lines }), 'acme', 'app', bundleFor(DIGEST, PROVENANCE)),
    );
    expect(error.status).toBe(401);
    expect(error.message).toContain('HTTP 401: Bad credentials');
    expect(error.message).toContain('token was not accepted');
    expect(error.message).not.toContain(wrong);
    expect(lines.join('\n')).not.toContain(wrong);
  });

  it('names GitHub and the path when the service cannot be reached', async () => {
    const server = await start();
    const url = server.url;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const sleeps: number[] = [];
    const client = new GitHubClient({
      token: TOKEN,
      baseUrl: url,
      retry: { attempts: 2 },
      sleep: async (ms) => void sleeps.push(ms),
    });
    const error = await failure(listAttestations(client, 'acme', 'app', DIGEST));
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/GitHub API GET \/repos\/acme\/app\/attestations\/sha256:a+ could not be reached/);
    expect(sleeps).toHaveLength(1);
  });
});

describe('retries', () => {
  it('waits as Retry-After says on 503 and 429, then succeeds', async () => {
    const server = await start();
    const sleeps: number[] = [];
    const client = clientFor(server, { sleeps });
    server.failNext(2, 503, { retryAfter: '7' });
    const stored = await uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE));
    expect(stored.id).toBe(1);
    server.failNext(1, 429, { retryAfter: '3', message: 'Too many requests' });
    expect(await listAttestations(client, 'acme', 'app', DIGEST)).toHaveLength(1);
    expect(sleeps).toEqual([7000, 7000, 3000]);
    expect(server.requests).toHaveLength(5);
    // The retried POST stored the bundle once: the failures happened before it was read.
    expect(server.attestations).toHaveLength(1);
    expect(server.schemaErrors).toEqual([]);
  });

  it('backs off exponentially on a 5xx without Retry-After, and gives up after the last attempt', async () => {
    const server = await start();
    const sleeps: number[] = [];
    server.failNext(10, 502, { message: 'Server Error' });
    const error = await failure(listAttestations(clientFor(server, { sleeps }), 'acme', 'app', DIGEST));
    expect(error.status).toBe(502);
    expect(error.message).toContain('HTTP 502: Server Error');
    // base 100 ms doubling, with jitter fixed at the midpoint of [ceiling/2, ceiling].
    expect(sleeps).toEqual([75, 150, 300]);
    expect(server.requests).toHaveLength(4);
  });

  it('waits out a secondary rate limit (403 with Retry-After)', async () => {
    const server = await start();
    const sleeps: number[] = [];
    server.failNext(1, 403, { retryAfter: '60', message: 'You have exceeded a secondary rate limit.' });
    await uploadAttestation(clientFor(server, { sleeps }), 'acme', 'app', bundleFor(DIGEST, PROVENANCE));
    expect(sleeps).toEqual([60_000]);
    expect(server.schemaErrors).toEqual([]);
  });

  it('waits for x-ratelimit-reset on an exhausted primary limit, and fails at once when that is too far off', async () => {
    const server = await start();
    const now = 1_800_000_000_000;
    const sleeps: number[] = [];
    server.failNext(1, 403, { rateLimitReset: now / 1000 + 30, message: 'API rate limit exceeded for installation.' });
    await uploadAttestation(clientFor(server, { sleeps, now }), 'acme', 'app', bundleFor(DIGEST, PROVENANCE));
    // 30 s to the reset, plus a second for the header's one-second resolution.
    expect(sleeps).toEqual([31_000]);

    server.failNext(1, 429, {
      rateLimitReset: now / 1000 + 3600,
      message: 'API rate limit exceeded for installation.',
    });
    const error = await failure(
      uploadAttestation(clientFor(server, { sleeps, now }), 'acme', 'app', bundleFor(DIGEST, CYCLONEDX)),
    );
    expect(error.message).toContain('rate limited; it lifts at 2027-01-15T09:00:00.000Z');
    expect(sleeps).toEqual([31_000]);
  });
});

describe('bundle_url', () => {
  it('downloads bundles from storage on another host without sending the token there', async () => {
    const server = await start({ bundles: 'url' });
    const client = clientFor(server);
    const bundles = [bundleFor(DIGEST, PROVENANCE), bundleFor(DIGEST, CYCLONEDX)];
    for (const bundle of bundles) await uploadAttestation(client, 'acme', 'app', bundle);

    const listed = await listAttestations(client, 'acme', 'app', DIGEST);
    expect(listed).toEqual(expect.arrayContaining(bundles));
    expect(listed).toHaveLength(2);
    expect(new URL(server.storageUrl).origin).not.toBe(new URL(server.url).origin);
    expect(server.storageRequests).toHaveLength(2);
    for (const request of server.storageRequests) {
      expect(request.headers.authorization).toBeUndefined();
      expect(JSON.stringify(request.headers)).not.toContain(TOKEN);
    }
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(server.schemaErrors).toEqual([]);
  });

  it('uses the inline bundle when both are given, saving the download', async () => {
    const server = await start({ bundles: 'both' });
    const client = clientFor(server);
    await uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE));
    expect(await listAttestations(client, 'acme', 'app', DIGEST)).toHaveLength(1);
    expect(server.storageRequests).toEqual([]);
  });

  it('does not show the signed query of a storage URL in an error', async () => {
    const server = await start({ bundles: 'url' });
    const client = clientFor(server, { attempts: 1 });
    await uploadAttestation(client, 'acme', 'app', bundleFor(DIGEST, PROVENANCE));
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
    const client = new GitHubClient({
      token: TOKEN,
      env: { GITHUB_API_URL: server.url, GITHUB_SERVER_URL: undefined },
    });
    expect(client.baseUrl).toBe(server.url);
    const origin = new URL(server.url).origin;
    expect(client.serverUrl).toBe(origin);

    const bundle = bundleFor(DIGEST, PROVENANCE);
    const stored = await uploadAttestation(client, 'acme', 'app', bundle);
    expect(stored.url).toBe(`${origin}/acme/app/attestations/1`);
    expect(await listAttestations(client, 'acme', 'app', DIGEST)).toEqual([bundle]);
    expect(server.requests.map((r) => r.path.split('?')[0])).toEqual([
      '/api/v3/repos/acme/app/attestations',
      `/api/v3/repos/acme/app/attestations/${DIGEST}`,
    ]);
    expect(server.schemaErrors).toEqual([]);
  });

  it('prefers GITHUB_SERVER_URL for links when the API URL comes from the environment too', () => {
    const client = new GitHubClient({
      env: { GITHUB_API_URL: 'https://ghes.example.com/api/v3', GITHUB_SERVER_URL: 'https://ghes.example.com/' },
    });
    expect(client.baseUrl).toBe('https://ghes.example.com/api/v3');
    expect(client.serverUrl).toBe('https://ghes.example.com');
    expect(new GitHubClient({ env: {} }).baseUrl).toBe('https://api.github.com');
  });

  it('derives the web root from the API root', () => {
    expect(serverUrlFor('https://api.github.com')).toBe('https://github.com');
    expect(serverUrlFor('https://api.octocorp.ghe.com')).toBe('https://octocorp.ghe.com');
    expect(serverUrlFor('https://ghes.example.com/api/v3/')).toBe('https://ghes.example.com');
  });
});

describe('client details', () => {
  it('reads rel="next" from a Link header with several relations', () => {
    const header =
      '<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last"';
    expect(nextLink(header, 'https://api.github.com/x?page=2')).toBe('https://api.github.com/x?page=3');
    expect(nextLink('<https://api.github.com/x?page=1>; rel="prev"', 'https://api.github.com/x')).toBeUndefined();
    expect(nextLink(null, 'https://api.github.com/x')).toBeUndefined();
  });

  it('refuses to send the token to a host other than the API', async () => {
    const client = new GitHubClient({ token: TOKEN, baseUrl: 'https://api.github.com' });
    await expect(client.request('GET', 'https://evil.example.com/repos')).rejects.toThrow(/Refusing to send/);
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
