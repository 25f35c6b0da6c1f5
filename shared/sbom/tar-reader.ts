import { SlipwayError } from '../core/errors.js';
import type { EntryHeader } from './types.js';

// A streaming reader for the tar archives inside image layers. Layers are read once, front to back, and
// may hold gigabytes, so nothing here keeps more than one entry's header (and its PAX or GNU long-name
// records) in memory: file content is handed out as the chunks that arrive, and whatever a consumer
// leaves unread is skipped before the next header is parsed.
//
// It reads what image builders actually write: POSIX ustar, PAX extended headers (Docker, BuildKit,
// Slipway's own writer for long and non-ASCII paths), GNU long names and links (GNU tar, older builders),
// and base-256 numbers (files of 8 GiB or more).

const BLOCK = 512;
/**
 * PAX and GNU long-name records describe one path; real ones are a few hundred bytes. The cap keeps a
 * hostile layer from making the reader hold an arbitrary amount of memory for a "header".
 */
const MAX_META_SIZE = 1024 * 1024;
const EMPTY = new Uint8Array(0);

export interface TarEntry {
  /** Normalised: no leading `./` or `/`, no empty or `.` segments, no trailing `/`; `''` is the root. */
  path: string;
  header: EntryHeader;
  /**
   * The entry's bytes (empty for everything but files and unknown types that carry data). Read it, or
   * part of it, before asking for the next entry; it cannot be read afterwards.
   */
  content: AsyncIterable<Uint8Array>;
}

export interface ReadTarOptions {
  /** The layer's digest, named in errors so a user can tell which blob is broken. */
  layer?: string;
}

/** A malformed or truncated archive: names the layer and the offset in the uncompressed tar. */
export class TarFormatError extends SlipwayError {
  override name = 'TarFormatError';
  constructor(
    readonly layer: string | undefined,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(
      `${layer === undefined ? 'The tar archive' : `Layer ${layer}`} is not a valid tar archive: ${detail} (at byte ${offset} of the uncompressed tar).`,
    );
  }
}

/**
 * Byte access over an async iterable of chunks. Hands out subarrays of the chunks it was given, so file
 * content is never copied; only a header that straddles two chunks is.
 */
class ByteReader {
  /** Bytes consumed so far. */
  offset = 0;
  private chunk: Uint8Array = EMPTY;
  private position = 0;

  constructor(private readonly iterator: AsyncIterator<Uint8Array>) {}

  private get available(): number {
    return this.chunk.byteLength - this.position;
  }

  /** Loads the next non-empty chunk; false at the end of the stream. */
  private async more(): Promise<boolean> {
    for (;;) {
      const next = await this.iterator.next();
      if (next.done === true) return false;
      if (next.value.byteLength > 0) {
        this.chunk = next.value;
        this.position = 0;
        return true;
      }
    }
  }

  /** Exactly `length` bytes, or fewer when the stream ends first. */
  async read(length: number): Promise<Uint8Array> {
    if (this.available >= length) return this.take(length);
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (this.available === 0 && !(await this.more())) break;
      const part = this.take(Math.min(length - filled, this.available));
      out.set(part, filled);
      filled += part.byteLength;
    }
    return filled === length ? out : out.subarray(0, filled);
  }

  /** Up to `max` bytes from what has arrived (waiting for a chunk if none has); empty at the end. */
  async upTo(max: number): Promise<Uint8Array> {
    if (this.available === 0 && !(await this.more())) return EMPTY;
    return this.take(Math.min(max, this.available));
  }

  /** Skips `length` bytes; returns how many there were. */
  async skip(length: number): Promise<number> {
    let skipped = 0;
    while (skipped < length) {
      if (this.available === 0 && !(await this.more())) break;
      skipped += this.take(Math.min(length - skipped, this.available)).byteLength;
    }
    return skipped;
  }

  /** Reads to the end of the stream, so everything upstream (hashes, digest checks) sees every byte. */
  async drain(): Promise<void> {
    this.offset += this.available;
    this.position = this.chunk.byteLength;
    while (await this.more()) {
      this.offset += this.chunk.byteLength;
      this.position = this.chunk.byteLength;
    }
  }

  private take(length: number): Uint8Array {
    const out = this.chunk.subarray(this.position, this.position + length);
    this.position += length;
    this.offset += length;
    return out;
  }
}

/**
 * Removes leading `./` and `/`, empty and `.` segments and a trailing `/`; `..` goes up but never above
 * the root, as a container runtime confines extraction to the root filesystem.
 */
export function normaliseTarPath(raw: string): string {
  // The common case (what every mainstream builder writes) needs no work beyond a quick check.
  if (
    !raw.startsWith('/') &&
    !raw.startsWith('./') &&
    !raw.endsWith('/') &&
    !raw.includes('//') &&
    !raw.includes('/./') &&
    !raw.includes('..') &&
    raw !== '.'
  ) {
    return raw;
  }
  const out: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return out.join('/');
}

function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A NUL-terminated (or full-width) text field, as UTF-8. */
function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return view(nul < 0 ? field : field.subarray(0, nul)).toString('utf8');
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * A numeric field: octal digits padded with spaces or NULs, or GNU/star base-256 (high bit of the first
 * byte set, big-endian two's complement in the rest). Undefined when it is neither.
 */
function number(block: Uint8Array, start: number, length: number): number | undefined {
  const first = block[start] ?? 0;
  if ((first & 0x80) !== 0) {
    // Negative values (0xff) make no sense for sizes or modes.
    if ((first & 0x40) !== 0) return undefined;
    let value = first & 0x3f;
    for (let i = start + 1; i < start + length; i++) {
      value = value * 256 + (block[i] ?? 0);
      if (!Number.isSafeInteger(value)) return undefined;
    }
    return value;
  }
  let i = start;
  const end = start + length;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const byte = block[i] ?? 0;
    if (byte === 0 || byte === 0x20) break;
    if (byte < 0x30 || byte > 0x37) return undefined;
    value = value * 8 + (byte - 0x30);
    digits++;
  }
  // Only spaces and NULs may follow the digits.
  for (; i < end; i++) if (block[i] !== 0 && block[i] !== 0x20) return undefined;
  return digits === 0 ? 0 : value;
}

/** The header checksum holds; historic tars summed signed bytes, so that sum is accepted too. */
function checksumMatches(block: Uint8Array): boolean {
  const stored = number(block, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** `len key=value\n` records; later keys win, as POSIX says. */
function parsePax(bytes: Uint8Array, fail: (detail: string) => never): Map<string, string> {
  const records = new Map<string, string>();
  const buffer = view(bytes);
  let position = 0;
  while (position < buffer.byteLength) {
    // Writers pad the record area with NULs; nothing after them is a record.
    if (buffer[position] === 0) break;
    const space = buffer.indexOf(0x20, position);
    if (space < 0) fail('a PAX record has no length');
    const lengthText = buffer.toString('ascii', position, space);
    const length = Number(lengthText);
    if (!/^[0-9]+$/.test(lengthText) || length <= space - position + 1 || position + length > buffer.byteLength) {
      fail(`a PAX record has an impossible length "${lengthText}"`);
    }
    const end = position + length;
    if (buffer[end - 1] !== 0x0a) fail('a PAX record does not end with a newline');
    const record = buffer.toString('utf8', space + 1, end - 1);
    const equals = record.indexOf('=');
    if (equals <= 0) fail('a PAX record has no key');
    records.set(record.slice(0, equals), record.slice(equals + 1));
    position = end;
  }
  return records;
}

function entryType(typeflag: number, rawName: string): EntryHeader['type'] | 'volume' {
  switch (typeflag) {
    case 0: // NUL: pre-POSIX regular file
    case 0x30: // '0'
    case 0x37: // '7' contiguous file: a regular file everywhere that matters
      // V7 tars marked directories only by the trailing slash.
      return rawName.endsWith('/') ? 'directory' : 'file';
    case 0x31: // '1'
      return 'hardlink';
    case 0x32: // '2'
      return 'symlink';
    case 0x35: // '5'
      return 'directory';
    case 0x56: // 'V' GNU volume label: describes the archive, not a file in it
      return 'volume';
    default:
      return 'other';
  }
}

/** Types whose size field says nothing about data: none follows the header, as Go's archive/tar reads it. */
function headerOnly(typeflag: number): boolean {
  return typeflag >= 0x31 && typeflag <= 0x36;
}

/**
 * The entries of a tar stream, in archive order. Each entry's `content` must be read (or abandoned)
 * before the next entry is requested; what is left is skipped then. After the end-of-archive marker the
 * rest of the source is read and discarded, so a hash or digest check wrapped around `source` sees it all.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const input = new ByteReader(iterator);
  const fail: (detail: string, offset?: number) => never = (detail, offset = input.offset) => {
    throw new TarFormatError(options.layer, offset, detail);
  };
  let finished = false;
  try {
    const globalPax = new Map<string, string>();
    let pax: Map<string, string> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    let previousZero = false;

    for (;;) {
      const headerOffset = input.offset;
      const block = await input.read(BLOCK);
      if (block.byteLength === 0) break;
      if (block.byteLength < BLOCK) fail('the archive ends inside a header', headerOffset);
      if (isZeroBlock(block)) {
        if (previousZero) break;
        previousZero = true;
        continue;
      }
      // A lone zero block followed by a header is tolerated (concatenated archives); GNU tar does too.
      previousZero = false;
      if (!checksumMatches(block)) fail('a header checksum does not match', headerOffset);

      const typeflag = block[156] ?? 0;
      const size = number(block, 124, 12);
      if (size === undefined) fail('a header has an invalid size field', headerOffset + 124);
      const fieldSize = size;

      // Records that describe the next entry rather than being one.
      if (typeflag === 0x78 || typeflag === 0x67 || typeflag === 0x4c || typeflag === 0x4b) {
        if (fieldSize > MAX_META_SIZE) fail(`an extended header of ${fieldSize} bytes is too large`, headerOffset);
        const dataOffset = input.offset;
        const data = await input.read(fieldSize);
        if (data.byteLength < fieldSize) fail('the archive ends inside an extended header');
        await input.skip(padding(fieldSize));
        if (typeflag === 0x78) {
          pax ??= new Map();
          for (const [key, value] of parsePax(data, (d) => fail(d, dataOffset))) pax.set(key, value);
        } else if (typeflag === 0x67) {
          for (const [key, value] of parsePax(data, (d) => fail(d, dataOffset))) globalPax.set(key, value);
        } else {
          const name = text(data, 0, data.byteLength);
          if (typeflag === 0x4c) longName = name;
          else longLink = name;
        }
        continue;
      }

      const magic = text(block, 257, 6);
      // POSIX ustar splits long names into prefix + name; GNU's "ustar  " uses those bytes for times.
      const prefix = magic === 'ustar' && block[263] === 0x30 ? text(block, 345, 155) : '';
      const ustarName = prefix === '' ? text(block, 0, 100) : `${prefix}/${text(block, 0, 100)}`;
      const rawName = pax?.get('path') ?? globalPax.get('path') ?? longName ?? ustarName;
      const rawLink = pax?.get('linkpath') ?? globalPax.get('linkpath') ?? longLink ?? text(block, 157, 100);
      const paxSize = pax?.get('size') ?? globalPax.get('size');
      pax = undefined;
      longName = undefined;
      longLink = undefined;

      let dataSize = fieldSize;
      if (paxSize !== undefined) {
        if (!/^[0-9]+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
          fail(`a PAX size record is not a size: "${paxSize}"`, headerOffset);
        }
        dataSize = Number(paxSize);
      }
      if (headerOnly(typeflag)) dataSize = 0;

      const type = entryType(typeflag, rawName);
      const mode = number(block, 100, 8);
      if (mode === undefined) fail('a header has an invalid mode field', headerOffset + 100);

      let remaining = dataSize;
      if (type !== 'volume') {
        const header: EntryHeader = { type, mode: mode & 0o7777, size: type === 'file' ? dataSize : 0 };
        if (type === 'symlink') header.linkTarget = rawLink;
        // A hard link names another entry of the archive, so it is normalised the same way paths are.
        else if (type === 'hardlink') header.linkTarget = normaliseTarPath(rawLink);

        // An object rather than a variable so the content generator sees the change made after the yield.
        const state = { started: false, gone: false };
        const content: AsyncIterable<Uint8Array> = {
          [Symbol.asyncIterator]: () => {
            if (state.gone)
              throw new Error(`The content of ${rawName} was read after the next tar entry was requested.`);
            if (state.started) throw new Error(`The content of ${rawName} can be read only once.`);
            state.started = true;
            return (async function* chunks(): AsyncGenerator<Uint8Array> {
              while (remaining > 0) {
                if (state.gone) throw new Error(`The content of ${rawName} was read after the next tar entry.`);
                const chunk = await input.upTo(remaining);
                if (chunk.byteLength === 0) fail(`the archive ends inside the content of ${rawName}`);
                remaining -= chunk.byteLength;
                yield chunk;
              }
            })();
          },
        };
        yield { path: normaliseTarPath(rawName), header, content };
        state.gone = true;
      }
      if ((await input.skip(remaining)) < remaining) fail(`the archive ends inside the content of ${rawName}`);
      // The last entry's padding may be cut short by a writer that omits the end-of-archive blocks.
      await input.skip(padding(dataSize));
    }
    await input.drain();
    finished = true;
  } finally {
    // A consumer that stops early (or an error) leaves the source unread; tell it to release what it holds.
    if (!finished) await iterator.return?.();
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
