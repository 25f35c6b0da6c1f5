import type { Hash } from 'node:crypto';
import { InvalidValueError, SlipwayError } from '../core/errors.js';
import type { ByteStream } from './store.js';
import type { Digest } from './types.js';

// Content digests: parsing, computing, and checking bytes against them as they stream past.
// Only sha256 and sha512 are accepted: they are the algorithms the OCI image spec registers for
// use, and accepting any other name would mean trusting content we cannot verify.

export type DigestAlgorithm = 'sha256' | 'sha512';

// node:crypto takes ~6 ms to load, and every action parses digests in its inputs before it computes one: the
// module is fetched where a hash is made, so an action that stops at a bad input never loads it (bench/README.md).
const createHash = (algorithm: DigestAlgorithm): Hash => process.getBuiltinModule('node:crypto').createHash(algorithm);

const EXPECTED_DIGEST = 'sha256:<64 lowercase hex>';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

// The image spec's digest grammar: algorithm components joined by [+._-], then the encoded part.
const ALGORITHM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED = /^[a-zA-Z0-9=_-]+$/;

function isSupported(algorithm: string): algorithm is DigestAlgorithm {
  return Object.hasOwn(HEX_LENGTH, algorithm);
}

/** Validates `algorithm:hex`, returning it unchanged; throws InvalidValueError saying what is wrong. */
export function parseDigest(text: string): Digest {
  const fail: (detail: string) => never = (detail) => {
    throw new InvalidValueError('digest', text, EXPECTED_DIGEST, detail);
  };
  if (text === '') fail('it is empty');
  if (text.trim() !== text) fail('it has leading or trailing whitespace');
  const colon = text.indexOf(':');
  if (colon < 0) fail('there is no ":" between algorithm and hex');
  const algorithm = text.slice(0, colon);
  const encoded = text.slice(colon + 1);
  if (algorithm === '') fail('the algorithm before ":" is empty');
  if (encoded === '') fail('the hex after ":" is empty');
  if (!ALGORITHM.test(algorithm)) {
    if (ALGORITHM.test(algorithm.toLowerCase())) fail(`the algorithm "${algorithm}" must be lowercase`);
    fail(`"${algorithm}" is not a valid algorithm name`);
  }
  if (!ENCODED.test(encoded)) fail(`the part after "${algorithm}:" contains characters a digest cannot have`);
  if (!isSupported(algorithm)) fail(`unsupported algorithm "${algorithm}" (supported: sha256, sha512)`);
  if (!/^[0-9a-fA-F]+$/.test(encoded)) fail(`the part after "${algorithm}:" is not hex`);
  if (/[A-F]/.test(encoded)) fail('the hex contains uppercase letters; digests are lowercase hex');
  const length = HEX_LENGTH[algorithm];
  if (encoded.length !== length) fail(`${algorithm} digests have ${length} hex characters, this has ${encoded.length}`);
  return text as Digest;
}

/** The digest of bytes held in memory; for streams use verifyStream. */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** The hex part of a digest, e.g. for a blob's file name in an OCI layout. */
export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** Content whose bytes hash to something other than the digest it was fetched or stored under. */
export class DigestMismatchError extends SlipwayError {
  override name = 'DigestMismatchError';
  constructor(
    readonly expected: Digest,
    readonly actual: Digest,
  ) {
    super(`Content does not match its digest: expected ${expected}, got ${actual}.`);
  }
}

/** Content with more or fewer bytes than its descriptor says. */
export class SizeMismatchError extends SlipwayError {
  override name = 'SizeMismatchError';
  constructor(
    readonly digest: Digest,
    readonly expectedSize: number,
    /** Bytes seen; for too-long content, the count when reading stopped, so a lower bound. */
    readonly actualSize: number,
  ) {
    super(
      actualSize > expectedSize
        ? `Content of ${digest} is longer than the expected ${expectedSize} bytes: at least ${actualSize} bytes arrived.`
        : `Content of ${digest} is shorter than expected: ${actualSize} bytes arrived, ${expectedSize} expected.`,
    );
  }
}

/**
 * Passes chunks through unchanged while hashing them. Throws SizeMismatchError as soon as more than
 * `size` bytes arrive (so an endless or hostile stream is cut off early) or at the end when fewer did,
 * and DigestMismatchError at the end when the digest differs. Consumers must therefore read to the end
 * before trusting, or committing, what they have read.
 */
export function verifyStream(source: ByteStream, expected: { digest: Digest; size?: number }): ByteStream {
  // Checked here rather than inside the generator so bad arguments fail at the call, not at first read.
  const digest = parseDigest(expected.digest);
  const algorithm = digestAlgorithm(digest) as DigestAlgorithm;
  const { size } = expected;
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw new InvalidValueError('blob size', String(size), 'a non-negative integer');
  }
  return (async function* verify() {
    const hash = createHash(algorithm);
    let received = 0;
    for await (const chunk of source) {
      received += chunk.byteLength;
      if (size !== undefined && received > size) throw new SizeMismatchError(digest, size, received);
      hash.update(chunk);
      yield chunk;
    }
    if (size !== undefined && received < size) throw new SizeMismatchError(digest, size, received);
    const actual: Digest = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== digest) throw new DigestMismatchError(digest, actual);
  })();
}
