import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyImage } from '../../../shared/oci/copy.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { NotFoundError, StoreError } from '../../../shared/oci/errors.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { encodeJson } from '../../../shared/oci/manifest.js';
import { EMPTY_JSON, OCI_MANIFEST } from '../../../shared/oci/media-types.js';
import { listReferrers, pushReferrer } from '../../../shared/oci/referrers.js';
import { RegistryClient, resolveLocation } from '../../../shared/oci/registry.js';
import type { Descriptor } from '../../../shared/oci/types.js';
import { makeImage, pushImage, readAll } from '../../support/images.js';
import {
  type PaginatingRegistry,
  type PaginatingRegistryOptions,
  startPaginatingRegistry,
} from '../../support/paginating-registry.js';

// The parts of the distribution protocol docker-registry 2.8 never exercises: paginated referrers and tag
// lists (Link: rel="next"), path-relative upload Locations, and a referrers endpoint that answers 400.

const registries: PaginatingRegistry[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function registry(options: PaginatingRegistryOptions = {}) {
  const started = await startPaginatingRegistry(options);
  registries.push(started);
  const client = new RegistryClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  return { ...started, client, repo: client.repository(started.host, 'acme/api') };
}

/** An artifact manifest referring to `subject`, distinct per `n`. */
function referrer(subject: Descriptor, n: number): Uint8Array {
  return encodeJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: 'application/vnd.test.signature',
    config: EMPTY_JSON.descriptor,
    layers: [],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { n: String(n) },
  });
}

describe('referrers pagination', () => {
  it.each([{ absoluteLinks: false }, { absoluteLinks: true }])(
    'finds referrers spread over several pages (absolute links: $absoluteLinks)',
    async ({ absoluteLinks }) => {
      const { repo, requests } = await registry({ pageSize: 2, absoluteLinks });
      const image = makeImage();
      await pushImage(repo, image, ['v1']);
      await repo.putBlob(EMPTY_JSON.bytes);
      const pushed: string[] = [];
      for (let n = 0; n < 5; n++) {
        const result = await pushReferrer(repo, referrer(image.top.descriptor, n), OCI_MANIFEST);
        expect(result.viaFallback).toBe(false);
        pushed.push(result.descriptor.digest);
      }
      const found = await listReferrers(repo, image.top.descriptor.digest);
      expect(found.map((d) => d.digest).sort()).toEqual(pushed.sort());
      expect(found.every((d) => d.artifactType === 'application/vnd.test.signature')).toBe(true);
      // Three pages of two, two and one.
      expect(requests.filter((r) => r.startsWith(`GET /v2/acme/api/referrers/`))).toHaveLength(3);
    },
  );

  it('copies every referrer on every page', async () => {
    const { repo } = await registry({ pageSize: 2 });
    const image = makeImage();
    await pushImage(repo, image, ['v1']);
    await repo.putBlob(EMPTY_JSON.bytes);
    for (let n = 0; n < 5; n++) await pushReferrer(repo, referrer(image.top.descriptor, n), OCI_MANIFEST);
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-pages-'));
    dirs.push(dir);
    const to = await OciLayoutStore.open(dir, { create: true });
    const report = await copyImage({ from: repo, to, reference: 'v1', referrers: true });
    expect(report.manifests).toBe(1 + 5);
    expect(await listReferrers(to, image.top.descriptor.digest)).toHaveLength(5);
  });
});

describe('tag list pagination', () => {
  it.each([{ absoluteLinks: false }, { absoluteLinks: true }])(
    'lists every tag across pages (absolute links: $absoluteLinks)',
    async ({ absoluteLinks }) => {
      const { repo, requests } = await registry({ pageSize: 2, absoluteLinks });
      const image = makeImage();
      const tags = ['a', 'b', 'c', 'd', 'e'];
      await pushImage(repo, image, tags);
      expect(await repo.listTags()).toEqual(tags);
      expect(requests.filter((r) => r.startsWith('GET /v2/acme/api/tags/list'))).toEqual([
        'GET /v2/acme/api/tags/list?n=1000',
        'GET /v2/acme/api/tags/list?n=2&last=b',
        'GET /v2/acme/api/tags/list?n=2&last=d',
      ]);
    },
  );

  it('says a repository that does not exist does not exist, rather than listing no tags', async () => {
    const { host, client } = await registry();
    const error = await client
      .repository(host, 'acme/absent')
      .listTags()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(
      `list tags at ${host}/acme/absent failed: repository acme/absent does not exist on ${host} (HTTP 404 NAME_UNKNOWN)`,
    );
  });
});

describe('upload Location', () => {
  it.each<[string, string, string]>([
    [
      'session-1?state=0',
      'http://r.test/v2/acme/api/blobs/uploads/',
      'http://r.test/v2/acme/api/blobs/uploads/session-1?state=0',
    ],
    [
      'uploads/abc?x=1',
      'http://r.test/v2/acme/api/blobs/uploads/',
      'http://r.test/v2/acme/api/blobs/uploads/uploads/abc?x=1',
    ],
    [
      'session-1?state=1',
      'http://r.test/v2/acme/api/blobs/uploads/session-1?state=0',
      'http://r.test/v2/acme/api/blobs/uploads/session-1?state=1',
    ],
    ['../x', 'http://r.test/v2/acme/api/blobs/uploads/', 'http://r.test/v2/acme/api/blobs/x'],
    [
      '/v2/acme/api/blobs/uploads/u1',
      'http://r.test/v2/acme/api/blobs/uploads/',
      'http://r.test/v2/acme/api/blobs/uploads/u1',
    ],
    [
      '?state=2',
      'http://r.test/v2/acme/api/blobs/uploads/u1?state=1',
      'http://r.test/v2/acme/api/blobs/uploads/u1?state=2',
    ],
    ['https://s3.test/b/u1?sig=x', 'http://r.test/v2/acme/api/blobs/uploads/', 'https://s3.test/b/u1?sig=x'],
    ['//cdn.test/u1', 'https://r.test/v2/acme/api/blobs/uploads/', 'https://cdn.test/u1'],
  ])('%s from %s → %s', (location, requestUrl, expected) => {
    expect(resolveLocation(location, requestUrl)).toBe(expected);
  });

  it.each(['relative', 'path', 'url'] as const)(
    'pushes monolithic and chunked blobs through %s Locations',
    async (uploadLocation) => {
      const { host, requests } = await registry({ uploadLocation });
      const client = new RegistryClient({ chunkSize: 1024 });
      const repo = client.repository(host, 'acme/api');
      const small = new TextEncoder().encode('small blob');
      const large = new Uint8Array(3000).map((_, i) => i % 251);
      await repo.putBlob(small);
      await repo.putBlob({
        stream: (async function* () {
          yield large;
        })(),
        digest: digestOf(large),
        size: large.byteLength,
      });
      expect(await readAll(await repo.getBlob({ digest: digestOf(large), size: 3000 }))).toEqual(large);
      expect(await readAll(await repo.getBlob({ digest: digestOf(small), size: small.byteLength }))).toEqual(small);
      // Every PATCH and PUT went to the session the registry named, never to a path it did not.
      for (const request of requests.filter((r) => /^(PATCH|PUT) .*uploads/.test(r))) {
        expect(request).toMatch(/^(PATCH|PUT) \/v2\/acme\/api\/blobs\/uploads\/session-[0-9a-f-]+\?state=\d/);
      }
      expect(requests.filter((r) => r.startsWith('PATCH'))).toHaveLength(3);
    },
  );
});

describe('referrers endpoint errors', () => {
  it('reports a 400 and asks again next time instead of caching "no referrers API"', async () => {
    const { repo, requests, client } = await registry({ referrersStatus: 400 });
    const image = makeImage();
    await pushImage(repo, image, ['v1']);
    const subject = image.top.descriptor.digest;
    for (let i = 0; i < 2; i++) {
      const error = await listReferrers(repo, subject).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toMatch(
        new RegExp(`^list referrers of ${subject} at ${repo.location} failed: HTTP 400 UNSUPPORTED`),
      );
    }
    expect(client.referrersSupport.get(repo.location)).toBeUndefined();
    expect(requests.filter((r) => r.includes('/referrers/'))).toHaveLength(2);
    // The fallback tag was never consulted: a fault is not "no API".
    expect(requests.some((r) => r.includes('/manifests/sha256-'))).toBe(false);
  });

  it('takes a 404 as "no referrers API", uses the fallback tag, and remembers', async () => {
    const { repo, requests, client } = await registry({ referrersStatus: 404 });
    const image = makeImage();
    await pushImage(repo, image, ['v1']);
    const subject = image.top.descriptor.digest;
    expect(await listReferrers(repo, subject)).toEqual([]);
    expect(await listReferrers(repo, subject)).toEqual([]);
    expect(client.referrersSupport.get(repo.location)).toBe(false);
    expect(requests.filter((r) => r.includes('/referrers/'))).toHaveLength(1);
    expect(requests.filter((r) => r.includes('/manifests/sha256-'))).toHaveLength(2);
  });
});
