import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildNativeImage } from '../../../shared/build/native.js';
import { entryHeader, type TarEntry as WriterEntry } from '../../../shared/build/tar.js';
import { SlipwayError } from '../../../shared/core/errors.js';
import { digestOf } from '../../../shared/oci/digest.js';
import { OciLayoutStore } from '../../../shared/oci/layout.js';
import { encodeJson } from '../../../shared/oci/manifest.js';
import {
  DOCKER_LAYER_GZIP,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_LAYER_TAR_ZSTD,
  OCI_MANIFEST,
} from '../../../shared/oci/media-types.js';
import type { Descriptor, Digest, ImageManifest } from '../../../shared/oci/types.js';
import { walkImage } from '../../../shared/sbom/layers.js';
import { normaliseTarPath, readTar, TarFormatError } from '../../../shared/sbom/tar-reader.js';
import type { EntryHeader, FileReader, LayerInfo } from '../../../shared/sbom/types.js';

// walkImage against real images in OCI layouts: some built by Slipway's native builder, most from tar
// layers written byte by byte here, because whiteouts, hard links and GNU long names are exactly what
// Slipway's own writer never produces.

let work: string;
let store: OciLayoutStore;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'slipway-layers-'));
  store = await OciLayoutStore.open(join(work, 'layout'), { create: true });
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

// ---- tar bytes by hand ----------------------------------------------------------------------------

interface RawHeader {
  name: string;
  typeflag: string;
  size?: number;
  mode?: number;
  linkname?: string;
  prefix?: string;
  /** GNU tars write "ustar  \0" and put no prefix there. */
  gnu?: boolean;
  /** Write the size in base-256, as GNU tar does for files of 8 GiB or more. */
  base256Size?: boolean;
}

function rawHeader(fields: RawHeader): Buffer {
  const block = Buffer.alloc(512);
  block.write(fields.name, 0, 100, 'utf8');
  block.write(`${(fields.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'ascii');
  block.write('0000000\0', 108, 'ascii');
  block.write('0000000\0', 116, 'ascii');
  const size = fields.size ?? 0;
  if (fields.base256Size) {
    block[124] = 0x80;
    block.writeUIntBE(size, 124 + 12 - 6, 6);
  } else {
    block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  }
  block.write('00000000000\0', 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(fields.typeflag, 156, 'ascii');
  block.write(fields.linkname ?? '', 157, 100, 'utf8');
  if (fields.gnu) {
    block.write('ustar  \0', 257, 'ascii');
  } else {
    block.write('ustar\0', 257, 'ascii');
    block.write('00', 263, 'ascii');
    block.write(fields.prefix ?? '', 345, 155, 'utf8');
  }
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function pad(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.byteLength % 512)) % 512)]);
}

function file(name: string, content: string | Buffer, mode = 0o644): Buffer {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  return Buffer.concat([rawHeader({ name, typeflag: '0', size: data.byteLength, mode }), pad(data)]);
}

function dir(name: string, mode = 0o755): Buffer {
  return rawHeader({ name: `${name}/`, typeflag: '5', mode });
}

function symlinkEntry(name: string, target: string): Buffer {
  return rawHeader({ name, typeflag: '2', linkname: target, mode: 0o777 });
}

function hardlink(name: string, target: string): Buffer {
  return rawHeader({ name, typeflag: '1', linkname: target });
}

function whiteout(path: string): Buffer {
  const slash = path.lastIndexOf('/');
  return file(slash < 0 ? `.wh.${path}` : `${path.slice(0, slash)}/.wh.${path.slice(slash + 1)}`, '');
}

function opaque(directory: string): Buffer {
  return file(`${directory}/.wh..wh..opq`, '');
}

/** An entry through Slipway's own writer, which adds a PAX header for long and non-ASCII paths. */
function written(entry: Omit<WriterEntry, 'source' | 'size'>, content = ''): Buffer {
  const data = Buffer.from(content);
  return Buffer.concat([entryHeader({ ...entry, size: data.byteLength }), pad(data)]);
}

/** GNU tar's way of writing a long name (type L) and link (type K) before the entry they belong to. */
function gnuLong(typeflag: 'L' | 'K', value: string): Buffer {
  const data = Buffer.from(`${value}\0`);
  return Buffer.concat([rawHeader({ name: '././@LongLink', typeflag, size: data.byteLength, gnu: true }), pad(data)]);
}

function paxHeader(records: Record<string, string>, typeflag: 'x' | 'g' = 'x'): Buffer {
  const body = Buffer.concat(
    Object.entries(records).map(([key, value]) => {
      const text = ` ${key}=${value}\n`;
      let length = Buffer.byteLength(text) + 1;
      while (String(length).length + Buffer.byteLength(text) !== length)
        length = String(length).length + Buffer.byteLength(text);
      return Buffer.from(`${length}${text}`);
    }),
  );
  return Buffer.concat([rawHeader({ name: 'PaxHeader', typeflag, size: body.byteLength }), pad(body)]);
}

function tar(...entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}

// ---- images ----------------------------------------------------------------------------------------

type Compression = 'gzip' | 'zstd' | 'none' | 'docker-gzip';

interface LayerSpec {
  tar: Buffer;
  compression?: Compression;
  /** Put this in the config instead of the tar's real digest. */
  diffId?: Digest;
}

const MEDIA_TYPE: Record<Compression, string> = {
  gzip: OCI_LAYER_TAR_GZIP,
  zstd: OCI_LAYER_TAR_ZSTD,
  none: OCI_LAYER_TAR,
  'docker-gzip': DOCKER_LAYER_GZIP,
};

function compress(bytes: Buffer, compression: Compression): Buffer {
  if (compression === 'zstd') return zstdCompressSync(bytes);
  if (compression === 'none') return bytes;
  return gzipSync(bytes);
}

async function pushImage(layers: LayerSpec[], config: Record<string, unknown> = {}): Promise<Digest> {
  const descriptors: Descriptor[] = [];
  for (const layer of layers) {
    const compression = layer.compression ?? 'gzip';
    const blob = compress(layer.tar, compression);
    await store.putBlob(blob);
    descriptors.push({ mediaType: MEDIA_TYPE[compression], digest: digestOf(blob), size: blob.byteLength });
  }
  const configBytes = encodeJson({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId ?? digestOf(l.tar)) },
    ...config,
  });
  await store.putBlob(configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: digestOf(configBytes), size: configBytes.byteLength },
    layers: descriptors,
  };
  const { descriptor } = await store.putManifest(encodeJson(manifest), OCI_MANIFEST);
  return descriptor.digest;
}

/** The final view as `path → type@layer`, which reads well in assertions. */
function summary(entries: Map<string, EntryHeader & { layer: number }>): Record<string, string> {
  return Object.fromEntries([...entries].map(([path, e]) => [path, `${e.type}@${e.layer}`]));
}

async function text(content: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of content) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A reader that keeps the text of files whose path matches. */
function textReader(name: string, test: (path: string) => boolean): FileReader<string> {
  return {
    name,
    wants: (path, header) => header.type === 'file' && test(path),
    read: (content) => text(content),
  };
}

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

async function listTar(
  bytes: Buffer,
  chunkSize = 1 << 20,
): Promise<{ path: string; header: EntryHeader; content: string }[]> {
  const out: { path: string; header: EntryHeader; content: string }[] = [];
  for await (const entry of readTar(chunked(bytes, chunkSize))) {
    out.push({ path: entry.path, header: entry.header, content: await text(entry.content) });
  }
  return out;
}

// ---- tests -----------------------------------------------------------------------------------------

describe('readTar', () => {
  const archive = tar(
    dir('./etc'),
    file('./etc/os-release', 'ID=debian\n'),
    symlinkEntry('etc/localtime', '/usr/share/zoneinfo/UTC'),
    hardlink('usr/bin/perl5', './usr/bin/perl'),
    file('//usr//lib/x.so', Buffer.alloc(1500, 7), 0o4755),
  );

  it('gives paths normalised, headers and content, whatever the chunking', async () => {
    const expected = await listTar(archive);
    expect(expected.map((e) => e.path)).toEqual([
      'etc',
      'etc/os-release',
      'etc/localtime',
      'usr/bin/perl5',
      'usr/lib/x.so',
    ]);
    expect(expected[0]?.header).toEqual({ type: 'directory', mode: 0o755, size: 0 });
    expect(expected[1]).toMatchObject({ header: { type: 'file', size: 10, mode: 0o644 }, content: 'ID=debian\n' });
    expect(expected[2]?.header).toEqual({
      type: 'symlink',
      mode: 0o777,
      size: 0,
      linkTarget: '/usr/share/zoneinfo/UTC',
    });
    expect(expected[3]?.header).toMatchObject({ type: 'hardlink', linkTarget: 'usr/bin/perl' });
    expect(expected[4]?.header).toEqual({ type: 'file', mode: 0o4755, size: 1500 });
    for (const size of [1, 7, 511, 512, 513, 4096]) {
      expect(await listTar(archive, size)).toEqual(expected);
    }
  });

  it('skips content the consumer left unread, and refuses to read it later', async () => {
    const entries = readTar(chunked(archive, 100));
    const seen: string[] = [];
    let stale: AsyncIterable<Uint8Array> | undefined;
    for await (const entry of entries) {
      seen.push(entry.path);
      if (entry.path === 'usr/lib/x.so') {
        // Read one chunk and stop: the reader must still find the end of the archive.
        for await (const _chunk of entry.content) break;
      }
      if (entry.path === 'etc/os-release') stale = entry.content;
    }
    expect(seen).toHaveLength(5);
    expect(() => stale?.[Symbol.asyncIterator]()).toThrow(/after the next tar entry/);
  });

  it('normalises paths as the brief of a root filesystem requires', () => {
    expect(normaliseTarPath('./usr/bin/')).toBe('usr/bin');
    expect(normaliseTarPath('/usr//bin')).toBe('usr/bin');
    expect(normaliseTarPath('./')).toBe('');
    expect(normaliseTarPath('.')).toBe('');
    expect(normaliseTarPath('usr/./lib/../bin')).toBe('usr/bin');
    expect(normaliseTarPath('../../etc/passwd')).toBe('etc/passwd');
    expect(normaliseTarPath('usr/lib/x..y')).toBe('usr/lib/x..y');
  });

  it('reads PAX (local and global), GNU long names and links, and base-256 sizes', async () => {
    const long = `opt/${'very-long-directory-name/'.repeat(8)}file.txt`;
    const longTarget = `/opt/${'target/'.repeat(20)}lib.so`;
    const entries = await listTar(
      tar(
        paxHeader({ comment: 'ignored' }, 'g'),
        paxHeader({ path: long, size: '3' }),
        rawHeader({ name: 'truncated-name', typeflag: '0', size: 99 }),
        pad(Buffer.from('abc')),
        gnuLong('L', `gnu/${'n'.repeat(150)}`),
        gnuLong('K', longTarget),
        rawHeader({ name: 'gnu/short', typeflag: '2', gnu: true, prefix: 'ignored' }),
        rawHeader({ name: 'big', typeflag: '0', size: 600, base256Size: true }),
        pad(Buffer.alloc(600, 1)),
        rawHeader({ name: 'name', typeflag: '0', prefix: 'ustar/prefix' }),
      ),
    );
    expect(entries.map((e) => e.path)).toEqual([long, `gnu/${'n'.repeat(150)}`, 'big', 'ustar/prefix/name']);
    expect(entries[0]).toMatchObject({ header: { type: 'file', size: 3 }, content: 'abc' });
    expect(entries[1]?.header).toMatchObject({ type: 'symlink', linkTarget: longTarget });
    expect(entries[2]?.header.size).toBe(600);
    expect(entries[2]?.content).toBe('\x01'.repeat(600));
  });

  it('ends at stream end without end-of-archive blocks, and reads past them to the end', async () => {
    const bare = Buffer.concat([file('a', 'x'), file('b', 'y')]);
    expect((await listTar(bare)).map((e) => e.path)).toEqual(['a', 'b']);
    // Record padding after the end marker is consumed, so a hash around the source sees every byte.
    let consumed = 0;
    const padded = Buffer.concat([tar(file('a', 'x')), Buffer.alloc(8192)]);
    async function* counting(): AsyncGenerator<Uint8Array> {
      for await (const chunk of chunked(padded, 1000)) {
        consumed += chunk.byteLength;
        yield chunk;
      }
    }
    for await (const _entry of readTar(counting())) {
      // nothing to read
    }
    expect(consumed).toBe(padded.byteLength);
  });

  it('names the layer and the offset of malformed archives', async () => {
    const broken = tar(file('a', 'hello'), file('b', 'world'));
    broken.writeUInt8(0x5a, 512 * 2 + 10); // inside the second header's name: its checksum no longer holds
    const error = await listTarWithLayer(broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TarFormatError);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as TarFormatError).offset).toBe(1024);
    expect((error as Error).message).toMatch(/^Layer sha256:abc is not a valid tar archive: .*checksum.*byte 1024/);

    const truncated = tar(file('a', 'x'.repeat(2000))).subarray(0, 1200);
    await expect(listTarWithLayer(truncated)).rejects.toThrow(/ends inside the content of a/);
    await expect(listTarWithLayer(Buffer.alloc(300, 1))).rejects.toThrow(/ends inside a header/);
    await expect(listTarWithLayer(tar(paxHeader({ path: 'x' }).fill(0x41, 512, 520), file('a', '')))).rejects.toThrow(
      /PAX record/,
    );
  });
});

async function listTarWithLayer(bytes: Buffer): Promise<void> {
  for await (const entry of readTar(chunked(bytes, 300), { layer: 'sha256:abc' })) await text(entry.content);
}

describe('walkImage: the final filesystem', () => {
  it('applies overwrites, whiteouts, opaque directories and dir→file replacement across three layers', async () => {
    const base = tar(
      dir('etc'),
      file('etc/hostname', 'base'),
      file('etc/passwd', 'root'),
      dir('opt'),
      dir('opt/old'),
      file('opt/old/a', 'a'),
      dir('opt/old/sub'),
      file('opt/old/sub/b', 'b'),
      dir('var'),
      dir('var/cache'),
      file('var/cache/one', '1'),
      file('var/cache/two', '2'),
      dir('srv'),
      dir('srv/data'),
      file('srv/data/x', 'x'),
      file('tmp-file', 'gone later'),
    );
    const middle = tar(
      file('etc/hostname', 'middle'),
      whiteout('opt/old'),
      dir('var/cache'),
      opaque('var/cache'),
      file('var/cache/three', '3'),
      file('srv/data', 'now a file'),
      whiteout('tmp-file'),
    );
    const top = tar(
      file('etc/hostname', 'top', 0o600),
      whiteout('etc/passwd'),
      // Re-created in the layer that also whites it out: the same layer's entry stays.
      dir('opt/old'),
      file('opt/old/new', 'new'),
      whiteout('opt/old'),
      file('var/cache/four', '4'),
      opaque('var/cache'),
    );
    const digest = await pushImage([{ tar: base }, { tar: middle }, { tar: top }]);
    const fs = await walkImage(store, digest, []);
    expect(summary(fs.entries)).toEqual({
      etc: 'directory@0',
      'etc/hostname': 'file@2',
      opt: 'directory@0',
      'opt/old': 'directory@2',
      'opt/old/new': 'file@2',
      srv: 'directory@0',
      'srv/data': 'file@1',
      var: 'directory@0',
      'var/cache': 'directory@1',
      'var/cache/four': 'file@2',
    });
    expect(fs.entries.get('etc/hostname')).toEqual({ type: 'file', mode: 0o600, size: 3, layer: 2 });
    expect(fs.layers).toEqual([
      { digest: expect.any(String), diffId: digestOf(base), mediaType: OCI_LAYER_TAR_GZIP },
      { digest: expect.any(String), diffId: digestOf(middle), mediaType: OCI_LAYER_TAR_GZIP },
      { digest: expect.any(String), diffId: digestOf(top), mediaType: OCI_LAYER_TAR_GZIP },
    ]);
  });

  it('keeps entries an opaque marker sits beside in the same layer, before or after it', async () => {
    const digest = await pushImage([
      { tar: tar(dir('d'), file('d/lower', 'l'), dir('d/sub'), file('d/sub/deep', 'x')) },
      { tar: tar(file('d/before', 'b'), opaque('d'), file('d/after', 'a')) },
    ]);
    const fs = await walkImage(store, digest, []);
    expect(summary(fs.entries)).toEqual({ d: 'directory@0', 'd/after': 'file@1', 'd/before': 'file@1' });
  });

  it('lets a file replace a directory and a directory replace a file', async () => {
    const digest = await pushImage([
      { tar: tar(dir('a'), file('a/child', 'c'), file('b', 'was a file')) },
      { tar: tar(symlinkEntry('a', 'elsewhere'), dir('b'), file('b/inside', 'i')) },
    ]);
    const fs = await walkImage(store, digest, []);
    expect(summary(fs.entries)).toEqual({ a: 'symlink@1', b: 'directory@1', 'b/inside': 'file@1' });
  });

  it('records symlinks, hard links, PAX long paths, non-ASCII names and GNU long names', async () => {
    const long = `usr/share/${'deep/'.repeat(30)}file.txt`;
    const digest = await pushImage([
      {
        tar: tar(
          written({ name: 'usr', type: 'directory', mode: 0o755 }),
          written({ name: long, type: 'file', mode: 0o644 }, 'long'),
          written({ name: 'usr/share/naïve-café.txt', type: 'file', mode: 0o644 }, 'unicode'),
          written({ name: 'usr/share/日本語', type: 'symlink', mode: 0o777, linkTarget: `../${'t/'.repeat(60)}x` }),
          file('usr/bin/python3.12', 'ELF', 0o755),
          hardlink('usr/bin/python3', 'usr/bin/python3.12'),
          gnuLong('L', `usr/lib/${'g'.repeat(120)}`),
          rawHeader({ name: 'ignored', typeflag: '0', gnu: true }),
          rawHeader({ name: 'dev/null', typeflag: '3', mode: 0o666 }),
        ),
      },
    ]);
    const fs = await walkImage(store, digest, []);
    expect(fs.entries.get(long)).toEqual({ type: 'file', mode: 0o644, size: 4, layer: 0 });
    expect(fs.entries.get('usr/share/naïve-café.txt')?.type).toBe('file');
    expect(fs.entries.get('usr/share/日本語')).toEqual({
      type: 'symlink',
      mode: 0o777,
      size: 0,
      linkTarget: `../${'t/'.repeat(60)}x`,
      layer: 0,
    });
    expect(fs.entries.get('usr/bin/python3')).toEqual({
      type: 'hardlink',
      mode: 0o644,
      size: 0,
      linkTarget: 'usr/bin/python3.12',
      layer: 0,
    });
    expect(fs.entries.get(`usr/lib/${'g'.repeat(120)}`)?.type).toBe('file');
    expect(fs.entries.get('dev/null')).toEqual({ type: 'other', mode: 0o666, size: 0, layer: 0 });
    expect([...fs.entries.keys()].some((p) => p.includes('.wh.') || p === 'ignored')).toBe(false);
  });

  it('reads zstd, uncompressed and Docker gzip layers', async () => {
    const layers: LayerSpec[] = [
      { tar: tar(file('zstd', 'z')), compression: 'zstd' },
      { tar: tar(file('plain', 'p'), whiteout('zstd')), compression: 'none' },
      { tar: tar(file('docker', 'd')), compression: 'docker-gzip' },
    ];
    const digest = await pushImage(layers);
    const reader = textReader('all', () => true);
    const seen: [number, LayerInfo][] = [];
    const fs = await walkImage(store, digest, [reader], { onLayer: (i, info) => seen.push([i, info]) });
    expect(summary(fs.entries)).toEqual({ docker: 'file@2', plain: 'file@1' });
    expect(fs.results.get('all')).toEqual([
      { path: 'docker', value: 'd', layer: 2 },
      { path: 'plain', value: 'p', layer: 1 },
    ]);
    expect(seen.map(([i, info]) => [i, info.mediaType])).toEqual([
      [0, OCI_LAYER_TAR_ZSTD],
      [1, OCI_LAYER_TAR],
      [2, DOCKER_LAYER_GZIP],
    ]);
  });

  it('walks an image built by the native builder on top of a hand-made base', async () => {
    const baseDigest = await pushImage([{ tar: tar(dir('app'), file('app/stale.js', 'old'), file('etc/os', 'x')) }]);
    const src = join(work, 'src');
    await mkdir(join(src, 'node_modules', 'left-pad'), { recursive: true });
    await writeFile(join(src, 'node_modules', 'left-pad', 'package.json'), '{"name":"left-pad","version":"1.3.0"}');
    await writeFile(join(src, 'stale.js'), 'new');
    await writeFile(join(src, 'ünïcödé.txt'), 'u');
    const deep = join(src, ...Array.from({ length: 16 }, (_, i) => `level-${i}-directory`));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'leaf.txt'), 'leaf');
    await symlink('stale.js', join(src, 'link.js'));
    const built = await buildNativeImage({
      target: store,
      base: { store, reference: baseDigest },
      platforms: ['linux/amd64'],
      layers: [{ sources: [{ dir: src, target: '/app' }] }],
      created: '2026-01-02T03:04:05Z',
    });
    const fs = await walkImage(store, built.descriptor.digest, [textReader('npm', (p) => p.endsWith('package.json'))]);
    expect(fs.layers.map((l) => l.diffId)).toEqual([expect.stringMatching(/^sha256:/), built.layers[0]?.diffId]);
    expect(fs.entries.get('app/stale.js')).toMatchObject({ type: 'file', layer: 1 });
    expect(fs.entries.get('etc/os')).toMatchObject({ type: 'file', layer: 0 });
    expect(fs.entries.get('app/link.js')).toMatchObject({ type: 'symlink', linkTarget: 'stale.js', layer: 1 });
    expect(fs.entries.get('app/ünïcödé.txt')).toMatchObject({ type: 'file', size: 1 });
    const leaf = `app/${Array.from({ length: 16 }, (_, i) => `level-${i}-directory`).join('/')}/leaf.txt`;
    expect(leaf.length).toBeGreaterThan(255);
    expect(fs.entries.get(leaf)).toMatchObject({ type: 'file', size: 4, layer: 1 });
    expect(fs.results.get('npm')).toEqual([
      {
        path: 'app/node_modules/left-pad/package.json',
        value: '{"name":"left-pad","version":"1.3.0"}',
        layer: 1,
      },
    ]);
  });

  it('refuses an index', async () => {
    const { descriptor } = await store.putManifest(encodeJson({ schemaVersion: 2, manifests: [] }), OCI_INDEX);
    await expect(walkImage(store, descriptor.digest, [])).rejects.toThrow(/is an image index/);
  });
});

describe('walkImage: readers', () => {
  it('keeps results only for files in the final view, from the layer that wins', async () => {
    const digest = await pushImage([
      {
        tar: tar(
          file('var/lib/dpkg/status', 'base status'),
          file('usr/lib/python3/dist-packages/a/METADATA', 'a 1.0'),
          file('usr/lib/python3/dist-packages/b/METADATA', 'b 1.0'),
          file('app/package.json', 'app 1'),
          file('srv/package.json', 'srv'),
          dir('opaque'),
          file('opaque/package.json', 'hidden'),
        ),
      },
      {
        tar: tar(
          file('var/lib/dpkg/status', 'upgraded status'),
          whiteout('usr/lib/python3/dist-packages/a'),
          whiteout('app/package.json'),
          file('srv', 'replaced the directory'),
          opaque('opaque'),
        ),
      },
      { tar: tar(file('app/package.json', 'app 2')) },
    ]);
    const readers = [
      textReader('dpkg', (p) => p === 'var/lib/dpkg/status'),
      textReader('python', (p) => p.endsWith('/METADATA')),
      textReader('npm', (p) => p.endsWith('package.json')),
    ];
    const fs = await walkImage(store, digest, readers);
    expect(fs.results.get('dpkg')).toEqual([{ path: 'var/lib/dpkg/status', value: 'upgraded status', layer: 1 }]);
    expect(fs.results.get('python')).toEqual([
      { path: 'usr/lib/python3/dist-packages/b/METADATA', value: 'b 1.0', layer: 0 },
    ]);
    expect(fs.results.get('npm')).toEqual([{ path: 'app/package.json', value: 'app 2', layer: 2 }]);
  });

  it('drops a result when the file is overwritten by one the reader keeps nothing from', async () => {
    const digest = await pushImage([
      { tar: tar(file('etc/os-release', 'ID=debian')) },
      { tar: tar(file('etc/os-release', '')) },
    ]);
    const reader: FileReader<string> = {
      name: 'os',
      wants: (path) => path === 'etc/os-release',
      read: async (content) => (await text(content)) || undefined,
    };
    const fs = await walkImage(store, digest, [reader]);
    expect(fs.results.get('os')).toEqual([]);
  });

  it('gives the same file to several readers, and lets a reader stop early', async () => {
    const big = Buffer.alloc(300_000, 0x61);
    const digest = await pushImage([{ tar: tar(file('usr/bin/tool', big, 0o755), file('after', 'still read')) }]);
    const firstChunk: FileReader<number> = {
      name: 'first-chunk',
      wants: (path) => path.startsWith('usr/bin/'),
      read: async (content) => {
        for await (const chunk of content) return chunk.byteLength;
        return 0;
      },
    };
    const length: FileReader<number> = {
      name: 'length',
      wants: (_path, header) => header.type === 'file' && (header.mode & 0o111) !== 0,
      read: async (content) => (await text(content)).length,
    };
    const all = textReader('after', (p) => p === 'after');
    const fs = await walkImage(store, digest, [firstChunk, length, all]);
    expect(fs.results.get('length')).toEqual([{ path: 'usr/bin/tool', value: 300_000, layer: 0 }]);
    expect(fs.results.get('first-chunk')?.[0]?.value).toBeGreaterThan(0);
    expect(fs.results.get('after')).toEqual([{ path: 'after', value: 'still read', layer: 0 }]);

    const alone = await walkImage(store, digest, [firstChunk, all]);
    expect(alone.results.get('after')).toEqual([{ path: 'after', value: 'still read', layer: 0 }]);
  });

  it("gives a hard link the reader's result for its target", async () => {
    const digest = await pushImage([
      { tar: tar(file('usr/bin/python3.12', 'py'), hardlink('usr/bin/python3', 'usr/bin/python3.12')) },
    ]);
    const reader: FileReader<string> = {
      name: 'bins',
      wants: (path) => path.startsWith('usr/bin/'),
      read: (content) => text(content),
    };
    const fs = await walkImage(store, digest, [reader]);
    expect(fs.results.get('bins')).toEqual([
      { path: 'usr/bin/python3', value: 'py', layer: 0 },
      { path: 'usr/bin/python3.12', value: 'py', layer: 0 },
    ]);
  });

  it('never offers whiteout files to readers', async () => {
    const digest = await pushImage([{ tar: tar(file('a', 'a')) }, { tar: tar(whiteout('a'), opaque('d')) }]);
    const asked: string[] = [];
    const spy: FileReader<never> = {
      name: 'spy',
      wants: (path) => {
        asked.push(path);
        return false;
      },
      read: async () => undefined,
    };
    await walkImage(store, digest, [spy]);
    expect(asked).toEqual(['a']);
  });
});

describe('walkImage: broken images', () => {
  it('refuses a layer whose uncompressed bytes do not match the diff_id', async () => {
    const wrong = digestOf(Buffer.from('something else'));
    const digest = await pushImage([{ tar: tar(file('a', 'a')) }, { tar: tar(file('b', 'b')), diffId: wrong }]);
    await expect(walkImage(store, digest, [])).rejects.toThrow(
      new RegExp(
        `^Layer 1 \\(sha256:[0-9a-f]{64}\\) of oci-layout:.* uncompresses to sha256:[0-9a-f]{64}, but the image config's diff_id for it is ${wrong}`,
      ),
    );
  });

  it('names the layer of a corrupted tar', async () => {
    const broken = tar(file('a', 'a'), file('b', 'b'));
    broken[1024 + 100] = 0x39; // a '9' in the mode: not octal, and the checksum breaks too
    const digest = await pushImage([{ tar: tar(file('ok', '')) }, { tar: broken, compression: 'zstd' }]);
    const manifest = (await store.getManifest(digest)).manifest as ImageManifest;
    const layer = manifest.layers[1]?.digest;
    const error = await walkImage(store, digest, []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TarFormatError);
    expect((error as Error).message).toBe(
      `Layer ${layer} is not a valid tar archive: a header checksum does not match (at byte 1024 of the uncompressed tar).`,
    );
  });

  it('names the layer whose gzip stream is broken', async () => {
    const digest = await pushImage([{ tar: tar(file('a', 'a')) }]);
    const manifest = (await store.getManifest(digest)).manifest as ImageManifest;
    const layer = manifest.layers[0] as Descriptor;
    // A blob that is valid as stored (its digest matches) but is not gzip.
    const garbage = Buffer.from('not gzip at all');
    await store.putBlob(garbage);
    const bad = await pushManifestWith(manifest, { ...layer, digest: digestOf(garbage), size: garbage.byteLength });
    await expect(walkImage(store, bad, [])).rejects.toThrow(
      new RegExp(`^Layer 0 \\(${digestOf(garbage)}\\) of .* could not be decompressed as gzip: incorrect header check`),
    );
  });

  it('refuses a config whose diff_ids do not match the layers', async () => {
    const digest = await pushImage([{ tar: tar(file('a', 'a')) }], { rootfs: { type: 'layers', diff_ids: [] } });
    await expect(walkImage(store, digest, [])).rejects.toThrow(/lists 0 diff_ids for 1 layers/);
  });
});

async function pushManifestWith(manifest: ImageManifest, layer: Descriptor): Promise<Digest> {
  const { descriptor } = await store.putManifest(encodeJson({ ...manifest, layers: [layer] }), OCI_MANIFEST);
  return descriptor.digest;
}
