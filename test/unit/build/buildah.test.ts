import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildahArgs, defaultBuildahStorage, runBuildah } from '../../../shared/build/buildah.js';
import type { ContainerfileBuild } from '../../../shared/build/builder.js';
import { SlipwayError } from '../../../shared/core/errors.js';
import { silentLogger } from '../../../shared/core/logger.js';
import type { exec } from '../../../shared/process/exec.js';

// buildahArgs is pure, so its argv is checked exactly; runBuildah's checks before buildah runs are
// exercised with an exec that records calls instead of running anything.

const STORAGE = { root: '/st/root', runroot: '/st/run' };
const GLOBAL = ['--root', '/st/root', '--runroot', '/st/run', '--storage-driver', 'vfs'];
const COMMON = ['--format', 'oci', '--identity-label=false'];

function build(overrides: Partial<ContainerfileBuild> = {}): ContainerfileBuild {
  return {
    contextDir: '/src',
    containerfile: '/src/Containerfile',
    platforms: [],
    buildArgs: [],
    secrets: [],
    labels: {},
    sourceDateEpoch: 1700000000,
    logger: silentLogger,
    env: {},
    ...overrides,
  };
}

/** The argv between the fixed prefix and the platform/name/context suffix. */
function middle(args: string[]): string[] {
  const start = args.indexOf('--timestamp') + 2;
  const end = args.indexOf('--layers=false');
  return args.slice(start, end);
}

describe('buildahArgs', () => {
  it('puts global storage options first, then bud, the file, the timestamp and the context last', () => {
    expect(buildahArgs(build(), STORAGE, 'localhost/x:1')).toEqual([
      ...GLOBAL,
      'bud',
      '--isolation',
      'chroot',
      '--file',
      '/src/Containerfile',
      ...COMMON,
      '--timestamp',
      '1700000000',
      '--layers=false',
      '--tag',
      'localhost/x:1',
      '/src',
    ]);
  });

  const cases: { name: string; build: Partial<ContainerfileBuild>; middle: string[] }[] = [
    { name: 'no extras', build: {}, middle: [] },
    {
      name: 'build args in order, a newline kept inside one element',
      build: {
        buildArgs: [
          ['B', 'two'],
          ['CERT', '-----BEGIN-----\nabc\n-----END-----\n'],
          ['A', 'x=y'],
        ],
      },
      middle: [
        '--build-arg',
        'B=two',
        '--build-arg',
        'CERT=-----BEGIN-----\nabc\n-----END-----\n',
        '--build-arg',
        'A=x=y',
      ],
    },
    {
      name: 'labels sorted by key',
      build: { labels: { 'org.opencontainers.image.version': '1.0', 'b.label': 'two words', 'a.label': '' } },
      middle: [
        '--label',
        'a.label=',
        '--label',
        'b.label=two words',
        '--label',
        'org.opencontainers.image.version=1.0',
      ],
    },
    {
      name: 'file and env secrets by reference only',
      build: {
        secrets: [
          { id: 'npmrc', src: '/home/me/.npmrc' },
          { id: 'token', env: 'GH_TOKEN' },
        ],
      },
      middle: ['--secret', 'id=npmrc,src=/home/me/.npmrc', '--secret', 'id=token,env=GH_TOKEN'],
    },
    { name: 'target', build: { target: 'runtime' }, middle: ['--target', 'runtime'] },
  ];
  it.each(cases)('$name', ({ build: overrides, middle: expected }) => {
    expect(middle(buildahArgs(build(overrides), STORAGE, 'localhost/x:1'))).toEqual(expected);
  });

  it('passes the timestamp from sourceDateEpoch', () => {
    const args = buildahArgs(build({ sourceDateEpoch: 0 }), STORAGE, 'n');
    expect(args[args.indexOf('--timestamp') + 1]).toBe('0');
  });

  const platformCases: { platforms: string[]; tail: string[] }[] = [
    { platforms: [], tail: ['--tag', 'localhost/x:1', '/src'] },
    { platforms: ['linux/arm64'], tail: ['--platform', 'linux/arm64', '--tag', 'localhost/x:1', '/src'] },
    { platforms: ['linux/arm/v7'], tail: ['--platform', 'linux/arm/v7', '--tag', 'localhost/x:1', '/src'] },
    {
      platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
      tail: ['--platform', 'linux/amd64,linux/arm64,linux/arm/v7', '--manifest', 'localhost/x:1', '/src'],
    },
  ];
  it.each(platformCases)('platforms $platforms', ({ platforms, tail }) => {
    const args = buildahArgs(build({ platforms }), STORAGE, 'localhost/x:1');
    expect(args.slice(args.indexOf('--layers=false') + 1)).toEqual(tail);
    expect(args.includes('--tag') && args.includes('--manifest')).toBe(false);
  });

  it('adds registry access flags only when asked, never credentials', () => {
    const plain = buildahArgs(build(), STORAGE, 'n');
    expect(plain.some((a) => a.startsWith('--tls-verify') || a === '--authfile' || a === '--creds')).toBe(false);
    const access = buildahArgs(build(), STORAGE, 'n', { tlsVerify: false, authFile: '/tmp/a/auth.json' });
    expect(access).toContain('--tls-verify=false');
    expect(access[access.indexOf('--authfile') + 1]).toBe('/tmp/a/auth.json');
    expect(access).not.toContain('--creds');
  });

  it('never puts a secret value in argv', () => {
    const value = 'ghp_s3cretValue-that-must-not-leak';
    const args = buildahArgs(
      build({ secrets: [{ id: 'token', env: 'GH_TOKEN' }], env: { GH_TOKEN: value } }),
      STORAGE,
      'n',
    );
    expect(args.join('\n')).not.toContain(value);
  });

  it.each([
    { secret: { id: 'a,b', src: '/x' }, message: /its id must be/ },
    { secret: { id: 'x', src: '/a,b' }, message: /its src must be/ },
    { secret: { id: 'x' }, message: /exactly one of src/ },
    { secret: { id: 'x', src: '/f', env: 'E' }, message: /exactly one of src/ },
  ])('refuses secret $secret', ({ secret, message }) => {
    expect(() => buildahArgs(build({ secrets: [secret] }), STORAGE, 'n')).toThrow(message);
  });
});

describe('defaultBuildahStorage', () => {
  it('lives under RUNNER_TEMP when set', () => {
    expect(defaultBuildahStorage({ RUNNER_TEMP: '/runner/tmp' })).toEqual({
      root: '/runner/tmp/slipway-buildah/root',
      runroot: '/runner/tmp/slipway-buildah/runroot',
    });
  });
  it('falls back to the system temp dir', () => {
    expect(defaultBuildahStorage({}).root).toBe(join(tmpdir(), 'slipway-buildah', 'root'));
  });
});

describe('runBuildah before buildah runs', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'slipway-buildah-unit-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('says which package to install when buildah is not on PATH', async () => {
    const error = await runBuildah(build({ env: { PATH: '' } }), { layoutDir: join(work, 'layout') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).toBe(
      'builder buildah needs Debian/Ubuntu package buildah; install it or choose builder: native',
    );
  });

  it('names a missing Containerfile without running buildah', async () => {
    const calls: string[][] = [];
    const execFn = (async (_program: string, args: readonly string[]) => {
      calls.push([...args]);
      return { code: 0, stdout: '', stderr: '' };
    }) as typeof exec;
    const error = await runBuildah(build({ contextDir: work, containerfile: join(work, 'Nope') }), {
      layoutDir: join(work, 'layout'),
      execFn,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as Error).message).toContain(join(work, 'Nope'));
    expect(calls).toEqual([]);
  });

  it('refuses an env secret whose variable is not set', async () => {
    await writeFile(join(work, 'Containerfile'), 'FROM scratch\n');
    const execFn = (async () => ({ code: 0, stdout: '', stderr: '' })) as typeof exec;
    const error = await runBuildah(
      build({ contextDir: work, containerfile: join(work, 'Containerfile'), secrets: [{ id: 't', env: 'NOPE' }] }),
      { layoutDir: join(work, 'layout'), execFn },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/environment variable NOPE is not set/);
  });
});
