import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, test } from 'vitest';
import type { ContainerfileBuild } from '../../../shared/build/builder.js';
import {
  type BuildxOptions,
  buildxArgs,
  buildxEnv,
  type ExecFn,
  parseBuildxMetadata,
  runBuildx,
} from '../../../shared/build/buildx.js';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { ExecError, type ExecOptions, type ExecResult } from '../../../shared/process/exec.js';

// buildx cannot run here (no docker), so the argv builder is tested as a table, the metadata parser on
// real-shaped files, and runBuildx with an injected exec that stands in for docker.

const FIXTURES = new URL('../../fixtures/import/', import.meta.url);
const EPOCH = 1752635229;
const MANIFEST = 'sha256:96870000fa13f07efa9a6d3c502d18e3f4dd142224210d071a0ad4c1c1fe4623';
const CONFIG = 'sha256:b172cc36b104181d2710032095439cec146f4ec0bbfe185b9240dae3a7aa87a2';
const INDEX = 'sha256:d2d17e6fb0b2633657117f3f4b38fb0c0b450d77984e562f81c056e25cf310cc';
const SECRET_VALUE = 'npm_s3cr3t-V4lue/with=signs';

function makeBuild(overrides: Partial<ContainerfileBuild> = {}): ContainerfileBuild {
  return {
    contextDir: '/work/app',
    containerfile: '/work/app/Containerfile',
    platforms: [],
    buildArgs: [],
    secrets: [],
    labels: {},
    sourceDateEpoch: EPOCH,
    logger: silentLogger,
    env: { PATH: '/usr/bin', NPM_TOKEN: SECRET_VALUE },
    ...overrides,
  };
}

const OPTIONS: BuildxOptions = {
  tags: ['ghcr.io/acme/api:1.4.0'],
  metadataFile: '/tmp/meta.json',
  cacheFrom: [],
  cacheTo: [],
  push: true,
};

/** The argv of a minimal build, so each table row only states what its inputs add. */
function baseArgs(middle: string[], tail: string[] = []): string[] {
  return [
    'buildx',
    'build',
    '--file',
    '/work/app/Containerfile',
    ...middle,
    '--tag',
    'ghcr.io/acme/api:1.4.0',
    ...tail,
    '--metadata-file',
    '/tmp/meta.json',
    '--output',
    'type=registry,rewrite-timestamp=true',
    '/work/app',
  ];
}

const EPOCH_ARG = ['--build-arg', `SOURCE_DATE_EPOCH=${EPOCH}`];

describe('buildxArgs', () => {
  test.each<{ name: string; build: Partial<ContainerfileBuild>; options?: Partial<BuildxOptions>; expected: string[] }>(
    [
      { name: 'a minimal build', build: {}, expected: baseArgs(EPOCH_ARG) },
      {
        name: 'several platforms joined into one flag',
        build: { platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] },
        expected: baseArgs(['--platform', 'linux/amd64,linux/arm64,linux/arm/v7', ...EPOCH_ARG]),
      },
      {
        name: 'build args in order, "=" and newlines in values kept in one element',
        build: {
          buildArgs: [
            ['GO_VERSION', '1.24'],
            ['LDFLAGS', '-X main.version=1.4.0 -X main.commit=abc'],
            ['CA_BUNDLE', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
            ['EMPTY', ''],
          ],
        },
        expected: baseArgs([
          '--build-arg',
          'GO_VERSION=1.24',
          '--build-arg',
          'LDFLAGS=-X main.version=1.4.0 -X main.commit=abc',
          '--build-arg',
          'CA_BUNDLE=-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
          '--build-arg',
          'EMPTY=',
          ...EPOCH_ARG,
        ]),
      },
      {
        name: 'a SOURCE_DATE_EPOCH build arg equal to the epoch is not repeated',
        build: { buildArgs: [['SOURCE_DATE_EPOCH', String(EPOCH)]] },
        expected: baseArgs(EPOCH_ARG),
      },
      {
        name: 'secrets by file and by environment variable name',
        build: {
          secrets: [
            { id: 'npmrc', src: '/home/runner/.npmrc' },
            { id: 'npm', env: 'NPM_TOKEN' },
            { id: 'odd', src: '/tmp/a,b "c"' },
          ],
        },
        expected: baseArgs([
          ...EPOCH_ARG,
          '--secret',
          'id=npmrc,src=/home/runner/.npmrc',
          '--secret',
          'id=npm,env=NPM_TOKEN',
          '--secret',
          'id=odd,"src=/tmp/a,b ""c"""',
        ]),
      },
      {
        name: 'cache from and to, passed through in order',
        build: {},
        options: {
          cacheFrom: ['type=gha,scope=api', 'type=registry,ref=ghcr.io/acme/api:cache'],
          cacheTo: ['type=gha,scope=api,mode=max'],
        },
        expected: baseArgs([
          ...EPOCH_ARG,
          '--cache-from',
          'type=gha,scope=api',
          '--cache-from',
          'type=registry,ref=ghcr.io/acme/api:cache',
          '--cache-to',
          'type=gha,scope=api,mode=max',
        ]),
      },
      {
        name: 'labels sorted by key whatever their insertion order',
        build: {
          labels: {
            'org.opencontainers.image.source': 'https://github.com/acme/api',
            'com.acme.team': 'payments',
            'org.opencontainers.image.created': '2025-07-16T03:07:09Z',
            'org.opencontainers.image.description': 'line one\nline=two',
          },
        },
        expected: baseArgs([
          ...EPOCH_ARG,
          '--label',
          'com.acme.team=payments',
          '--label',
          'org.opencontainers.image.created=2025-07-16T03:07:09Z',
          '--label',
          'org.opencontainers.image.description=line one\nline=two',
          '--label',
          'org.opencontainers.image.source=https://github.com/acme/api',
        ]),
      },
      {
        name: 'each tag in its own flag',
        build: {},
        options: { tags: ['ghcr.io/acme/api:1.4.0', 'ghcr.io/acme/api:sha-1a2b3c4', 'localhost:5000/api:latest'] },
        expected: [
          ...baseArgs(EPOCH_ARG).slice(0, 8),
          '--tag',
          'ghcr.io/acme/api:sha-1a2b3c4',
          '--tag',
          'localhost:5000/api:latest',
          ...baseArgs(EPOCH_ARG).slice(8),
        ],
      },
      {
        name: 'target and provenance min',
        build: { target: 'runtime' },
        options: { provenance: 'min' },
        expected: baseArgs(EPOCH_ARG, ['--target', 'runtime', '--provenance', 'mode=min']),
      },
      {
        name: 'provenance max',
        build: {},
        options: { provenance: 'max' },
        expected: baseArgs(EPOCH_ARG, ['--provenance', 'mode=max']),
      },
      {
        name: 'provenance off',
        build: {},
        options: { provenance: 'false' },
        expected: baseArgs(EPOCH_ARG, ['--provenance', 'false']),
      },
    ],
  )('$name', ({ build, options, expected }) => {
    expect(buildxArgs(makeBuild(build), { ...OPTIONS, ...options })).toEqual(expected);
  });

  it('puts every flag in the documented order', () => {
    const args = buildxArgs(
      makeBuild({
        platforms: ['linux/amd64'],
        buildArgs: [['A', '1']],
        secrets: [{ id: 's', env: 'NPM_TOKEN' }],
        labels: { b: '2', a: '1' },
        target: 'final',
      }),
      { ...OPTIONS, cacheFrom: ['type=gha'], cacheTo: ['type=gha,mode=max'], provenance: 'max' },
    );
    const flags = args.filter((arg) => arg.startsWith('--'));
    expect([...new Set(flags)]).toEqual([
      '--file',
      '--platform',
      '--build-arg',
      '--secret',
      '--cache-from',
      '--cache-to',
      '--label',
      '--tag',
      '--target',
      '--provenance',
      '--metadata-file',
      '--output',
    ]);
    expect(args.at(-1)).toBe('/work/app');
    expect(args).not.toContain('--push');
  });

  it('never puts a secret value in the argv, only the variable name', () => {
    const build = makeBuild({ secrets: [{ id: 'npm', env: 'NPM_TOKEN' }] });
    const args = buildxArgs(build, OPTIONS);
    expect(args.some((arg) => arg.includes(SECRET_VALUE))).toBe(false);
    expect(args.join('\0')).not.toContain('s3cr3t');
    expect(args).toContain('id=npm,env=NPM_TOKEN');
    // The value reaches buildx only through the child's environment.
    expect(buildxEnv(build).NPM_TOKEN).toBe(SECRET_VALUE);
  });

  test.each<{ name: string; build?: Partial<ContainerfileBuild>; options?: Partial<BuildxOptions>; message: RegExp }>([
    { name: 'no tags', options: { tags: [] }, message: /at least one full image reference/ },
    { name: 'a tag with a digest', options: { tags: [`ghcr.io/acme/api@${MANIFEST}`] }, message: /no digest/ },
    { name: 'an invalid tag', options: { tags: ['ghcr.io/Acme/api:1'] }, message: /lowercase/ },
    { name: 'a build arg name with "="', build: { buildArgs: [['A=B', 'c']] }, message: /build argument name/ },
    {
      name: 'a SOURCE_DATE_EPOCH build arg that disagrees',
      build: { buildArgs: [['SOURCE_DATE_EPOCH', '0']] },
      message: /disagrees/,
    },
    {
      name: 'a secret with both src and env',
      build: { secrets: [{ id: 'x', src: '/a', env: 'X' }] },
      message: /exactly one/,
    },
    { name: 'a secret with neither', build: { secrets: [{ id: 'x' }] }, message: /exactly one/ },
    { name: 'a secret id with a comma', build: { secrets: [{ id: 'a,b', env: 'X' }] }, message: /secret id/ },
    { name: 'a bad secret env name', build: { secrets: [{ id: 'x', env: 'A-B' }] }, message: /variable/ },
    { name: 'a platform with a comma', build: { platforms: ['linux/amd64,linux/arm64'] }, message: /platform/ },
    { name: 'a fractional epoch', build: { sourceDateEpoch: 1.5 }, message: /SOURCE_DATE_EPOCH/ },
    { name: 'a label key with "="', build: { labels: { 'a=b': 'c' } }, message: /label key/ },
  ])('rejects $name', ({ build, options, message }) => {
    expect(() => buildxArgs(makeBuild(build), { ...OPTIONS, ...options })).toThrow(InvalidValueError);
    expect(() => buildxArgs(makeBuild(build), { ...OPTIONS, ...options })).toThrow(message);
  });
});

describe('buildxEnv', () => {
  it('adds SOURCE_DATE_EPOCH and turns default attestations off when provenance is not asked for', () => {
    const env = buildxEnv(makeBuild());
    expect(env).toEqual({
      PATH: '/usr/bin',
      NPM_TOKEN: SECRET_VALUE,
      SOURCE_DATE_EPOCH: String(EPOCH),
      BUILDX_NO_DEFAULT_ATTESTATIONS: '1',
    });
  });

  it('leaves attestations to --provenance when it is given, and overrides an inherited epoch', () => {
    const build = makeBuild({ env: { SOURCE_DATE_EPOCH: '0', BUILDX_NO_DEFAULT_ATTESTATIONS: '1' } });
    expect(buildxEnv(build, 'max')).toEqual({ SOURCE_DATE_EPOCH: String(EPOCH) });
  });

  it('does not change the build it is given', () => {
    const build = makeBuild();
    buildxEnv(build);
    expect(build.env).toEqual({ PATH: '/usr/bin', NPM_TOKEN: SECRET_VALUE });
  });
});

describe('parseBuildxMetadata', () => {
  async function fixture(name: string): Promise<string> {
    return readFile(new URL(name, FIXTURES), 'utf8');
  }

  test.each([
    {
      file: 'buildx-manifest.json',
      expected: {
        digest: MANIFEST,
        imageNames: ['ghcr.io/acme/api:sha-1a2b3c4', 'ghcr.io/acme/api:1.4.0'],
        configDigest: CONFIG,
      },
    },
    {
      file: 'buildx-index-provenance.json',
      expected: { digest: INDEX, imageNames: ['ghcr.io/acme/api:1.4.0', 'ghcr.io/acme/api:latest'] },
    },
  ])('reads $file', async ({ file, expected }) => {
    expect(parseBuildxMetadata(await fixture(file), file)).toEqual(expected);
  });

  test.each([
    { file: 'buildx-null.json', message: /contains null: buildx exported nothing/ },
    { file: 'buildx-not-pushed.json', message: /no containerimage\.digest: buildx exported nothing/ },
    { file: 'truncated.json', message: /not JSON/ },
  ])('explains $file', async ({ file, message }) => {
    const text = await fixture(file);
    expect(() => parseBuildxMetadata(text, `/out/${file}`)).toThrow(SlipwayError);
    expect(() => parseBuildxMetadata(text, `/out/${file}`)).toThrow(message);
    expect(() => parseBuildxMetadata(text, `/out/${file}`)).toThrow(`/out/${file}`);
  });

  test.each([
    { name: 'a bad digest', text: '{"containerimage.digest":"sha256:abc"}', message: /bad containerimage\.digest/ },
    { name: 'a numeric digest', text: '{"containerimage.digest":42}', message: /not a string/ },
    { name: 'an array', text: '[]', message: /not a JSON object/ },
    {
      name: 'a bad config digest',
      text: `{"containerimage.digest":"${MANIFEST}","containerimage.config.digest":"md5:x"}`,
      message: /bad containerimage\.config\.digest/,
    },
  ])('rejects $name', ({ text, message }) => {
    expect(() => parseBuildxMetadata(text, 'meta.json')).toThrow(message);
  });

  it('reads a file without image.name as having no names', () => {
    expect(parseBuildxMetadata(`{"containerimage.digest":"${MANIFEST}"}`, 'meta.json')).toEqual({
      digest: MANIFEST,
      imageNames: [],
    });
  });
});

describe('runBuildx', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'slipway-buildx-'));
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  interface Call {
    program: string;
    args: readonly string[];
    options: ExecOptions;
  }

  /**
   * Stands in for docker, which cannot run here: records each call, answers `buildx version`, and for
   * `buildx build` writes the metadata file where --metadata-file says, as buildx does after a push.
   */
  function fakeDocker(
    metadata: string | undefined,
    version = 'github.com/docker/buildx v0.17.1 257815a',
  ): {
    calls: Call[];
    execFn: ExecFn;
  } {
    const calls: Call[] = [];
    const execFn: ExecFn = async (program, args, options = {}): Promise<ExecResult> => {
      calls.push({ program, args, options });
      if (args[1] === 'version') return { code: 0, stdout: `${version}\n`, stderr: '' };
      const file = args[args.indexOf('--metadata-file') + 1]!;
      if (metadata !== undefined) await writeFile(file, metadata);
      return { code: 0, stdout: '', stderr: '' };
    };
    return { calls, execFn };
  }

  it('says how to fix a missing docker', async () => {
    // The real exec with an empty PATH: docker is then missing whatever this machine has installed.
    const build = makeBuild({ env: { PATH: work } });
    const run = runBuildx(build, { ...OPTIONS, metadataFile: join(work, 'meta.json') });
    await expect(run).rejects.toThrow(SlipwayError);
    await expect(run).rejects.toThrow(
      'builder buildx needs docker with the buildx plugin; install it or choose builder: buildah or native',
    );
  });

  it('says how to fix a docker without the buildx plugin', async () => {
    const execFn: ExecFn = async (program) => {
      throw new ExecError(program, 1, "docker: 'buildx' is not a docker command.", 'failed with exit code 1');
    };
    await expect(runBuildx(makeBuild(), { ...OPTIONS, metadataFile: join(work, 'm.json') }, execFn)).rejects.toThrow(
      /needs docker with the buildx plugin.*'buildx' is not a docker command/s,
    );
  });

  it('refuses a buildx too old for rewrite-timestamp', async () => {
    const { execFn, calls } = fakeDocker(undefined, 'github.com/docker/buildx v0.12.1 30feaa1');
    await expect(runBuildx(makeBuild(), { ...OPTIONS, metadataFile: join(work, 'm.json') }, execFn)).rejects.toThrow(
      /v0\.12\.1 is too old/,
    );
    expect(calls).toHaveLength(1);
  });

  it('runs the build and returns the digest from the metadata file', async () => {
    const metadataFile = join(work, 'meta.json');
    // A stale file from an earlier build must not be read as this build's result.
    await writeFile(metadataFile, `{"containerimage.digest":"${INDEX}"}`);
    const { calls, execFn } = fakeDocker(await readFile(new URL('buildx-manifest.json', FIXTURES), 'utf8'));
    const build = makeBuild({ secrets: [{ id: 'npm', env: 'NPM_TOKEN' }] });
    const options = { ...OPTIONS, metadataFile };

    const built = await runBuildx(build, options, execFn);

    expect(built).toEqual({ digest: MANIFEST, builder: 'buildx', builderVersion: '0.17.1' });
    expect(calls.map((call) => [call.program, ...call.args.slice(0, 2)])).toEqual([
      ['docker', 'buildx', 'version'],
      ['docker', 'buildx', 'build'],
    ]);
    const buildCall = calls[1]!;
    expect(buildCall.args).toEqual(buildxArgs(build, options));
    expect(buildCall.options).toMatchObject({ stream: true, cwd: '/work/app', logger: silentLogger });
    expect(buildCall.options.env).toEqual(buildxEnv(build));
  });

  it('fails clearly when buildx wrote no metadata file', async () => {
    const { execFn } = fakeDocker(undefined);
    await expect(runBuildx(makeBuild(), { ...OPTIONS, metadataFile: join(work, 'meta.json') }, execFn)).rejects.toThrow(
      /wrote no metadata file/,
    );
  });

  it('fails clearly when buildx exported nothing', async () => {
    const { execFn } = fakeDocker('null');
    await expect(runBuildx(makeBuild(), { ...OPTIONS, metadataFile: join(work, 'meta.json') }, execFn)).rejects.toThrow(
      /buildx exported nothing/,
    );
  });

  it('names a secret whose environment variable is not set, before running anything', async () => {
    const { calls, execFn } = fakeDocker('null');
    const build = makeBuild({ secrets: [{ id: 'gh', env: 'GH_TOKEN' }] });
    await expect(runBuildx(build, { ...OPTIONS, metadataFile: join(work, 'm.json') }, execFn)).rejects.toThrow(
      /secret "gh" reads environment variable GH_TOKEN, which is not set/,
    );
    expect(calls).toHaveLength(0);
  });
});
