import { createHash, type Hash } from 'node:crypto';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { SlipwayError } from '../core/errors.js';
import { digestAlgorithm, parseDigest } from '../oci/digest.js';
import { isIndex } from '../oci/manifest.js';
import { layerCompression } from '../oci/media-types.js';
import { type ImageStore, readJsonBlob } from '../oci/store.js';
import type { Descriptor, Digest } from '../oci/types.js';
import { readTar } from './tar-reader.js';
import type { EntryHeader, FileReader, ImageFilesystem, LayerInfo, ReadResult } from './types.js';

// The image's final filesystem, computed in one pass over its layers: each layer blob is streamed once
// (digest-checked by the store, decompressed, hashed against its diff_id, parsed as tar) and applied to
// an in-memory tree of headers by the OCI image spec's changeset rules. File contents are only ever seen
// by the catalogers that asked for them, as they stream past; nothing is unpacked to disk.

export interface WalkOptions {
  /** Called as each layer is about to be read, e.g. for progress logs. */
  onLayer?: (index: number, info: LayerInfo) => void;
}

type ViewEntry = EntryHeader & { layer: number };

/** Decompressed output comes in chunks this size: fewer, larger chunks mean fewer trips through the tar reader. */
const CHUNK_SIZE = 64 * 1024;

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

interface Node {
  entry?: ViewEntry;
  children?: Map<string, Node>;
}

/**
 * The filesystem as a tree of path segments, so deleting a directory (a whiteout, an opaque marker, a
 * directory replaced by a file) costs the size of that directory, not of the whole image.
 */
class FileTree {
  private readonly root: Node = {};

  /** `removed` is told of every path that leaves the view, so results for it can be dropped. */
  constructor(private readonly removed: (path: string) => void) {}

  /** A later entry replaces an earlier one; a directory replaced by anything else loses its contents. */
  set(path: string, entry: ViewEntry): void {
    let node = this.root;
    for (const segment of path.split('/')) {
      node.children ??= new Map();
      let child = node.children.get(segment);
      if (child === undefined) {
        child = {};
        node.children.set(segment, child);
      }
      node = child;
    }
    if (entry.type !== 'directory' && node.children !== undefined) {
      this.removeBelow(node, path);
      node.children = undefined;
    }
    if (node.entry !== undefined) this.removed(path);
    // Two directories merge (extraction keeps what is in them); the newer header describes the directory.
    node.entry = entry;
  }

  /** `.wh.<name>`: the path and everything under it, as far as it came from layers below `layer`. */
  whiteout(path: string, layer: number): void {
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? this.root : this.find(path.slice(0, slash));
    const name = slash < 0 ? path : path.slice(slash + 1);
    const node = parent?.children?.get(name);
    if (parent === undefined || node === undefined) return;
    if (this.prune(node, path, layer)) this.detach(parent, name);
  }

  /** `.wh..wh..opq`: everything under the directory that came from layers below `layer`; not the directory itself. */
  opaque(dir: string, layer: number): void {
    const node = dir === '' ? this.root : this.find(dir);
    if (node?.children === undefined) return;
    for (const [name, child] of node.children) {
      if (this.prune(child, dir === '' ? name : `${dir}/${name}`, layer)) this.detach(node, name);
    }
  }

  /** Every entry, parents before children and siblings in code-unit order, so output does not depend on tar order. */
  *entries(): Generator<[string, ViewEntry]> {
    yield* this.walk(this.root, '');
  }

  private *walk(node: Node, path: string): Generator<[string, ViewEntry]> {
    if (node.children === undefined) return;
    for (const name of [...node.children.keys()].sort()) {
      const child = node.children.get(name) as Node;
      const childPath = path === '' ? name : `${path}/${name}`;
      if (child.entry !== undefined) yield [childPath, child.entry];
      yield* this.walk(child, childPath);
    }
  }

  private find(path: string): Node | undefined {
    let node: Node | undefined = this.root;
    for (const segment of path.split('/')) {
      node = node.children?.get(segment);
      if (node === undefined) return undefined;
    }
    return node;
  }

  private detach(parent: Node, name: string): void {
    parent.children?.delete(name);
    if (parent.children?.size === 0) parent.children = undefined;
  }

  private removeBelow(node: Node, path: string): void {
    for (const [name, child] of node.children ?? []) {
      const childPath = `${path}/${name}`;
      if (child.entry !== undefined) this.removed(childPath);
      this.removeBelow(child, childPath);
    }
  }

  /**
   * Removes the entries of this subtree that come from layers below `layer`, keeping the current layer's
   * (a whiteout hides only lower layers); returns whether nothing is left, so the caller can unlink it.
   */
  private prune(node: Node, path: string, layer: number): boolean {
    if (node.children !== undefined) {
      for (const [name, child] of node.children) {
        if (this.prune(child, `${path}/${name}`, layer)) node.children.delete(name);
      }
      if (node.children.size === 0) node.children = undefined;
    }
    if (node.entry !== undefined && node.entry.layer < layer) {
      this.removed(path);
      node.entry = undefined;
    }
    return node.entry === undefined && node.children === undefined;
  }
}

interface ConfigShape {
  rootfs?: { diff_ids?: unknown };
}

/**
 * Reads every layer of the image manifest `manifestDigest` once, in order, and returns the final
 * filesystem with what each reader kept from the files it asked for (only files still present at the end).
 */
export async function walkImage(
  store: ImageStore,
  manifestDigest: Digest,
  readers: FileReader<unknown>[],
  options: WalkOptions = {},
): Promise<ImageFilesystem> {
  const image = `${store.location}@${manifestDigest}`;
  const { manifest } = await store.getManifest(manifestDigest);
  if (isIndex(manifest)) {
    throw new SlipwayError(`${image} is an image index; walk one of its platform manifests instead.`);
  }
  const config = await readJsonBlob<ConfigShape>(store, manifest.config);
  const diffIds = configDiffIds(config, image, manifest.layers.length);

  const names = new Set<string>();
  for (const reader of readers) {
    // Results are keyed by name, so two readers with one name would overwrite each other: a caller bug.
    if (names.has(reader.name)) throw new Error(`walkImage: two readers are named "${reader.name}".`);
    names.add(reader.name);
  }
  const kept = new Map<string, Map<string, ReadResult<unknown>>>(readers.map((r) => [r.name, new Map()]));
  const resultMaps = [...kept.values()];
  const tree = new FileTree((path) => {
    for (const results of resultMaps) results.delete(path);
  });

  const layers: LayerInfo[] = manifest.layers.map((descriptor, index) => {
    const diffId = diffIds?.[index];
    return {
      digest: descriptor.digest,
      ...(diffId === undefined ? {} : { diffId }),
      mediaType: descriptor.mediaType,
    };
  });

  for (const [index, descriptor] of manifest.layers.entries()) {
    const info = layers[index] as LayerInfo;
    options.onLayer?.(index, info);
    await walkLayer(store, image, index, descriptor, info.diffId, tree, readers, kept);
  }

  const entries = new Map<string, ViewEntry>();
  const results = new Map<string, ReadResult<unknown>[]>(readers.map((r) => [r.name, []]));
  for (const [path, entry] of tree.entries()) {
    entries.set(path, entry);
    for (const [name, byPath] of kept) {
      const result = byPath.get(path);
      if (result !== undefined) results.get(name)?.push(result);
    }
  }
  return { layers, entries, results };
}

/**
 * The config's diff_ids, one per layer. A config without any is accepted (the layers are then checked
 * only against their blob digests), but one that lists a different number is inconsistent and refused.
 */
function configDiffIds(config: ConfigShape, image: string, layerCount: number): Digest[] | undefined {
  const listed = config.rootfs?.diff_ids;
  if (listed === undefined) return undefined;
  if (!Array.isArray(listed) || !listed.every((d): d is string => typeof d === 'string')) {
    throw new SlipwayError(`The config of ${image} has a rootfs.diff_ids that is not a list of digests.`);
  }
  if (listed.length !== layerCount) {
    throw new SlipwayError(
      `The config of ${image} lists ${listed.length} diff_ids for ${layerCount} layers; the image is inconsistent.`,
    );
  }
  return listed.map((d) => parseDigest(d));
}

function decompressor(compression: 'gzip' | 'zstd' | 'none'): Transform | undefined {
  if (compression === 'gzip') return createGunzip({ chunkSize: CHUNK_SIZE });
  if (compression === 'zstd') return createZstdDecompress({ chunkSize: CHUNK_SIZE });
  return undefined;
}

async function* hashing(source: AsyncIterable<Uint8Array>, hash: Hash): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

async function walkLayer(
  store: ImageStore,
  image: string,
  layer: number,
  descriptor: Descriptor,
  diffId: Digest | undefined,
  tree: FileTree,
  readers: readonly FileReader<unknown>[],
  kept: Map<string, Map<string, ReadResult<unknown>>>,
): Promise<void> {
  const compression = layerCompression(descriptor.mediaType);
  if (compression === undefined) {
    throw new SlipwayError(
      `Layer ${layer} (${descriptor.digest}) of ${image} has media type ${descriptor.mediaType}, which is not a tar layer (plain, gzip or zstd).`,
    );
  }
  const blob = await store.getBlob(descriptor);
  const hash = diffId === undefined ? undefined : createHash(digestAlgorithm(diffId));
  const wanting: FileReader<unknown>[] = [];

  const apply = async (tar: AsyncIterable<Uint8Array>): Promise<void> => {
    for await (const { path, header, content } of readTar(hash === undefined ? tar : hashing(tar, hash), {
      layer: descriptor.digest,
    })) {
      if (path === '') continue; // the root directory itself: always there, nothing to record
      const slash = path.lastIndexOf('/');
      const base = slash < 0 ? path : path.slice(slash + 1);
      if (base.startsWith(WHITEOUT_PREFIX)) {
        const dir = slash < 0 ? '' : path.slice(0, slash);
        if (base === OPAQUE_MARKER) tree.opaque(dir, layer);
        // Other `.wh..wh.` names are AUFS bookkeeping (hard-link dirs), not whiteouts of real files.
        else if (!base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
          const name = base.slice(WHITEOUT_PREFIX.length);
          tree.whiteout(dir === '' ? name : `${dir}/${name}`, layer);
        }
        continue;
      }
      tree.set(path, { ...header, layer });

      wanting.length = 0;
      for (const reader of readers) if (reader.wants(path, header)) wanting.push(reader);
      if (wanting.length === 0) continue;
      if (header.type === 'file') {
        await readFile(wanting, content, path, header, layer, kept);
      } else if (header.type === 'hardlink' && header.linkTarget !== undefined) {
        // A hard link has no content of its own in the tar: it is the target's. A reader that read the
        // target keeps the same value for the link, so a binary reached under two names is found under both.
        for (const reader of wanting) {
          const byPath = kept.get(reader.name);
          const target = byPath?.get(header.linkTarget);
          // Results exist only for paths still in the view, so a found one is the target's current copy.
          if (target !== undefined) byPath?.set(path, { path, value: target.value, layer });
        }
      }
    }
  };

  try {
    const transform = decompressor(compression);
    if (transform === undefined) await apply(blob);
    else await pipeline(blob, transform, apply);
  } catch (error) {
    throw decompressionError(error, descriptor, layer, image, compression);
  }
  if (hash !== undefined && diffId !== undefined) {
    const actual = `${digestAlgorithm(diffId)}:${hash.digest('hex')}`;
    if (actual !== diffId) {
      throw new SlipwayError(
        `Layer ${layer} (${descriptor.digest}) of ${image} uncompresses to ${actual}, but the image config's diff_id for it is ${diffId}.`,
      );
    }
  }
}

/** Hands one file to the readers that want it; several get it replayed from memory, as its bytes arrive only once. */
async function readFile(
  wanting: readonly FileReader<unknown>[],
  content: AsyncIterable<Uint8Array>,
  path: string,
  header: EntryHeader,
  layer: number,
  kept: Map<string, Map<string, ReadResult<unknown>>>,
): Promise<void> {
  const keep = (reader: FileReader<unknown>, value: unknown): void => {
    if (value !== undefined) kept.get(reader.name)?.set(path, { path, value, layer });
  };
  const only = wanting.length === 1 ? wanting[0] : undefined;
  if (only !== undefined) {
    keep(only, await only.read(content, path, header));
    return;
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of content) chunks.push(chunk);
  for (const reader of wanting) {
    keep(reader, await reader.read(replay(chunks), path, header));
  }
}

async function* replay(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** zlib and zstd errors say what is wrong but not where; everything else already names its source. */
function decompressionError(
  error: unknown,
  descriptor: Descriptor,
  layer: number,
  image: string,
  compression: string,
): unknown {
  if (error instanceof SlipwayError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^(Z_|ZSTD_)/.test(code)) return error;
  const wrapped = new SlipwayError(
    `Layer ${layer} (${descriptor.digest}) of ${image} could not be decompressed as ${compression}: ${(error as Error).message}.`,
  );
  wrapped.cause = error;
  return wrapped;
}
