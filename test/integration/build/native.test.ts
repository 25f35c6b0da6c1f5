import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNativeImage, type NativeBuildOptions } from '../../../shared/build/native.js';
import { digestHex, digestOf } from '../../../shared/oci/digest.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { OCI_INDEX } from '../../../shared/oci/media-types.js';
import { RegistryClient } from '../../../shared/oci/registry.js';
import type { ImageStore } from '../../../shared/oci/store.js';
import type { ImageIndex, ImageManifest } from '../../../shared/oci/types.js';
import { requireTool, skopeo, startRegistry, type TestRegistry } from '../../support/services.js';

// The native builder pushing to a real registry (distribution 2.8), checked by independent tools:
// skopeo recomputes every digest when it copies, and GNU tar unpacks the layers into a rootfs that
// must be exactly the input tree.

const CREATED = '2026-03-04T05:06:07Z';
const LONG = Array.from({ length: 6 }, (_, i) => `nested-package-${i}-${'n'.repeat(24)}`).join('/node_modules/');

let registry: TestRegistry;
let work: string;
let src: string;

beforeAll(async () => {
  requireTool('tar', 'tar');
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'slipway-native-it-'));
  src = join(work, 'src');
  // A "static binary" (any executable will do) and a Node app with a node_modules tree.
  await mkdir(join(src, 'bin'), { recursive: true });
  const binary = Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(3000, 0xab), Buffer.from('#!/bin/true\n')]);
  await writeFile(join(src, 'bin/server'), binary);
  await chmod(join(src, 'bin/server'), 0o700);
  const app = join(src, 'app');
  const files: Record<string, string> = {
    'package.json': '{"name":"demo","version":"1.0.0","main":"index.js"}\n',
    'index.js': 'require("left-pad");\nconsole.log("up");\n',
    'node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.3.0"}\n',
    'node_modules/left-pad/index.js': 'module.exports = (s, n) => String(s).padStart(n);\n',
    'node_modules/@scope/util/package.json': '{"name":"@scope/util","version":"2.0.0"}\n',
    'node_modules/@scope/util/lib/main.js': 'export const x = 1;\n',
    [`node_modules/${LONG}/package.json`]: '{"name":"deep","version":"0.0.1"}\n',
    'node_modules/ünïcode/package.json': '{"name":"unicode","version":"0.0.1"}\n',
  };
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(app, name, '..'), { recursive: true });
    await writeFile(join(app, name), content);
  }
  await mkdir(join(app, 'node_modules/.bin'), { recursive: true });
  await symlink('../left-pad/index.js', join(app, 'node_modules/.bin/left-pad'));
  await symlink(`../${LONG}/package.json`, join(app, 'node_modules/.bin/deep'));
  await mkdir(join(app, 'empty-dir'));
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function appBuild(target: ImageStore, extra: Partial<NativeBuildOptions> = {}): NativeBuildOptions {
  return {
    target,
    platforms: ['linux/amd64'],
    created: CREATED,
    layers: [
      { sources: [{ dir: join(src, 'bin'), target: '/usr/local/bin' }] },
      { sources: [{ dir: join(src, 'app'), target: '/app' }] },
    ],
    config: { entrypoint: ['/usr/local/bin/server'], workingDir: '/app', env: { NODE_ENV: 'production' } },
    ...extra,
  };
}

/** Every path under `root` with what identifies it: file content, symlink target, or "dir". */
async function describeTree(root: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  const visit = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      const key = relative(root, full);
      const info = await lstat(full);
      if (info.isSymbolicLink()) tree.set(key, `-> ${await readlink(full)}`);
      else if (info.isDirectory()) {
        tree.set(key, 'dir');
        await visit(full);
      } else tree.set(key, `file ${digestOf(await readFile(full))}`);
    }
  };
  await visit(root);
  return tree;
}

/** Copies with skopeo into an OCI layout, then unpacks the manifest's layers in order with GNU tar. */
async function unpackWithTools(reference: string, name: string): Promise<{ rootfs: string; manifest: ImageManifest }> {
  const dir = join(work, `${name}-oci`);
  skopeo(['copy', '--src-tls-verify=false', `docker://${reference}`, `oci:${dir}:x`]);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'x');
  if (!entry) throw new Error('skopeo wrote no manifest tagged x');
  const manifest = JSON.parse(
    await readFile(join(dir, 'blobs', 'sha256', digestHex(entry.digest)), 'utf8'),
  ) as ImageManifest;
  const rootfs = join(work, `${name}-rootfs`);
  await mkdir(rootfs);
  for (const layer of manifest.layers) {
    execFileSync('tar', ['-xzpf', join(dir, 'blobs', 'sha256', digestHex(layer.digest)), '-C', rootfs], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  return { rootfs, manifest };
}

describe('native build pushed to a registry', () => {
  it('has the digest skopeo sees, survives a verifying copy and unpacks to exactly the input tree', async () => {
    const repo = new RegistryClient().repository(registry.host, 'acme/native');
    const build = await buildNativeImage(appBuild(repo));
    const reference = `${registry.host}/acme/native@${build.descriptor.digest}`;

    const inspected = JSON.parse(skopeo(['inspect', '--no-tags', '--tls-verify=false', `docker://${reference}`])) as {
      Digest: string;
      Architecture: string;
      Os: string;
      Env: string[];
      Layers: string[];
    };
    expect(inspected.Digest).toBe(build.descriptor.digest);
    expect(inspected).toMatchObject({ Architecture: 'amd64', Os: 'linux', Env: ['NODE_ENV=production'] });
    expect(inspected.Layers).toEqual(build.layers.map((l) => l.descriptor.digest));

    const { rootfs, manifest } = await unpackWithTools(reference, 'single');
    expect(manifest.layers).toEqual(build.layers.map((l) => l.descriptor));

    const expected = new Map<string, string>([
      ['usr', 'dir'],
      ['usr/local', 'dir'],
      ['usr/local/bin', 'dir'],
      ['app', 'dir'],
    ]);
    for (const [path, what] of await describeTree(join(src, 'bin'))) expected.set(`usr/local/bin/${path}`, what);
    for (const [path, what] of await describeTree(join(src, 'app'))) expected.set(`app/${path}`, what);
    const actual = await describeTree(rootfs);
    expect(new Map([...actual].sort())).toEqual(new Map([...expected].sort()));
    expect(actual.get('app/node_modules/.bin/left-pad')).toBe('-> ../left-pad/index.js');
    expect(actual.get(`app/node_modules/${LONG}/package.json`)).toMatch(/^file /);

    // Modes as normalised: the 0700 binary is 0755, plain files 0644.
    expect((await lstat(join(rootfs, 'usr/local/bin/server'))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(rootfs, 'app/index.js'))).mode & 0o7777).toBe(0o644);
  });

  it('gives the same digest in a registry as in an OCI layout', async () => {
    const repo = new RegistryClient().repository(registry.host, 'acme/native-again');
    const pushed = await buildNativeImage(appBuild(repo));
    const local = await buildNativeImage(appBuild(await OciLayoutStore.open(join(work, 'layout'), { create: true })));
    expect(pushed.descriptor).toEqual(local.descriptor);
  });

  it('builds a two-platform index on a base from another repository', async () => {
    const client = new RegistryClient();
    const baseRepo = client.repository(registry.host, 'acme/base');
    const appRepo = client.repository(registry.host, 'acme/app');
    const base = await buildNativeImage({
      target: baseRepo,
      platforms: ['linux/amd64', 'linux/arm64'],
      created: CREATED,
      layers: [{ sources: [{ dir: join(src, 'bin'), target: '/opt/base' }] }],
      config: { env: { PATH: '/usr/local/bin:/usr/bin:/bin', NODE_ENV: 'development' }, user: '65532' },
    });
    const build = await buildNativeImage(
      appBuild(appRepo, {
        base: { store: baseRepo, reference: base.descriptor.digest },
        platforms: ['linux/amd64', 'linux/arm64'],
        layers: [{ sources: [{ dir: join(src, 'app'), target: '/app' }] }],
      }),
    );
    expect(build.descriptor.mediaType).toBe(OCI_INDEX);

    const raw = skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/acme/app@${build.descriptor.digest}`,
    ]);
    expect(digestOf(new TextEncoder().encode(raw))).toBe(build.descriptor.digest);
    const arm = JSON.parse(
      skopeo([
        'inspect',
        '--no-tags',
        '--tls-verify=false',
        '--override-arch',
        'arm64',
        `docker://${registry.host}/acme/app@${build.descriptor.digest}`,
      ]),
    ) as { Digest: string; Architecture: string; Env: string[]; Layers: string[] };
    // skopeo reports the digest it was asked for (the index) and describes the arm64 image below it.
    expect(arm.Digest).toBe(build.descriptor.digest);
    expect(arm.Architecture).toBe('arm64');
    expect(arm.Env).toEqual(['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production']);
    expect(arm.Layers).toEqual(build.platforms[1]?.layers.map((l) => l.digest));
    const armManifest = JSON.parse(
      skopeo([
        'inspect',
        '--no-tags',
        '--tls-verify=false',
        `docker://${registry.host}/acme/app@${build.platforms[1]?.descriptor.digest}`,
      ]),
    ) as { Digest: string; Architecture: string };
    expect(armManifest).toMatchObject({ Digest: build.platforms[1]?.descriptor.digest, Architecture: 'arm64' });

    // skopeo --all recomputes every manifest and blob digest of both platforms.
    skopeo([
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${registry.host}/acme/app@${build.descriptor.digest}`,
      `oci:${join(work, 'multi-oci')}:all`,
    ]);
    const { rootfs } = await unpackWithTools(
      `${registry.host}/acme/app@${build.platforms[0]?.descriptor.digest}`,
      'amd',
    );
    const actual = await describeTree(rootfs);
    expect(actual.get('opt/base/server')).toBe(`file ${digestOf(await readFile(join(src, 'bin/server')))}`);
    expect(actual.get('app/node_modules/.bin/deep')).toBe(`-> ../${LONG}/package.json`);
  });
});
