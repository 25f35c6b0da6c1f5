import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator } from '../../../shared/oci/auth/authenticator.js';
import { explicitCredentials } from '../../../shared/oci/auth/credentials.js';
import { StoreError } from '../../../shared/oci/errors.js';
import { type RegistryRequest, RegistryTransport } from '../../../shared/oci/http.js';
import { loopbackServers } from '../../support/loopback.js';

// Faults a real registry cannot be made to produce on demand (503 with Retry-After, resets, redirects to
// another host) come from a loopback server that answers from a script.

const { serve, closeAll } = loopbackServers();
afterEach(closeAll);

function transport(options: { sleeps?: number[]; credentials?: ReturnType<typeof explicitCredentials> } = {}) {
  const sleeps = options.sleeps ?? [];
  return new RegistryTransport({
    authenticator: new Authenticator({
      credentials: options.credentials ?? { description: 'none', get: async () => undefined },
    }),
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 10_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });
}

const request = (host: string, path = '/v2/acme/api/manifests/v1'): RegistryRequest => ({
  method: 'GET',
  url: `http://${host}${path}`,
  registry: host,
  scopes: ['repository:acme/api:pull'],
  accept: [200],
  operation: { operation: 'read manifest v1', location: `${host}/acme/api` },
});

describe('retries', () => {
  it('honours Retry-After on 429 and 503, then succeeds', async () => {
    const statuses = [429, 503, 200];
    const host = await serve((_req, res) => {
      const status = statuses.shift()!;
      res.writeHead(status, status === 200 ? {} : { 'retry-after': status === 429 ? '2' : '0' });
      res.end('ok');
    });
    const sleeps: number[] = [];
    const response = await transport({ sleeps }).send(request(host));
    expect(response.status).toBe(200);
    expect(sleeps).toEqual([2000, 0]);
  });

  it('backs off exponentially without Retry-After and gives up with the registry error', async () => {
    let calls = 0;
    const host = await serve((_req, res) => {
      calls++;
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'storage backend down' }] }));
    });
    const sleeps: number[] = [];
    const error = await transport({ sleeps })
      .send(request(host))
      .catch((e: unknown) => e);
    expect(calls).toBe(4);
    // Full jitter with random() = 0.5: three quarters of each doubling ceiling.
    expect(sleeps).toEqual([75, 150, 300]);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toBe(
      `read manifest v1 at ${host}/acme/api failed: HTTP 500 UNKNOWN: storage backend down`,
    );
  });

  it('retries a connection reset and names the registry when it never answers', async () => {
    let calls = 0;
    const host = await serve((req) => {
      calls++;
      req.socket.destroy();
    });
    const error = (await transport()
      .send(request(host))
      .catch((e: unknown) => e)) as Error;
    expect(calls).toBe(4);
    expect(error.message).toMatch(
      new RegExp(`^read manifest v1 at ${host}/acme/api failed: could not reach ${host}: `),
    );
  });

  it('does not retry a client error', async () => {
    let calls = 0;
    const host = await serve((_req, res) => {
      calls++;
      res.writeHead(400);
      res.end('bad digest');
    });
    await expect(transport().send(request(host))).rejects.toThrow('HTTP 400: bad digest');
    expect(calls).toBe(1);
  });
});

describe('authorisation and redirects', () => {
  it('answers a Basic challenge and keeps credentials off a redirect to another host', async () => {
    const seenByStorage: (string | undefined)[] = [];
    const storage = await serve((req, res) => {
      seenByStorage.push(req.headers.authorization);
      res.end('blob bytes');
    });
    const registryAuth: (string | undefined)[] = [];
    const registry = await serve((req, res) => {
      registryAuth.push(req.headers.authorization);
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        res.end();
        return;
      }
      res.writeHead(307, { location: `http://${storage}/bucket/blob` });
      res.end();
    });
    const t = transport({ credentials: explicitCredentials(registry, 'me', 'pw') });
    const response = await t.send(request(registry, '/v2/acme/api/blobs/sha256:abc'));
    expect(await response.text()).toBe('blob bytes');
    expect(registryAuth).toEqual([undefined, `Basic ${Buffer.from('me:pw').toString('base64')}`]);
    expect(seenByStorage).toEqual([undefined]);
  });
});
