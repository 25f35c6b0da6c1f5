import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError, SlipwayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { epochToRfc3339 } from '../core/time.js';
import { copyImage } from '../oci/copy.js';
import { OciLayoutStore } from '../oci/layout.js';
import { openReference } from '../oci/open.js';
import { type ImageReference, parseImageReference } from '../oci/reference.js';
import { isLoopbackRegistry, type RegistryClient } from '../oci/registry.js';
import type { ImageStore } from '../oci/store.js';
import { readSubject, type Subject } from '../oci/subject.js';
import type { Timeouts } from '../oci/timeouts.js';
import { exec, findProgram } from '../process/exec.js';
import type { BuilderName, BuildSecret, BuiltImage, ContainerfileBuild } from './builder.js';
import { withCommitTime } from './checkout.js';
import { moveTags, verifyDigestContract } from './contract.js';
import { type CreatedSource, ociLabels, resolveCreated } from './labels.js';
import { buildNativeImage, type NativeBuildOptions } from './native.js';
import { compareBuilds, type Reproducibility } from './reproducible.js';
import { computeTags, type Flavor, type GitContext, imageVersion, type TagRule } from './tags.js';
import type { LayerSource } from './tar.js';

// One build, whichever builder makes it: compute tags and labels from the commit, build, put the image on
// the target with tags moved last, check the digest contract, and describe what shipped. Builders differ
// only in how the image comes to exist (shared/build/{native,buildah,buildx,import}.ts).

type Env = Readonly<Record<string, string | undefined>>;

export interface NativeRequest {
  /** A base image pinned by digest, or scratch. */
  base: ImageReference | 'scratch';
  /** Directories to layer, each at its place in the image. */
  directories: LayerSource[];
  entrypoint?: string[];
  cmd?: string[];
  env: Record<string, string>;
  workdir?: string;
  user?: string;
  ports: string[];
}

export interface BuildRequest {
  /** Where the image goes: a repository (no tag or digest) on a registry, or an OCI layout. */
  image: ImageReference;
  contextDir: string;
  /** An explicit Containerfile; otherwise Containerfile or Dockerfile in the context, if any. */
  containerfile?: string;
  builder: 'auto' | BuilderName;
  platforms: string[];
  tagRules: TagRule[];
  latest: 'auto' | 'true' | 'false';
  /** The `flavor` input: latest=, and a prefix/suffix for every tag whose rule sets none. */
  flavor?: Flavor;
  buildArgs: [string, string][];
  secrets: BuildSecret[];
  cacheFrom: string[];
  cacheTo: string[];
  /** The user's labels; they override the computed OCI labels of the same name. */
  labels: Record<string, string>;
  target?: string;
  /** Seconds; otherwise SOURCE_DATE_EPOCH from the environment, else the commit time. */
  sourceDateEpoch?: number;
  verifyReproducible: boolean;
  native: NativeRequest;
  /** A file another builder wrote (digest file, ko/apko image refs, jib-image.json, buildx metadata). */
  importFrom?: string;
  /** Registry credentials given as inputs, for builders that pull base images themselves. */
  credentials?: { registry: string; username: string; password: string };
  /** Connect and idle timeouts for Slipway's registry requests; unset ones keep the defaults (shared/oci/timeouts.ts). */
  registryTimeouts?: Partial<Timeouts>;
}

export interface BuildEnvironment {
  client: RegistryClient;
  logger: Logger;
  env: Env;
  git: GitContext;
  now: () => Date;
  workspace: string;
  /** Scratch space for staging layouts; removed by the caller. */
  tempDir: string;
  /** Title, description and licence for the OCI labels, from the repository the event came from. */
  describe?: { title?: string; description?: string; licenses?: string };
  /** Opens the target; openReference unless a caller wraps the store (tests that make a push fail). */
  openTarget?: typeof openReference;
}

export interface BuildRecord {
  subject: Subject;
  /** Tags as pushed, and the full references they make. */
  tags: string[];
  references: string[];
  labels: Record<string, string>;
  builder: { name: BuilderName; version?: string; chosen: string };
  source: { repository: string; commit: string; ref: string; event: string };
  created: string;
  /** Where `created` came from: the source-date-epoch input, SOURCE_DATE_EPOCH, the event, or the git checkout. */
  createdFrom: CreatedSource;
  reproducibility?: Reproducibility;
  timestamps: { started: string; finished: string };
}

export async function buildImage(request: BuildRequest, environment: BuildEnvironment): Promise<BuildRecord> {
  const { logger } = environment;
  const started = environment.now().toISOString();
  // The commit time is read from the checkout when the event carries none (workflow_dispatch, schedule,
  // release): for `created` and for `{{commit_date}}` in tag rules.
  const git = await withCommitTime(environment.git, [environment.workspace, request.contextDir], environment.env);
  const { time: created, source: createdFrom } = imageCreated(request, environment, git);
  const sourceDateEpoch = Math.floor(Date.parse(created) / 1000);
  const tags = computeTags(request.tagRules, git, {
    latest: request.latest,
    now: environment.now(),
    ...(request.flavor ? { flavor: request.flavor } : {}),
    warn: (message) => logger.warning(message),
  });
  const labels = {
    ...ociLabels(git, { ...environment.describe, version: imageVersion(git, tags), created }),
    ...request.labels,
  };
  const target = await (environment.openTarget ?? openReference)(request.image, {
    client: environment.client,
    workspace: environment.workspace,
    createLayout: true,
  });
  const choice = await chooseBuilder(request, environment.env);
  logger.info(`Builder: ${choice.name} (${choice.reason})`);

  let built: BuiltImage;
  let reproducibility: Reproducibility | undefined;
  switch (choice.name) {
    case 'native': {
      const options = await nativeOptions(request, environment, labels, created, sourceDateEpoch);
      const result = await buildNativeImage({ ...options, target: target.store });
      built = { digest: result.descriptor.digest, builder: 'native' };
      if (request.verifyReproducible) {
        const again = await OciLayoutStore.open(join(environment.tempDir, 'rebuild'), { create: true });
        const rebuilt = await buildNativeImage({ ...options, target: again });
        reproducibility = await compareBuilds(
          { store: target.store, digest: built.digest },
          { store: again, digest: rebuilt.descriptor.digest },
        );
      }
      await moveTags(target.store, built.digest, tags);
      break;
    }
    case 'buildah': {
      const build = containerfileBuild(request, environment, labels, sourceDateEpoch);
      const { runBuildah } = await import('./buildah.js');
      const staged = await stageWith(environment, 'staging', (layoutDir) =>
        runBuildah(build, buildahOptions(request, build, layoutDir)),
      );
      built = staged.built;
      if (request.verifyReproducible) {
        const again = await stageWith(environment, 'rebuild', (layoutDir) =>
          runBuildah(build, buildahOptions(request, build, layoutDir)),
        );
        reproducibility = await compareBuilds(
          { store: staged.store, digest: built.digest },
          { store: again.store, digest: again.built.digest },
        );
      }
      // Slipway pushes what buildah staged: blobs first, mounted where it can, tags only at the end.
      await copyImage({ from: staged.store, to: target.store, reference: built.digest, tags });
      break;
    }
    case 'buildx': {
      if (request.verifyReproducible) {
        throw new ConfigurationError(
          'verify-reproducible',
          'true',
          'false with builder buildx',
          'a buildx rebuild would push a second image; use builder native or buildah to verify reproducibility',
        );
      }
      if (request.image.kind !== 'registry') {
        throw new ConfigurationError(
          'image',
          target.name,
          'a registry repository for builder buildx',
          'buildx pushes to a registry',
        );
      }
      const build = containerfileBuild(request, environment, labels, sourceDateEpoch);
      const { runBuildx } = await import('./buildx.js');
      built = await runBuildx(build, {
        tags: tags.map((tag) => `${target.name}:${tag}`),
        metadataFile: join(environment.tempDir, 'buildx-metadata.json'),
        cacheFrom: request.cacheFrom,
        cacheTo: request.cacheTo,
        push: true,
      });
      break;
    }
    case 'import': {
      const { readImportedDigest } = await import('./import.js');
      const imported = readImportedDigest(request.importFrom!);
      logger.info(`Imported ${imported.digest} from ${request.importFrom} (${imported.format})`);
      built = { digest: imported.digest, builder: 'import' };
      await moveTags(target.store, built.digest, tags);
      break;
    }
  }

  await verifyDigestContract(target.store, built.digest, tags);
  const subject = await readSubject(target.store, target.name, built.digest);
  return {
    subject,
    tags,
    references: tags.map((tag) => `${target.name}:${tag}`),
    labels,
    builder: {
      name: built.builder,
      ...(built.builderVersion ? { version: built.builderVersion } : {}),
      chosen: choice.reason,
    },
    source: { repository: git.repositoryUrl, commit: git.sha, ref: git.ref, event: git.eventName },
    created,
    createdFrom,
    ...(reproducibility ? { reproducibility } : {}),
    timestamps: { started, finished: environment.now().toISOString() },
  };
}

/** The image's created time: the input, else SOURCE_DATE_EPOCH, else the commit's time from the event or git. */
function imageCreated(
  request: BuildRequest,
  environment: BuildEnvironment,
  git: GitContext,
): { time: string; source: CreatedSource } {
  if (request.sourceDateEpoch !== undefined) {
    return { time: epochToRfc3339(request.sourceDateEpoch), source: 'source-date-epoch-input' };
  }
  return resolveCreated(environment.env, git, environment.workspace);
}

/** The Containerfile to build, if there is one: the explicit path, else Containerfile or Dockerfile in the context. */
export function findContainerfile(request: Pick<BuildRequest, 'containerfile' | 'contextDir'>): string | undefined {
  if (request.containerfile) return request.containerfile;
  return ['Containerfile', 'Dockerfile'].map((name) => join(request.contextDir, name)).find((path) => existsSync(path));
}

/**
 * builder: auto picks by what the build is and what the machine has: import when a file from another builder
 * is given, native when directories are, and for a Containerfile buildx when a docker daemon with buildx
 * answers, else buildah.
 */
async function chooseBuilder(request: BuildRequest, env: Env): Promise<{ name: BuilderName; reason: string }> {
  if (request.builder !== 'auto') return { name: request.builder, reason: 'chosen by the builder input' };
  if (request.importFrom) return { name: 'import', reason: 'import-from was given' };
  if (request.native.directories.length > 0) return { name: 'native', reason: 'directories were given' };
  const containerfile = findContainerfile(request);
  if (!containerfile) {
    throw new ConfigurationError(
      'directories',
      '',
      'directories to layer (src:/target per line) or a Containerfile in the context',
      `builder auto found neither directories nor a Containerfile or Dockerfile in ${request.contextDir}`,
    );
  }
  if (
    findProgram('docker', env) &&
    (await answers('docker', ['buildx', 'version'], env)) &&
    (await answers('docker', ['info'], env))
  ) {
    return { name: 'buildx', reason: 'a Containerfile, and docker with buildx answers' };
  }
  if (findProgram('buildah', env))
    return { name: 'buildah', reason: 'a Containerfile, and buildah is installed (docker is not usable)' };
  throw new SlipwayError(
    `No builder for ${containerfile}: neither docker with buildx nor buildah is usable on this machine. Install buildah (apt-get install buildah), or use builder: native with directories.`,
  );
}

async function answers(program: string, args: string[], env: Env): Promise<boolean> {
  try {
    await exec(program, args, { env, timeoutMs: 15_000 });
    return true;
  } catch {
    return false;
  }
}

function containerfileBuild(
  request: BuildRequest,
  environment: BuildEnvironment,
  labels: Record<string, string>,
  sourceDateEpoch: number,
): ContainerfileBuild {
  const containerfile = findContainerfile(request);
  if (!containerfile) {
    throw new ConfigurationError(
      'file',
      request.containerfile ?? '',
      'a Containerfile or Dockerfile',
      `none in ${request.contextDir}`,
    );
  }
  return {
    contextDir: request.contextDir,
    containerfile,
    platforms: request.platforms,
    buildArgs: request.buildArgs,
    secrets: request.secrets,
    labels,
    sourceDateEpoch,
    ...(request.target ? { target: request.target } : {}),
    logger: environment.logger,
    env: { ...environment.env, SOURCE_DATE_EPOCH: String(sourceDateEpoch) },
  };
}

function buildahOptions(request: BuildRequest, build: ContainerfileBuild, layoutDir: string) {
  const insecureRegistries = loopbackBaseRegistries(build.containerfile);
  return {
    layoutDir,
    ...(insecureRegistries.length > 0 ? { insecureRegistries } : {}),
    ...(request.credentials ? { auth: [request.credentials] } : {}),
  };
}

/**
 * Registries on loopback that the Containerfile pulls from. Slipway reaches them over plain HTTP, as docker
 * does (isLoopbackRegistry); buildah must be told, or it tries HTTPS and fails.
 */
export function loopbackBaseRegistries(containerfile: string): string[] {
  const registries = new Set<string>();
  for (const [, image] of readFileSync(containerfile, 'utf8').matchAll(/^\s*FROM\s+(?:--\S+\s+)*(\S+)/gim)) {
    if (!image || image === 'scratch' || image.includes('$')) continue;
    try {
      const ref = parseImageReference(image);
      if (ref.kind === 'registry' && isLoopbackRegistry(ref.registry)) registries.add(ref.registry);
    } catch {
      // A stage name (FROM builder) or an ARG-built reference is not a registry reference.
    }
  }
  return [...registries].sort();
}

/** Runs a builder that writes into a fresh OCI layout and opens that layout. */
async function stageWith<T extends BuiltImage>(
  environment: BuildEnvironment,
  name: string,
  run: (layoutDir: string) => Promise<T>,
): Promise<{ built: T; store: ImageStore }> {
  const layoutDir = join(environment.tempDir, name);
  const built = await run(layoutDir);
  return { built, store: await OciLayoutStore.open(layoutDir, { create: false }) };
}

async function nativeOptions(
  request: BuildRequest,
  environment: BuildEnvironment,
  labels: Record<string, string>,
  created: string,
  sourceDateEpoch: number,
): Promise<Omit<NativeBuildOptions, 'target'>> {
  const { native } = request;
  let base: NativeBuildOptions['base'] = 'scratch';
  if (native.base !== 'scratch') {
    const opened = await openReference(native.base, { client: environment.client, workspace: environment.workspace });
    base = { store: opened.store, reference: native.base.digest!, name: opened.name };
  }
  return {
    base,
    platforms: request.platforms.length > 0 ? request.platforms : [hostPlatform()],
    layers: [{ sources: native.directories }],
    config: {
      ...(native.entrypoint ? { entrypoint: native.entrypoint } : {}),
      ...(native.cmd ? { cmd: native.cmd } : {}),
      env: native.env,
      ...(native.workdir ? { workingDir: native.workdir } : {}),
      ...(native.user ? { user: native.user } : {}),
      labels,
      exposedPorts: native.ports,
    },
    created,
    sourceDateEpoch,
    tempDir: environment.tempDir,
  };
}

/** The platform of this machine, as images name it. */
export function hostPlatform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }[
    process.arch as string
  ];
  return `linux/${arch ?? process.arch}`;
}

/** A scratch directory for one build, removed afterwards whatever happens. */
export async function withTempDir<T>(parent: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(parent, 'slipway-build-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
