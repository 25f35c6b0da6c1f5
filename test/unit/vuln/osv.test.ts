import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OsvQuery } from '../../../shared/vuln/ecosystems.js';
import { OsvClient, OsvUnavailableError } from '../../../shared/vuln/osv.js';
import { type OsvServer, startOsvServer } from '../../support/osv-server.js';
import { ALL_RECORDS, record } from './fixtures.js';

// Every test talks HTTP to a loopback OSV; sleeps are recorded instead of waited, so retry timing is exact.

let server: OsvServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function client(url: string, sleeps: number[] = [], extra: { cacheDir?: string } = {}): OsvClient {
  return new OsvClient({
    baseUrl: url,
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1,
    ...extra,
  });
}

const lodash: OsvQuery = { package: { ecosystem: 'npm', name: 'lodash' }, version: '4.17.20' };
const openssl: OsvQuery = { package: { ecosystem: 'Debian:12', name: 'openssl' }, version: '3.0.11-1~deb12u1' };
const clean: OsvQuery = { package: { ecosystem: 'npm', name: 'left-pad' }, version: '1.3.0' };
const batches = (s: OsvServer) => s.requests.filter((r) => r.path === '/v1/querybatch');

describe('OsvClient.queryBatch', () => {
  it('answers in query order, deduplicated on the wire', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    const results = await client(server.url).queryBatch([lodash, clean, openssl, lodash]);
    expect(results.map((r) => r.map((v) => v.id))).toEqual([
      ['GHSA-29mw-wpgm-hmr9', 'GHSA-35jh-r3h4-6jhm', 'GHSA-f8fw-j4p4-m7c5'],
      [],
      ['DSA-5532-1'],
      ['GHSA-29mw-wpgm-hmr9', 'GHSA-35jh-r3h4-6jhm', 'GHSA-f8fw-j4p4-m7c5'],
    ]);
    expect((batches(server)[0]?.body as { queries: unknown[] } | undefined)?.queries).toHaveLength(3);
  });

  it('splits 1001 queries into two requests within the 1000 limit', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    const queries = Array.from(
      { length: 1000 },
      (_, i): OsvQuery => ({ package: { ecosystem: 'npm', name: `pkg-${i}` }, version: '1.0.0' }),
    );
    queries.push(lodash);
    const results = await client(server.url).queryBatch(queries);
    const sizes = batches(server).map((r) => (r.body as { queries: unknown[] }).queries.length);
    expect(sizes).toEqual([1000, 1]);
    expect(results).toHaveLength(1001);
    expect(results[1000]?.map((v) => v.id)).toContain('GHSA-35jh-r3h4-6jhm');
  });

  it('the loopback server refuses more than 1000 queries, like osv.dev', async () => {
    server = await startOsvServer();
    const response = await fetch(`${server.url}/v1/querybatch`, {
      method: 'POST',
      body: JSON.stringify({ queries: Array.from({ length: 1001 }, () => clean) }),
    });
    expect(response.status).toBe(400);
  });

  it('follows next_page_token for only the queries that have one', async () => {
    server = await startOsvServer({ records: ALL_RECORDS, pageSize: 1 });
    const results = await client(server.url).queryBatch([lodash, openssl, clean]);
    expect(results[0]?.map((v) => v.id)).toEqual(['GHSA-29mw-wpgm-hmr9', 'GHSA-35jh-r3h4-6jhm', 'GHSA-f8fw-j4p4-m7c5']);
    expect(results[1]?.map((v) => v.id)).toEqual(['DSA-5532-1']);
    const sent = batches(server).map(
      (r) => (r.body as { queries: { package: { name: string }; page_token?: string }[] }).queries,
    );
    expect(sent.map((q) => q.length)).toEqual([3, 1, 1]);
    expect(sent[1]?.[0]?.package.name).toBe('lodash');
    expect(sent[1]?.[0]?.page_token).toBeTruthy();
  });
});

describe('OsvClient.getVulnerability', () => {
  it('fetches a record once per modification', async () => {
    const dsa = record('DSA-5532-1');
    server = await startOsvServer({ records: [dsa] });
    const osv = client(server.url);
    await osv.getVulnerability(dsa.id, dsa.modified);
    const again = await osv.getVulnerability(dsa.id, dsa.modified);
    expect(again.id).toBe('DSA-5532-1');
    expect(server.requests).toHaveLength(1);

    const newer = { ...dsa, modified: '2025-02-01T00:00:00Z' };
    server.add(newer);
    expect((await osv.getVulnerability(dsa.id, newer.modified)).modified).toBe(newer.modified);
    expect(server.requests).toHaveLength(2);
  });

  it('keeps records in a cache directory across clients', async () => {
    const ghsa = record('GHSA-35jh-r3h4-6jhm');
    server = await startOsvServer({ records: [ghsa] });
    const cacheDir = await mkdtemp(join(tmpdir(), 'osv-cache-'));
    try {
      await client(server.url, [], { cacheDir }).getVulnerability(ghsa.id, ghsa.modified);
      const cached = await client(server.url, [], { cacheDir }).getVulnerability(ghsa.id, ghsa.modified);
      expect(cached.aliases).toEqual(['CVE-2021-23337']);
      expect(server.requests).toHaveLength(1);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('retries', () => {
  it('honours Retry-After on 503 and then succeeds', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    server.failNext(2, 503, '3');
    const sleeps: number[] = [];
    const results = await client(server.url, sleeps).queryBatch([openssl]);
    expect(results[0]?.map((v) => v.id)).toEqual(['DSA-5532-1']);
    expect(sleeps).toEqual([3000, 3000]);
    expect(batches(server)).toHaveLength(3);
  });

  it('backs off without Retry-After, and caps a long Retry-After', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    server.failNext(1, 429, '');
    const sleeps: number[] = [];
    await client(server.url, sleeps).queryBatch([openssl]);
    server.failNext(1, 503, '3600');
    await client(server.url, sleeps).queryBatch([openssl]);
    expect(sleeps).toEqual([100, 5000]);
  });

  it('gives up with OsvUnavailableError naming the URL and the last failure', async () => {
    server = await startOsvServer({ records: ALL_RECORDS });
    server.failNext(10, 503, '1');
    const error = await client(server.url)
      .queryBatch([openssl])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OsvUnavailableError);
    expect((error as OsvUnavailableError).message).toContain(`${server.url}/v1/querybatch`);
    expect((error as OsvUnavailableError).message).toContain('HTTP 503');
    expect(batches(server)).toHaveLength(3);
  });

  it('retries connection resets, then fails when the service stays down', async () => {
    const dsa = record('DSA-5532-1');
    server = await startOsvServer({ records: [dsa] });
    server.down();
    const sleeps: number[] = [];
    const error = await client(server.url, sleeps)
      .getVulnerability(dsa.id, dsa.modified)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OsvUnavailableError);
    expect((error as Error).message).toContain('/v1/vulns/DSA-5532-1');
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
  });

  it('does not retry a 400 and does not cache a failure', async () => {
    server = await startOsvServer({ records: [] });
    const osv = client(server.url);
    const error = await osv.getVulnerability('GHSA-none', '2024-01-01T00:00:00Z').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OsvUnavailableError);
    expect((error as OsvUnavailableError).status).toBe(404);
    expect(server.requests).toHaveLength(1);
    server.add({ id: 'GHSA-none', modified: '2024-01-01T00:00:00Z' });
    expect((await osv.getVulnerability('GHSA-none', '2024-01-01T00:00:00Z')).id).toBe('GHSA-none');
  });
});
