import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { EntryHeader, FileReader, ReadResult } from '../../../../shared/sbom/types.js';

// Drives readers the way the layer walker does: wants() on each entry's path and header, read() on the
// bytes of matching regular files, a ReadResult per value.

export function fileHeader(size: number, mode = 0o644): EntryHeader {
  return { type: 'file', mode, size };
}

/** The bytes as a stream of `chunkSize` chunks, so readers meet values split across chunk boundaries. */
export function streamOf(bytes: Uint8Array, chunkSize = 64 * 1024): Readable {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
  return Readable.from(chunks);
}

export async function readFileWith<T>(
  reader: FileReader<T>,
  path: string,
  bytes: Uint8Array | string,
  options: { mode?: number; layer?: number; chunkSize?: number } = {},
): Promise<ReadResult<T>[]> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const header = fileHeader(data.length, options.mode);
  if (!reader.wants(path, header)) return [];
  const value = await reader.read(streamOf(data, options.chunkSize), path, header);
  return value === undefined ? [] : [{ path, value, layer: options.layer ?? 0 }];
}

/**
 * Walks a real directory as if it were a layer: `root` is the image root, `start` the subtree under it
 * (relative), paths are reported relative to root without a leading slash.
 */
export async function readTreeWith<T>(reader: FileReader<T>, root: string, start: string): Promise<ReadResult<T>[]> {
  const results: ReadResult<T>[] = [];
  const walk = async (relative: string): Promise<void> => {
    const absolute = join(root, relative);
    const stat = await lstat(absolute);
    if (stat.isDirectory()) {
      for (const name of (await readdir(absolute)).sort()) await walk(relative ? `${relative}/${name}` : name);
      return;
    }
    if (!stat.isFile()) return;
    const header = fileHeader(stat.size, stat.mode & 0o7777);
    if (!reader.wants(relative, header)) return;
    const value = await reader.read(streamOf(await readFile(absolute)), relative, header);
    if (value !== undefined) results.push({ path: relative, value, layer: 0 });
  };
  await walk(start);
  return results;
}
