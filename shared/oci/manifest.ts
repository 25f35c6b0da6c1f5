import { InvalidValueError, showValue } from '../core/errors.js';
import { digestOf, parseDigest } from './digest.js';
import {
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_MEDIA_TYPES,
  mediaTypeEssence,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.js';
import type { Descriptor, ImageIndex, Manifest, Platform } from './types.js';

// Parsing manifests and indexes from untrusted bytes (registries, layout directories, users). Every
// descriptor is checked here so later code can follow digests and sizes without re-validating them.

const EXPECTED_MANIFEST = 'an OCI image manifest or index, or a Docker schema 2 manifest or manifest list';

type Json = Record<string, unknown>;

class ManifestProblem extends Error {}

function problem(detail: string): never {
  throw new ManifestProblem(detail);
}

/**
 * Parses and validates manifest bytes. The media type comes from the body's `mediaType`, else from a
 * manifest `Content-Type`, else from the shape (`manifests` → index, `config` → image manifest).
 * The returned manifest is the parsed JSON itself, so fields Slipway does not know survive.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): { manifest: Manifest; mediaType: string } {
  try {
    return parseManifestUnchecked(bytes, contentType);
  } catch (error) {
    if (!(error instanceof ManifestProblem)) throw error;
    // The body itself would flood the message; its digest and size identify it.
    const shown = `${digestOf(bytes)}, ${bytes.byteLength} bytes`;
    throw new InvalidValueError('manifest', shown, EXPECTED_MANIFEST, error.message);
  }
}

function parseManifestUnchecked(bytes: Uint8Array, contentType?: string): { manifest: Manifest; mediaType: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    problem('it is not valid UTF-8');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    problem(`it is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(body)) problem('it is not a JSON object');

  const schemaVersion = body.schemaVersion;
  if (schemaVersion === 1) problem('Docker schema 1 manifests are not supported');
  if (schemaVersion === undefined) problem('schemaVersion is missing');
  if (schemaVersion !== 2) problem(`schemaVersion is ${JSON.stringify(schemaVersion)}, not 2`);

  const mediaType = manifestMediaType(body, contentType);
  if (isIndexMediaType(mediaType)) {
    if (body.config !== undefined && body.manifests === undefined) {
      problem(`mediaType ${mediaType} is an index, but the body has "config" and no "manifests"`);
    }
    checkIndex(body);
  } else {
    if (body.manifests !== undefined && body.config === undefined) {
      problem(`mediaType ${mediaType} is an image manifest, but the body has "manifests" and no "config"`);
    }
    checkImageManifest(body);
  }
  return { manifest: body as unknown as Manifest, mediaType };
}

function manifestMediaType(body: Json, contentType: string | undefined): string {
  const declared = body.mediaType;
  if (declared !== undefined && typeof declared !== 'string') problem('mediaType is not a string');
  // Only a manifest media type in the header says anything: registries and file servers also answer
  // with generic types such as application/json or application/octet-stream.
  const header = contentType === undefined ? undefined : mediaTypeEssence(contentType);
  const fromHeader = header !== undefined && isManifestMediaType(header) ? header : undefined;

  if (declared !== undefined) {
    if (!isManifestMediaType(declared)) {
      problem(`mediaType ${JSON.stringify(declared)} is not one of ${MANIFEST_MEDIA_TYPES.join(', ')}`);
    }
    if (fromHeader !== undefined && fromHeader !== mediaTypeEssence(declared)) {
      problem(`its mediaType ${declared} contradicts the Content-Type ${fromHeader}`);
    }
    return declared;
  }
  if (fromHeader !== undefined) return fromHeader;
  const hasManifests = body.manifests !== undefined;
  const hasConfig = body.config !== undefined;
  if (hasManifests && hasConfig) problem('it has both "manifests" and "config" and no mediaType to say which it is');
  if (hasManifests) return OCI_INDEX;
  if (hasConfig) return OCI_MANIFEST;
  problem('it has neither "config" (image manifest) nor "manifests" (index)');
}

function checkImageManifest(body: Json): void {
  checkDescriptor(body.config, 'config');
  const layers = body.layers;
  if (layers === undefined) problem('"layers" is missing');
  if (!Array.isArray(layers)) problem('"layers" is not an array');
  layers.forEach((layer, i) => {
    checkDescriptor(layer, `layers[${i}]`);
  });
  checkCommon(body);
}

function checkIndex(body: Json): void {
  const manifests = body.manifests;
  if (manifests === undefined) problem('"manifests" is missing');
  if (!Array.isArray(manifests)) problem('"manifests" is not an array');
  manifests.forEach((entry, i) => {
    checkDescriptor(entry, `manifests[${i}]`);
  });
  checkCommon(body);
}

function checkCommon(body: Json): void {
  if (body.subject !== undefined) checkDescriptor(body.subject, 'subject');
  checkOptionalString(body.artifactType, 'artifactType');
  checkAnnotations(body.annotations, 'annotations');
}

function checkDescriptor(value: unknown, where: string): asserts value is Descriptor {
  if (value === undefined) problem(`"${where}" is missing`);
  if (!isObject(value)) problem(`"${where}" is not an object`);
  if (typeof value.mediaType !== 'string' || value.mediaType === '') {
    problem(`${where}.mediaType is ${value.mediaType === undefined ? 'missing' : 'not a non-empty string'}`);
  }
  if (typeof value.digest !== 'string') {
    problem(`${where}.digest is ${value.digest === undefined ? 'missing' : 'not a string'}`);
  }
  try {
    parseDigest(value.digest);
  } catch (error) {
    if (error instanceof InvalidValueError)
      problem(`${where}.digest ${showValue(value.digest)} is invalid: ${error.detail}`);
    throw error;
  }
  const size = value.size;
  if (size === undefined) problem(`${where}.size is missing`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    problem(`${where}.size is ${JSON.stringify(size)}, not a non-negative integer`);
  }
  if (value.urls !== undefined && !isStringArray(value.urls)) problem(`${where}.urls is not an array of strings`);
  checkAnnotations(value.annotations, `${where}.annotations`);
  checkOptionalString(value.artifactType, `${where}.artifactType`);
  checkOptionalString(value.data, `${where}.data`);
  if (value.platform !== undefined) checkPlatform(value.platform, `${where}.platform`);
}

function checkPlatform(value: unknown, where: string): void {
  if (!isObject(value)) problem(`${where} is not an object`);
  if (typeof value.os !== 'string') problem(`${where}.os is missing or not a string`);
  if (typeof value.architecture !== 'string') problem(`${where}.architecture is missing or not a string`);
  checkOptionalString(value.variant, `${where}.variant`);
  checkOptionalString(value['os.version'], `${where}["os.version"]`);
  const features = value['os.features'];
  if (features !== undefined && !isStringArray(features)) problem(`${where}["os.features"] is not an array of strings`);
}

function checkAnnotations(value: unknown, where: string): void {
  if (value === undefined) return;
  if (!isObject(value)) problem(`${where} is not an object`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') problem(`${where}[${JSON.stringify(key)}] is not a string`);
  }
}

function checkOptionalString(value: unknown, where: string): void {
  if (value !== undefined && typeof value !== 'string') problem(`${where} is not a string`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string');
}

export function isIndex(manifest: Manifest): manifest is ImageIndex {
  return Array.isArray((manifest as Partial<ImageIndex>).manifests);
}

/**
 * Serialises JSON that Slipway writes (manifests, configs). Compact, so the bytes and therefore the
 * digest are the same on every run; key order is the caller's, which keeps spec field order readable.
 */
export function encodeJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  // JSON.stringify returns undefined for undefined, functions and symbols: a caller bug, not user input.
  if (text === undefined) throw new TypeError(`encodeJson: ${typeof value} cannot be serialised as JSON`);
  return new TextEncoder().encode(text);
}

/** `linux/arm64/v8`, the form docker and buildx use on the command line. */
export function platformString(platform: Platform): string {
  const base = `${platform.os}/${platform.architecture}`;
  return platform.variant ? `${base}/${platform.variant}` : base;
}

const PLATFORM_PART = /^[A-Za-z0-9_.-]+$/;
const PLATFORM_NAMES = ['os', 'architecture', 'variant'] as const;

/** Parses `os/arch[/variant]`; values are kept as written (no alias normalisation such as x86_64 → amd64). */
export function parsePlatform(text: string): Platform {
  const fail = (detail: string): never => {
    throw new InvalidValueError('platform', text, 'os/arch[/variant], e.g. linux/amd64', detail);
  };
  if (text === '') fail('it is empty');
  if (/\s/.test(text)) fail('it contains whitespace');
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3) fail(`it has ${parts.length} part${parts.length === 1 ? '' : 's'}`);
  parts.forEach((part, i) => {
    const name = PLATFORM_NAMES[i] ?? 'part';
    if (part === '') fail(`the ${name} is empty`);
    if (!PLATFORM_PART.test(part)) fail(`the ${name} "${part}" may contain only letters, digits, "_", "." and "-"`);
  });
  // Registries and runtimes compare platforms exactly, and every os and architecture they know (Go's GOOS and
  // GOARCH) is lower case: `linux/AMD64` would build an image no machine selects.
  const upper = parts.findIndex((part) => part !== part.toLowerCase());
  if (upper !== -1) {
    fail(
      `the ${PLATFORM_NAMES[upper]} "${parts[upper]}" is not lower case, as platforms are: write "${text.toLowerCase()}"`,
    );
  }
  const [os = '', architecture = '', variant] = parts;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/**
 * True for the entries buildx adds to an index to carry provenance and SBOM attestations: they are not
 * runnable images, so platform selection and per-platform work must skip them.
 */
export function isAttestationManifest(descriptor: Pick<Descriptor, 'platform' | 'annotations'>): boolean {
  const platform = descriptor.platform;
  if (platform?.os === 'unknown' && platform.architecture === 'unknown') return true;
  return descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}
