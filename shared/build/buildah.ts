import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SlipwayError } from '../core/errors.js';
import { parseDigest } from '../oci/digest.js';
import { OciLayoutStore } from '../oci/layout.js';
import { isIndex } from '../oci/manifest.js';
import type { Digest } from '../oci/types.js';
import { ExecError, exec, findProgram } from '../process/exec.js';
import type { BuildSecret, BuiltImage, ContainerfileBuild } from './builder.js';

// The buildah builder. Buildah builds the Containerfile into its own storage and then writes the result
// into a staging OCI image layout; Slipway pushes from that layout itself, so blobs go first, tags move
// last and nothing already on the registry is sent again. Buildah never talks to the destination registry.
//
// Storage uses the vfs driver with chroot isolation: that needs neither fuse-overlayfs nor kernel overlay
// mounts nor a runtime such as runc, so it works as root on a hosted runner and inside unprivileged CI
// containers alike. vfs copies whole layers, which is slow for big images but always available.

export interface BuildahStorage {
  /** containers/storage graph root (`buildah --root`). */
  root: string;
  /** containers/storage state directory (`buildah --runroot`). */
  runroot: string;
}

/** Registry access for base-image pulls (`FROM registry/x`). */
export interface BuildahRegistryAccess {
  /**
   * Pull without TLS verification (plain HTTP allowed). Buildah's flag applies to every registry the build
   * pulls from, not per registry; runBuildah sets it only when the caller names an insecure registry.
   */
  tlsVerify?: boolean;
  /** A containers auth.json; credentials never go into argv, where `ps` and logs would show them. */
  authFile?: string;
}

export interface RegistryCredentials {
  /** host[:port] as in image references, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  registry: string;
  username: string;
  password: string;
}

export interface RunBuildahOptions {
  /** The staging OCI image layout the image is written to; created when absent. */
  layoutDir: string;
  /** Default: defaultBuildahStorage(build.env), shared by the builds of one job. */
  storage?: BuildahStorage;
  /** Tag in the layout; default a fresh `buildah-<random>` so builds sharing a layout never collide. */
  layoutTag?: string;
  /** Registries (host[:port]) served over plain HTTP or with untrusted certificates, e.g. a loopback test registry. */
  insecureRegistries?: string[];
  /** Credentials for pulling base images. */
  auth?: RegistryCredentials[];
  /** Replaces exec, for callers that run buildah elsewhere. */
  execFn?: typeof exec;
}

export type BuildahResult = BuiltImage & { layoutTag: string };

const MISSING_BUILDAH = 'builder buildah needs Debian/Ubuntu package buildah; install it or choose builder: native';

/**
 * Where buildah keeps images by default: under RUNNER_TEMP (or the system temp dir) and the same for every
 * build in a job, so a second build reuses the base layers the first one pulled.
 */
export function defaultBuildahStorage(env: Readonly<Record<string, string | undefined>> = process.env): BuildahStorage {
  const base = join(env.RUNNER_TEMP || tmpdir(), 'slipway-buildah');
  return { root: join(base, 'root'), runroot: join(base, 'runroot') };
}

/**
 * The argv after `buildah` for building `build` as `name` (an image for one platform, a manifest list for
 * several). Pure: it touches no files, so everything it needs (auth file, storage) is made beforehand.
 */
export function buildahArgs(
  build: ContainerfileBuild,
  storage: BuildahStorage,
  name: string,
  access: BuildahRegistryAccess = {},
): string[] {
  const args = [...globalArgs(storage), 'bud', '--isolation', 'chroot', '--file', build.containerfile];
  // Explicit, because BUILDAH_FORMAT in the environment would otherwise change the manifest type and so the digest.
  args.push('--format', 'oci');
  // Without this buildah adds an io.buildah.version label, tying the digest to the buildah release.
  args.push('--identity-label=false');
  // --timestamp sets the config's created time, the history times and the file times in the layers.
  args.push('--timestamp', String(build.sourceDateEpoch));
  for (const [key, value] of build.buildArgs) args.push('--build-arg', `${key}=${value}`);
  for (const secret of build.secrets) args.push('--secret', secretArg(secret));
  for (const key of Object.keys(build.labels).sort()) args.push('--label', `${key}=${build.labels[key]}`);
  if (build.target !== undefined && build.target !== '') args.push('--target', build.target);
  // Cached intermediate layers would outlive the build in shared storage and only help RUN-heavy rebuilds.
  args.push('--layers=false');
  if (access.tlsVerify === false) args.push('--tls-verify=false');
  if (access.authFile !== undefined) args.push('--authfile', access.authFile);
  if (build.platforms.length > 1) {
    // One bud for all platforms, which leaves a manifest list with one image per platform.
    args.push('--platform', build.platforms.join(','), '--manifest', name);
  } else {
    if (build.platforms.length === 1) args.push('--platform', build.platforms[0]!);
    args.push('--tag', name);
  }
  args.push(build.contextDir);
  return args;
}

function globalArgs(storage: BuildahStorage): string[] {
  return ['--root', storage.root, '--runroot', storage.runroot, '--storage-driver', 'vfs'];
}

function secretArg(secret: BuildSecret): string {
  // Buildah splits the option on commas and "=", so such characters would silently change its meaning.
  const check = (what: string, value: string) => {
    if (value === '' || value.includes(',') || (what !== 'src' && value.includes('='))) {
      throw new SlipwayError(`Build secret ${JSON.stringify(secret.id)}: its ${what} must be non-empty without ","`);
    }
  };
  check('id', secret.id);
  if ((secret.src === undefined) === (secret.env === undefined)) {
    throw new SlipwayError(`Build secret ${JSON.stringify(secret.id)} needs exactly one of src (a file) or env`);
  }
  // Buildah 1.28 reads env secrets from its own environment (`env=NAME`), so the value never touches the disk.
  if (secret.env !== undefined) {
    check('env', secret.env);
    return `id=${secret.id},env=${secret.env}`;
  }
  check('src', secret.src!);
  return `id=${secret.id},src=${secret.src}`;
}

/**
 * Builds with buildah into `options.layoutDir` and returns the digest the layout's tag points at. The
 * local image or manifest list is removed from buildah's storage afterwards, so a re-run starts clean
 * while the base layers stay cached.
 */
export async function runBuildah(build: ContainerfileBuild, options: RunBuildahOptions): Promise<BuildahResult> {
  const run = options.execFn ?? exec;
  if (!options.execFn && !findProgram('buildah', build.env)) throw new SlipwayError(MISSING_BUILDAH);
  await checkInputs(build);
  const layoutDir = resolve(options.layoutDir);
  // The oci: transport reads "dir:tag", so a colon in the path would be taken for the tag.
  if (layoutDir.includes(':')) throw new SlipwayError(`The OCI layout directory ${layoutDir} must not contain ":"`);
  const layoutTag = options.layoutTag ?? `buildah-${randomBytes(6).toString('hex')}`;
  const storage = options.storage ?? defaultBuildahStorage(build.env);
  const global = globalArgs(storage);
  const multi = build.platforms.length > 1;
  // A fresh name per run: `bud --manifest` adds to an existing list, so a leftover one would gain images.
  const name = `localhost/slipway-buildah:${randomBytes(8).toString('hex')}`;
  const version = await buildahVersion(run, build.env);

  await mkdir(storage.root, { recursive: true });
  await mkdir(storage.runroot, { recursive: true });
  // mkdtemp makes the directory 0700; it holds the auth file and the digest file for this run only.
  const scratch = await mkdtemp(join(build.env.RUNNER_TEMP || tmpdir(), 'slipway-buildah-run-'));
  const digestFile = join(scratch, 'digest');
  let instances: Digest[] = [];
  try {
    const access: BuildahRegistryAccess = {};
    if ((options.insecureRegistries ?? []).length > 0) {
      access.tlsVerify = false;
      build.logger.debug(
        `buildah pulls without TLS verification because insecure registries are configured: ${options.insecureRegistries!.join(', ')}`,
      );
    }
    if (options.auth && options.auth.length > 0) {
      access.authFile = join(scratch, 'auth.json');
      await writeFile(access.authFile, authJson(options.auth), { mode: 0o600 });
    }
    try {
      await run('buildah', buildahArgs(build, storage, name, access), {
        env: build.env,
        cwd: build.contextDir,
        logger: build.logger,
        stream: true,
      });
    } catch (error) {
      throw buildFailure(build, error);
    }

    await mkdir(layoutDir, { recursive: true });
    const destination = `oci:${layoutDir}:${layoutTag}`;
    const push = multi
      ? [...global, 'manifest', 'push', '--all', '--format', 'oci', '--digestfile', digestFile, name, destination]
      : [...global, 'push', '--format', 'oci', '--digestfile', digestFile, name, destination];
    try {
      await run('buildah', push, { env: build.env, logger: build.logger });
    } catch (error) {
      throw wrapped(`buildah could not write the image built from ${build.containerfile} to ${destination}`, error);
    }

    const digest = parseDigest((await readFile(digestFile, 'utf8')).trim());
    const store = await OciLayoutStore.open(layoutDir, { create: false });
    const tagged = await store.resolve(layoutTag);
    if (tagged?.digest !== digest) {
      throw new SlipwayError(
        `buildah reported digest ${digest} but tag ${layoutTag} in ${layoutDir}/index.json points at ${tagged?.digest ?? 'nothing'}`,
      );
    }
    if (multi) instances = await instanceImageIds(store, digest);
    return { digest, builder: 'buildah', ...(version ? { builderVersion: version } : {}), layoutTag };
  } finally {
    await cleanUp(run, build, global, name, multi, instances);
    await rm(scratch, { recursive: true, force: true });
  }
}

async function checkInputs(build: ContainerfileBuild): Promise<void> {
  const isFile = await stat(build.containerfile).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) throw new SlipwayError(`The Containerfile ${build.containerfile} does not exist or is not a file`);
  const isDir = await stat(build.contextDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new SlipwayError(`The build context ${build.contextDir} does not exist or is not a directory`);
  for (const secret of build.secrets) {
    // Buildah would otherwise mount an empty secret or fail with a message that does not say which one.
    if (secret.env !== undefined && build.env[secret.env] === undefined) {
      throw new SlipwayError(
        `Build secret ${JSON.stringify(secret.id)}: environment variable ${secret.env} is not set`,
      );
    }
  }
}

async function buildahVersion(
  run: typeof exec,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  const { stdout } = await run('buildah', ['--version'], { env });
  return /buildah version (\S+)/.exec(stdout)?.[1];
}

/** A containers-auth.json (the format of `buildah login`) for the given credentials. */
function authJson(credentials: RegistryCredentials[]): string {
  const auths: Record<string, { auth: string }> = {};
  for (const { registry, username, password } of credentials) {
    auths[registry] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  }
  return JSON.stringify({ auths });
}

/**
 * The per-platform images of a pushed manifest list, as buildah image IDs. An image's ID is its config
 * digest, so they are read from the layout; `manifest rm` removes only the list and would leave them behind.
 */
async function instanceImageIds(store: OciLayoutStore, indexDigest: Digest): Promise<Digest[]> {
  const top = await store.getManifest(indexDigest);
  if (!isIndex(top.manifest)) return [];
  const ids: Digest[] = [];
  for (const entry of top.manifest.manifests) {
    const child = await store.getManifest(entry.digest);
    if (!isIndex(child.manifest)) ids.push(child.manifest.config.digest);
  }
  return ids;
}

async function cleanUp(
  run: typeof exec,
  build: ContainerfileBuild,
  global: string[],
  name: string,
  multi: boolean,
  instances: Digest[],
): Promise<void> {
  // Best effort: a failed build may have left nothing to remove, and a leftover never changes a later
  // build's result, since each run uses a fresh name.
  const quiet = { env: build.env, logger: build.logger, okCodes: Array.from({ length: 256 }, (_, i) => i) };
  try {
    if (multi) await run('buildah', [...global, 'manifest', 'rm', name], quiet);
    else await run('buildah', [...global, 'rmi', name], quiet);
    for (const id of instances) await run('buildah', [...global, 'rmi', id.slice(id.indexOf(':') + 1)], quiet);
  } catch (error) {
    build.logger.debug(`buildah clean-up failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function buildFailure(build: ContainerfileBuild, error: unknown): unknown {
  return wrapped(`buildah could not build ${build.containerfile}`, error);
}

function wrapped(message: string, error: unknown): unknown {
  if (!(error instanceof ExecError)) return error;
  const detail = error.code === null ? '' : ` (exit code ${error.code})`;
  const failure = new SlipwayError(`${message}${detail}${error.output ? `:\n${error.output}` : ''}`);
  failure.cause = error;
  return failure;
}
