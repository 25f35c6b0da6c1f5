import { readFileSync } from 'node:fs';
import { InvalidValueError, SlipwayError } from '../core/errors.js';
import { parseDigest } from '../oci/digest.js';
import { parseImageReference } from '../oci/reference.js';
import type { Digest } from '../oci/types.js';
import { parseBuildxMetadata } from './buildx.js';

// Importing an image another tool already built and pushed: Slipway reads the digest that tool wrote
// down and takes it as the build's result. Each tool has its own file; all of them are read here so the
// rest of the pipeline (registry cross-check, signing, promotion) is the same whoever built the image.

export type ImportFormat = 'digestfile' | 'ko' | 'jib' | 'apko' | 'buildx';

export interface ImportedDigest {
  /** The digest to pin: a manifest, or the index when the tool pushed one. */
  digest: Digest;
  /** The references the tool reports having pushed, without digests; empty when the file names none. */
  names: string[];
  /** The format the file was read as (what `auto` detected). */
  format: ImportFormat;
}

const ACCEPTED_FORMATS =
  'one of: a buildah/podman --digestfile ("sha256:<hex>"), ko or apko --image-refs (one "registry/repo@sha256:<hex>" per line), jib\'s jib-image.json, or a buildx --metadata-file';

// Looser than a valid digest on purpose: `sha256:<too short>` is still recognisably meant as a digest
// file, and parseDigest then says exactly what is wrong with it.
const BARE_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[^\s/@]+$/;

const FORMATS: readonly ImportFormat[] = ['digestfile', 'ko', 'jib', 'apko', 'buildx'];

/** Reads the digest file `file` written by another builder; `format` defaults to detecting it from the content. */
export function readImportedDigest(file: string, format: ImportFormat | 'auto' = 'auto'): ImportedDigest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const failure = new InvalidValueError('image digest file', file, ACCEPTED_FORMATS, `it cannot be read (${reason})`);
    failure.cause = error;
    throw failure;
  }
  return parseImportedDigest(text, file, format);
}

/** The content-level half of readImportedDigest; `file` is only for messages. */
export function parseImportedDigest(
  text: string,
  file: string,
  format: ImportFormat | 'auto' = 'auto',
): ImportedDigest {
  if (format !== 'auto' && !FORMATS.includes(format)) {
    throw new InvalidValueError('import format', format, `auto or ${FORMATS.join(', ')}`);
  }
  const fail: Fail = (detail) => {
    throw new InvalidValueError('image digest file', file, ACCEPTED_FORMATS, detail);
  };
  if (text.trim() === '') fail('it is empty');
  switch (format === 'auto' ? detect(text, fail) : format) {
    case 'digestfile':
      return { digest: bareDigest(text, fail), names: [], format: 'digestfile' };
    case 'jib':
      return readJib(text, file, fail);
    case 'buildx': {
      const metadata = parseBuildxMetadata(text, file);
      return { digest: metadata.digest, names: metadata.imageNames, format: 'buildx' };
    }
    case 'ko':
      return readKo(text, file, fail);
    case 'apko':
      return readApko(text, fail);
  }
}

type Fail = (detail: string) => never;

/**
 * Tells the formats apart by content alone. ko and apko both write reference lines and cannot be told
 * apart; when every line has the same digest they mean the same thing, and when they do not the file is
 * ambiguous (several ko images, or an apko index with its platform images), so the user must say which.
 */
function detect(text: string, fail: Fail): ImportFormat {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed === 'null') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      fail(`it looks like JSON but does not parse (${(error as Error).message})`);
    }
    // Only buildx writes null: it is its way of saying nothing was exported, which its parser explains.
    if (parsed === null) return 'buildx';
    if (typeof parsed !== 'object' || Array.isArray(parsed)) fail('it is JSON but not an object');
    const keys = Object.keys(parsed as object);
    if (keys.includes('imageDigest')) return 'jib';
    // A buildx file without a digest (a build that was not pushed) still has buildx's own keys; reading
    // it as buildx gives the message that says why the digest is missing.
    if (keys.some((key) => key.startsWith('containerimage.') || key.startsWith('buildx.') || key === 'image.name')) {
      return 'buildx';
    }
    fail('it is a JSON object with neither "imageDigest" (jib) nor "containerimage.digest" (buildx)');
  }
  const lines = referenceLines(text);
  if (lines.length === 1 && BARE_DIGEST.test(lines[0]!)) return 'digestfile';
  if (lines.every((line) => line.includes('@'))) {
    const digests = new Set(lines.map((line) => line.slice(line.lastIndexOf('@') + 1)));
    if (digests.size > 1) {
      fail(
        `it lists ${digests.size} different digests, which is either ko output for several images (build one image per import) or apko output (index first; set the format to apko to pin the index)`,
      );
    }
    return 'ko';
  }
  fail('its content matches none of these formats');
}

function bareDigest(text: string, fail: Fail): Digest {
  const trimmed = text.trim();
  if (trimmed.includes('\n')) fail('a digest file holds one digest, this has several lines');
  return checkedDigest(trimmed, fail);
}

function checkedDigest(text: string, fail: Fail): Digest {
  try {
    return parseDigest(text);
  } catch (error) {
    if (error instanceof InvalidValueError)
      fail(`bad digest ${JSON.stringify(text)}: ${error.detail ?? 'not a digest'}`);
    throw error;
  }
}

interface JibImage {
  image?: unknown;
  imageId?: unknown;
  imageDigest?: unknown;
  tags?: unknown;
  imagePushed?: unknown;
}

function readJib(text: string, file: string, fail: Fail): ImportedDigest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    fail(`it is not JSON as jib-image.json is (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    fail('jib-image.json must be a JSON object');
  const jib = parsed as JibImage;
  if (typeof jib.imageDigest !== 'string') fail('jib-image.json has no "imageDigest" string');
  // imageDigest is the manifest (or manifest list) in the registry; imageId is the config's digest,
  // which names no pullable object.
  const digest = checkedDigest(jib.imageDigest, fail);
  // Older jib versions do not write imagePushed; only an explicit false is known not to be pushed.
  if (jib.imagePushed === false) {
    throw new SlipwayError(
      `jib built the image but did not push it (imagePushed is false in ${file}), so ${digest} is not in any registry; build with jib:build rather than jib:dockerBuild or jib:buildTar.`,
    );
  }
  const names: string[] = [];
  if (typeof jib.image === 'string' && jib.image !== '') {
    names.push(jib.image);
    if (Array.isArray(jib.tags)) {
      const repository = withoutTagOrDigest(jib.image);
      for (const tag of jib.tags) {
        if (typeof tag === 'string' && tag !== '') names.push(`${repository}:${tag}`);
      }
    }
  }
  return { digest, names: [...new Set(names)], format: 'jib' };
}

interface ReferenceLine {
  name: string;
  digest: Digest;
}

function readKo(text: string, file: string, fail: Fail): ImportedDigest {
  const lines = parseReferenceLines(text, 'ko --image-refs', fail);
  const digests = new Set(lines.map((line) => line.digest));
  if (digests.size > 1) {
    // Pinning one of several images silently would promote something the user did not pick.
    throw new SlipwayError(
      `${file} lists ${digests.size} images with different digests (${lines.map((line) => `${line.name}@${line.digest}`).join(', ')}); import one image at a time: pass ko one import path, or write each image's refs to its own file.`,
    );
  }
  return { digest: lines[0]!.digest, names: unique(lines.map((line) => line.name)), format: 'ko' };
}

/**
 * apko lists the index it published first, then each platform's image. The index is what a pull by tag
 * resolves to and what covers every platform, so it is the one to pin.
 */
function readApko(text: string, fail: Fail): ImportedDigest {
  const lines = parseReferenceLines(text, 'apko --image-refs', fail);
  const first = lines[0]!;
  return { digest: first.digest, names: [first.name], format: 'apko' };
}

function parseReferenceLines(text: string, what: string, fail: Fail): ReferenceLine[] {
  const lines = referenceLines(text);
  if (lines.length === 0) fail(`${what} lists no references`);
  return lines.map((line) => {
    let digest: Digest | undefined;
    try {
      const reference = parseImageReference(line);
      if (reference.kind === 'registry') digest = reference.digest;
    } catch (error) {
      if (error instanceof InvalidValueError)
        fail(`line ${JSON.stringify(line)} is not an image reference: ${error.detail}`);
      throw error;
    }
    if (digest === undefined) fail(`line ${JSON.stringify(line)} has no "@sha256:<hex>" digest`);
    return { name: line.slice(0, line.lastIndexOf('@')), digest };
  });
}

/** Non-empty lines, with CR and surrounding blanks removed: files made on Windows or by `echo` differ only so. */
function referenceLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** `registry/repo:tag@digest` → `registry/repo`, as written (no normalisation). */
function withoutTagOrDigest(reference: string): string {
  const at = reference.indexOf('@');
  const name = at >= 0 ? reference.slice(0, at) : reference;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
