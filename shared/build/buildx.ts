import { readFile, rm } from 'node:fs/promises';
import { InvalidValueError, SlipwayError } from '../core/errors.js';
import { parseDigest } from '../oci/digest.js';
import { parseImageReference } from '../oci/reference.js';
import type { Digest } from '../oci/types.js';
import { exec } from '../process/exec.js';
import type { BuildSecret, BuiltImage, ContainerfileBuild } from './builder.js';

// The buildx builder: turns a ContainerfileBuild into a `docker buildx build` command line, runs it,
// and reads back the digest buildx pushed from its --metadata-file. Slipway never computes the digest
// itself here: buildx's own report is the source of truth, and the caller cross-checks it on the registry.

export type BuildxProvenance = 'false' | 'min' | 'max';

export interface BuildxOptions {
  /** Full references (`registry/repo:tag`) to push. */
  tags: string[];
  /** Where buildx writes its metadata JSON; read back for the digest. */
  metadataFile: string;
  /** Passed through as given (`type=gha`, `type=registry,ref=…`): buildx's own syntax. */
  cacheFrom: string[];
  cacheTo: string[];
  /** Unset means no provenance attestation at all (see buildxEnv). */
  provenance?: BuildxProvenance;
  /** Slipway promotes by digest, so a build that is not pushed has nothing to promote. */
  push: true;
}

export interface BuildxMetadata {
  /** `containerimage.digest`: the manifest (one platform) or index (several, or attestations) to pin. */
  digest: Digest;
  /** `image.name`, split: the references buildx pushed. */
  imageNames: string[];
  /** `containerimage.config.digest`; buildx writes it only for a single-platform image. */
  configDigest?: Digest;
}

export type ExecFn = typeof exec;

const MINIMUM_BUILDX = [0, 13] as const;
const SOURCE_DATE_EPOCH = 'SOURCE_DATE_EPOCH';
const NO_DEFAULT_ATTESTATIONS = 'BUILDX_NO_DEFAULT_ATTESTATIONS';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MISSING_BUILDX =
  'builder buildx needs docker with the buildx plugin; install it or choose builder: buildah or native';

/**
 * The argv after `docker` for one build. Pure: the same build gives the same argv, which is what the
 * table tests pin down. Secret values never appear; only ids, file paths and environment variable names.
 */
export function buildxArgs(build: ContainerfileBuild, options: BuildxOptions): string[] {
  const epoch = checkEpoch(build.sourceDateEpoch);
  if (options.tags.length === 0) {
    throw new InvalidValueError('buildx tags', '', 'at least one full image reference to push (name:tag)');
  }
  const args = ['buildx', 'build', '--file', build.containerfile];
  if (build.platforms.length > 0) {
    for (const platform of build.platforms) {
      if (platform === '' || /[\s,]/.test(platform)) {
        throw new InvalidValueError('platform', platform, 'os/arch[/variant] without spaces or commas');
      }
    }
    args.push('--platform', build.platforms.join(','));
  }
  for (const [name, value] of buildArgsWithEpoch(build.buildArgs, epoch)) {
    // One argv element per pair: buildx splits at the first "=", so "=" and newlines in the value survive.
    args.push('--build-arg', `${name}=${value}`);
  }
  for (const secret of build.secrets) args.push('--secret', secretSpec(secret));
  for (const cache of options.cacheFrom) args.push('--cache-from', cache);
  for (const cache of options.cacheTo) args.push('--cache-to', cache);
  for (const key of Object.keys(build.labels).sort(compareStrings)) {
    if (key === '' || key.includes('=')) throw new InvalidValueError('label key', key, 'a non-empty key without "="');
    args.push('--label', `${key}=${build.labels[key]}`);
  }
  for (const tag of options.tags) args.push('--tag', checkTag(tag));
  if (build.target !== undefined) args.push('--target', build.target);
  if (options.provenance !== undefined) args.push('--provenance', provenanceValue(options.provenance));
  args.push('--metadata-file', options.metadataFile);
  // `--push` is buildx's shorthand for `--output type=registry`; spelling it out lets us add
  // rewrite-timestamp, which clamps the mtimes of files the build adds to SOURCE_DATE_EPOCH. Without it
  // only the config and history times are fixed, so two builds of the same commit get different layer
  // digests and a rebuild can never confirm a digest. The build always has an epoch, so it is always on.
  args.push('--output', 'type=registry,rewrite-timestamp=true');
  args.push(build.contextDir);
  return args;
}

/**
 * The child's environment: the build's own, plus SOURCE_DATE_EPOCH (buildx also reads it from here for
 * its exporters). When provenance is not asked for, buildx's default attestations are switched off:
 * their mode depends on the repository's visibility and the buildx version, they embed build times (so
 * the index digest changes on every run), and they turn a one-platform push into an index with an
 * `unknown/unknown` entry that Lambda and `docker manifest` reject. An explicit `--provenance` decides.
 */
export function buildxEnv(
  build: ContainerfileBuild,
  provenance?: BuildxProvenance,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...build.env,
    [SOURCE_DATE_EPOCH]: String(checkEpoch(build.sourceDateEpoch)),
  };
  if (provenance === undefined) env[NO_DEFAULT_ATTESTATIONS] = '1';
  else delete env[NO_DEFAULT_ATTESTATIONS];
  return env;
}

/** Reads buildx's --metadata-file; `file` is only for messages. */
export function parseBuildxMetadata(text: string, file: string): BuildxMetadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SlipwayError(`The buildx metadata file ${file} is not JSON: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  const nothing = `buildx exported nothing (the image was not pushed), so there is no digest to pin; check that the build pushes to a registry`;
  if (parsed === null) throw new SlipwayError(`The buildx metadata file ${file} contains null: ${nothing}.`);
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SlipwayError(`The buildx metadata file ${file} is not a JSON object.`);
  }
  const metadata = parsed as Record<string, unknown>;
  const digestText = metadata['containerimage.digest'];
  if (digestText === undefined || digestText === '') {
    throw new SlipwayError(`The buildx metadata file ${file} has no containerimage.digest: ${nothing}.`);
  }
  const digest = metadataDigest(digestText, 'containerimage.digest', file);
  const configText = metadata['containerimage.config.digest'];
  const configDigest =
    configText === undefined ? undefined : metadataDigest(configText, 'containerimage.config.digest', file);
  const names = metadata['image.name'];
  if (names !== undefined && typeof names !== 'string') {
    throw new SlipwayError(`The buildx metadata file ${file} has an image.name that is not a string.`);
  }
  const imageNames = (names ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return { digest, imageNames, ...(configDigest === undefined ? {} : { configDigest }) };
}

/** Builds and pushes with docker buildx and returns the digest buildx reported. */
export async function runBuildx(
  build: ContainerfileBuild,
  options: BuildxOptions,
  execFn: ExecFn = exec,
): Promise<BuiltImage> {
  // Computed first so a bad build fails before any program runs.
  const args = buildxArgs(build, options);
  const env = buildxEnv(build, options.provenance);
  for (const secret of build.secrets) {
    // buildx's own message for a missing variable does not say which input was wrong.
    if (secret.env !== undefined && env[secret.env] === undefined) {
      throw new SlipwayError(`Build secret "${secret.id}" reads environment variable ${secret.env}, which is not set.`);
    }
  }
  const builderVersion = await checkBuildx(env, build, execFn);
  // A file left by an earlier build would otherwise pass off that build's digest as this one's.
  await rm(options.metadataFile, { force: true });
  await execFn('docker', args, { env, logger: build.logger, stream: true, cwd: build.contextDir });
  let text: string;
  try {
    text = await readFile(options.metadataFile, 'utf8');
  } catch (error) {
    throw new SlipwayError(
      `docker buildx build succeeded but wrote no metadata file at ${options.metadataFile}, so the pushed digest is unknown.`,
      { cause: error },
    );
  }
  const metadata = parseBuildxMetadata(text, options.metadataFile);
  build.logger.debug(`buildx pushed ${metadata.digest} as ${metadata.imageNames.join(', ') || '(no names reported)'}`);
  return { digest: metadata.digest, builder: 'buildx', ...(builderVersion === undefined ? {} : { builderVersion }) };
}

/** Runs `docker buildx version`; returns the version, e.g. `0.17.1`, when it can be read. */
async function checkBuildx(
  env: Record<string, string | undefined>,
  build: ContainerfileBuild,
  execFn: ExecFn,
): Promise<string | undefined> {
  let stdout: string;
  try {
    ({ stdout } = await execFn('docker', ['buildx', 'version'], { env, logger: build.logger }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SlipwayError(`${MISSING_BUILDX}. (${reason})`, { cause: error });
  }
  // `github.com/docker/buildx v0.17.1 257815a`; development builds may print something else.
  const match = /\bv?(\d+)\.(\d+)\.(\d+)\S*/.exec(stdout);
  if (!match) {
    build.logger.warning(`Could not read the buildx version from ${JSON.stringify(stdout.trim())}.`);
    return undefined;
  }
  const [major, minor] = [Number(match[1]), Number(match[2])];
  // rewrite-timestamp is honoured from BuildKit 0.13, which ships with buildx 0.13; older ones ignore the
  // option silently, and a build that looks reproducible but is not is worse than a clear failure.
  if (major < MINIMUM_BUILDX[0] || (major === MINIMUM_BUILDX[0] && minor < MINIMUM_BUILDX[1])) {
    throw new SlipwayError(
      `docker buildx ${match[0]} is too old: Slipway needs buildx ${MINIMUM_BUILDX.join('.')} or newer for rewrite-timestamp (reproducible file times); update it or choose builder: buildah or native.`,
    );
  }
  return match[0].replace(/^v/, '');
}

function checkEpoch(epoch: number): number {
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new InvalidValueError('SOURCE_DATE_EPOCH', String(epoch), 'a whole number of seconds since 1970, ≥ 0');
  }
  return epoch;
}

/**
 * The user's build args with SOURCE_DATE_EPOCH added: buildx passes it from the environment only from
 * 0.10 and only for some drivers, so it also goes as a build arg where Containerfiles can `ARG` it.
 */
function buildArgsWithEpoch(buildArgs: ContainerfileBuild['buildArgs'], epoch: number): [string, string][] {
  const result: [string, string][] = [];
  for (const [name, value] of buildArgs) {
    if (name === '' || /[=\s]/.test(name)) {
      throw new InvalidValueError('build argument name', name, 'a name without "=" or whitespace');
    }
    if (name === SOURCE_DATE_EPOCH) {
      // Two different epochs would make the image's times depend on which one buildx happens to use.
      if (value !== String(epoch)) {
        throw new InvalidValueError(
          'build argument SOURCE_DATE_EPOCH',
          value,
          `the build's source date epoch (${epoch}) or no such build argument`,
          'it disagrees with the epoch Slipway sets for the build',
        );
      }
      continue;
    }
    result.push([name, value]);
  }
  result.push([SOURCE_DATE_EPOCH, String(epoch)]);
  return result;
}

function secretSpec(secret: BuildSecret): string {
  if (secret.id === '' || /[\s,="]/.test(secret.id)) {
    throw new InvalidValueError('build secret id', secret.id, 'a non-empty id without spaces, ",", "=" or quotes');
  }
  if ((secret.src === undefined) === (secret.env === undefined)) {
    throw new InvalidValueError(
      'build secret',
      secret.id,
      'exactly one of a source file (src) or an environment variable (env)',
    );
  }
  if (secret.env !== undefined) {
    if (!ENV_NAME.test(secret.env)) {
      throw new InvalidValueError('build secret environment variable', secret.env, 'a variable name like NPM_TOKEN');
    }
    return `id=${secret.id},env=${secret.env}`;
  }
  return `id=${secret.id},${csvField(`src=${secret.src}`)}`;
}

/** buildx reads --secret as one CSV record, so a path with "," or a quote must be quoted to stay one field. */
function csvField(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

function checkTag(tag: string): string {
  const reference = parseImageReference(tag);
  if (reference.kind !== 'registry' || reference.digest !== undefined) {
    throw new InvalidValueError('image tag to push', tag, 'registry/repository:tag (no digest, no layout)');
  }
  return tag;
}

/** buildx takes `--provenance false` or `mode=min|max`; a bare `min` is not valid CSV for it. */
function provenanceValue(provenance: BuildxProvenance): string {
  switch (provenance) {
    case 'false':
      return 'false';
    case 'min':
      return 'mode=min';
    case 'max':
      return 'mode=max';
  }
}

function metadataDigest(value: unknown, key: string, file: string): Digest {
  if (typeof value !== 'string')
    throw new SlipwayError(`The buildx metadata file ${file} has a ${key} that is not a string.`);
  try {
    return parseDigest(value);
  } catch (error) {
    if (error instanceof InvalidValueError) {
      throw new SlipwayError(`The buildx metadata file ${file} has a bad ${key}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function compareStrings(a: string, b: string): number {
  // Code-unit order, not locale order: the argv must not depend on the runner's locale.
  return a < b ? -1 : a > b ? 1 : 0;
}
