import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildahStorage, type RunBuildahOptions, runBuildah } from '../../../shared/build/buildah.js';
import type { ContainerfileBuild } from '../../../shared/build/builder.js';
import { SlipwayError } from '../../../shared/core/errors.js';
import type { Logger } from '../../../shared/core/logger.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { OCI_INDEX } from '../../../shared/oci/media-types.js';
import { exec } from '../../../shared/process/exec.js';
import { requireTool, skopeo, startRegistry, type TestRegistry } from '../../support/services.js';

// The real buildah (Debian's 1.28, vfs storage, chroot isolation) writing into OCI layouts, checked by
// skopeo as an independent reader, and pulling a base image from a real registry that needs credentials.

const EPOCH = 1700000000;

let registry: TestRegistry;
let work: string;
let storage: BuildahStorage;

beforeAll(async () => {
  requireTool('buildah', 'buildah');
  requireTool('skopeo', 'skopeo');
  registry = await startRegistry({ auth: true });
  work = await mkdtemp(join(tmpdir(), 'slipway-buildah-it-'));
  // Storage of its own, so the test neither depends on nor disturbs a shared default one.
  storage = { root: join(work, 'storage/root'), runroot: join(work, 'storage/run') };
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function recordingLogger(lines: string[] = []): Logger & { lines: string[] } {
  return {
    lines,
    debug: (m) => lines.push(m),
    info: (m) => lines.push(m),
    warning: (m) => lines.push(m),
    error: (m) => lines.push(m),
    group: (_title, body) => body(),
  };
}

/** A context directory with the given files and a Containerfile. */
async function context(name: string, containerfile: string, files: Record<string, string> = {}): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Containerfile'), containerfile);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), content);
  }
  return dir;
}

function build(dir: string, overrides: Partial<ContainerfileBuild> = {}): ContainerfileBuild {
  return {
    contextDir: dir,
    containerfile: join(dir, 'Containerfile'),
    platforms: ['linux/amd64'],
    buildArgs: [],
    secrets: [],
    labels: { 'org.opencontainers.image.title': 'buildah-test' },
    sourceDateEpoch: EPOCH,
    logger: recordingLogger(),
    env: process.env,
    ...overrides,
  };
}

function options(layout: string, extra: Partial<RunBuildahOptions> = {}): RunBuildahOptions {
  return { layoutDir: join(work, layout), storage, ...extra };
}

/** skopeo's view of the tag's manifest: the raw bytes, hashed here. */
function rawViaSkopeo(layoutDir: string, tag: string): { digest: string; json: Record<string, unknown> } {
  const raw = skopeo(['inspect', '--raw', `oci:${layoutDir}:${tag}`]);
  return { digest: digestOf(Buffer.from(raw)), json: JSON.parse(raw) as Record<string, unknown> };
}

async function configOf(layoutDir: string, tag: string): Promise<{ rootfs: { diff_ids: string[] }; created: string }> {
  const store = await OciLayoutStore.open(layoutDir, { create: false });
  const manifest = (await store.getManifest(tag)).manifest as { config: { digest: string } };
  const hex = manifest.config.digest.replace('sha256:', '');
  return JSON.parse(await readFile(join(layoutDir, 'blobs/sha256', hex), 'utf8'));
}

/** Images in the test's buildah storage other than base images pulled from the registry, which stay cached. */
function storedImages(): string {
  const listing = execFileSync(
    'buildah',
    ['--root', storage.root, '--runroot', storage.runroot, '--storage-driver', 'vfs', 'images', '-a', '--noheading'],
    { encoding: 'utf8' },
  );
  return listing
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(`${registry.host}/`))
    .join('\n');
}

describe('runBuildah', () => {
  it('builds FROM scratch into a layout, reproducibly, and leaves no local image behind', async () => {
    const dir = await context('scratch', 'FROM scratch\nCOPY app /app\nCOPY hello.txt /etc/hello.txt\n', {
      'app/main.txt': 'main\n',
      'app/lib/util.txt': 'util\n',
      'hello.txt': 'hello\n',
    });
    const first = await runBuildah(build(dir), options('layout-a', { layoutTag: 'one' }));
    expect(first.builder).toBe('buildah');
    expect(first.builderVersion).toMatch(/^\d+\.\d+/);
    expect(first.layoutTag).toBe('one');
    const seen = rawViaSkopeo(join(work, 'layout-a'), 'one');
    expect(seen.digest).toBe(first.digest);
    const config = await configOf(join(work, 'layout-a'), 'one');
    expect(config.created).toBe(new Date(EPOCH * 1000).toISOString().replace('.000Z', 'Z'));

    // Again, into another layout and under a generated tag: the same inputs give the same digest.
    const second = await runBuildah(build(dir), options('layout-b'));
    expect(second.layoutTag).toMatch(/^buildah-[0-9a-f]+$/);
    expect(second.digest).toBe(first.digest);
    expect(rawViaSkopeo(join(work, 'layout-b'), second.layoutTag).digest).toBe(first.digest);
    expect(storedImages()).toBe('');
  });

  it('builds FROM a base image pulled from a registry with credentials, keeping them out of argv', async () => {
    const baseDir = await context('base', 'FROM scratch\nCOPY base.txt /etc/base.txt\n', { 'base.txt': 'base\n' });
    const base = await runBuildah(build(baseDir), options('layout-base', { layoutTag: 'v1' }));
    const { username, password } = registry.credentials!;
    skopeo([
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      `${username}:${password}`,
      `oci:${join(work, 'layout-base')}:v1`,
      `docker://${registry.host}/base:v1`,
    ]);

    const dir = await context('derived', `FROM ${registry.host}/base:v1\nCOPY app.txt /app.txt\n`, {
      'app.txt': 'app\n',
    });
    const argvs: string[][] = [];
    const recordingExec: typeof exec = (program, args, execOptions) => {
      argvs.push([program, ...args]);
      return exec(program, args, execOptions);
    };
    const result = await runBuildah(
      build(dir),
      options('layout-derived', {
        layoutTag: 'app',
        insecureRegistries: [registry.host],
        auth: [{ registry: registry.host, username, password }],
        execFn: recordingExec,
      }),
    );
    expect(rawViaSkopeo(join(work, 'layout-derived'), 'app').digest).toBe(result.digest);
    const config = await configOf(join(work, 'layout-derived'), 'app');
    expect(config.rootfs.diff_ids).toHaveLength(2);
    const baseConfig = await configOf(join(work, 'layout-base'), 'v1');
    expect(config.rootfs.diff_ids[0]).toBe(baseConfig.rootfs.diff_ids[0]);
    expect(result.digest).not.toBe(base.digest);
    expect(argvs.flat().join('\n')).not.toContain(password);
    expect(argvs.some((argv) => argv.includes('--authfile') && argv.includes('--tls-verify=false'))).toBe(true);
  });

  it('builds two platforms into one OCI index', async () => {
    const dir = await context('multi', 'FROM scratch\nCOPY payload.txt /payload.txt\n', { 'payload.txt': 'both\n' });
    const result = await runBuildah(
      build(dir, { platforms: ['linux/amd64', 'linux/arm64'] }),
      options('layout-multi', { layoutTag: 'multi' }),
    );
    const seen = rawViaSkopeo(join(work, 'layout-multi'), 'multi');
    expect(seen.digest).toBe(result.digest);
    expect(seen.json.mediaType).toBe(OCI_INDEX);
    const manifests = seen.json.manifests as { digest: string; platform: { os: string; architecture: string } }[];
    expect(manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
    const store = await OciLayoutStore.open(join(work, 'layout-multi'), { create: false });
    for (const m of manifests) {
      const child = await store.getManifest(m.digest);
      const config = JSON.parse(
        await readFile(
          join(
            work,
            'layout-multi/blobs/sha256',
            (child.manifest as { config: { digest: string } }).config.digest.slice(7),
          ),
          'utf8',
        ),
      ) as { architecture: string };
      expect(config.architecture).toBe(m.platform.architecture);
    }
    // The list and both per-platform images are gone from buildah's storage.
    expect(storedImages()).toBe('');
  });

  it('passes an env secret to RUN without it reaching argv or the log', async () => {
    // A base with a shell: dash and the libraries it links, copied from the host.
    const shellDir = await context('shell', 'FROM scratch\nCOPY root /\n');
    for (const file of ['/bin/dash', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']) {
      const target = join(shellDir, 'root', file === '/bin/dash' ? '/bin/sh' : file);
      await mkdir(join(target, '..'), { recursive: true });
      await copyFile(file, target);
    }
    const shellBuild = build(shellDir);
    await runBuildah(shellBuild, options('layout-shell', { layoutTag: 'sh' }));
    skopeo([
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      `${registry.credentials!.username}:${registry.credentials!.password}`,
      `oci:${join(work, 'layout-shell')}:sh`,
      `docker://${registry.host}/shell:v1`,
    ]);
    const secret = 'tok-0123456789-secret';
    // The value to compare with arrives as a file secret, so the env secret's value appears nowhere legitimately.
    await writeFile(join(work, 'expected-secret'), secret, { mode: 0o600 });
    const dir = await context(
      'secret',
      `FROM ${registry.host}/shell:v1\n` +
        'RUN --mount=type=secret,id=token --mount=type=secret,id=expected ' +
        'read -r v < /run/secrets/token; read -r e < /run/secrets/expected; ' +
        'test -n "$v" && test "$v" = "$e" && echo secret-ok > /ok\n',
    );
    const logger = recordingLogger();
    const argvs: string[][] = [];
    const recordingExec: typeof exec = (program, args, execOptions) => {
      argvs.push([program, ...args]);
      return exec(program, args, execOptions);
    };
    await runBuildah(
      build(dir, {
        secrets: [
          { id: 'token', env: 'SLIPWAY_TEST_TOKEN' },
          { id: 'expected', src: join(work, 'expected-secret') },
        ],
        env: { ...process.env, SLIPWAY_TEST_TOKEN: secret },
        logger,
      }),
      options('layout-secret', {
        layoutTag: 's',
        insecureRegistries: [registry.host],
        auth: [{ registry: registry.host, ...registry.credentials! }],
        execFn: recordingExec,
      }),
    );
    const bud = argvs.find((argv) => argv.includes('bud'))!;
    expect(bud).toContain('id=token,env=SLIPWAY_TEST_TOKEN');
    expect(logger.lines.some((line) => line.includes('RUN --mount=type=secret'))).toBe(true);
    expect(argvs.flat().join('\n')).not.toContain(secret);
    expect(logger.lines.filter((line) => line.includes(secret))).toEqual([]);
  });

  it('fails naming the Containerfile when it is missing', async () => {
    const dir = await context('missing', 'FROM scratch\n');
    const error = await runBuildah(
      build(dir, { containerfile: join(dir, 'Containerfile.absent') }),
      options('layout-err'),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).toContain(join(dir, 'Containerfile.absent'));
  });

  it("fails naming the Containerfile and quoting buildah's output on a syntax error", async () => {
    const dir = await context('syntax', 'FRM scratch\nCOPY a /a\n', { a: 'a\n' });
    const error = await runBuildah(build(dir), options('layout-err')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    const message = (error as Error).message;
    expect(message).toContain(join(dir, 'Containerfile'));
    expect(message).toMatch(/no FROM statement/);
  });

  it('fails when a RUN step fails, quoting its output', async () => {
    const dir = await context('failing', 'FROM scratch\nRUN /bin/true\n');
    const error = await runBuildah(build(dir), options('layout-err')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).toMatch(/buildah could not build .*Containerfile \(exit code \d+\):\n/);
  });
});
