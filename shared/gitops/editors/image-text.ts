import { InvalidValueError } from '../../core/errors.js';
import { parseImageReference, parseTag } from '../../oci/reference.js';
import type { Digest } from '../../oci/types.js';
import type { ImagePin } from '../types.js';

// Image strings as manifests write them. The name is kept exactly as written when a tag or digest is rewritten
// (`nginx` stays `nginx`), while matching compares normalised names, so `nginx`, `docker.io/nginx` and
// `docker.io/library/nginx` are one image (distribution/reference rules, through shared/oci/reference.ts).

export interface ImageText {
  /** As written: registry and repository, no tag or digest. */
  name: string;
  tag?: string;
  digest?: string;
}

/** Splits `name[:tag][@digest]` without validating, so templated or odd values can still be compared and skipped. */
export function splitImage(text: string): ImageText {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  // The tag follows the last ":" of the last path component: `localhost:5000/app` has none.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

export function formatImage(image: ImageText): string {
  return (
    image.name +
    (image.tag === undefined ? '' : `:${image.tag}`) +
    (image.digest === undefined ? '' : `@${image.digest}`)
  );
}

/** `registry/repository` in canonical form, or undefined where the text is not an image name (a template, say). */
export function normaliseName(name: string): string | undefined {
  try {
    const ref = parseImageReference(name);
    if (ref.kind !== 'registry' || ref.tag !== undefined || ref.digest !== undefined) return undefined;
    return `${ref.registry}/${ref.repository}`;
  } catch (error) {
    if (error instanceof InvalidValueError) return undefined;
    throw error;
  }
}

/** The configured image of a target, normalised; a bad one is the user's mistake in .slipway.yaml. */
export function targetName(image: string): string {
  const ref = parseImageReference(image);
  if (ref.kind !== 'registry' || ref.tag !== undefined || ref.digest !== undefined) {
    throw new InvalidValueError('service image', image, 'a repository without tag or digest, e.g. ghcr.io/acme/api');
  }
  return `${ref.registry}/${ref.repository}`;
}

const SHA256 = /^sha256:[a-f0-9]{64}$/;

export function isDigest(text: string | undefined): text is Digest {
  return text !== undefined && SHA256.test(text);
}

/** Validates what is about to be written: a sha256 digest and, if given, a valid tag. */
export function checkPin(pin: ImagePin): void {
  if (!SHA256.test(pin.digest)) {
    throw new InvalidValueError('digest', pin.digest, 'sha256:<64 lowercase hex>');
  }
  if (pin.tag !== undefined) parseTag(pin.tag);
}

/** A pin read from a file; undefined where the file pins no (valid) digest there. */
export function pinOf(name: string, tag: string | undefined, digest: string | undefined): ImagePin | undefined {
  if (!isDigest(digest)) return undefined;
  return { name, digest, ...(tag === undefined || tag === '' ? {} : { tag }) };
}
