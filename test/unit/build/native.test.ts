import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildNativeImage, type NativeBuildOptions } from '../../../shared/build/native.js';
import { GZIP_HEADER, layerFromDirectories } from '../../../shared/build/tar.js';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from '../../../shared/oci/media-types.js';
import type { BlobSource, ImageStore } from '../../../shared/oci/store.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../../../shared/oci/types.js';

// The native builder against OCI layouts in temp dirs: reproducibility is the point, so most tests build
// the same thing twice in different ways and compare digests.

const CREATED = '2026-01-02T03:04:05Z';
const EPOCH = Date.parse(CREATED) / 1000;

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'slipway-native-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function layout(name: string): Promise<OciLayoutStore> {
  return OciLayoutStore.open(join(work, name), { create: true });
}

async function readBlob(store: ImageStore, descriptor: Descriptor): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await store.getBlob(descriptor)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function readJson<T>(store: ImageStore, descriptor: Descriptor): Promise<T> {
  return JSON.parse((await readBlob(store, descriptor)).toString('utf8')) as T;
}

interface ParsedEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  uname: string;
  gname: string;
  linkname: string;
  content: Buffer;
  pax: Record<string, string>;
}

/** A reader for what the writer emits (ustar + PAX path/linkpath), independent of the writer's code. */
function parseTar(tar: Buffer): ParsedEntry[] {
  const entries: ParsedEntry[] = [];
  const text = (offset: number, length: number) => {
    const raw = tar.subarray(offset, offset + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end < 0 ? length : end).toString('utf8');
  };
  const num = (offset: number, length: number) => Number.parseInt(text(offset, length).trim() || '0', 8);
  let offset = 0;
  let pax: Record<string, string> = {};
  while (offset + 512 <= tar.length) {
    if (tar.subarray(offset, offset + 512).every((b) => b === 0)) break;
    const size = num(offset + 124, 12);
    const type = text(offset + 156, 1);
    const prefix = text(offset + 345, 155);
    const name = prefix ? `${prefix}/${text(offset, 100)}` : text(offset, 100);
    const content = tar.subarray(offset + 512, offset + 512 + size);
    const header = {
      mode: num(offset + 100, 8),
      uid: num(offset + 108, 8),
      gid: num(offset + 116, 8),
      mtime: num(offset + 136, 12),
      uname: text(offset + 265, 32),
      gname: text(offset + 297, 32),
      linkname: text(offset + 157, 100),
    };
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      let rest = content.toString('utf8');
      pax = {};
      while (rest.length > 0) {
        const space = rest.indexOf(' ');
        const length = Number(rest.slice(0, space));
        const record = Buffer.from(rest, 'utf8').subarray(0, length).toString('utf8');
        const [key, ...value] = record.slice(space + 1, -1).split('=');
        pax[key ?? ''] = value.join('=');
        rest = Buffer.from(rest, 'utf8').subarray(length).toString('utf8');
      }
      continue;
    }
    entries.push({
      ...header,
      name: pax.path ?? name,
      linkname: pax.linkpath ?? header.linkname,
      type,
      content: Buffer.from(content),
      pax,
    });
    pax = {};
  }
  return entries;
}

/** Writes the app tree; `reverse` creates files in the opposite order, so inode and readdir order differ. */
async function writeApp(dir: string, options: { reverse?: boolean; mtime?: number; tweak?: string } = {}) {
  const files: [string, string, number][] = [
    ['bin/server', '#!/bin/sh\necho serving\n', 0o775],
    ['app/package.json', '{"name":"app","version":"1.0.0"}\n', 0o664],
    ['app/index.js', `console.log("hello${options.tweak ?? ''}");\n`, 0o600],
    ['app/node_modules/left-pad/package.json', '{"name":"left-pad","version":"1.3.0"}\n', 0o644],
    ['app/node_modules/left-pad/index.js', 'module.exports = (s) => s;\n', 0o644],
  ];
  const ordered = options.reverse ? [...files].reverse() : files;
  for (const [name, content, mode] of ordered) {
    await mkdir(join(dir, name, '..'), { recursive: true, mode: options.reverse ? 0o700 : 0o775 });
    await writeFile(join(dir, name), content);
    await chmod(join(dir, name), mode);
  }
  await mkdir(join(dir, 'app/node_modules/.bin'), { recursive: true });
  await symlink('../left-pad/index.js', join(dir, 'app/node_modules/.bin/left-pad'));
  if (options.mtime !== undefined) {
    const t = options.mtime;
    for (const [name] of files) await utimes(join(dir, name), t, t);
    await utimes(join(dir, 'app'), t + 7, t + 7);
  }
}

function appBuild(dir: string, target: ImageStore, extra: Partial<NativeBuildOptions> = {}): NativeBuildOptions {
  return {
    target,
    platforms: ['linux/amd64'],
    created: CREATED,
    layers: [
      { sources: [{ dir: join(dir, 'bin'), target: '/usr/local/bin' }] },
      { sources: [{ dir: join(dir, 'app'), target: '/app' }] },
    ],
    config: { entrypoint: ['/usr/local/bin/server'], env: { NODE_ENV: 'production' }, workingDir: '/app' },
    ...extra,
  };
}

describe('reproducibility', () => {
  it('gives the same digest across runs, stores, mtimes and creation order', async () => {
    const a = join(work, 'src-a');
    const b = join(work, 'src-b');
    await writeApp(a, { mtime: 1_000_000 });
    await writeApp(b, { reverse: true, mtime: 1_700_000_000 });

    const first = await buildNativeImage(appBuild(a, await layout('out-1')));
    const again = await buildNativeImage(appBuild(a, await layout('out-1')));
    const other = await buildNativeImage(appBuild(b, await layout('out-2')));

    expect(again.descriptor).toEqual(first.descriptor);
    expect(other.descriptor).toEqual(first.descriptor);
    expect(other.configDigest).toBe(first.configDigest);
    expect(other.layers).toEqual(first.layers);
    expect(first.descriptor.mediaType).toBe(OCI_MANIFEST);
  });

  it('changes the digest when one byte of one file changes', async () => {
    const a = join(work, 'src-a');
    const b = join(work, 'src-b');
    await writeApp(a);
    await writeApp(b, { tweak: '!' });
    const first = await buildNativeImage(appBuild(a, await layout('out')));
    const second = await buildNativeImage(appBuild(b, await layout('out')));
    expect(second.descriptor.digest).not.toBe(first.descriptor.digest);
    // Only the app layer differs; the binary's layer is shared.
    expect(second.layers[0]).toEqual(first.layers[0]);
    expect(second.layers[1]?.diffId).not.toBe(first.layers[1]?.diffId);
  });

  it('changes the digest with SOURCE_DATE_EPOCH and created time', async () => {
    const a = join(work, 'src');
    await writeApp(a);
    const store = await layout('out');
    const first = await buildNativeImage(appBuild(a, store));
    const later = await buildNativeImage(appBuild(a, store, { created: '2026-01-02T03:04:06Z' }));
    expect(later.descriptor.digest).not.toBe(first.descriptor.digest);
    expect(later.layers[0]?.diffId).not.toBe(first.layers[0]?.diffId);
  });
});

describe('layer contents', () => {
  it('normalises metadata, keeps symlinks and emits the target parents first', async () => {
    const src = join(work, 'src');
    await writeApp(src, { mtime: 123_456 });
    const layer = await layerFromDirectories([{ dir: join(src, 'app'), target: '/srv/app' }], {
      sourceDateEpoch: EPOCH,
    });
    try {
      const { readFile } = await import('node:fs/promises');
      const gz = await readFile(layer.file);
      expect(digestOf(gz)).toBe(layer.descriptor.digest);
      expect(gz.subarray(0, 10)).toEqual(Buffer.from(GZIP_HEADER));
      const tar = gunzipSync(gz);
      expect(digestOf(tar)).toBe(layer.diffId);
      expect(tar.length).toBe(layer.uncompressedSize);
      const entries = parseTar(tar);
      expect(entries.map((e) => e.name)).toEqual([
        'srv/',
        'srv/app/',
        'srv/app/index.js',
        'srv/app/node_modules/',
        'srv/app/node_modules/.bin/',
        'srv/app/node_modules/.bin/left-pad',
        'srv/app/node_modules/left-pad/',
        'srv/app/node_modules/left-pad/index.js',
        'srv/app/node_modules/left-pad/package.json',
        'srv/app/package.json',
      ]);
      expect(layer.entries).toBe(entries.length);
      for (const entry of entries) {
        expect(entry).toMatchObject({ uid: 0, gid: 0, uname: '', gname: '', mtime: EPOCH, pax: {} });
      }
      const byName = new Map(entries.map((e) => [e.name, e]));
      expect(byName.get('srv/')).toMatchObject({ type: '5', mode: 0o755 });
      expect(byName.get('srv/app/index.js')).toMatchObject({ type: '0', mode: 0o644 });
      expect(byName.get('srv/app/index.js')?.content.toString()).toBe('console.log("hello");\n');
      expect(byName.get('srv/app/node_modules/.bin/left-pad')).toMatchObject({
        type: '2',
        linkname: '../left-pad/index.js',
      });
    } finally {
      await layer.dispose();
    }
  });

  it('makes executables 0755, or keeps modes and sets owners when asked', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    const modes = async (options: Parameters<typeof layerFromDirectories>[1]) => {
      const layer = await layerFromDirectories([{ dir: src, target: '/' }], options);
      const { readFile } = await import('node:fs/promises');
      const entries = parseTar(gunzipSync(await readFile(layer.file)));
      await layer.dispose();
      return new Map(entries.map((e) => [e.name, e]));
    };
    const normal = await modes({});
    expect(normal.get('bin/server')?.mode).toBe(0o755);
    expect(normal.get('app/package.json')?.mode).toBe(0o644);
    expect(normal.get('bin/server')?.mtime).toBe(0);
    const kept = await modes({ preserveModes: true, uid: 1000, gid: 1001 });
    expect(kept.get('bin/server')?.mode).toBe(0o775);
    expect(kept.get('app/index.js')?.mode).toBe(0o600);
    expect(kept.get('app/index.js')).toMatchObject({ uid: 1000, gid: 1001 });
  });

  it('writes long and non-ASCII names and link targets through PAX records', async () => {
    const src = join(work, 'src');
    const deep = Array.from({ length: 8 }, (_, i) => `directory-level-${i}-${'x'.repeat(20)}`).join('/');
    await mkdir(join(src, deep), { recursive: true });
    await writeFile(join(src, deep, 'file.txt'), 'deep\n');
    await writeFile(join(src, 'naïve.txt'), 'unicode\n');
    await symlink(`${deep}/file.txt`, join(src, 'link'));
    const layer = await layerFromDirectories([{ dir: src, target: '/data' }]);
    const { readFile } = await import('node:fs/promises');
    const entries = parseTar(gunzipSync(await readFile(layer.file)));
    await layer.dispose();
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get(`data/${deep}/file.txt`)?.content.toString()).toBe('deep\n');
    expect(byName.get('data/naïve.txt')?.content.toString()).toBe('unicode\n');
    expect(byName.get('data/link')?.linkname).toBe(`${deep}/file.txt`);
    for (const entry of entries)
      expect(Object.keys(entry.pax).every((k) => k === 'path' || k === 'linkpath')).toBe(true);
  });

  it('streams a large file without changing its bytes', async () => {
    const src = join(work, 'src');
    await mkdir(src);
    const big = Buffer.alloc(5 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    await writeFile(join(src, 'big.bin'), big);
    const layer = await layerFromDirectories([{ dir: src, target: '/' }]);
    const { readFile } = await import('node:fs/promises');
    const entries = parseTar(gunzipSync(await readFile(layer.file)));
    await layer.dispose();
    expect(entries).toHaveLength(1);
    expect(entries[0]?.content.equals(big)).toBe(true);
  });
});

/** Counts blob uploads, to show what a build sends. A wrapper, not a mock: every call reaches the layout. */
function counting(store: ImageStore): { store: ImageStore; uploads: string[] } {
  const uploads: string[] = [];
  const wrapped: ImageStore = {
    location: store.location,
    resolve: (r) => store.resolve(r),
    getManifest: (r) => store.getManifest(r),
    putManifest: (b, m, o) => store.putManifest(b, m, o),
    hasBlob: (d) => store.hasBlob(d),
    getBlob: (d) => store.getBlob(d),
    putBlob: async (source: BlobSource) => {
      const result = await store.putBlob(source);
      if (result.uploaded) uploads.push(result.digest);
      return result;
    },
    mountBlob: (d, f) => store.mountBlob(d, f),
    listTags: () => store.listTags(),
    nativeReferrers: (d) => store.nativeReferrers(d),
  };
  return { store: wrapped, uploads };
}

interface Config {
  created: string;
  architecture: string;
  os: string;
  variant?: string;
  config: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history: { created: string; created_by: string }[];
}

describe('building on a base', () => {
  it('inherits and merges config, reuses base layers and does not upload them again', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    const store = await layout('out');
    const base = await buildNativeImage({
      target: store,
      platforms: ['linux/amd64'],
      created: CREATED,
      layers: [{ sources: [{ dir: join(src, 'bin'), target: '/usr/local/bin' }], createdBy: 'base binaries' }],
      config: {
        env: { PATH: '/usr/local/bin:/usr/bin', NODE_ENV: 'development', TZ: 'UTC' },
        entrypoint: ['/usr/local/bin/server'],
        cmd: ['--port', '8080'],
        workingDir: '/',
        user: '65532',
        labels: { 'org.opencontainers.image.vendor': 'acme', tier: 'base' },
        exposedPorts: ['8080'],
      },
    });
    const baseManifest = (await store.getManifest(base.descriptor.digest)).manifest as ImageManifest;

    const { store: target, uploads } = counting(store);
    const app = await buildNativeImage({
      target,
      base: { store, reference: base.descriptor.digest, name: 'example.test/base:1' },
      platforms: ['linux/amd64'],
      created: CREATED,
      layers: [{ sources: [{ dir: join(src, 'app'), target: '/app' }] }],
      config: {
        env: { NODE_ENV: 'production', APP: 'demo' },
        workingDir: '/app',
        labels: { tier: 'app' },
        exposedPorts: ['9090/udp'],
      },
    });
    const manifest = (await store.getManifest(app.descriptor.digest)).manifest as ImageManifest;
    expect(manifest.mediaType).toBe(OCI_MANIFEST);
    expect(manifest.config.mediaType).toBe(OCI_CONFIG);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([OCI_LAYER_TAR_GZIP, OCI_LAYER_TAR_GZIP]);
    expect(manifest.layers[0]).toEqual(baseManifest.layers[0]);
    expect(manifest.layers[1]).toEqual(app.layers[0]?.descriptor);
    expect(manifest.annotations).toEqual({
      'org.opencontainers.image.base.digest': base.descriptor.digest,
      'org.opencontainers.image.base.name': 'example.test/base:1',
    });
    // Only the new layer, the config and nothing of the base went up.
    expect(uploads).toEqual([app.layers[0]?.descriptor.digest, app.configDigest]);

    const config = await readJson<Config>(store, manifest.config);
    expect(config).toMatchObject({ created: CREATED, architecture: 'amd64', os: 'linux' });
    expect(config.config).toEqual({
      User: '65532',
      ExposedPorts: { '8080/tcp': {}, '9090/udp': {} },
      Env: ['PATH=/usr/local/bin:/usr/bin', 'NODE_ENV=production', 'TZ=UTC', 'APP=demo'],
      Entrypoint: ['/usr/local/bin/server'],
      Cmd: ['--port', '8080'],
      WorkingDir: '/app',
      Labels: { 'org.opencontainers.image.vendor': 'acme', tier: 'app' },
    });
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [base.layers[0]?.diffId, app.layers[0]?.diffId] });
    expect(config.history).toEqual([
      { created: CREATED, created_by: 'base binaries' },
      { created: CREATED, created_by: 'slipway native: COPY to /app' },
    ]);
  });

  it('drops the base CMD when the entrypoint changes, as a Dockerfile does', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    const store = await layout('out');
    const base = await buildNativeImage({
      ...appBuild(src, store),
      config: { entrypoint: ['/bin/old'], cmd: ['serve'] },
    });
    const app = await buildNativeImage({
      ...appBuild(src, store),
      base: { store, reference: base.descriptor.digest },
      layers: [{ sources: [{ dir: join(src, 'app'), target: '/app2' }] }],
      config: { entrypoint: ['/bin/new'] },
    });
    const manifest = (await store.getManifest(app.descriptor.digest)).manifest as ImageManifest;
    const config = await readJson<Config>(store, manifest.config);
    expect(config.config.Entrypoint).toEqual(['/bin/new']);
    expect(config.config.Cmd).toBeUndefined();
  });

  it('copies base layers into another store', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    const baseStore = await layout('base');
    const base = await buildNativeImage({
      ...appBuild(src, baseStore),
      layers: [{ sources: [{ dir: join(src, 'bin'), target: '/bin' }] }],
    });
    const target = await layout('app');
    const app = await buildNativeImage({
      ...appBuild(src, target),
      base: { store: baseStore, reference: base.descriptor.digest },
      layers: [{ sources: [{ dir: join(src, 'app'), target: '/app' }] }],
    });
    const manifest = (await target.getManifest(app.descriptor.digest)).manifest as ImageManifest;
    for (const layer of manifest.layers) expect(await target.hasBlob(layer.digest)).toBe(true);
    expect(manifest.layers[0]?.digest).toBe(base.layers[0]?.descriptor.digest);
  });
});

describe('several platforms', () => {
  it('writes one manifest per platform on its own base, and an index', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    await mkdir(join(work, 'arm'), { recursive: true });
    await writeFile(join(work, 'arm', 'arch'), 'arm64\n');
    await mkdir(join(work, 'amd'), { recursive: true });
    await writeFile(join(work, 'amd', 'arch'), 'amd64\n');
    const store = await layout('out');
    // A two-platform base whose layers differ per platform, assembled from two single-platform builds.
    const amdBase = await buildNativeImage({
      ...appBuild(src, store),
      layers: [{ sources: [{ dir: join(work, 'amd'), target: '/etc/arch' }] }],
    });
    const armBase = await buildNativeImage({
      ...appBuild(src, store),
      platforms: ['linux/arm64/v8'],
      layers: [{ sources: [{ dir: join(work, 'arm'), target: '/etc/arch' }] }],
    });
    const baseIndex: ImageIndex = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { ...amdBase.descriptor, platform: { os: 'linux', architecture: 'amd64' } },
        { ...armBase.descriptor, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    };
    const { descriptor: baseRef } = await store.putManifest(Buffer.from(JSON.stringify(baseIndex)), OCI_INDEX);

    const build = await buildNativeImage({
      ...appBuild(src, store),
      base: { store, reference: baseRef.digest },
      platforms: ['linux/amd64', 'linux/arm64'],
      indexAnnotations: { 'org.opencontainers.image.created': CREATED },
    });
    expect(build.descriptor.mediaType).toBe(OCI_INDEX);
    expect(build.index).toEqual(build.descriptor);
    const index = (await store.getManifest(build.descriptor.digest)).manifest as ImageIndex;
    expect(index.annotations).toEqual({ 'org.opencontainers.image.created': CREATED });
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    const [amd, arm] = await Promise.all(
      index.manifests.map(async (m) => (await store.getManifest(m.digest)).manifest as ImageManifest),
    );
    expect(amd?.layers[0]?.digest).toBe(amdBase.layers[0]?.descriptor.digest);
    expect(arm?.layers[0]?.digest).toBe(armBase.layers[0]?.descriptor.digest);
    expect(amd?.layers.slice(1)).toEqual(arm?.layers.slice(1));
    expect(amd?.annotations?.['org.opencontainers.image.base.digest']).toBe(amdBase.descriptor.digest);
    const armConfig = await readJson<Config>(store, arm?.config as Descriptor);
    expect(armConfig).toMatchObject({ architecture: 'arm64', os: 'linux' });
    expect(armConfig.variant).toBeUndefined();
    expect(armConfig.rootfs.diff_ids).toHaveLength(3);

    const again = await buildNativeImage({
      ...appBuild(src, await layout('again')),
      base: { store, reference: baseRef.digest },
      platforms: ['linux/amd64', 'linux/arm64'],
      indexAnnotations: { 'org.opencontainers.image.created': CREATED },
    });
    expect(again.descriptor).toEqual(build.descriptor);
  });

  it('builds a multi-platform image from scratch', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    const store = await layout('out');
    const build = await buildNativeImage({ ...appBuild(src, store), platforms: ['linux/amd64', 'linux/arm/v7'] });
    expect(build.platforms.map((p) => p.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    const config = await readJson<Config>(store, build.platforms[1]?.config as Descriptor);
    expect(config).toMatchObject({ architecture: 'arm', os: 'linux', variant: 'v7' });
  });
});

describe('bad input', () => {
  it('names a missing directory', async () => {
    const store = await layout('out');
    const missing = join(work, 'nope');
    const build = buildNativeImage({
      target: store,
      platforms: ['linux/amd64'],
      created: CREATED,
      layers: [{ sources: [{ dir: missing, target: '/app' }] }],
    });
    await expect(build).rejects.toBeInstanceOf(InvalidValueError);
    await expect(build).rejects.toThrow(missing);
  });

  it('names an invalid platform string', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    const build = buildNativeImage({ ...appBuild(src, await layout('out')), platforms: ['linux'] });
    await expect(build).rejects.toBeInstanceOf(InvalidValueError);
    await expect(build).rejects.toThrow(/platform "linux"/);
  });

  it('names a base without the requested platform, and what it offers', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    const store = await layout('out');
    const base = await buildNativeImage(appBuild(src, store));
    const build = buildNativeImage({
      ...appBuild(src, store),
      base: { store, reference: base.descriptor.digest },
      platforms: ['linux/arm64'],
    });
    await expect(build).rejects.toBeInstanceOf(SlipwayError);
    await expect(build).rejects.toThrow(/is linux\/amd64, not linux\/arm64/);

    const indexed = await buildNativeImage({ ...appBuild(src, store), alwaysIndex: true });
    await expect(
      buildNativeImage({
        ...appBuild(src, store),
        base: { store, reference: indexed.descriptor.digest },
        platforms: ['linux/s390x'],
      }),
    ).rejects.toThrow(/has no linux\/s390x image; it offers linux\/amd64/);
  });

  it('refuses a target path that leaves the root, and a bad created time', async () => {
    const src = join(work, 'src');
    await writeApp(src);
    const store = await layout('out');
    await expect(
      buildNativeImage({ ...appBuild(src, store), layers: [{ sources: [{ dir: src, target: '/app/../../etc' }] }] }),
    ).rejects.toThrow(/layer target path/);
    await expect(buildNativeImage({ ...appBuild(src, store), created: 'yesterday' })).rejects.toThrow(/created time/);
  });
});
