import { InvalidValueError, SlipwayError } from '../core/errors.js';
import { digestOf } from '../oci/digest.js';
import { encodeJson, isAttestationManifest, isIndex, parsePlatform, platformString } from '../oci/manifest.js';
import {
  DOCKER_LAYER_GZIP,
  isImageManifestMediaType,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
} from '../oci/media-types.js';
import { type ImageStore, readBlob } from '../oci/store.js';
import type { Descriptor, Digest, FetchedManifest, ImageIndex, ImageManifest, Platform } from '../oci/types.js';
import { type BuiltLayer, type LayerSource, layerFromDirectories, normaliseTarget } from './tar.js';

// The native builder: an image from directories on disk, on top of a base image or scratch, with no
// daemon and no RUN steps. Everything that ends up in the image is a function of the inputs (files,
// base digest, config, created time), so building twice gives the same digest; that is what lets the
// pipeline rebuild to verify and promote by digest.

export interface NativeLayerSpec {
  sources: LayerSource[];
  /** The history entry's `created_by`; default describes the targets (never the host paths, which vary). */
  createdBy?: string;
  comment?: string;
}

export interface NativeImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  /** Merged over the base's Env by key: a key the base has keeps its place, new keys are appended. */
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  /** Merged over the base's labels. */
  labels?: Record<string, string>;
  /** `8080`, `8080/tcp`, `53/udp`; added to the base's. */
  exposedPorts?: string[];
}

export interface NativeBuildOptions {
  /** Where blobs and manifests are pushed. */
  target: ImageStore;
  /** The image to build on; 'scratch' (the default) means none. */
  base?: { store: ImageStore; reference: string; name?: string } | 'scratch';
  /** `os/arch[/variant]`, at least one; several give one manifest each and an index above them. */
  platforms: readonly (string | Platform)[];
  layers: readonly NativeLayerSpec[];
  config?: NativeImageConfig;
  /** RFC 3339 time for the config and history, derived from SOURCE_DATE_EPOCH by the caller. */
  created: string;
  /** File mtimes in the layers, in seconds; default the `created` time, as buildx's rewrite-timestamp does. */
  sourceDateEpoch?: number;
  uid?: number;
  gid?: number;
  preserveModes?: boolean;
  /** Annotations on each image manifest. */
  annotations?: Record<string, string>;
  /** Annotations on the index (only when one is written). */
  indexAnnotations?: Record<string, string>;
  /** Write an index even for one platform. */
  alwaysIndex?: boolean;
  tempDir?: string;
}

export interface NativePlatformResult {
  platform: Platform;
  descriptor: Descriptor;
  config: Descriptor;
  /** Base layers first, then the new ones. */
  layers: Descriptor[];
  /** The base manifest this platform was built on, when there is a base. */
  base?: Descriptor;
}

export interface NativeBuildResult {
  /** The top-level descriptor to pin: the index for several platforms (or alwaysIndex), else the manifest. */
  descriptor: Descriptor;
  /** The config digest of the first platform's image (the only one for a single-platform build). */
  configDigest: Digest;
  /** The new layers (shared by every platform), with the diff_ids in the configs. */
  layers: { descriptor: Descriptor; diffId: Digest; uncompressedSize: number }[];
  platforms: NativePlatformResult[];
  index?: Descriptor;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const PORT = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/;

type Json = Record<string, unknown>;

interface BaseImage {
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: Json;
}

/** Builds and pushes the image; tags are left to the caller, which moves them after checking the digest. */
export async function buildNativeImage(options: NativeBuildOptions): Promise<NativeBuildResult> {
  const platforms = checkPlatforms(options.platforms);
  const created = checkCreated(options.created);
  const exposed = (options.config?.exposedPorts ?? []).map(normalisePort);
  if (options.layers.length === 0 && (options.base === undefined || options.base === 'scratch')) {
    throw new SlipwayError('A native build from scratch needs at least one layer.');
  }
  for (const spec of options.layers) {
    if (spec.sources.length === 0) throw new SlipwayError('Every layer of a native build needs at least one source.');
    for (const source of spec.sources) normaliseTarget(source.target);
  }
  const base = options.base === undefined || options.base === 'scratch' ? undefined : options.base;

  // Resolved before any layer is built, so a base without the platform fails fast.
  const bases = new Map<string, BaseImage | undefined>();
  const baseTop = base === undefined ? undefined : await base.store.getManifest(base.reference);
  for (const platform of platforms) {
    bases.set(
      platformString(platform),
      base === undefined || baseTop === undefined ? undefined : await readBase(base.store, baseTop, platform),
    );
  }

  const epoch = options.sourceDateEpoch ?? Math.max(0, Math.floor(Date.parse(created) / 1000));
  const built: BuiltLayer[] = [];
  try {
    for (const spec of options.layers) {
      built.push(
        await layerFromDirectories(spec.sources, {
          sourceDateEpoch: epoch,
          ...(options.uid === undefined ? {} : { uid: options.uid }),
          ...(options.gid === undefined ? {} : { gid: options.gid }),
          ...(options.preserveModes === undefined ? {} : { preserveModes: options.preserveModes }),
          ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
        }),
      );
    }
    const { target } = options;
    // Blobs first, manifests after, so nothing pushed ever refers to a blob the store lacks.
    for (const layer of built) {
      await target.putBlob({ stream: layer.stream(), digest: layer.descriptor.digest, size: layer.descriptor.size });
    }
    const copied = new Set<Digest>();
    for (const image of bases.values()) {
      if (image === undefined || base === undefined) continue;
      for (const layer of image.manifest.layers) {
        if (copied.has(layer.digest)) continue;
        copied.add(layer.digest);
        await copyBaseBlob(base.store, target, layer);
      }
    }

    const results: NativePlatformResult[] = [];
    for (const platform of platforms) {
      const image = bases.get(platformString(platform));
      const config = imageConfig(options, platform, created, image?.config, built, exposed);
      const configBytes = encodeJson(config);
      const configDescriptor: Descriptor = {
        mediaType: OCI_CONFIG,
        digest: digestOf(configBytes),
        size: configBytes.byteLength,
      };
      await target.putBlob(configBytes);
      const layers = [...(image?.manifest.layers.map(baseLayerDescriptor) ?? []), ...built.map((l) => l.descriptor)];
      const annotations: Record<string, string> = { ...options.annotations };
      if (image !== undefined && base !== undefined) {
        // image-spec's own annotations for "built on", so scanners and updaters can find the base.
        annotations['org.opencontainers.image.base.digest'] = image.descriptor.digest;
        if (base.name !== undefined) annotations['org.opencontainers.image.base.name'] = base.name;
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: configDescriptor,
        layers,
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      };
      const { descriptor } = await target.putManifest(encodeJson(manifest), OCI_MANIFEST);
      results.push({
        platform,
        descriptor,
        config: configDescriptor,
        layers,
        ...(image === undefined ? {} : { base: image.descriptor }),
      });
    }

    const first = results[0]!;
    const result: NativeBuildResult = {
      descriptor: first.descriptor,
      configDigest: first.config.digest,
      layers: built.map((l) => ({ descriptor: l.descriptor, diffId: l.diffId, uncompressedSize: l.uncompressedSize })),
      platforms: results,
    };
    if (results.length > 1 || options.alwaysIndex) {
      const index: ImageIndex = {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: results.map((r) => ({
          mediaType: r.descriptor.mediaType,
          digest: r.descriptor.digest,
          size: r.descriptor.size,
          platform: r.platform,
        })),
        ...(options.indexAnnotations && Object.keys(options.indexAnnotations).length > 0
          ? { annotations: options.indexAnnotations }
          : {}),
      };
      const { descriptor } = await target.putManifest(encodeJson(index), OCI_INDEX);
      result.descriptor = descriptor;
      result.index = descriptor;
    }
    return result;
  } finally {
    await Promise.all(built.map((layer) => layer.dispose()));
  }
}

function checkPlatforms(given: readonly (string | Platform)[]): Platform[] {
  if (given.length === 0) throw new InvalidValueError('platforms', '', 'at least one os/arch[/variant]', 'none given');
  const platforms = given.map((p) => {
    const parsed = typeof p === 'string' ? p : platformString(p);
    // Objects go through the same parser, so `{os: 'linux/x'}` cannot sneak a separator in.
    return parsePlatform(parsed);
  });
  const seen = new Set<string>();
  for (const platform of platforms) {
    const key = platformString(platform);
    if (seen.has(key)) throw new InvalidValueError('platforms', key, 'each platform once', 'it is listed twice');
    seen.add(key);
  }
  return platforms;
}

function checkCreated(created: string): string {
  if (!RFC3339.test(created) || !Number.isFinite(Date.parse(created))) {
    throw new InvalidValueError('created time', created, 'an RFC 3339 time such as 2026-01-02T03:04:05Z');
  }
  return created;
}

function normalisePort(port: string): string {
  const match = PORT.exec(port);
  const number = Number(match?.[1]);
  if (!match || number < 1 || number > 65535) {
    throw new InvalidValueError('exposed port', port, 'a port from 1 to 65535, optionally with /tcp, /udp or /sctp');
  }
  return `${number}/${match[2] ?? 'tcp'}`;
}

/** Whether an index entry's platform is the one asked for; no variant asked means any variant matches. */
function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (candidate === undefined) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || candidate.variant === wanted.variant;
}

/** The base image for one platform: picked from an index, or the single manifest if its config matches. */
async function readBase(store: ImageStore, top: FetchedManifest, platform: Platform): Promise<BaseImage> {
  const wanted = platformString(platform);
  let fetched = top;
  if (isIndex(top.manifest)) {
    const candidates = top.manifest.manifests.filter(
      (m) => !isAttestationManifest(m) && platformMatches(m.platform, platform),
    );
    // linux/arm64 asked, linux/arm64 and linux/arm64/v8 offered: the entry that names no variant is the
    // closest match; otherwise the index's own order decides.
    const chosen = candidates.find((m) => m.platform?.variant === undefined) ?? candidates[0];
    if (chosen === undefined) {
      const offered = top.manifest.manifests
        .filter((m) => !isAttestationManifest(m) && m.platform !== undefined)
        .map((m) => platformString(m.platform as Platform));
      throw new SlipwayError(
        `The base image ${store.location}@${top.descriptor.digest} has no ${wanted} image; it offers ${offered.length > 0 ? offered.join(', ') : 'no platforms'}.`,
      );
    }
    fetched = await store.getManifest(chosen.digest);
  }
  const { manifest } = fetched;
  if (isIndex(manifest) || !isImageManifestMediaType(fetched.descriptor.mediaType)) {
    throw new SlipwayError(`The base image ${store.location}@${fetched.descriptor.digest} is not an image manifest.`);
  }
  const config = await readConfigObject(store, manifest.config);
  const actual = platformString({
    os: String(config.os ?? ''),
    architecture: String(config.architecture ?? ''),
    ...(typeof config.variant === 'string' ? { variant: config.variant } : {}),
  });
  if (!platformMatches(parsePlatformLoosely(config), platform)) {
    throw new SlipwayError(
      `The base image ${store.location}@${fetched.descriptor.digest} is ${actual}, not ${wanted}; use a multi-platform base or a matching platform.`,
    );
  }
  const diffIds = (config.rootfs as Json | undefined)?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new SlipwayError(
      `The base image ${store.location}@${fetched.descriptor.digest} has ${manifest.layers.length} layers but its config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids.`,
    );
  }
  return { descriptor: fetched.descriptor, manifest, config };
}

function parsePlatformLoosely(config: Json): Platform | undefined {
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return undefined;
  return {
    os: config.os,
    architecture: config.architecture,
    ...(typeof config.variant === 'string' ? { variant: config.variant } : {}),
  };
}

async function readConfigObject(store: ImageStore, descriptor: Descriptor): Promise<Json> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(await readBlob(store, descriptor)).toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SlipwayError(`The config ${descriptor.digest} at ${store.location} is not a JSON object.`);
  }
  return parsed as Json;
}

/**
 * Base layers as the new manifest lists them. Docker's gzip layer type is the same bytes as OCI's
 * tar+gzip, so it is renamed to keep the manifest all-OCI; anything else is kept as it is.
 */
function baseLayerDescriptor(layer: Descriptor): Descriptor {
  const mediaType = layer.mediaType === DOCKER_LAYER_GZIP ? OCI_LAYER_TAR_GZIP : layer.mediaType;
  return { ...layer, mediaType };
}

async function copyBaseBlob(from: ImageStore, to: ImageStore, layer: Descriptor): Promise<void> {
  // Same store (or already there): nothing to send. That is the common case of building on a base
  // that was itself pushed to the target repository.
  if (await to.hasBlob(layer.digest)) return;
  // Foreign layers live at their urls; runtimes fetch them from there, as copy.ts leaves them too.
  if (layer.urls !== undefined && layer.urls.length > 0 && !(await from.hasBlob(layer.digest))) return;
  if (await to.mountBlob(layer.digest, from)) return;
  const stream = await from.getBlob(layer);
  await to.putBlob({ stream, digest: layer.digest, size: layer.size });
}

function envKey(entry: string): string {
  const equals = entry.indexOf('=');
  return equals < 0 ? entry : entry.slice(0, equals);
}

function mergeEnv(baseEnv: unknown, env: Record<string, string> | undefined): string[] | undefined {
  const merged = Array.isArray(baseEnv) ? baseEnv.filter((e): e is string => typeof e === 'string') : [];
  for (const [key, value] of Object.entries(env ?? {})) {
    if (key === '' || key.includes('=')) {
      throw new InvalidValueError('environment variable name', key, 'a name without "="');
    }
    const entry = `${key}=${value}`;
    const position = merged.findIndex((e) => envKey(e) === key);
    if (position < 0) merged.push(entry);
    else merged[position] = entry;
  }
  return merged.length > 0 ? merged : undefined;
}

/** The container config fields image-spec defines, in its order; other fields a base has follow, sorted. */
const CONFIG_ORDER = [
  'User',
  'ExposedPorts',
  'Env',
  'Entrypoint',
  'Cmd',
  'Volumes',
  'WorkingDir',
  'Labels',
  'StopSignal',
  'ArgsEscaped',
] as const;

function imageConfig(
  options: NativeBuildOptions,
  platform: Platform,
  created: string,
  baseConfig: Json | undefined,
  built: readonly BuiltLayer[],
  exposed: readonly string[],
): Json {
  const given = options.config ?? {};
  const inherited: Json = { ...((baseConfig?.config as Json | undefined) ?? {}) };
  const fields: Json = { ...inherited };
  if (given.user !== undefined) fields.User = given.user;
  if (exposed.length > 0) {
    const ports: Json = { ...((inherited.ExposedPorts as Json | undefined) ?? {}) };
    for (const port of exposed) ports[port] = {};
    fields.ExposedPorts = ports;
  }
  const env = mergeEnv(inherited.Env, given.env);
  if (env !== undefined) fields.Env = env;
  if (given.entrypoint !== undefined) {
    fields.Entrypoint = given.entrypoint;
    // As in a Dockerfile: a new ENTRYPOINT drops the base's CMD, which was written for the old one.
    if (given.cmd === undefined) delete fields.Cmd;
  }
  if (given.cmd !== undefined) fields.Cmd = given.cmd;
  if (given.workingDir !== undefined) fields.WorkingDir = given.workingDir;
  if (given.labels !== undefined)
    fields.Labels = { ...((inherited.Labels as Json | undefined) ?? {}), ...given.labels };
  const ordered: Json = {};
  for (const key of CONFIG_ORDER) if (fields[key] !== undefined) ordered[key] = fields[key];
  for (const key of Object.keys(fields).sort())
    if (!(key in ordered) && fields[key] !== undefined) ordered[key] = fields[key];

  const baseRootfs = (baseConfig?.rootfs as Json | undefined)?.diff_ids;
  const diffIds = [...(Array.isArray(baseRootfs) ? baseRootfs : []), ...built.map((l) => l.diffId)];
  const baseHistory = Array.isArray(baseConfig?.history) ? baseConfig.history : [];
  const history = [
    ...baseHistory,
    ...options.layers.map((spec) => ({
      created,
      created_by: spec.createdBy ?? describeLayer(spec),
      ...(spec.comment === undefined ? {} : { comment: spec.comment }),
    })),
  ];
  return {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: ordered,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history,
  };
}

function describeLayer(spec: NativeLayerSpec): string {
  const targets = spec.sources.map((s) => `/${normaliseTarget(s.target)}`);
  return `slipway native: COPY to ${targets.join(', ')}`;
}
