import { randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { SlipwayError } from '../core/errors.js';
import {
  type DigestAlgorithm,
  DigestMismatchError,
  digestAlgorithm,
  digestHex,
  digestOf,
  parseDigest,
  SizeMismatchError,
  verifyStream,
} from './digest.js';
import { ConflictError, NotFoundError, StoreError } from './errors.js';
import { KeyedQueue } from './keyed-queue.js';
import { checkManifestDescriptor } from './limits.js';
import { parseManifest } from './manifest.js';
import { OCI_INDEX } from './media-types.js';
import { parseTag } from './reference.js';
import type { BlobSource, ByteStream, ImageStore, PutManifestOptions, PutManifestResult } from './store.js';
import type { Descriptor, Digest, FetchedManifest } from './types.js';

// An OCI image-layout directory (image-spec image-layout.md) as an ImageStore. Layouts are what
// builders write and what skopeo, crane and oras read, so everything here keeps to the spec's shape:
// `oci-layout`, `index.json` (tags are entries annotated with ref.name) and `blobs/<alg>/<hex>`.
//
// Every file is replaced by rename from a fsynced temporary file beside it, so a crash leaves either
// the old content or the new, never a prefix; readers (including other tools) therefore never need
// to tolerate partial files.

/** The annotation that names a tag in index.json. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const BLOBS_DIR = 'blobs';
const LAYOUT_VERSION = '1.0.0';

/** index.json as read; fields other than `manifests` are kept as they are when it is rewritten. */
interface IndexDocument {
  [field: string]: unknown;
  schemaVersion: 2;
  manifests: Descriptor[];
}

export interface OpenLayoutOptions {
  /** Create the directory, `oci-layout` and an empty `index.json` where they are absent. */
  create: boolean;
  /**
   * How mountBlob hard-links a blob from another layout (fs.promises.link by default); a test passes one
   * that fails as a link across file systems does, which no single-disk machine can produce.
   */
  link?: (existingPath: string, newPath: string) => Promise<void>;
}

export class OciLayoutStore implements ImageStore {
  readonly location: string;

  private constructor(
    /** Absolute path of the layout directory. */
    readonly directory: string,
    private readonly link: (existingPath: string, newPath: string) => Promise<void>,
  ) {
    this.location = `oci-layout:${directory}`;
  }

  static async open(dir: string, options: OpenLayoutOptions): Promise<OciLayoutStore> {
    const store = new OciLayoutStore(path.resolve(dir), options.link ?? link);
    await store.initialise(options.create);
    return store;
  }

  async resolve(reference: string): Promise<Descriptor | undefined> {
    if (isDigestReference(reference)) {
      const digest = parseDigest(reference);
      const bytes = await this.readBlobFile(digest, `resolve ${reference}`);
      if (bytes === undefined) return undefined;
      this.checkContent(bytes, digest, undefined);
      let mediaType: string;
      try {
        mediaType = parseManifest(bytes).mediaType;
      } catch {
        // A blob that is not a manifest (a layer, a config) is not something a reference can name.
        return undefined;
      }
      return { mediaType, digest, size: bytes.byteLength };
    }
    const entry = findTag((await this.readIndex()).manifests, reference);
    return entry === undefined ? undefined : withoutRefName(entry);
  }

  async getManifest(reference: string, descriptor?: Pick<Descriptor, 'digest' | 'size'>): Promise<FetchedManifest> {
    const operation = `read manifest ${reference}`;
    if (descriptor !== undefined) checkManifestDescriptor(descriptor, this.at(operation));
    let expected: { digest: Digest; size?: number; mediaType?: string };
    if (isDigestReference(reference)) {
      expected = { digest: parseDigest(reference), ...(descriptor === undefined ? {} : { size: descriptor.size }) };
    } else {
      const entry = findTag((await this.readIndex()).manifests, reference);
      if (entry === undefined) throw new NotFoundError(this.at(operation), `there is no tag "${reference}"`);
      checkManifestDescriptor(entry, this.at(operation));
      expected = { digest: parseDigest(entry.digest), size: entry.size, mediaType: entry.mediaType };
    }
    const bytes = await this.readBlobFile(expected.digest, operation);
    if (bytes === undefined) {
      throw new NotFoundError(
        this.at(operation),
        expected.mediaType === undefined
          ? `there is no manifest ${expected.digest}`
          : `the tag points at ${expected.digest}, whose blob is missing`,
      );
    }
    this.checkContent(bytes, expected.digest, expected.size);
    const parsed = parseManifest(bytes, expected.mediaType);
    return {
      descriptor: {
        mediaType: expected.mediaType ?? parsed.mediaType,
        digest: expected.digest,
        size: bytes.byteLength,
      },
      bytes,
      manifest: parsed.manifest,
      // The layout has no server to hand out ETags; the digest changes exactly when the tag does.
      etag: expected.digest,
    };
  }

  async putManifest(
    bytes: Uint8Array,
    mediaType: string,
    options: PutManifestOptions = {},
  ): Promise<PutManifestResult> {
    // Parsed only to refuse bytes that are not a manifest; what is stored is the bytes as given.
    parseManifest(bytes, mediaType);
    const digest = digestOf(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength };
    if (!(await this.hasBlob(digest))) await this.writeBlob(digest, bytes, `put manifest ${digest}`);
    const { tag, ifMatch } = options;
    if (tag !== undefined) {
      parseTag(tag);
      await this.updateIndex(`put manifest ${digest} as tag ${tag}`, (manifests, operation) => {
        const current = findTag(manifests, tag);
        if (ifMatch !== undefined && current?.digest !== ifMatch) {
          throw new ConflictError(
            this.at(operation),
            current === undefined
              ? `the tag was expected to point at ${ifMatch} but does not exist`
              : `the tag was expected to point at ${ifMatch} but points at ${current.digest}`,
          );
        }
        const tagged = manifests.filter((e) => e.annotations?.[REF_NAME_ANNOTATION] === tag);
        if (tagged.length === 1 && current?.digest === digest && current.mediaType === mediaType) return undefined;
        const entry: Descriptor = { ...descriptor, annotations: { [REF_NAME_ANNOTATION]: tag } };
        // The tag keeps its place in index.json, so moving it does not reorder what other tools list.
        const position = manifests.findIndex((e) => e.annotations?.[REF_NAME_ANNOTATION] === tag);
        const others = manifests.filter((e) => e.annotations?.[REF_NAME_ANNOTATION] !== tag);
        others.splice(position < 0 ? others.length : position, 0, entry);
        return others;
      });
    }
    // A layout has no referrers API to index the subject, so callers always maintain the fallback tag.
    return { descriptor, subjectIndexed: false };
  }

  /**
   * Lists an image in index.json without a tag, so tools that open the layout (skopeo, crane) find it; an
   * image already listed, tagged or not, is left as it is.
   */
  async listUntagged(descriptor: Descriptor): Promise<void> {
    const { mediaType, digest, size } = descriptor;
    await this.updateIndex(`list manifest ${digest}`, (manifests) =>
      manifests.some((entry) => entry.digest === digest) ? undefined : [...manifests, { mediaType, digest, size }],
    );
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    try {
      return (await stat(this.blobPath(digest))).isFile();
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw this.wrap(`check blob ${digest}`, error);
    }
  }

  async getBlob(descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<ByteStream> {
    const file = this.blobPath(descriptor.digest);
    const operation = `read blob ${descriptor.digest}`;
    try {
      await stat(file);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new NotFoundError(this.at(operation), 'the blob does not exist');
      throw this.wrap(operation, error);
    }
    return verifyStream(readFileLazily(file), { digest: descriptor.digest, size: descriptor.size });
  }

  async putBlob(source: BlobSource): Promise<{ digest: Digest; size: number; uploaded: boolean }> {
    if (source instanceof Uint8Array) {
      const digest = digestOf(source);
      const size = source.byteLength;
      if (await this.hasBlob(digest)) return { digest, size, uploaded: false };
      await this.writeBlob(digest, source, `put blob ${digest}`);
      return { digest, size, uploaded: true };
    }
    const digest = parseDigest(source.digest);
    const { size } = source;
    if (await this.hasBlob(digest)) {
      // Nobody else will read the stream; ending it releases what feeds it (a socket, a file).
      await source.stream[Symbol.asyncIterator]().return?.();
      return { digest, size, uploaded: false };
    }
    await this.writeBlob(digest, verifyStream(source.stream, { digest, size }), `put blob ${digest}`);
    return { digest, size, uploaded: true };
  }

  async mountBlob(digest: Digest, from: ImageStore): Promise<boolean> {
    if (!(from instanceof OciLayoutStore)) return false;
    const target = this.blobPath(digest);
    const source = from.blobPath(digest);
    if (source === target) return this.hasBlob(digest);
    const operation = `mount blob ${digest} from ${from.location}`;
    try {
      await mkdir(path.dirname(target), { recursive: true });
      // link() creates the name with the whole file behind it in one step, so no temporary is needed.
      await this.link(source, target);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return true;
      // Across filesystems, or where hard links are not supported, the caller copies the bytes instead.
      if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EMLINK' || code === 'ENOENT') {
        return false;
      }
      throw this.wrap(operation, error);
    }
    await syncDirectory(path.dirname(target));
    return true;
  }

  async listTags(): Promise<string[]> {
    const tags = new Set<string>();
    for (const entry of (await this.readIndex()).manifests) {
      const tag = entry.annotations?.[REF_NAME_ANNOTATION];
      if (tag !== undefined) tags.add(tag);
    }
    return [...tags].sort();
  }

  async nativeReferrers(_digest: Digest): Promise<Descriptor[] | undefined> {
    return undefined;
  }

  private async initialise(create: boolean): Promise<void> {
    const operation = 'open OCI layout';
    if (create) {
      try {
        await mkdir(path.join(this.directory, BLOBS_DIR), { recursive: true });
        await createFileIfAbsent(
          path.join(this.directory, LAYOUT_FILE),
          new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })),
        );
        await createFileIfAbsent(
          path.join(this.directory, INDEX_FILE),
          new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })),
        );
      } catch (error) {
        throw this.wrap(operation, error);
      }
    }
    let text: string;
    try {
      text = await readFile(path.join(this.directory, LAYOUT_FILE), 'utf8');
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new StoreError(
          this.at(operation),
          `${this.directory} is not an OCI image layout: ${code === 'ENOENT' ? 'it has no oci-layout file' : 'it is not a directory'}`,
        );
      }
      throw this.wrap(operation, error);
    }
    const version = parseJson(text)?.imageLayoutVersion;
    if (typeof version !== 'string') {
      throw new StoreError(this.at(operation), 'its oci-layout file does not state an imageLayoutVersion');
    }
    // Minor versions promise compatibility; a new major version may change the directory's shape.
    if (!/^1\.\d+\.\d+$/.test(version)) {
      throw new StoreError(this.at(operation), `image layout version ${version} is not supported (expected 1.x)`);
    }
    await this.readIndex(operation);
  }

  private blobPath(digest: Digest): string {
    // parseDigest keeps the path inside blobs/: the algorithm and hex cannot contain separators or "..".
    const checked = parseDigest(digest);
    return path.join(this.directory, BLOBS_DIR, digestAlgorithm(checked), digestHex(checked));
  }

  private async readBlobFile(digest: Digest, operation: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.blobPath(digest)));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw this.wrap(operation, error);
    }
  }

  /** The same checks verifyStream makes on blobs, for manifests, which are read whole. */
  private checkContent(bytes: Uint8Array, digest: Digest, size: number | undefined): void {
    if (size !== undefined && bytes.byteLength !== size) throw new SizeMismatchError(digest, size, bytes.byteLength);
    const actual = digestOf(bytes, digestAlgorithm(digest) as DigestAlgorithm);
    if (actual !== digest) throw new DigestMismatchError(digest, actual);
  }

  private async writeBlob(digest: Digest, content: Uint8Array | ByteStream, operation: string): Promise<void> {
    const target = this.blobPath(digest);
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFileAtomically(target, content);
    } catch (error) {
      throw this.wrap(operation, error);
    }
  }

  private async readIndex(operation = `read ${INDEX_FILE}`): Promise<IndexDocument> {
    let text: string;
    try {
      text = await readFile(path.join(this.directory, INDEX_FILE), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        throw new StoreError(this.at(operation), `${this.directory} is not an OCI image layout: it has no index.json`);
      }
      throw this.wrap(operation, error);
    }
    const document = parseJson(text);
    const manifests = document?.manifests;
    if (document === undefined || document.schemaVersion !== 2 || !Array.isArray(manifests)) {
      throw new StoreError(this.at(operation), `${INDEX_FILE} is not an OCI image index`);
    }
    for (const entry of manifests as unknown[]) {
      if (!isDescriptorLike(entry)) {
        throw new StoreError(this.at(operation), `${INDEX_FILE} has an entry that is not a descriptor`);
      }
    }
    return document as IndexDocument;
  }

  /**
   * Read-modify-write of index.json, serialised per directory within this process so concurrent
   * tag updates cannot lose each other's entries. `change` returns the new entries, or undefined
   * when nothing needs writing.
   */
  private async updateIndex(
    operation: string,
    change: (manifests: Descriptor[], operation: string) => Descriptor[] | undefined,
  ): Promise<void> {
    await writers.run(this.directory, async () => {
      const document = await this.readIndex(operation);
      const manifests = change([...document.manifests], operation);
      if (manifests === undefined) return;
      try {
        await writeFileAtomically(
          path.join(this.directory, INDEX_FILE),
          new TextEncoder().encode(JSON.stringify({ ...document, manifests })),
        );
      } catch (error) {
        throw this.wrap(operation, error);
      }
    });
  }

  private at(operation: string): { operation: string; location: string } {
    return { operation, location: this.location };
  }

  /** File-system failures become StoreErrors naming the layout; errors that explain themselves pass through. */
  private wrap(operation: string, error: unknown): unknown {
    if (error instanceof SlipwayError || !(error instanceof Error) || errorCode(error) === undefined) return error;
    const wrapped = new StoreError(this.at(operation), error.message);
    wrapped.cause = error;
    return wrapped;
  }
}

function isDigestReference(reference: string): boolean {
  // Tags cannot contain ":", so anything with one is meant as a digest (and parseDigest says if it is not).
  return reference.includes(':');
}

function findTag(manifests: readonly Descriptor[], tag: string): Descriptor | undefined {
  // Tools disagree on whether later duplicates win; this store never writes duplicates, so take the last.
  return manifests.findLast((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === tag);
}

function withoutRefName(entry: Descriptor): Descriptor {
  const { annotations, ...rest } = entry;
  if (annotations === undefined) return rest;
  const { [REF_NAME_ANNOTATION]: _tag, ...others } = annotations;
  return Object.keys(others).length > 0 ? { ...rest, annotations: others } : rest;
}

function isDescriptorLike(value: unknown): value is Descriptor {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  const annotations = entry.annotations;
  return (
    typeof entry.mediaType === 'string' &&
    typeof entry.digest === 'string' &&
    typeof entry.size === 'number' &&
    (annotations === undefined || (typeof annotations === 'object' && annotations !== null))
  );
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function temporaryPath(target: string): string {
  // A leading dot and a suffix no digest has, so nothing mistakes a leftover for a blob or index.json.
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(8).toString('hex')}.tmp`);
}

/** Writes a temporary file beside `target`, fsyncs it and returns its path; removes it on failure. */
async function writeTemporary(target: string, content: Uint8Array | ByteStream): Promise<string> {
  const temporary = temporaryPath(target);
  let handle: FileHandle | undefined = await open(temporary, 'wx', 0o644);
  try {
    if (content instanceof Uint8Array) {
      await handle.writeFile(content);
    } else {
      // Reading to the end before the rename is what makes verifyStream's final check a gate.
      for await (const chunk of content) await writeAll(handle, chunk);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    return temporary;
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  // write() may write less than asked; a short write must not pass for a complete blob.
  for (let offset = 0; offset < chunk.byteLength; ) {
    offset += (await handle.write(chunk, offset, chunk.byteLength - offset)).bytesWritten;
  }
}

async function writeFileAtomically(target: string, content: Uint8Array | ByteStream): Promise<void> {
  const temporary = await writeTemporary(target, content);
  try {
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(path.dirname(target));
}

/** Like writeFileAtomically, but leaves an existing file alone (two processes creating one layout). */
async function createFileIfAbsent(target: string, content: Uint8Array): Promise<void> {
  if (await exists(target)) return;
  const temporary = await writeTemporary(target, content);
  try {
    await link(temporary, target);
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EEXIST') {
      if (code !== 'EPERM' && code !== 'ENOTSUP') throw error;
      // No hard links here: fall back to rename, which may replace a file created a moment ago.
      if (!(await exists(target))) {
        await rename(temporary, target);
        await syncDirectory(path.dirname(target));
        return;
      }
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await syncDirectory(path.dirname(target));
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Makes a rename or link durable; skipped where directories cannot be fsynced, as rename stays atomic. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Best effort only: the rename itself is already atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Opens the file only when first read, so a stream that is never consumed holds no descriptor. */
async function* readFileLazily(file: string): AsyncGenerator<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false })) yield chunk as Uint8Array;
  } finally {
    await handle.close();
  }
}

/** Writers of the same index.json take turns within this process. */
const writers = new KeyedQueue();
