import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import { copyImage } from '../../../shared/oci/copy.js';
import { DigestMismatchError, digestHex, digestOf, SizeMismatchError } from '../../../shared/oci/digest.js';
import { ConflictError, NotFoundError, StoreError } from '../../../shared/oci/errors.js';
import { OciLayoutStore, REF_NAME_ANNOTATION } from '../../../shared/oci/layout.js';
import { encodeJson } from '../../../shared/oci/manifest.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from '../../../shared/oci/media-types.js';
import type { ByteStream } from '../../../shared/oci/store.js';
import type { Descriptor } from '../../../shared/oci/types.js';
import { skopeo } from '../../support/services.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

const temporaryDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-layout-'));
  temporaryDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A one-file ustar archive, enough for any tool that looks inside a layer. */
function tar(name: string, content: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (value: string, offset: number) => header.set(text(value), offset);
  put(name, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${content.byteLength.toString(8).padStart(11, '0')}\0`, 124);
  put('00000000000\0', 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\0', 257);
  put('00', 263);
  put(
    `${header
      .reduce((sum, byte) => sum + byte, 0)
      .toString(8)
      .padStart(6, '0')}\0 `,
    148,
  );
  const archive = new Uint8Array(512 + Math.ceil(content.byteLength / 512) * 512 + 1024);
  archive.set(header);
  archive.set(content, 512);
  return archive;
}

interface TestImage {
  descriptor: Descriptor;
  bytes: Uint8Array;
  config: Uint8Array;
  layer: Uint8Array;
}

async function putImage(store: OciLayoutStore, architecture: string, tag?: string): Promise<TestImage> {
  // Compressed, as registries serve layers: skopeo would otherwise gzip it while copying and change the digests.
  const archive = tar(`${architecture}.txt`, text(`hello from ${architecture}\n`));
  const layer = new Uint8Array(gzipSync(archive));
  const config = encodeJson({
    architecture,
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [digestOf(archive)] },
  });
  await store.putBlob(config);
  await store.putBlob(layer);
  const bytes = encodeJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.byteLength },
    layers: [{ mediaType: OCI_LAYER_TAR_GZIP, digest: digestOf(layer), size: layer.byteLength }],
  });
  const { descriptor } = await store.putManifest(bytes, OCI_MANIFEST, tag === undefined ? {} : { tag });
  return { descriptor: { ...descriptor, platform: { architecture, os: 'linux' } }, bytes, config, layer };
}

async function putIndex(store: OciLayoutStore, tag: string): Promise<{ bytes: Uint8Array; images: TestImage[] }> {
  const images = [await putImage(store, 'amd64'), await putImage(store, 'arm64')];
  const bytes = encodeJson({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: images.map((i) => i.descriptor) });
  await store.putManifest(bytes, OCI_INDEX, { tag });
  return { bytes, images };
}

async function collect(stream: ByteStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Every file under `dir`, relative, so a test can see exactly what a failed write left behind. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

async function* chunks(...parts: Array<Uint8Array | Error>): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    if (part instanceof Error) throw part;
    yield part;
  }
}

describe('OciLayoutStore.open', () => {
  it('creates the directory, oci-layout and an empty index.json', async () => {
    const dir = path.join(tempDir(), 'new', 'layout');
    const store = await OciLayoutStore.open(dir, { create: true });
    expect(store.location).toBe(`oci-layout:${dir}`);
    expect(JSON.parse(await readFile(path.join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'))).toEqual({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [],
    });
    expect(statSync(path.join(dir, 'blobs')).isDirectory()).toBe(true);
    expect(await store.listTags()).toEqual([]);
  });

  it('makes a relative directory absolute in its location', async () => {
    const dir = tempDir();
    const relative = path.relative(process.cwd(), path.join(dir, 'rel'));
    const store = await OciLayoutStore.open(relative, { create: true });
    expect(store.location).toBe(`oci-layout:${path.join(dir, 'rel')}`);
  });

  it('keeps existing tags when opened with create on an existing layout', async () => {
    const dir = tempDir();
    const image = await putImage(await OciLayoutStore.open(dir, { create: true }), 'amd64', 'v1');
    const again = await OciLayoutStore.open(dir, { create: true });
    expect((await again.resolve('v1'))?.digest).toBe(image.descriptor.digest);
  });

  it('refuses a directory that is not a layout, without creating anything', async () => {
    const dir = tempDir();
    await writeFile(path.join(dir, 'README'), 'not a layout');
    const error = await rejectionOf(OciLayoutStore.open(dir, { create: false }));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain('is not an OCI image layout: it has no oci-layout file');
    expect(filesUnder(dir)).toEqual(['README']);

    const missing = await rejectionOf(OciLayoutStore.open(path.join(dir, 'absent'), { create: false }));
    expect(missing).toBeInstanceOf(StoreError);
    expect(existsSync(path.join(dir, 'absent'))).toBe(false);

    const file = await rejectionOf(OciLayoutStore.open(path.join(dir, 'README'), { create: false }));
    expect((file as Error).message).toContain('it is not a directory');
  });

  it('refuses an unsupported layout version, a missing index.json and an index.json that is not an index', async () => {
    const dir = tempDir();
    await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    expect(((await rejectionOf(OciLayoutStore.open(dir, { create: false }))) as Error).message).toContain(
      'image layout version 2.0.0 is not supported',
    );
    await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    expect(((await rejectionOf(OciLayoutStore.open(dir, { create: false }))) as Error).message).toContain(
      'it has no index.json',
    );
    await writeFile(path.join(dir, 'index.json'), '{"schemaVersion":2,"manifests":{}}');
    const error = await rejectionOf(OciLayoutStore.open(dir, { create: false }));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain('index.json is not an OCI image index');
  });
});

describe('blobs', () => {
  it('round-trips bytes and streams, and reports when nothing was uploaded', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    const bytes = text('some layer bytes');
    const digest = digestOf(bytes);
    expect(await store.hasBlob(digest)).toBe(false);
    expect(await store.putBlob(bytes)).toEqual({ digest, size: bytes.byteLength, uploaded: true });
    expect(await store.putBlob(bytes)).toEqual({ digest, size: bytes.byteLength, uploaded: false });
    expect(await store.hasBlob(digest)).toBe(true);
    expect(new Uint8Array(await readFile(path.join(dir, 'blobs', 'sha256', digestHex(digest))))).toEqual(bytes);
    expect(await collect(await store.getBlob({ digest, size: bytes.byteLength }))).toEqual(bytes);

    const streamed = text('streamed in two chunks');
    const result = await store.putBlob({
      stream: chunks(streamed.subarray(0, 5), streamed.subarray(5)),
      digest: digestOf(streamed),
      size: streamed.byteLength,
    });
    expect(result.uploaded).toBe(true);
    expect(await collect(await store.getBlob({ digest: digestOf(streamed), size: streamed.byteLength }))).toEqual(
      streamed,
    );
  });

  it('ends the source stream without reading it when the blob is already there', async () => {
    const store = await OciLayoutStore.open(tempDir(), { create: true });
    const bytes = text('present');
    await store.putBlob(bytes);
    let finished = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield bytes;
      } finally {
        finished = true;
      }
    }
    const stream = source();
    await stream.next();
    const result = await store.putBlob({ stream, digest: digestOf(bytes), size: bytes.byteLength });
    expect(result.uploaded).toBe(false);
    expect(finished).toBe(true);
  });

  it('throws NotFoundError for a missing blob', async () => {
    const store = await OciLayoutStore.open(tempDir(), { create: true });
    const error = await rejectionOf(store.getBlob({ digest: digestOf(text('absent')), size: 6 }));
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('detects a blob corrupted on disk while streaming it', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    const bytes = text('original content');
    const { digest } = await store.putBlob(bytes);
    await writeFile(path.join(dir, 'blobs', 'sha256', digestHex(digest)), 'tampered content');
    const error = await rejectionOf(collect(await store.getBlob({ digest, size: bytes.byteLength })));
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as DigestMismatchError).expected).toBe(digest);
  });

  it('leaves neither a blob nor a temporary file when the source stream fails midway', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    const bytes = text('a blob that never fully arrives');
    const error = await rejectionOf(
      store.putBlob({
        stream: chunks(bytes.subarray(0, 10), new Error('connection reset')),
        digest: digestOf(bytes),
        size: bytes.byteLength,
      }),
    );
    expect((error as Error).message).toBe('connection reset');
    expect(await store.hasBlob(digestOf(bytes))).toBe(false);
    expect(filesUnder(dir)).toEqual(['index.json', 'oci-layout']);
  });

  it('refuses content that does not match the digest, leaving nothing behind', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    const claimed = digestOf(text('what was promised'));
    const wrong = await rejectionOf(
      store.putBlob({ stream: chunks(text('something else!!!')), digest: claimed, size: 17 }),
    );
    expect(wrong).toBeInstanceOf(DigestMismatchError);
    const short = await rejectionOf(store.putBlob({ stream: chunks(text('what')), digest: claimed, size: 17 }));
    expect(short).toBeInstanceOf(SizeMismatchError);
    expect(filesUnder(dir)).toEqual(['index.json', 'oci-layout']);
  });

  it('rejects a malformed digest before touching the file system', async () => {
    const store = await OciLayoutStore.open(tempDir(), { create: true });
    expect(await rejectionOf(store.hasBlob('sha256:../../etc/passwd'))).toBeInstanceOf(InvalidValueError);
  });
});

describe('manifests and tags', () => {
  it('stores manifest bytes exactly, by digest only when there is no tag', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    // Whitespace and key order a re-serialisation would lose: the digest is over these bytes.
    const bytes = text(
      `{\n  "schemaVersion": 2, "mediaType": "${OCI_MANIFEST}",\n  "config": {"size": 2, "digest": "${digestOf(text('{}'))}", "mediaType": "${OCI_CONFIG}"},\n  "layers": []\n}\n`,
    );
    const { descriptor, subjectIndexed } = await store.putManifest(bytes, OCI_MANIFEST);
    expect(subjectIndexed).toBe(false);
    expect(descriptor).toEqual({ mediaType: OCI_MANIFEST, digest: digestOf(bytes), size: bytes.byteLength });
    expect(JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')).manifests).toEqual([]);
    expect(await store.resolve(descriptor.digest)).toEqual(descriptor);

    const fetched = await store.getManifest(descriptor.digest);
    expect(fetched.bytes).toEqual(bytes);
    expect(fetched.descriptor).toEqual(descriptor);
    expect(fetched.etag).toBe(descriptor.digest);
    expect(fetched.manifest).toEqual(JSON.parse(new TextDecoder().decode(bytes)));
  });

  it('resolves what is absent, or is not a manifest, to undefined and throws NotFoundError on get', async () => {
    const store = await OciLayoutStore.open(tempDir(), { create: true });
    const layer = await store.putBlob(text('not a manifest'));
    expect(await store.resolve(layer.digest)).toBeUndefined();
    expect(await store.resolve(digestOf(text('absent')))).toBeUndefined();
    expect(await store.resolve('nope')).toBeUndefined();
    expect(await rejectionOf(store.getManifest('nope'))).toBeInstanceOf(NotFoundError);
    expect(await rejectionOf(store.getManifest(digestOf(text('absent'))))).toBeInstanceOf(NotFoundError);
  });

  it('refuses bytes that are not a manifest and tags that are not tags', async () => {
    const store = await OciLayoutStore.open(tempDir(), { create: true });
    expect(await rejectionOf(store.putManifest(text('{"hello":1}'), OCI_MANIFEST))).toBeInstanceOf(InvalidValueError);
    const image = await putImage(store, 'amd64');
    expect(await rejectionOf(store.putManifest(image.bytes, OCI_MANIFEST, { tag: 'bad/tag' }))).toBeInstanceOf(
      InvalidValueError,
    );
  });

  it('tags a manifest, moves the tag, and keeps one entry per tag', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    const first = await putImage(store, 'amd64', 'v1');
    const second = await putImage(store, 'arm64', 'v1');
    await store.putManifest(first.bytes, OCI_MANIFEST, { tag: 'b' });
    await store.putManifest(first.bytes, OCI_MANIFEST, { tag: 'a' });
    await store.putManifest(first.bytes, OCI_MANIFEST, { tag: 'a' });

    expect(await store.listTags()).toEqual(['a', 'b', 'v1']);
    const { platform: _platform, ...expected } = second.descriptor;
    expect(await store.resolve('v1')).toEqual(expected);
    expect((await store.getManifest('v1')).bytes).toEqual(second.bytes);

    const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'));
    expect(index.manifests).toEqual([
      { ...expected, annotations: { [REF_NAME_ANNOTATION]: 'v1' } },
      { ...first.descriptor, platform: undefined, annotations: { [REF_NAME_ANNOTATION]: 'b' } },
      { ...first.descriptor, platform: undefined, annotations: { [REF_NAME_ANNOTATION]: 'a' } },
    ]);
    // The old manifest is still there by digest: moving a tag deletes nothing.
    expect((await store.getManifest(first.descriptor.digest)).bytes).toEqual(first.bytes);
  });

  it('guards a tag update with ifMatch, the digest the tag points at', async () => {
    const store = await OciLayoutStore.open(tempDir(), { create: true });
    const first = await putImage(store, 'amd64', 'v1');
    const second = await putImage(store, 'arm64');
    const { etag } = await store.getManifest('v1');
    expect(etag).toBe(first.descriptor.digest);

    const stale = await rejectionOf(store.putManifest(second.bytes, OCI_MANIFEST, { tag: 'v1', ifMatch: 'sha256:x' }));
    expect(stale).toBeInstanceOf(ConflictError);
    expect((await store.resolve('v1'))?.digest).toBe(first.descriptor.digest);

    const missing = await rejectionOf(store.putManifest(second.bytes, OCI_MANIFEST, { tag: 'new', ifMatch: etag }));
    expect(missing).toBeInstanceOf(ConflictError);
    expect((missing as Error).message).toContain('does not exist');
    expect(await store.resolve('new')).toBeUndefined();

    await store.putManifest(second.bytes, OCI_MANIFEST, { tag: 'v1', ifMatch: etag });
    expect((await store.resolve('v1'))?.digest).toBe(second.descriptor.digest);
  });

  it('loses no tag when many are written at once, through one store or several', async () => {
    const dir = tempDir();
    const stores = [
      await OciLayoutStore.open(dir, { create: true }),
      await OciLayoutStore.open(dir, { create: false }),
    ];
    const image = await putImage(stores[0]!, 'amd64');
    const tags = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    await Promise.all(tags.map((tag, i) => stores[i % 2]!.putManifest(image.bytes, OCI_MANIFEST, { tag })));
    expect(await stores[0]!.listTags()).toEqual(tags);
    expect(filesUnder(dir).filter((file) => file.endsWith('.tmp'))).toEqual([]);
  });

  it('detects a manifest corrupted on disk, by digest and by tag', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    const image = await putImage(store, 'amd64', 'v1');
    const tampered = new Uint8Array(image.bytes);
    tampered[tampered.length - 2] = 0x20;
    await writeFile(path.join(dir, 'blobs', 'sha256', digestHex(image.descriptor.digest)), tampered);
    expect(await rejectionOf(store.getManifest(image.descriptor.digest))).toBeInstanceOf(DigestMismatchError);
    expect(await rejectionOf(store.getManifest('v1'))).toBeInstanceOf(DigestMismatchError);
    expect(await rejectionOf(store.resolve(image.descriptor.digest))).toBeInstanceOf(DigestMismatchError);
  });

  it('has no native referrers API', async () => {
    const store = await OciLayoutStore.open(tempDir(), { create: true });
    expect(await store.nativeReferrers(digestOf(text('x')))).toBeUndefined();
  });
});

describe('mountBlob', () => {
  it('hard-links a blob from another layout on the same file system', async () => {
    const root = tempDir();
    const from = await OciLayoutStore.open(path.join(root, 'a'), { create: true });
    const to = await OciLayoutStore.open(path.join(root, 'b'), { create: true });
    const { digest } = await from.putBlob(text('shared layer'));
    expect(await to.mountBlob(digest, from)).toBe(true);
    const source = statSync(path.join(root, 'a', 'blobs', 'sha256', digestHex(digest)));
    const target = statSync(path.join(root, 'b', 'blobs', 'sha256', digestHex(digest)));
    expect(target.ino).toBe(source.ino);
    expect(target.nlink).toBe(2);
    expect(await collect(await to.getBlob({ digest, size: 12 }))).toEqual(text('shared layer'));
    // Mounting what is already there succeeds without changing anything.
    expect(await to.mountBlob(digest, from)).toBe(true);
  });

  it('returns false when the source lacks the blob', async () => {
    const root = tempDir();
    const from = await OciLayoutStore.open(path.join(root, 'a'), { create: true });
    const to = await OciLayoutStore.open(path.join(root, 'b'), { create: true });
    expect(await to.mountBlob(digestOf(text('absent')), from)).toBe(false);
  });

  // A link across file systems fails with EXDEV; a single-disk machine cannot produce that, so the store takes
  // its link function and these cases run everywhere. Where /dev/shm is a separate tmpfs, the real thing too.
  const failingLink = (code: string) => async () => {
    throw Object.assign(new Error(`${code}: simulated`), { code });
  };

  it.each(['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'])('returns false when linking fails with %s', async (code) => {
    const from = await OciLayoutStore.open(tempDir(), { create: true });
    const to = await OciLayoutStore.open(tempDir(), { create: true, link: failingLink(code) });
    const { digest } = await from.putBlob(text('far away'));
    expect(await to.mountBlob(digest, from)).toBe(false);
    expect(await to.hasBlob(digest)).toBe(false);
  });

  it('reports a link failure that is not about file systems', async () => {
    const from = await OciLayoutStore.open(tempDir(), { create: true });
    const to = await OciLayoutStore.open(tempDir(), { create: true, link: failingLink('EIO') });
    const { digest } = await from.putBlob(text('far away'));
    await expect(to.mountBlob(digest, from)).rejects.toThrow(StoreError);
  });

  const shmIsOtherDevice = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;
  it(`returns false across real file systems (${shmIsOtherDevice ? '/dev/shm' : 'simulated: /dev/shm shares a device with the temp dir'})`, async () => {
    const from = await OciLayoutStore.open(tempDir(), { create: true });
    let dir: string;
    let link: ((a: string, b: string) => Promise<void>) | undefined;
    if (shmIsOtherDevice) {
      dir = mkdtempSync(path.join('/dev/shm', 'slipway-layout-'));
      temporaryDirs.push(dir);
    } else {
      dir = tempDir();
      link = failingLink('EXDEV');
    }
    const to = await OciLayoutStore.open(dir, { create: true, ...(link ? { link } : {}) });
    const { digest } = await from.putBlob(text('far away'));
    expect(await to.mountBlob(digest, from)).toBe(false);
    expect(await to.hasBlob(digest)).toBe(false);
  });
});

describe('untagged images', () => {
  it('lists an image without a ref.name, once, and leaves a tagged entry alone', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    const image = await putImage(store, 'amd64');
    const tagged = await putImage(store, 'arm64', 'v1');
    await store.listUntagged(image.descriptor);
    await store.listUntagged(image.descriptor);
    await store.listUntagged(tagged.descriptor);
    const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    expect(index.manifests).toEqual([
      {
        mediaType: tagged.descriptor.mediaType,
        digest: tagged.descriptor.digest,
        size: tagged.descriptor.size,
        annotations: { [REF_NAME_ANNOTATION]: 'v1' },
      },
      { mediaType: image.descriptor.mediaType, digest: image.descriptor.digest, size: image.descriptor.size },
    ]);
    expect(await store.listTags()).toEqual(['v1']);
  });
});

describe('interoperability with skopeo', () => {
  it('skopeo reads the exact manifest bytes and copies the layout, validating every digest', async () => {
    const root = tempDir();
    const dir = path.join(root, 'ours');
    const store = await OciLayoutStore.open(dir, { create: true });
    const image = await putImage(store, 'amd64', 'single');
    const index = await putIndex(store, 'multi');

    expect(skopeo(['inspect', '--raw', `oci:${dir}:single`])).toBe(new TextDecoder().decode(image.bytes));
    expect(skopeo(['inspect', '--raw', `oci:${dir}:multi`])).toBe(new TextDecoder().decode(index.bytes));

    const theirs = path.join(root, 'theirs');
    skopeo(['copy', '--quiet', '--preserve-digests', `oci:${dir}:single`, `oci:${theirs}:single`]);
    skopeo(['copy', '--quiet', '--preserve-digests', '--all', `oci:${dir}:multi`, `oci:${theirs}:multi`]);

    // And the other way round: the layout skopeo wrote opens and reads with this store.
    const copied = await OciLayoutStore.open(theirs, { create: false });
    expect(await copied.listTags()).toEqual(['multi', 'single']);
    expect((await copied.getManifest('single')).bytes).toEqual(image.bytes);
    expect((await copied.getManifest('multi')).bytes).toEqual(index.bytes);
    for (const { descriptor, layer, config } of index.images) {
      expect((await copied.getManifest(descriptor.digest)).descriptor.digest).toBe(descriptor.digest);
      expect(await collect(await copied.getBlob({ digest: digestOf(layer), size: layer.byteLength }))).toEqual(layer);
      expect(await collect(await copied.getBlob({ digest: digestOf(config), size: config.byteLength }))).toEqual(
        config,
      );
    }
    // Writing into skopeo's layout keeps its entries.
    await copied.putManifest(image.bytes, OCI_MANIFEST, { tag: 'extra' });
    expect(await copied.listTags()).toEqual(['extra', 'multi', 'single']);
    expect(skopeo(['inspect', '--raw', `oci:${theirs}:extra`])).toBe(new TextDecoder().decode(image.bytes));
  });

  it('skopeo finds an image copied into a layout without a tag', async () => {
    const source = await OciLayoutStore.open(tempDir(), { create: true });
    const image = await putImage(source, 'amd64', 'v1');
    const dir = tempDir();
    const to = await OciLayoutStore.open(dir, { create: true });
    await copyImage({ from: source, to, reference: 'v1' });
    expect(await to.listTags()).toEqual([]);
    // With no reference skopeo opens the layout's only image; it found nothing while index.json was empty.
    expect(skopeo(['inspect', '--raw', `oci:${dir}`])).toBe(new TextDecoder().decode(image.bytes));
    const inspected = JSON.parse(skopeo(['inspect', `oci:${dir}`])) as { Digest: string };
    expect(inspected.Digest).toBe(image.descriptor.digest);
  });

  it('skopeo reads a manifest we moved a tag onto', async () => {
    const dir = tempDir();
    const store = await OciLayoutStore.open(dir, { create: true });
    await putImage(store, 'amd64', 'v1');
    const moved = await putImage(store, 'arm64', 'v1');
    expect(skopeo(['inspect', '--raw', `oci:${dir}:v1`])).toBe(new TextDecoder().decode(moved.bytes));
  });
});
