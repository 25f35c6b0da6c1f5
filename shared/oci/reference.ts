import { InvalidValueError } from '../core/errors.js';
import { parseDigest } from './digest.js';
import type { Digest } from './types.js';

// Image references as users write them. Registry references follow distribution/reference (the
// grammar and normalisation docker itself uses), so `nginx` here means what `docker pull nginx` means.
// Layout references (`oci-layout:<dir>`) name an OCI image-layout directory on disk.

export interface RegistryReference {
  kind: 'registry';
  /** Host with optional port, normalised: `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Path within the registry, normalised: `library/nginx`, `acme/api`. */
  repository: string;
  tag?: string;
  digest?: Digest;
}

export interface LayoutReference {
  kind: 'layout';
  /** The directory as written, not resolved: relative paths stay relative to the working directory. */
  path: string;
  tag?: string;
  digest?: Digest;
}

export type ImageReference = RegistryReference | LayoutReference;

export const LAYOUT_PREFIX = 'oci-layout:';
export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_LEGACY = 'index.docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';
const OFFICIAL_PREFIX = 'library/';
const MAX_NAME_LENGTH = 255;
const MAX_TAG_LENGTH = 128;

const EXPECTED_REFERENCE = '[registry[:port]/]repository[:tag][@sha256:<64 hex>] or oci-layout:<dir>[:tag|@digest]';
const EXPECTED_TAG = 'up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DOMAIN_NAME =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
// Docker refuses a bare 64-hex name because it cannot be told apart from an image ID.
const IMAGE_ID = /^[a-f0-9]{64}$/;
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
// Whitespace around a value or control characters in it are copy-paste or templating accidents;
// trimming silently would hide which value was really meant. Inner spaces are fine in a directory.
const CONTROL = /\p{Cc}/u;

/** Parses a registry or layout reference; throws InvalidValueError naming exactly what is wrong. */
export function parseImageReference(text: string): ImageReference {
  const fail = failWith(text);
  if (text === '') fail('it is empty');
  if (text.trim() !== text) fail('it has leading or trailing whitespace');
  if (CONTROL.test(text)) fail('it contains control characters');
  if (text.startsWith(LAYOUT_PREFIX)) return parseLayout(text, fail);
  if (/\s/.test(text)) fail('it contains whitespace');
  try {
    return parseRegistry(text, fail);
  } catch (error) {
    // `oci:<dir>` is skopeo's spelling; `oci:5000/x` is a valid registry, so hint only on failure.
    if (error instanceof InvalidValueError && text.startsWith('oci:')) {
      fail(`${error.detail}; for an OCI layout directory write ${LAYOUT_PREFIX}<dir>`);
    }
    throw error;
  }
}

type Fail = (detail: string) => never;

function failWith(text: string): Fail {
  return (detail) => {
    throw new InvalidValueError('image reference', text, EXPECTED_REFERENCE, detail);
  };
}

function parseRegistry(text: string, fail: Fail): RegistryReference {
  const scheme = SCHEME.exec(text);
  if (scheme) fail(`references have no URL scheme; remove "${scheme[0]}"`);
  if (IMAGE_ID.test(text)) {
    fail('a bare 64-character hex name cannot be told apart from an image ID; add a registry, tag or digest');
  }

  let rest = text;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = referenceDigest(rest.slice(at + 1), fail);
    rest = rest.slice(0, at);
  }

  if (rest.startsWith('[') && !rest.includes('/')) {
    fail(`"${rest}" looks like an IPv6 registry, but no "/repository" follows it`);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon + 1).includes('/')) {
    tag = referenceTag(rest.slice(colon + 1), fail);
    rest = rest.slice(0, colon);
  }

  if (rest === '') fail('the repository name is missing');

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first === 'localhost' || first.includes('.') || first.includes(':')) {
      registry = first === DOCKER_HUB_LEGACY ? DOCKER_HUB : first;
      repository = rest.slice(slash + 1);
      checkRegistry(registry, fail);
    }
  }
  checkRepository(repository, fail);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = OFFICIAL_PREFIX + repository;

  const nameLength = registry.length + 1 + repository.length;
  if (nameLength > MAX_NAME_LENGTH) {
    fail(`the full name ${registry}/… is ${nameLength} characters; at most ${MAX_NAME_LENGTH} are allowed`);
  }
  return { kind: 'registry', registry, repository, ...(tag === undefined ? {} : { tag }), ...optionalDigest(digest) };
}

function checkRegistry(registry: string, fail: Fail): void {
  let host = registry;
  let port: string | undefined;
  if (registry.startsWith('[')) {
    const close = registry.indexOf(']');
    if (close < 0) fail(`registry "${registry}" has "[" without a closing "]"`);
    host = registry.slice(0, close + 1);
    const after = registry.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) fail(`registry "${registry}" has "${after}" after its IPv6 address`);
      port = after.slice(1);
    }
    if (!IPV6_HOST.test(host)) {
      fail(`registry "${registry}" is not a valid IPv6 address in brackets (zones and embedded IPv4 are not allowed)`);
    }
  } else {
    const colon = registry.indexOf(':');
    if (colon >= 0) {
      host = registry.slice(0, colon);
      port = registry.slice(colon + 1);
      if (port.includes(':')) fail(`registry "${registry}": an IPv6 address must be in brackets, like [::1]:5000`);
    }
    if (host === '') fail(`registry "${registry}" has an empty host name`);
    if (!DOMAIN_NAME.test(host)) {
      fail(
        `registry host "${host}" is not a valid host name (letters, digits and inner "-", in components separated by ".")`,
      );
    }
  }
  if (port !== undefined && !/^[0-9]+$/.test(port))
    fail(`the port "${port}" of registry "${registry}" must be numeric`);
}

function checkRepository(repository: string, fail: Fail): void {
  if (repository === '') fail('the repository name after the registry is missing');
  if (/[A-Z]/.test(repository)) fail(`repository names must be lowercase, "${repository}" is not`);
  for (const component of repository.split('/')) {
    if (component === '')
      fail(`repository "${repository}" has an empty path component (a leading, trailing or double "/")`);
    if (!PATH_COMPONENT.test(component)) {
      fail(
        `path component "${component}" is not valid: use lowercase letters and digits, separated by one ".", one or two "_", or "-"`,
      );
    }
  }
}

function referenceTag(tag: string, fail: Fail): string {
  const problem = tagProblem(tag);
  if (problem !== undefined) fail(problem);
  return tag;
}

function referenceDigest(text: string, fail: Fail): Digest {
  if (text === '') fail('the digest after "@" is empty');
  try {
    return parseDigest(text);
  } catch (error) {
    if (error instanceof InvalidValueError) fail(`bad digest "${text}": ${error.detail ?? 'not a digest'}`);
    throw error;
  }
}

function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'the tag after ":" is empty';
  if (TAG.test(tag)) return undefined;
  const first = tag.charAt(0);
  if (!/\w/.test(first)) return `the tag starts with "${first}"; tags start with a letter, digit or "_"`;
  const bad = /[^\w.-]/.exec(tag);
  if (bad) return `the tag contains "${bad[0]}"; tags contain only letters, digits, "_", "." and "-"`;
  return `the tag is ${tag.length} characters; at most ${MAX_TAG_LENGTH} are allowed`;
}

function parseLayout(text: string, fail: Fail): LayoutReference {
  let rest = text.slice(LAYOUT_PREFIX.length);
  let digest: Digest | undefined;
  let tag: string | undefined;
  // A directory may itself contain "@" or ":"; only a final part free of path separators can be a
  // digest or tag, and a digest always has its own ":".
  const at = rest.lastIndexOf('@');
  if (at >= 0 && isFinalSegment(rest.slice(at + 1)) && rest.slice(at + 1).includes(':')) {
    digest = referenceDigest(rest.slice(at + 1), fail);
    rest = rest.slice(0, at);
  } else if (at >= 0 && at === rest.length - 1) {
    fail('the digest after "@" is empty');
  }
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && isFinalSegment(rest.slice(colon + 1))) {
    tag = referenceTag(rest.slice(colon + 1), fail);
    rest = rest.slice(0, colon);
  }
  if (rest === '') fail(`the directory after "${LAYOUT_PREFIX}" is empty`);
  if (rest.trim() !== rest) fail('the directory has leading or trailing whitespace');
  checkNoClimbAfterColon(rest, fail);
  return { kind: 'layout', path: rest, ...(tag === undefined ? {} : { tag }), ...optionalDigest(digest) };
}

/**
 * Refuses a ".." that follows a ":" in the directory: `oci-layout:/tmp/lx:../../etc` was meant as layout /tmp/lx
 * with tag "../../etc", which no tag can be, and taken as a directory it climbs to /tmp/etc, so blobs land
 * where nothing reading "/tmp/lx" will look. A drive letter (`C:\out`) is not such a ":".
 */
function checkNoClimbAfterColon(directory: string, fail: Fail): void {
  const segments = directory.split(/[/\\]/);
  const first = segments.findIndex((segment, i) => segment.includes(':') && !(i === 0 && /^[A-Za-z]:$/.test(segment)));
  if (first < 0) return;
  const colon = segments[first]!.indexOf(':');
  const after = [segments[first]!.slice(colon + 1), ...segments.slice(first + 1)];
  if (!after.includes('..')) return;
  const offset = segments.slice(0, first).reduce((length, segment) => length + segment.length + 1, 0);
  const tag = directory.slice(offset + colon + 1);
  fail(
    `"${tag}" after ":" is not a tag (${EXPECTED_TAG}), and as part of the directory its ".." would climb out of it`,
  );
}

/** True when the text after a ":" or "@" contains no path separator, so it cannot be part of the directory. */
function isFinalSegment(text: string): boolean {
  // Backslash too, so `oci-layout:C:\out` on a Windows runner is a directory rather than tag "\out".
  return !text.includes('/') && !text.includes('\\');
}

function optionalDigest(digest: Digest | undefined): { digest?: Digest } {
  return digest === undefined ? {} : { digest };
}

/** The canonical string: `docker.io/library/nginx:1.25@sha256:…`, `oci-layout:/dir@sha256:…`. */
export function formatImageReference(ref: ImageReference): string {
  const name = ref.kind === 'layout' ? LAYOUT_PREFIX + ref.path : `${ref.registry}/${ref.repository}`;
  return name + suffix(ref);
}

function suffix(ref: ImageReference): string {
  return (ref.tag === undefined ? '' : `:${ref.tag}`) + (ref.digest === undefined ? '' : `@${ref.digest}`);
}

/** The name as docker shows it (`nginx`, `acme/api`, `ghcr.io/acme/api`), without tag or digest. */
export function familiarName(ref: ImageReference): string {
  if (ref.kind === 'layout') return LAYOUT_PREFIX + ref.path;
  if (ref.registry !== DOCKER_HUB) return `${ref.registry}/${ref.repository}`;
  const official = ref.repository.startsWith(OFFICIAL_PREFIX) ? ref.repository.slice(OFFICIAL_PREFIX.length) : '';
  // Only single-component official names shorten: `library/a/b` would otherwise read as Docker Hub user `a`.
  return official !== '' && !official.includes('/') ? official : ref.repository;
}

/** The familiar name with tag and digest, for messages: `nginx:1.25@sha256:…`. */
export function familiarString(ref: ImageReference): string {
  return familiarName(ref) + suffix(ref);
}

/** The host to send registry API requests to: Docker Hub's API does not live at docker.io. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** Narrows to a reference that pins a digest, for inputs that must not move under a tag. */
export function requireDigest<R extends ImageReference>(ref: R, text: string): R & { digest: Digest } {
  if (ref.digest === undefined) {
    throw new InvalidValueError(
      'image reference',
      text,
      'name@sha256:<64 hex>',
      'it has no digest, and a tag alone can change',
    );
  }
  return ref as R & { digest: Digest };
}

/** Checks a reference names only a repository (or layout), for inputs where tags come from elsewhere. */
export function requireRepositoryOnly<R extends ImageReference>(ref: R, text: string): R {
  if (ref.tag !== undefined || ref.digest !== undefined) {
    const has =
      ref.tag !== undefined && ref.digest !== undefined
        ? 'a tag and a digest'
        : ref.tag !== undefined
          ? 'a tag'
          : 'a digest';
    throw new InvalidValueError('image reference', text, 'a repository without tag or digest', `it has ${has}`);
  }
  return ref;
}

/** The same image location pinned to `digest`; any tag is kept, as docker does. */
export function withDigest<R extends ImageReference>(ref: R, digest: Digest): R {
  return { ...ref, digest: parseDigest(digest) };
}

/** The same image location with `tag`; any digest is kept, as docker does. */
export function withTag<R extends ImageReference>(ref: R, tag: string): R {
  return { ...ref, tag: parseTag(tag) };
}

/** Validates a tag on its own (e.g. a tag input), returning it unchanged. */
export function parseTag(text: string): string {
  const problem = tagProblem(text);
  if (problem !== undefined) throw new InvalidValueError('tag', text, EXPECTED_TAG, problem);
  return text;
}

export function isValidTag(text: string): boolean {
  return TAG.test(text);
}

/** An image reference that must carry a digest, as every action that acts on what was built takes it. */
export function parsePinnedReference(text: string): ImageReference & { digest: Digest } {
  return requireDigest(parseImageReference(text), text);
}
