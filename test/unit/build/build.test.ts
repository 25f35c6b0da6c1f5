import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BuildRequest, buildImage } from '../../../shared/build/build.js';
import { buildNativeImage } from '../../../shared/build/native.js';
import { compareBuilds } from '../../../shared/build/reproducible.js';
import { parseTagRules } from '../../../shared/build/tags.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { StoreError } from '../../../shared/oci/errors.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { openReference } from '../../../shared/oci/open.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import { ForwardingStore } from '../../support/forwarding-store.js';

// The build orchestration on OCI layouts: what happens when a push fails halfway, and what a
// reproducibility check says when a rebuild differs.

const git = {
  eventName: 'push',
  ref: 'refs/tags/v2.0.0',
  sha: '0123456789abcdef0123456789abcdef01234567',
  commitTime: '2026-01-01T00:00:00Z',
  repositoryUrl: 'https://github.com/acme/api',
};

function app(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-app-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

function request(contextDir: string, layout: string): BuildRequest {
  return {
    image: { kind: 'layout', path: layout },
    contextDir,
    builder: 'native',
    platforms: ['linux/amd64'],
    tagRules: parseTagRules([]),
    latest: 'auto',
    buildArgs: [],
    secrets: [],
    cacheFrom: [],
    cacheTo: [],
    labels: {},
    verifyReproducible: false,
    native: { base: 'scratch', directories: [{ dir: contextDir, target: '/app' }], env: {}, ports: [] },
  };
}

const environment = (tempDir: string) => ({
  client: new RegistryClient(),
  logger: silentLogger,
  env: {},
  git,
  now: () => new Date('2026-11-22T00:00:00Z'),
  workspace: tempDir,
  tempDir,
});

describe('buildImage', () => {
  it('moves no tag when the manifest push fails after the blobs went up', async () => {
    const context = app({ 'server.js': 'serve()\n' });
    const temp = mkdtempSync(join(tmpdir(), 'slipway-build-'));
    const layoutDir = join(temp, 'out');
    let refused = 0;
    const error = await buildImage(request(context, layoutDir), {
      ...environment(temp),
      openTarget: async (ref, options) => {
        const opened = await openReference(ref, options);
        const store = new ForwardingStore(opened.store, opened.store.location);
        store.putManifest = async () => {
          refused++;
          throw new StoreError({ operation: 'push manifest', location: store.location }, 'HTTP 500');
        };
        return { ...opened, store };
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(refused).toBe(1);
    const layout = await OciLayoutStore.open(layoutDir, { create: false });
    expect(await layout.listTags()).toEqual([]);
  });

  it('tags a release as version, major.minor, sha and latest, each resolving to the digest', async () => {
    const context = app({ 'server.js': 'serve()\n' });
    const temp = mkdtempSync(join(tmpdir(), 'slipway-build-'));
    const record = await buildImage(request(context, join(temp, 'out')), environment(temp));
    expect(record.tags).toEqual(['2.0.0', '2.0', 'sha-0123456', 'latest']);
    const layout = await OciLayoutStore.open(join(temp, 'out'), { create: false });
    for (const tag of record.tags) expect((await layout.resolve(tag))?.digest).toBe(record.subject.digest);
    expect(record.created).toBe('2026-01-01T00:00:00Z');
    expect(record.labels['org.opencontainers.image.created']).toBe('2026-01-01T00:00:00Z');
  });
});

describe('compareBuilds', () => {
  async function nativeBuild(files: Record<string, string>, labels: Record<string, string> = {}) {
    const store = await OciLayoutStore.open(mkdtempSync(join(tmpdir(), 'slipway-cmp-')), { create: true });
    const result = await buildNativeImage({
      target: store,
      platforms: ['linux/amd64'],
      layers: [{ sources: [{ dir: app(files), target: '/app' }] }],
      config: { labels },
      created: '2026-01-01T00:00:00Z',
    });
    return { store, digest: result.descriptor.digest };
  }

  it('says nothing differs for the same inputs', async () => {
    const a = await nativeBuild({ 'a.txt': 'same' });
    const b = await nativeBuild({ 'a.txt': 'same' });
    expect(await compareBuilds(a, b)).toEqual({
      reproducible: true,
      first: a.digest,
      second: b.digest,
      differences: [],
    });
  });

  it('names the layer whose content differs, and the config that follows from it', async () => {
    const a = await nativeBuild({ 'a.txt': 'one' });
    const b = await nativeBuild({ 'a.txt': 'two' });
    const result = await compareBuilds(a, b);
    expect(result.reproducible).toBe(false);
    expect(result.differences).toHaveLength(2);
    expect(result.differences[0]).toMatch(/^layer 1 sha256:\w+ vs sha256:\w+ \(diff_id sha256:\w+ vs sha256:\w+\)$/);
    expect(result.differences[1]).toMatch(/^config sha256:\w+ vs sha256:\w+ \(differs in rootfs\)$/);
  });

  it('names the config fields that differ when the layers are the same', async () => {
    const a = await nativeBuild({ 'a.txt': 'same' }, { built: 'monday' });
    const b = await nativeBuild({ 'a.txt': 'same' }, { built: 'tuesday' });
    const result = await compareBuilds(a, b);
    expect(result.differences).toEqual([
      expect.stringMatching(/^config sha256:\w+ vs sha256:\w+ \(differs in config\.Labels\)$/),
    ]);
  });
});
