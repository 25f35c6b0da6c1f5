import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, lstat, mkdtemp, open, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw } from 'node:zlib';
import { InvalidValueError, SlipwayError } from '../core/errors.js';
import { OCI_LAYER_TAR_GZIP } from '../oci/media-types.js';
import type { ByteStream } from '../oci/store.js';
import type { Descriptor, Digest } from '../oci/types.js';

// A deterministic tar writer for image layers. The same files give the same bytes whatever the
// file-system metadata that says nothing about the content: mtimes, ownership, creation order and
// readdir order are all replaced by fixed values or a sort. That is what makes a native build's
// digest reproducible, and what lets a rebuild prove it produced the same image.

export interface LayerSource {
  /** Directory on disk whose contents become the layer. */
  dir: string;
  /** Absolute path inside the image where the directory's contents go, e.g. `/app` or `/`. */
  target: string;
}

export interface TarOptions {
  /** Every entry's mtime, in seconds since the epoch (SOURCE_DATE_EPOCH); default 0. */
  sourceDateEpoch?: number;
  /** Owner of every entry; default 0 (root). */
  uid?: number;
  gid?: number;
  /**
   * Keep permission bits as found on disk. Off by default because umask and checkout tools make
   * them differ between machines: files become 0644, or 0755 when any execute bit is set; dirs 0755.
   */
  preserveModes?: boolean;
}

export interface LayerOptions extends TarOptions {
  /** Where the compressed layer is staged until pushed; default the OS temp directory. */
  tempDir?: string;
}

/** One entry of the archive, metadata only; file content is read when the entry is written. */
export interface TarEntry {
  /** Path inside the archive, relative, without a trailing slash: `app/node_modules/x/index.js`. */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  /** The file to read content from (files only). */
  source?: string;
  /** Symlink target, as stored in the link (not resolved). */
  linkTarget?: string;
}

/** A gzip'd layer staged in a temporary file, with everything an image config and manifest need. */
export interface BuiltLayer {
  descriptor: Descriptor;
  /** Digest of the uncompressed tar: what the image config lists in rootfs.diff_ids. */
  diffId: Digest;
  uncompressedSize: number;
  entries: number;
  /** The staged compressed blob. */
  file: string;
  /** The compressed blob's bytes, read from the staged file each time it is called. */
  stream(): ByteStream;
  /** Removes the staged file. */
  dispose(): Promise<void>;
}

const BLOCK = 512;
/** Largest value an 11-digit octal size or mtime field holds (8 GiB - 1 bytes). */
const MAX_OCTAL_11 = 0o77777777777;
/** Largest value a 7-digit octal uid/gid/mode field holds. */
const MAX_OCTAL_7 = 0o7777777;
const READ_CHUNK = 1024 * 1024;

/** Validates options up front, so a bad SOURCE_DATE_EPOCH fails before any file is read. */
function checkOptions(options: TarOptions): Required<Omit<TarOptions, 'preserveModes'>> & { preserveModes: boolean } {
  const epoch = options.sourceDateEpoch ?? 0;
  if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_OCTAL_11) {
    throw new InvalidValueError('SOURCE_DATE_EPOCH', String(epoch), 'whole seconds since 1970, not negative');
  }
  for (const [what, value] of [
    ['uid', options.uid ?? 0],
    ['gid', options.gid ?? 0],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_OCTAL_7) {
      throw new InvalidValueError(`layer ${what}`, String(value), `an integer from 0 to ${MAX_OCTAL_7}`);
    }
  }
  return {
    sourceDateEpoch: epoch,
    uid: options.uid ?? 0,
    gid: options.gid ?? 0,
    preserveModes: options.preserveModes ?? false,
  };
}

/** `/usr/local/bin/` → `usr/local/bin`; `/` → ``. Refuses `..` so a layer cannot reach outside the rootfs. */
export function normaliseTarget(target: string): string {
  const fail = (detail: string): never => {
    throw new InvalidValueError('layer target path', target, 'an absolute path inside the image, e.g. /app', detail);
  };
  if (!target.startsWith('/')) fail('it is not absolute');
  if (target.includes('\0')) fail('it contains a NUL byte');
  if (target.split('/').includes('..')) fail('it contains ".."');
  return path.posix.normalize(target).replace(/^\/+/, '').replace(/\/+$/, '');
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function normaliseMode(type: TarEntry['type'], mode: number, preserve: boolean): number {
  if (type === 'symlink') return 0o777;
  if (preserve) return mode & 0o7777;
  if (type === 'directory') return 0o755;
  return (mode & 0o111) !== 0 ? 0o755 : 0o644;
}

/**
 * The entries of a layer built from `sources`, sorted by archive path in byte order, parents first.
 * The parent directories of each target come first, as directories. A path that two sources both
 * provide is an error unless it is a directory in both (their contents are merged).
 */
export async function collectEntries(sources: readonly LayerSource[], options: TarOptions = {}): Promise<TarEntry[]> {
  const { preserveModes } = checkOptions(options);
  const entries = new Map<string, TarEntry & { from: string }>();
  const add = (entry: TarEntry, from: string): void => {
    const existing = entries.get(entry.name);
    if (existing === undefined) {
      entries.set(entry.name, { ...entry, from });
      return;
    }
    if (existing.type === 'directory' && entry.type === 'directory') return;
    throw new SlipwayError(
      `Two layer sources provide /${entry.name}: ${existing.from} and ${from}; a layer can hold only one of them.`,
    );
  };

  for (const source of sources) {
    const target = normaliseTarget(source.target);
    const root = path.resolve(source.dir);
    let rootStat: Awaited<ReturnType<typeof lstat>>;
    try {
      rootStat = await lstat(root);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new InvalidValueError('layer source directory', source.dir, 'an existing directory', 'it does not exist');
      }
      throw error;
    }
    if (!rootStat.isDirectory()) {
      throw new InvalidValueError(
        'layer source directory',
        source.dir,
        'an existing directory',
        'it is not a directory',
      );
    }
    const parts = target === '' ? [] : target.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const name = parts.slice(0, i).join('/');
      // The target itself takes the source directory's mode when modes are preserved; its parents
      // exist only in the image, so they get the usual 0755.
      const mode = i === parts.length ? normaliseMode('directory', rootStat.mode, preserveModes) : 0o755;
      add({ name, type: 'directory', mode, size: 0 }, source.dir);
    }
    await walk(root, target, source.dir, preserveModes, add);
  }
  return [...entries.values()].map(({ from: _from, ...entry }) => entry).sort((a, b) => compareBytes(a.name, b.name));
}

async function walk(
  dir: string,
  prefix: string,
  sourceName: string,
  preserveModes: boolean,
  add: (entry: TarEntry, from: string) => void,
): Promise<void> {
  // readdir order is the file system's; the caller sorts, so it does not matter here.
  for (const child of await readdir(dir)) {
    const full = path.join(dir, child);
    const name = prefix === '' ? child : `${prefix}/${child}`;
    const info = await lstat(full);
    if (info.isDirectory()) {
      add({ name, type: 'directory', mode: normaliseMode('directory', info.mode, preserveModes), size: 0 }, sourceName);
      await walk(full, name, sourceName, preserveModes, add);
    } else if (info.isFile()) {
      if (info.size > MAX_OCTAL_11) {
        throw new SlipwayError(`${full} is ${info.size} bytes; files of 8 GiB or more are not supported in layers.`);
      }
      // Hard links become separate regular files: simpler, and the content is identical either way.
      add(
        { name, type: 'file', mode: normaliseMode('file', info.mode, preserveModes), size: info.size, source: full },
        sourceName,
      );
    } else if (info.isSymbolicLink()) {
      add({ name, type: 'symlink', mode: 0o777, size: 0, linkTarget: await readlink(full) }, sourceName);
    } else {
      // Sockets, FIFOs and devices have no place in an application layer and cannot be reproduced.
      throw new SlipwayError(`${full} is not a regular file, directory or symlink; it cannot go into a layer.`);
    }
  }
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

function octal(value: number, digits: number): string {
  return `${value.toString(8).padStart(digits, '0')}\0`;
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}

function headerBlock(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode, 7), 100, 'ascii');
  block.write(octal(fields.uid, 7), 108, 'ascii');
  block.write(octal(fields.gid, 7), 116, 'ascii');
  block.write(octal(fields.size, 11), 124, 'ascii');
  block.write(octal(fields.mtime, 11), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(fields.typeflag, 156, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  // uname and gname stay empty: names of the build machine's users mean nothing in the image.
  block.write(octal(0, 7), 329, 'ascii');
  block.write(octal(0, 7), 337, 'ascii');
  block.write(fields.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** Splits a name into ustar's prefix and name fields, or undefined when it does not fit. */
function splitUstar(name: string): { prefix: string; name: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length > 155) return undefined;
    if (rest.length > 0 && rest.length <= 100) return { prefix, name: rest };
  }
  return undefined;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body, 'utf8');
  // The length prefix counts its own digits, so grow it until it is consistent.
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return Buffer.from(`${length}${body}`, 'utf8');
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The header block(s) for one entry: a PAX extended header first when the path or link does not fit ustar. */
export function entryHeader(entry: TarEntry, options: TarOptions = {}): Buffer {
  const { sourceDateEpoch, uid, gid } = checkOptions(options);
  const archiveName = entry.type === 'directory' ? `${entry.name}/` : entry.name;
  const linkname = entry.linkTarget ?? '';
  const split = splitUstar(archiveName);
  const linkFits = isAscii(linkname) && linkname.length <= 100;
  const records: Buffer[] = [];
  if (split === undefined) records.push(paxRecord('path', archiveName));
  if (!linkFits) records.push(paxRecord('linkpath', linkname));
  const typeflag = entry.type === 'directory' ? '5' : entry.type === 'symlink' ? '2' : '0';
  const common = { mode: entry.mode, uid, gid, mtime: sourceDateEpoch };
  // Fallback names for readers without PAX support: ASCII, cut to the field, fixed for a given path.
  const fallback = (text: string) => text.replace(/[^\x20-\x7e]/g, '_').slice(-100);
  const main = headerBlock({
    ...common,
    ...(split ?? { prefix: '', name: fallback(archiveName) }),
    size: entry.type === 'file' ? entry.size : 0,
    typeflag,
    linkname: linkFits ? linkname : fallback(linkname),
  });
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  // No mtime/atime/ctime records: the ustar mtime field already carries the one fixed time.
  const paxHeader = headerBlock({
    ...common,
    mode: 0o644,
    prefix: '',
    name: fallback(`PaxHeaders/${path.posix.basename(entry.name)}`),
    size: pax.byteLength,
    typeflag: 'x',
    linkname: '',
  });
  return Buffer.concat([paxHeader, pax, padding(pax.byteLength), main]);
}

async function* fileContent(entry: TarEntry): AsyncGenerator<Uint8Array> {
  const file = entry.source ?? '';
  const handle: FileHandle = await open(file, 'r');
  try {
    let remaining = entry.size;
    while (remaining > 0) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, remaining));
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0)
        throw new SlipwayError(`${file} shrank while it was being archived; build from a stable tree.`);
      remaining -= bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    const probe = Buffer.alloc(1);
    if ((await handle.read(probe, 0, 1, null)).bytesRead > 0) {
      throw new SlipwayError(`${file} grew while it was being archived; build from a stable tree.`);
    }
  } finally {
    await handle.close();
  }
}

/** The tar archive of `entries` as a stream; file contents are read a chunk at a time, never whole. */
export async function* tarStream(entries: readonly TarEntry[], options: TarOptions = {}): AsyncGenerator<Uint8Array> {
  checkOptions(options);
  for (const entry of entries) {
    yield entryHeader(entry, options);
    if (entry.type === 'file' && entry.size > 0) {
      yield* fileContent(entry);
      const pad = padding(entry.size);
      if (pad.byteLength > 0) yield pad;
    }
  }
  yield Buffer.alloc(2 * BLOCK);
}

/**
 * A fixed gzip header: no file name, mtime 0, XFL 2 (best compression), OS 255 (unknown). zlib's own
 * header would record the build host's OS, which differs between Linux, macOS and Windows runners.
 */
export const GZIP_HEADER: Readonly<Uint8Array> = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff);

/**
 * Builds a gzip'd layer from directories, streaming: tar → (diff_id hash) → deflate level 9 → (blob
 * hash) → a temporary file. The tar and hence the diff_id depend only on the files. The compressed
 * bytes are deterministic for one zlib build: zlib gives identical output for identical input and
 * settings, but a different zlib version (or a fork such as Chromium's, which Node bundles) may
 * compress differently, so compare diff_ids when comparing builds made by different Node versions.
 */
export async function layerFromDirectories(
  sources: readonly LayerSource[],
  options: LayerOptions = {},
): Promise<BuiltLayer> {
  const entries = await collectEntries(sources, options);
  const dir = await mkdtemp(path.join(options.tempDir ?? tmpdir(), 'slipway-layer-'));
  const file = path.join(dir, 'layer.tar.gz');
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let uncompressedSize = 0;
  let size = 0;
  let crc = 0;
  try {
    await pipeline(
      tarStream(entries, options),
      async function* measureTar(source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          diffHash.update(chunk);
          crc = crc32(chunk, crc);
          uncompressedSize += chunk.byteLength;
          yield chunk;
        }
      },
      createDeflateRaw({ level: 9 }),
      async function* gzipFraming(source: AsyncIterable<Uint8Array>) {
        yield Buffer.from(GZIP_HEADER);
        for await (const chunk of source) yield chunk;
        // The deflate stream ends only after all of the tar went through, so crc and size are final.
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(crc >>> 0, 0);
        trailer.writeUInt32LE(uncompressedSize % 2 ** 32, 4);
        yield trailer;
      },
      async function* measureBlob(source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          blobHash.update(chunk);
          size += chunk.byteLength;
          yield chunk;
        }
      },
      createWriteStream(file),
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const digest: Digest = `sha256:${blobHash.digest('hex')}`;
  return {
    descriptor: { mediaType: OCI_LAYER_TAR_GZIP, digest, size },
    diffId: `sha256:${diffHash.digest('hex')}`,
    uncompressedSize,
    entries: entries.length,
    file,
    stream: () => createReadStream(file),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
