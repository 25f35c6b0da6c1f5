import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidValueError, SlipwayError } from '../../../shared/core/errors.js';
import {
  DigestMismatchError,
  digestAlgorithm,
  digestHex,
  digestOf,
  parseDigest,
  SizeMismatchError,
  verifyStream,
} from '../../../shared/oci/digest.js';
import type { ByteStream } from '../../../shared/oci/store.js';
import { errorOf } from '../../support/errors.js';

const ABC_SHA256 = 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const ABC_SHA512 =
  'sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f';
const abc = new TextEncoder().encode('abc');

async function drain(stream: ByteStream): Promise<number> {
  let total = 0;
  for await (const chunk of stream) total += chunk.byteLength;
  return total;
}

async function drainError(stream: ByteStream): Promise<unknown> {
  try {
    await drain(stream);
  } catch (error) {
    return error;
  }
  throw new Error('expected the stream to throw');
}

function chunksOf(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

describe('parseDigest', () => {
  it('accepts sha256 and sha512 in lowercase hex', () => {
    expect(parseDigest(ABC_SHA256)).toBe(ABC_SHA256);
    expect(parseDigest(ABC_SHA512)).toBe(ABC_SHA512);
  });

  it.each([
    ['', 'it is empty'],
    [' sha256:abc', 'it has leading or trailing whitespace'],
    ['ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'there is no ":" between algorithm and hex'],
    [':abc', 'the algorithm before ":" is empty'],
    ['sha256:', 'the hex after ":" is empty'],
    [`SHA256:${'a'.repeat(64)}`, 'the algorithm "SHA256" must be lowercase'],
    [`sha256!:${'a'.repeat(64)}`, '"sha256!" is not a valid algorithm name'],
    [`md5:${'a'.repeat(32)}`, 'unsupported algorithm "md5" (supported: sha256, sha512)'],
    [`sha384:${'a'.repeat(96)}`, 'unsupported algorithm "sha384" (supported: sha256, sha512)'],
    [`sha256:${'A'.repeat(64)}`, 'the hex contains uppercase letters; digests are lowercase hex'],
    [`sha256:${'g'.repeat(64)}`, 'the part after "sha256:" is not hex'],
    [`sha256:${'a'.repeat(63)}/`, 'the part after "sha256:" contains characters a digest cannot have'],
    ['sha256:abc', 'sha256 digests have 64 hex characters, this has 3'],
    [`sha512:${'a'.repeat(64)}`, 'sha512 digests have 128 hex characters, this has 64'],
  ])('rejects %j: %s', (text, detail) => {
    const error = errorOf(() => parseDigest(text));
    expect(error.what).toBe('digest');
    expect(error.detail).toBe(detail);
  });

  it('names the value, the problem and the expected form in one message', () => {
    expect(errorOf(() => parseDigest('sha256:abc')).message).toBe(
      'Invalid digest "sha256:abc": sha256 digests have 64 hex characters, this has 3; expected sha256:<64 lowercase hex>.',
    );
  });

  it('accepts every well-formed digest and throws only InvalidValueError otherwise', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('sha256', 'sha512'), (bytes, algorithm) => {
        const digest = digestOf(bytes, algorithm);
        expect(parseDigest(digest)).toBe(digest);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseDigest(text);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidValueError);
        }
      }),
    );
  });
});

describe('digestOf and its parts', () => {
  it('computes known digests', () => {
    expect(digestOf(abc)).toBe(ABC_SHA256);
    expect(digestOf(abc, 'sha512')).toBe(ABC_SHA512);
    expect(digestOf(new Uint8Array())).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('splits algorithm and hex', () => {
    expect(digestAlgorithm(ABC_SHA256)).toBe('sha256');
    expect(digestHex(ABC_SHA256)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(digestAlgorithm(ABC_SHA512)).toBe('sha512');
  });
});

describe('verifyStream', () => {
  const text = 'The quick brown fox jumps over the lazy dog';
  const digest = digestOf(Buffer.from(text));

  it('passes the same chunks through, in order, when digest and size match', async () => {
    const chunks = chunksOf(text, 7);
    const seen: Uint8Array[] = [];
    for await (const chunk of verifyStream(Readable.from(chunks), { digest, size: text.length })) seen.push(chunk);
    expect(seen).toHaveLength(chunks.length);
    seen.forEach((chunk, i) => {
      expect(chunk).toBe(chunks[i]);
    });
  });

  it('works without a size and with sha512', async () => {
    const sha512 = digestOf(Buffer.from(text), 'sha512');
    expect(await drain(verifyStream(Readable.from(chunksOf(text, 5)), { digest: sha512 }))).toBe(text.length);
  });

  it('verifies an empty stream', async () => {
    const empty = digestOf(new Uint8Array());
    expect(await drain(verifyStream(Readable.from([]), { digest: empty, size: 0 }))).toBe(0);
  });

  it('throws DigestMismatchError at the end, after yielding everything', async () => {
    const other = 'The quick brown fox jumps over the lazy cat';
    const stream = verifyStream(Readable.from(chunksOf(other, 8)), { digest, size: other.length });
    let yielded = 0;
    const error = await (async () => {
      try {
        for await (const chunk of stream) yielded += chunk.byteLength;
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(yielded).toBe(other.length);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toBeInstanceOf(SlipwayError);
    const actual = digestOf(Buffer.from(other));
    expect((error as DigestMismatchError).message).toBe(
      `Content does not match its digest: expected ${digest}, got ${actual}.`,
    );
    expect((error as DigestMismatchError).actual).toBe(actual);
  });

  it('throws as soon as more bytes than the size arrive, before yielding them', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++;
        yield new Uint8Array(10);
      }
    }
    const yielded: number[] = [];
    const error = await (async () => {
      try {
        for await (const chunk of verifyStream(endless(), { digest, size: 25 })) yielded.push(chunk.byteLength);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect((error as Error).message).toBe(
      `Content of ${digest} is longer than the expected 25 bytes: at least 30 bytes arrived.`,
    );
    expect(yielded).toEqual([10, 10]);
    expect(pulled).toBe(3);
  });

  it('throws a size error at the end when fewer bytes arrive, even if the digest would match', async () => {
    const error = await drainError(verifyStream(Readable.from(chunksOf(text, 4)), { digest, size: text.length + 1 }));
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect((error as Error).message).toBe(
      `Content of ${digest} is shorter than expected: ${text.length} bytes arrived, ${text.length + 1} expected.`,
    );
  });

  it('rejects a malformed expected digest or size when called, not on first read', () => {
    const source = Readable.from([]);
    expect(() => verifyStream(source, { digest: 'sha256:abc' })).toThrow(InvalidValueError);
    expect(() => verifyStream(source, { digest, size: -1 })).toThrow('Invalid blob size "-1"');
    expect(() => verifyStream(source, { digest, size: 1.5 })).toThrow(InvalidValueError);
  });

  it('accepts any chunking of bytes whose digestOf it is given', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 10 }), async (chunks) => {
        const all = Buffer.concat(chunks);
        const verified = verifyStream(Readable.from(chunks), { digest: digestOf(all), size: all.length });
        expect(await drain(verified)).toBe(all.length);
      }),
    );
  });

  it('lets a source error through unchanged', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1);
      throw new Error('connection reset');
    }
    const error = await drainError(verifyStream(broken(), { digest }));
    expect((error as Error).message).toBe('connection reset');
  });

  it('streams 64 MiB without holding it, and agrees with a hash over the same bytes', async () => {
    const chunkSize = 1024 * 1024;
    const chunkCount = 64;
    // Deterministic, so the same bytes can be produced twice without keeping them: once to compute the
    // expected digest, once to stream through verifyStream.
    function* generate(): Generator<Uint8Array> {
      for (let i = 0; i < chunkCount; i++) {
        const chunk = Buffer.alloc(chunkSize, i);
        chunk.writeUInt32BE((i * 2654435761) >>> 0, (i * 4099) % (chunkSize - 4));
        yield chunk;
      }
    }
    const hash = createHash('sha256');
    for (const chunk of generate()) hash.update(chunk);
    const expected = `sha256:${hash.digest('hex')}` as const;

    const total = await drain(
      verifyStream(Readable.from(generate()), { digest: expected, size: chunkSize * chunkCount }),
    );
    expect(total).toBe(64 * 1024 * 1024);
    // The first chunk alone matches digestOf, tying the streamed hash to the in-memory one.
    const first = generate().next().value as Uint8Array;
    expect(await drain(verifyStream(Readable.from([first]), { digest: digestOf(first), size: chunkSize }))).toBe(
      chunkSize,
    );
  });
});
