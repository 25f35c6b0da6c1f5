import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyImage } from '../../../shared/oci/copy.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { StoreError } from '../../../shared/oci/errors.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { encodeJson } from '../../../shared/oci/manifest.js';
import { OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from '../../../shared/oci/media-types.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import { StallError } from '../../../shared/oci/timeouts.js';
import { readAll } from '../../support/images.js';
import { loopbackServers } from '../../support/loopback.js';

// A registry that misbehaves on purpose, on loopback: oversized manifests, descriptors that lie about sizes,
// answers that never come and bodies that stop halfway. Each must end in one error naming the registry and
// the operation, soon, and without reading what it was sent into memory. Timeouts are a few hundred ms here.

const { serve, closeAll } = loopbackServers();
const dirs: string[] = [];

afterEach(async () => {
  await closeAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const timeouts = { connectTimeoutMs: 200, idleTimeoutMs: 300 };
const client = () =>
  new RegistryClient({ timeouts, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, sleep: async () => {} });

const MIB = 1024 * 1024;

/** Writes `total` bytes in 1 MiB pieces as fast as the socket takes them; counts what actually went out. */
function flood(res: ServerResponse, total: number, sent: { bytes: number }): void {
  const piece = Buffer.alloc(MIB, 0x7b);
  const next = () => {
    while (sent.bytes < total && !res.destroyed) {
      sent.bytes += piece.byteLength;
      if (!res.write(piece)) return void res.once('drain', next);
    }
    if (!res.destroyed) res.end();
  };
  res.on('error', () => undefined);
  next();
}

function smallManifest() {
  const config = encodeJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  const bytes = encodeJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.byteLength },
    layers: [],
  });
  return { config, bytes, digest: digestOf(bytes) };
}

describe('size caps', () => {
  it('refuses a 200 MiB manifest announced by Content-Length without reading it', async () => {
    const sent = { bytes: 0 };
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': String(200 * MIB) });
      flood(res, 200 * MIB, sent);
    });
    const error = await client()
      .repository(host, 'acme/api')
      .getManifest('v1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toBe(
      `read manifest v1 at ${host}/acme/api failed: the manifest is ${200 * MIB} bytes, over the 4 MiB limit registries hold manifests to`,
    );
  });

  it('cuts off a 200 MiB manifest sent without Content-Length at the 4 MiB cap', async () => {
    const sent = { bytes: 0 };
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST });
      flood(res, 200 * MIB, sent);
    });
    const error = await client()
      .repository(host, 'acme/api')
      .getManifest('v1')
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `read manifest v1 at ${host}/acme/api failed: the manifest is more than ${4 * MIB} bytes, over the 4 MiB limit registries hold manifests to`,
    );
    // The connection was dropped long before the registry got rid of 200 MiB (socket buffers hold a few MiB).
    await new Promise((done) => setTimeout(done, 50));
    expect(sent.bytes).toBeLessThan(64 * MIB);
  });

  it('caps a referrers list and a tag list as it caps manifests', async () => {
    const host = await serve((req, res) => {
      const type = req.url?.includes('/referrers/') ? OCI_INDEX : 'application/json';
      res.writeHead(200, { 'content-type': type });
      flood(res, 200 * MIB, { bytes: 0 });
    });
    const repo = client().repository(host, 'acme/api');
    const { digest } = smallManifest();
    await expect(repo.nativeReferrers(digest)).rejects.toThrow(
      `list referrers of ${digest} at ${host}/acme/api failed: the referrers list is more than ${4 * MIB} bytes`,
    );
    await expect(repo.listTags()).rejects.toThrow(
      `list tags at ${host}/acme/api failed: the tag list is more than ${4 * MIB} bytes`,
    );
  });

  it.each([
    { claimed: 200 * MIB, expected: `claims ${200 * MIB} bytes, over the 4 MiB limit for manifests`, fetched: false },
    { claimed: 300, expected: 'bytes arrived for', fetched: true },
  ])(
    'refuses an index whose descriptor says $claimed bytes for a small manifest',
    async ({ claimed, expected, fetched }) => {
      const child = smallManifest();
      const index = encodeJson({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: child.digest,
            size: claimed,
            platform: { os: 'linux', architecture: 'amd64' },
          },
        ],
      });
      const requests: string[] = [];
      const host = await serve((req, res) => {
        requests.push(req.url ?? '');
        const body = req.url?.endsWith(`/manifests/${child.digest}`) ? child.bytes : index;
        res.writeHead(200, {
          'content-type': body === index ? OCI_INDEX : OCI_MANIFEST,
          'docker-content-digest': digestOf(body),
        });
        res.end(body);
      });
      const dir = mkdtempSync(path.join(tmpdir(), 'slipway-hostile-'));
      dirs.push(dir);
      const to = await OciLayoutStore.open(dir, { create: true });
      const error = await copyImage({ from: client().repository(host, 'acme/api'), to, reference: 'v1' }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(`read manifest ${child.digest} at ${host}/acme/api failed: `);
      expect((error as Error).message).toContain(expected);
      expect(requests.some((url) => url.endsWith(`/manifests/${child.digest}`))).toBe(fetched);
    },
  );
});

describe('pagination', () => {
  it('does not follow a next-page link to another host, which would carry the credentials there', async () => {
    const elsewhere: string[] = [];
    const other = await serve((req, res) => {
      elsewhere.push(req.headers.authorization ?? 'none');
      res.end('{"tags":["stolen"]}');
    });
    const host = await serve((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        link: `<http://${other}/v2/acme/api/tags/list?last=a>; rel="next"`,
      });
      res.end('{"tags":["a"]}');
    });
    await expect(client().repository(host, 'acme/api').listTags()).rejects.toThrow(
      `list tags at ${host}/acme/api failed: the registry's next-page link http://${other}/v2/acme/api/tags/list?last=a leads to another host`,
    );
    expect(elsewhere).toEqual([]);
  });

  it('stops a registry that keeps sending next-page links', async () => {
    let pages = 0;
    const host = await serve((req, res) => {
      pages++;
      res.writeHead(200, { 'content-type': 'application/json', link: `<${req.url}&p=${pages}>; rel="next"` });
      res.end('{"tags":[]}');
    });
    await expect(client().repository(host, 'acme/api').listTags()).rejects.toThrow(
      `list tags at ${host}/acme/api failed: the registry sent more than 1000 pages (Link: rel="next" kept coming)`,
    );
    expect(pages).toBe(1000);
  });
});

describe('timeouts', () => {
  it('gives up on a registry that never sends headers, once, naming it and the operation', async () => {
    let requests = 0;
    const host = await serve(() => {
      requests++;
    });
    const error = await client()
      .repository(host, 'acme/api')
      .getManifest('v1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StallError);
    expect((error as Error).message).toBe(
      `registry ${host} sent no response within 0.5 s while reading manifest v1 of acme/api.`,
    );
    // A registry silent for the whole timeout is not asked again: that is how 5 × 300 s came about.
    expect(requests).toBe(1);
  });

  it('reports a blob stalled mid-body as a stall, not as "terminated"', async () => {
    const blob = new Uint8Array(1000).fill(7);
    const digest = digestOf(blob);
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(blob.byteLength) });
      res.write(blob.subarray(0, 100));
      // …and nothing more, with the connection left open.
    });
    const stream = await client().repository(host, 'acme/api').getBlob({ digest, size: blob.byteLength });
    const error = await readAll(stream).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StallError);
    expect((error as Error).message).toBe(
      `registry ${host} sent no data for 0.3 s while reading blob ${digest} of acme/api.`,
    );
  });

  it('reports a connection broken mid-body as such, not as "terminated"', async () => {
    const blob = new Uint8Array(1000).fill(9);
    const digest = digestOf(blob);
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(blob.byteLength) });
      res.write(blob.subarray(0, 100), () => res.socket?.destroy());
    });
    const stream = await client().repository(host, 'acme/api').getBlob({ digest, size: blob.byteLength });
    const error = await readAll(stream).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`^registry ${host} broke off while reading blob ${digest} of acme/api: `),
    );
  });

  it('does not count a slow consumer as a stalled registry', async () => {
    const blob = new Uint8Array(300_000).fill(3);
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(blob.byteLength) });
      res.end(blob);
    });
    const stream = await client()
      .repository(host, 'acme/api')
      .getBlob({ digest: digestOf(blob), size: blob.byteLength });
    let received = 0;
    for await (const chunk of stream) {
      received += chunk.byteLength;
      // Longer than the idle timeout, while the registry has long sent everything.
      if (received === chunk.byteLength) await new Promise((done) => setTimeout(done, 500));
    }
    expect(received).toBe(blob.byteLength);
  });

  it('reports an upload the registry stops taking', async () => {
    const host = await serve((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(404);
        return void res.end();
      }
      if (req.method === 'POST') {
        res.writeHead(202, { location: `/v2/acme/api/blobs/uploads/u1` });
        return void res.end();
      }
      // PUT: the body is never read and no answer comes.
      req.pause();
    });
    const big = new Uint8Array(32 * MIB).fill(1);
    const repo = new RegistryClient({ timeouts, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }).repository(
      host,
      'acme/api',
    );
    const error = await repo.putBlob(big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StallError);
    expect((error as Error).message).toBe(
      `registry ${host} took no data for 0.3 s while pushing blob ${digestOf(big)} of acme/api.`,
    );
  });
});
